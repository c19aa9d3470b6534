#include "drivers/mqtt/link.hpp"

namespace drivers::mqtt {

void Link::stand(const std::string& key, std::vector<Outgoing> commands) {
  std::lock_guard lock(standing_m_);
  if (commands.empty()) commands_.erase(key);
  else commands_[key] = std::move(commands);
}

void Link::ask_on_connect(const std::string& key, std::vector<Outgoing> questions) {
  std::lock_guard lock(standing_m_);
  if (questions.empty()) questions_.erase(key);
  else questions_[key] = std::move(questions);
}

Link::Standing Link::standing() const {
  Standing s;
  std::lock_guard lock(standing_m_);
  for (const auto& [key, v] : commands_) s.commands.insert(s.commands.end(), v.begin(), v.end());
  for (const auto& [key, v] : questions_) s.questions.insert(s.questions.end(), v.begin(), v.end());
  return s;
}

}  // namespace drivers::mqtt
