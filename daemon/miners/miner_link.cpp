#include "daemon/miners/miner_link.hpp"

#include "drivers/miners/tcp_exchange.hpp"

namespace shackd {

const char* command_name(MinerCommand c) { return c == MinerCommand::sleep ? "sleep" : "wake"; }

MinerWorker::MinerWorker(std::unique_ptr<drivers::miners::MinerApi> api, std::chrono::milliseconds poll)
    : api_(std::move(api)), poll_(poll), thread_([this] { run(); }) {}

MinerWorker::~MinerWorker() {
  {
    std::lock_guard l(m_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void MinerWorker::send(MinerCommand c) {
  {
    std::lock_guard l(m_);
    if (queue_.size() < 8) queue_.push_back(c);  // the loop sends one per stop or start
  }
  cv_.notify_all();
}

MinerReport MinerWorker::take() {
  std::lock_guard l(m_);
  return std::exchange(ready_, {});
}

void MinerWorker::run() {
  std::unique_lock l(m_);
  while (!stop_) {
    while (!queue_.empty() && !stop_) {
      const MinerCommand c = queue_.front();
      queue_.pop_front();
      l.unlock();
      drivers::miners::CommandResult r;
      try {
        r = c == MinerCommand::sleep ? api_->sleep() : api_->wake();
      } catch (const std::exception& e) {
        r = {false, e.what()};
      }
      l.lock();
      ready_.done.emplace_back(c, std::move(r));
    }
    if (stop_) break;
    l.unlock();
    drivers::miners::Telemetry t;
    try {
      t = api_->read();
    } catch (const std::exception& e) {
      t.error = e.what();
    }
    l.lock();
    ready_.telemetry = std::move(t);
    cv_.wait_for(l, poll_, [this] { return stop_ || !queue_.empty(); });
  }
}

std::unique_ptr<MinerLink> make_miner_worker(const drivers::miners::MinerConfig& c) {
  auto api = c.kind->make(c, drivers::miners::tcp_exchange(c.host, c.port, c.kind->framing, c.timeout));
  return std::make_unique<MinerWorker>(std::move(api), std::chrono::duration_cast<std::chrono::milliseconds>(c.poll));
}

}  // namespace shackd
