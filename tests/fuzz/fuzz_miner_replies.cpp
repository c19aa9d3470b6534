// libFuzzer: every miner kind's client (drivers/miners/) fed hostile replies. Input: a byte that
// picks the kind, a byte that picks what is asked (read twice, sleep, wake, a power target, the
// target range), then the replies its exchanges get in turn, split at each 0x01 byte; past the
// last one an exchange throws, as one that timed out. A client may refuse anything, never crash,
// read past a reply (nlohmann's const operator[] on a missing key is undefined, an abort here)
// or throw out of read(), sleep(), wake() or set_power_target().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "drivers/miners/miner_kind.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const auto kinds = drivers::miners::miner_kinds();
  const auto* kind = kinds[data[0] % kinds.size()];
  const int op = data[1] % 5;
  std::vector<std::string> replies(1);
  for (std::size_t i = 2; i < size; ++i) {
    if (data[i] == 1) replies.emplace_back();
    else replies.back() += static_cast<char>(data[i]);
  }
  std::size_t next = 0;
  drivers::miners::MinerConfig c;
  c.kind = kind;
  c.host = "192.0.2.1";
  c.password = "changed-pw";
  c.rated_w = 3400;
  auto api = kind->make(c, [&](const std::string&) -> std::string {
    if (next >= replies.size()) throw std::runtime_error("reply: timed out");
    return replies[next++];
  });
  try {
    switch (op) {
      case 0:
        (void)api->read();
        (void)api->read();
        break;
      case 1: (void)api->sleep(); break;
      case 2: (void)api->wake(); break;
      case 3: (void)api->set_power_target(2000); break;
      case 4:
        // The target range is asked by `probe --miner` only, which catches what it throws.
        try {
          (void)api->power_range();
        } catch (const std::exception&) {
        }
        break;
    }
  } catch (const std::exception&) {
    std::abort();  // the worker catches it, but these say they answer with a result
  }
  return 0;
}
