// The metrics endpoint's component (daemon/metrics/exporter.hpp): starting it, and handing it a
// cycle's figures while somebody scrapes.
#include "daemon/metrics/exporter.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "daemon/config/config.hpp"
#include "daemon/system/log.hpp"
#include "drivers/thread/worker.hpp"

namespace shackd {

namespace {

// How long the loop keeps filling frames after a scrape (and after the endpoint starts): 5 min,
// Prometheus' default lookback delta (its query.lookback-delta flag), past which it calls a series
// stale anyway. A site scraped at any usual interval (15 s to a few minutes) is answered at once
// with the newest cycle; an endpoint nobody scrapes costs the loop nothing but a look at a counter.
constexpr auto kKeepFilling = std::chrono::minutes(5);

// A scrape that finds the loop idle waits for the next cycle: an interval and a second, at most
// 8 s (Prometheus' default scrape_timeout is 10 s).
std::chrono::milliseconds fresh_wait(std::chrono::milliseconds interval) {
  return std::min<std::chrono::milliseconds>(interval + std::chrono::seconds(1), std::chrono::seconds(8));
}

}  // namespace

void MetricsExporter::start(const MetricsConfig& config, std::chrono::milliseconds interval, rules::SteadyTime now) {
  if (!config.enabled || server_) return;
  metrics::ServerOptions o{.host = config.host, .port = config.port, .bearer_token = {}, .fresh_wait = fresh_wait(interval)};
  if (!config.token_file.empty()) {
    const auto token = metrics::read_token(config.token_file);
    if (!token || token->empty()) {
      // Never serve without the token the owner asked for.
      log::limited("metrics token", log::Level::error,
                   fmt::format("metrics: not serving: metrics.token_file '{}' cannot be read or its first line is empty",
                               config.token_file));
      retry_at_ = now + std::chrono::minutes(1);
      return;
    }
    o.bearer_token = *token;
  }
  try {
    auto server = std::make_unique<metrics::Server>(o);
    server->start();
    log::info("metrics: serving http://{}{}{}:{}/metrics{}", o.host.find(':') != std::string::npos ? "[" : "", o.host,
              o.host.find(':') != std::string::npos ? "]" : "", server->port(),
              o.bearer_token.empty() ? "" : " (a bearer token is needed)");
    server_ = std::move(server);
    retry_at_.reset();
    // A new server: frames from before may still be served by a retiring one, so none is reused.
    frames_.clear();
    asked_seen_ = 0;
    fill_until_ = now + kKeepFilling;  // a scraper usually comes soon after a start
  } catch (const std::exception& e) {
    // The endpoint is a side job: the site is controlled without it; tried again each minute.
    log::limited("metrics listen", log::Level::error, fmt::format("{}; trying again in a minute", e.what()));
    retry_at_ = now + std::chrono::minutes(1);
  }
}

void MetricsExporter::restart(const MetricsConfig& config, std::chrono::milliseconds interval, rules::SteadyTime now) {
  retire();
  retry_at_.reset();
  start(config, interval, now);
}

// A token rotated in place (the same file, a new first line) is a change of `metrics:` too: before,
// a reload kept serving with the old one (issue 48).
bool MetricsExporter::token_changed(const MetricsConfig& config, const std::optional<std::string>& token) const {
  if (!server_ || config.token_file.empty()) return false;
  return !token || *token != server_->bearer_token();
}

void MetricsExporter::retire() {
  if (!server_) return;
  server_->stop_listening();
  // Shared, as a Worker's body is copyable: the thread's is the only reference left.
  retiring_.emplace_back("metrics-retire", [s = std::shared_ptr<metrics::Server>(std::move(server_))](std::stop_token) mutable {
    s.reset();  // its destructor waits for its connections (the server's time-outs)
  });
}

void MetricsExporter::stop() {
  retire();
  for (auto& w : retiring_) w.join();
  retiring_.clear();
}

drivers::thread::Stopped MetricsExporter::stop(const drivers::thread::Deadline& deadline) {
  const auto began = deadline.now();
  retire();
  std::size_t left = 0;
  for (auto& w : retiring_) {
    if (!w.join_within(deadline.left())) ++left;
  }
  retiring_.clear();
  if (left == 0) return drivers::thread::Stopped::end("metrics", deadline, began, true);
  return drivers::thread::Stopped::end("metrics", deadline, began, false,
                                       fmt::format("{} retired endpoint(s) still serving a scraper", left));
}

bool MetricsExporter::due(const MetricsConfig& config, std::chrono::milliseconds interval, rules::SteadyTime now,
                          const std::vector<LoadRef>& loads, const EnergyMeter& energy) {
  std::erase_if(retiring_, [](const drivers::thread::Worker& w) { return w.finished(); });
  collector_.count_energy(loads, energy);
  if (!server_) {
    if (retry_at_ && now >= *retry_at_) start(config, interval, now);
    if (!server_) return false;
  }
  auto& server = *server_;
  server.set_fresh_wait(fresh_wait(interval));
  if (const auto asked = server.asked(); asked != asked_seen_) {
    asked_seen_ = asked;
    fill_until_ = now + kKeepFilling;
  }
  if (now >= fill_until_) {
    server.idle();  // the next scrape asks, and waits for the cycle after it
    return false;
  }
  return true;
}

void MetricsExporter::after_cycle(const CycleRecord& r, const Beside& beside, const MetricsConfig& config,
                                  std::chrono::milliseconds interval, const metrics::SiteInfo& site, rules::SteadyTime now) {
  if (!due(config, interval, now, r.loads(), beside.energy)) return;
  // Names assigned into the strings of last time: no allocation once the devices are known.
  auto& devices = this->devices(r.devices.size());
  for (std::size_t i = 0; i < r.devices.size(); ++i) {
    devices[i].first.assign(r.devices[i].first);
    devices[i].second = &r.devices[i].second;
  }
  const CycleView view{r.snap,   r.decision, r.state(),   r.profiles(), r.loads(), beside.relays, beside.energy,
                       devices, beside.mqtt, beside.loop, beside.device_alarms};
  fill(view, site, now);
}

void MetricsExporter::fill(const CycleView& view, const metrics::SiteInfo& site, rules::SteadyTime now) {
  if (!server_) return;
  const auto frame = frames_.take(server_->newest());
  collector_.collect(view, site, now, frame->families);
  server_->publish(frame);
}

}  // namespace shackd
