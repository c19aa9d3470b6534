#include "drivers/mqtt/lanes.hpp"

namespace drivers::mqtt {

namespace {

// A lane's ticket: the link's own in the low bits, the link's generation above them. A link's
// tickets count from 1 and would need 2^40 confirmed messages to reach the generation's bits.
constexpr int kGenerationShift = 40;
constexpr std::uint64_t kTicketMask = (std::uint64_t{1} << kGenerationShift) - 1;

}  // namespace

LinkHolder::Current LinkHolder::current() const {
  std::lock_guard l(m_);
  return {link_, generation_};
}

std::shared_ptr<Link> LinkHolder::put(std::shared_ptr<Link> next) {
  std::lock_guard l(m_);
  ++generation_;
  std::swap(link_, next);
  return next;
}

bool RelayLane::publish(const std::string& topic, const std::string& payload, int qos, bool retain) const {
  const auto link = holder_ ? holder_->get() : nullptr;
  return link && link->publish(topic, payload, qos, retain);
}

void RelayLane::stand(const std::string& id, std::vector<Outgoing> commands) const {
  if (const auto link = holder_ ? holder_->get() : nullptr) link->stand(id, std::move(commands));
}

bool BulkLane::connected() const {
  const auto link = holder_ ? holder_->get() : nullptr;
  return link && link->connected();
}

bool BulkLane::publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                       std::chrono::milliseconds wait) const {
  const auto link = holder_ ? holder_->get() : nullptr;
  return link && link->publish_bulk(topic, payload, qos, retain, wait);
}

std::uint64_t BulkLane::publish_confirmed(const std::string& topic, const std::string& payload, bool retain) const {
  if (!holder_) return 0;
  const auto [link, generation] = holder_->current();
  if (!link) return 0;
  const std::uint64_t t = link->publish_confirmed(topic, payload, retain);
  if (t == 0 || t > kTicketMask) return 0;
  return (generation << kGenerationShift) | t;
}

std::optional<bool> BulkLane::delivered(std::uint64_t ticket) const {
  if (!holder_) return false;
  const auto [link, generation] = holder_->current();
  if (!link || (ticket >> kGenerationShift) != generation) return false;  // taken on a link no longer in force
  return link->delivered(ticket & kTicketMask);
}

void BulkLane::forget(std::uint64_t ticket) const {
  if (!holder_) return;
  const auto [link, generation] = holder_->current();
  if (link && (ticket >> kGenerationShift) == generation) link->forget(ticket & kTicketMask);
}

}  // namespace drivers::mqtt
