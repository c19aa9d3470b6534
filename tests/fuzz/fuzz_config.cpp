// libFuzzer: the YAML config loader. Any text must give a config or a list of errors (each
// naming a path), never a crash, a leak or undefined behaviour.
#include <cstddef>
#include <cstdint>
#include <string>

#include "daemon/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const shackd::ConfigResult r = shackd::parse_config(text, "fuzz.yaml");
  // A refused config always says why.
  if (!r.config && r.errors.empty()) __builtin_trap();
  return 0;
}
