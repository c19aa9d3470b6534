// A rules/ file that knows a device: the purity check must refuse it (tests/CMakeLists.txt).
namespace rules {
struct Snapshot {
  double solark_battery_v = 0;  // a brand in a field name
};
}  // namespace rules
