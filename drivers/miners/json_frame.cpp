#include "drivers/miners/json_frame.hpp"

namespace drivers::miners {

std::size_t JsonObjectEnd::feed(std::string_view all) {
  for (; at_ < all.size(); ++at_) {
    const char c = all[at_];
    if (depth_ == 0) {
      if (c == '{') depth_ = 1;
      continue;
    }
    if (in_string_) {
      if (escaped_) escaped_ = false;
      else if (c == '\\') escaped_ = true;
      else if (c == '"') in_string_ = false;
      continue;
    }
    if (c == '"') in_string_ = true;
    else if (c == '{') ++depth_;
    else if (c == '}' && --depth_ == 0) return ++at_;
  }
  return std::string_view::npos;
}

}  // namespace drivers::miners
