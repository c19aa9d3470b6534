#include "drivers/text/json_in.hpp"

namespace drivers::text {

nlohmann::json parse_peer_json(std::string_view text, std::string* why, int max_depth) {
  bool too_deep = false;
  // The callback sees each container as it opens, at the depth of those around it; one past the
  // bound is dropped with what it holds (nlohmann's callback parser keeps no value it was told to
  // drop), and the whole is refused below.
  const nlohmann::json::parser_callback_t bound = [&](int depth, nlohmann::json::parse_event_t event, nlohmann::json&) {
    if ((event == nlohmann::json::parse_event_t::object_start || event == nlohmann::json::parse_event_t::array_start) &&
        depth >= max_depth) {
      too_deep = true;
      return false;
    }
    return !too_deep;
  };
  nlohmann::json j = nlohmann::json::parse(text, bound, false);
  if (too_deep) {
    if (why) *why = "nested deeper than " + std::to_string(max_depth) + " levels";
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  if (j.is_discarded() && why) *why = "not JSON";
  return j;
}

}  // namespace drivers::text
