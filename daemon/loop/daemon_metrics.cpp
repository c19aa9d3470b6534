// The daemon's side of the metrics endpoint: starting it, and handing it a cycle's figures while
// somebody scrapes.
#include <fmt/format.h>

#include <algorithm>

#include "daemon/loop/daemon.hpp"
#include "daemon/metrics/collect.hpp"
#include "daemon/system/log.hpp"

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

void Daemon::start_metrics(rules::SteadyTime now) {
  if (options_.once || !config_.metrics.enabled || metrics_server_) return;
  metrics::ServerOptions o{.host = config_.metrics.host,
                           .port = config_.metrics.port,
                           .bearer_token = {},
                           .fresh_wait = fresh_wait(std::chrono::duration_cast<std::chrono::milliseconds>(config_.interval))};
  if (!config_.metrics.token_file.empty()) {
    const auto token = metrics::read_token(config_.metrics.token_file);
    if (!token || token->empty()) {
      // Never serve without the token the owner asked for.
      log::limited("metrics token", log::Level::error,
                   fmt::format("metrics: not serving: metrics.token_file '{}' cannot be read or its first line is empty",
                               config_.metrics.token_file));
      metrics_retry_at_ = now + std::chrono::minutes(1);
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
    metrics_server_ = std::move(server);
    metrics_retry_at_.reset();
    // A new server: frames from before may still be served by a retiring one, so none is reused.
    metrics_frames_.clear();
    metrics_asked_seen_ = 0;
    metrics_fill_until_ = now + kKeepFilling;  // a scraper usually comes soon after a start
  } catch (const std::exception& e) {
    // The endpoint is a side job: the site is controlled without it; tried again each minute.
    log::limited("metrics listen", log::Level::error, fmt::format("{}; trying again in a minute", e.what()));
    metrics_retry_at_ = now + std::chrono::minutes(1);
  }
}

// A token rotated in place (the same file, a new first line) is a change of `metrics:` too: before,
// a reload kept serving with the old one (issue 48).
bool Daemon::metrics_token_changed(const std::optional<std::string>& token) const {
  if (!metrics_server_ || config_.metrics.token_file.empty()) return false;
  return !token || *token != metrics_server_->bearer_token();
}

void Daemon::retire_metrics() {
  if (!metrics_server_) return;
  metrics_server_->stop_listening();
  metrics_retiring_.push_back(std::async(std::launch::async, [s = std::move(metrics_server_)]() mutable { s.reset(); }));
}

void Daemon::export_metrics(rules::SteadyTime now, std::int64_t wall) {
  std::erase_if(metrics_retiring_, [](const std::future<void>& f) {
    return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
  });
  metrics_collector_.count_energy(loads_, energy_);
  if (!metrics_server_) {
    if (metrics_retry_at_ && now >= *metrics_retry_at_) start_metrics(now);
    if (!metrics_server_) return;
  }
  auto& server = *metrics_server_;
  server.set_fresh_wait(fresh_wait(std::chrono::duration_cast<std::chrono::milliseconds>(config_.interval)));
  if (const auto asked = server.asked(); asked != metrics_asked_seen_) {
    metrics_asked_seen_ = asked;
    metrics_fill_until_ = now + kKeepFilling;
  }
  if (now >= metrics_fill_until_) {
    server.idle();  // the next scrape asks, and waits for the cycle after it
    return;
  }
  // Names assigned into the strings of last time: no allocation once the devices are known.
  metrics_devices_.resize(workers_.size());
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    metrics_devices_[i].first.assign(workers_[i]->name());
    metrics_devices_[i].second = &health_[workers_[i]->name()];
  }
  const CycleView view{snap_, decision_, state_, profiles_, loads_, relays_.get(), energy_, metrics_devices_, mqtt_health_, loop_,
                       device_alarms_};
  const auto frame = metrics_frames_.take(server.newest());
  metrics_collector_.collect(view,
                             {.site_id = fleet_site_id(), .site_name = config_.site_name, .version = SHACKD_VERSION,
                              .wall_s = wall, .started_unix_s = started_unix_s_, .dry_run = config_.dry_run,
                              .host = host_.present() ? &host_ : nullptr},
                             now, frame->families);
  server.publish(frame);
}

}  // namespace shackd
