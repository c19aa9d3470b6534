#include "daemon/miners/miner_link.hpp"

#include "drivers/miners/http_exchange.hpp"
#include "drivers/miners/tcp_exchange.hpp"
#include "drivers/thread/worker.hpp"

namespace shackd {

const char* command_name(MinerCommand c) {
  switch (c) {
    case MinerCommand::sleep: return "sleep";
    case MinerCommand::wake: return "wake";
    case MinerCommand::target: return "power target";
  }
  return "?";
}

drivers::miners::CommandResult run_order(drivers::miners::MinerApi& api, const MinerOrder& order) {
  try {
    switch (order.command) {
      case MinerCommand::sleep: return api.sleep();
      case MinerCommand::wake: return api.wake();
      case MinerCommand::target: return api.set_power_target(order.watts);
    }
  } catch (const std::exception& e) {
    return {false, e.what()};
  }
  return {false, "unknown order"};
}

MinerWorker::MinerWorker(std::unique_ptr<drivers::miners::MinerApi> api, std::chrono::milliseconds poll,
                         std::shared_ptr<drivers::miners::Cancel> cancel, std::string thread_name)
    : api_(std::move(api)),
      poll_(poll),
      cancel_(std::move(cancel)),
      thread_(std::move(thread_name), [this](const std::stop_token& stop) { run(stop); }) {}

MinerWorker::~MinerWorker() {
  thread_.request_stop();  // its wait wakes at once
  if (cancel_) cancel_->cancel();  // and an exchange under way ends now, not at its time-out
  thread_.join();
}

void MinerWorker::send(MinerOrder order) {
  {
    std::lock_guard l(m_);
    // A newer target replaces one not yet sent: only the latest matters.
    bool replaced = false;
    for (auto& q : queue_) {
      if (order.command == MinerCommand::target && q.command == MinerCommand::target) {
        q = order;
        replaced = true;
      }
    }
    if (!replaced && queue_.size() < 8) queue_.push_back(order);  // the loop sends one per stop, start or target
  }
  cv_.notify_all();
}

MinerReport MinerWorker::take() {
  std::lock_guard l(m_);
  return std::exchange(ready_, {});
}

void MinerWorker::run(const std::stop_token& stop) {
  std::unique_lock l(m_);
  while (!stop.stop_requested()) {
    while (!queue_.empty() && !stop.stop_requested()) {
      const MinerOrder order = queue_.front();
      queue_.pop_front();
      l.unlock();
      drivers::miners::CommandResult r = run_order(*api_, order);
      l.lock();
      ready_.done.push_back({order, std::move(r)});
    }
    if (stop.stop_requested()) break;
    l.unlock();
    drivers::miners::Telemetry t;
    try {
      t = api_->read();
    } catch (const std::exception& e) {
      t.error = e.what();
    }
    l.lock();
    ready_.telemetry = std::move(t);
    cv_.wait_for(l, stop, poll_, [this] { return !queue_.empty(); });
  }
}

std::unique_ptr<MinerLink> make_miner_worker(const drivers::miners::MinerConfig& c) {
  auto cancel = std::make_shared<drivers::miners::Cancel>();
  auto exchange = c.kind->framing == drivers::miners::MinerKind::Framing::http
                      ? drivers::miners::http_exchange(c.host, c.port, c.timeout, cancel, {c.https, c.ca_file})
                      : drivers::miners::tcp_exchange(c.host, c.port, c.kind->framing, c.timeout, cancel);
  auto api = c.kind->make(c, std::move(exchange));
  return std::make_unique<MinerWorker>(std::move(api), std::chrono::duration_cast<std::chrono::milliseconds>(c.poll),
                                       std::move(cancel), drivers::thread::short_name("miner ", c.load_id));
}

}  // namespace shackd
