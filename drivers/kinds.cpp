#include "drivers/kinds.hpp"

#include "drivers/deye_3p.hpp"
#include "drivers/eg4.hpp"
#include "drivers/solark.hpp"
#include "drivers/victron_gx.hpp"

namespace drivers {

Kinds builtin_kinds() {
  static const DeviceKind* const kinds[] = {
      &victron::kind(),
      &solark::kind(),
      &deye_3p::kind(),
      &eg4::kind(),
  };
  return kinds;
}

const DeviceKind* find_kind(Kinds kinds, std::string_view key) {
  for (const auto* k : kinds) {
    if (k->key == key) return k;
  }
  return nullptr;
}

}  // namespace drivers
