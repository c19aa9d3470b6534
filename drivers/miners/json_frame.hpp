#pragma once
// Where a reply that is one bare JSON object ends. Whatsminer's btminer API v2 sends its reply
// with no NUL and no length, and need not close the connection at once (MicroBT "Whatsminer API
// V1.3.8" §4: an idle connection is closed after 10 s), so the reply is complete when its first
// object closes (MicroBT's own client reads it so: whatsminer-mdk-worker, findJSONObjectEnd).
#include <cstddef>
#include <string_view>

namespace drivers::miners {

// Fed the text received so far, each time more has come: scans only what is new.
class JsonObjectEnd {
 public:
  // The offset just past the first top-level JSON object (bytes before its '{' skipped), counting
  // braces outside strings; npos while it is not complete.
  std::size_t feed(std::string_view all);

 private:
  std::size_t at_ = 0;
  int depth_ = 0;
  bool in_string_ = false, escaped_ = false;
};

inline std::size_t json_object_end(std::string_view text) { return JsonObjectEnd().feed(text); }

}  // namespace drivers::miners
