#pragma once
// "Did you mean": the name nearest to a word by edit distance, for refusals that name a typo's
// likely intent (config keys, device and load ids, an override's load). Plain text, no YAML: the
// safety core's overrides use it too (daemon/core/overrides.cpp), and the core reads no YAML.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shackd::text {

// The one of `names` nearest to `word`, if within 3 edits (a typo's "did you mean"); else empty.
std::string_view nearest(std::string_view word, const std::vector<std::string_view>& names);

// The candidate nearest to `word` by edit distance, when it is a plausible typo of it: within a
// third of its length (at least 2), and not the word itself.
std::optional<std::string> nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace shackd::text
