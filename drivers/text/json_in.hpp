#pragma once
// JSON from a peer (a miner's reply, an MQTT payload from any client on the broker), parsed with
// its nesting bounded. nlohmann's parser builds a tree of any depth without recursing, and frees one
// without recursing, but copying a value, dump() and == recurse once a level
// (nlohmann/json 3.11, json.hpp: basic_json's copy constructor, serializer::dump): a reply of half
// a million '[' fits in a miner's 1 MiB and would overflow a thread's stack at the first copy.
// No device or protocol we read nests deeper than a few levels.
#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace drivers::text {

// Deeper than this, a document is refused whole.
inline constexpr int kJsonMaxDepth = 32;

// `text` parsed; a discarded value (is_discarded()) when it is not JSON or nests deeper than
// `max_depth` (no deep tree is built: the parser's own callback drops it as it comes), and then,
// if `why` is given, which of the two ("not JSON", "nested deeper than 32 levels"). Never throws
// for what `text` holds.
nlohmann::json parse_peer_json(std::string_view text, std::string* why = nullptr, int max_depth = kJsonMaxDepth);

}  // namespace drivers::text
