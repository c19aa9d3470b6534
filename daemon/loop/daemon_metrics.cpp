// The daemon's side of the metrics endpoint: starting it, and handing it each cycle's figures.
#include <fmt/format.h>

#include "daemon/loop/daemon.hpp"
#include "daemon/metrics/collect.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

void Daemon::start_metrics(rules::SteadyTime now) {
  if (options_.once || !config_.metrics.enabled || metrics_server_) return;
  metrics::ServerOptions o{.host = config_.metrics.host, .port = config_.metrics.port, .bearer_token = {}};
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
  } catch (const std::exception& e) {
    // The endpoint is a side job: the site is controlled without it; tried again each minute.
    log::limited("metrics listen", log::Level::error, fmt::format("{}; trying again in a minute", e.what()));
    metrics_retry_at_ = now + std::chrono::minutes(1);
  }
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
  if (!metrics_server_) {
    if (metrics_retry_at_ && now >= *metrics_retry_at_) start_metrics(now);
    if (!metrics_server_) return;
  }
  std::vector<std::pair<std::string, const drivers::DeviceHealth*>> devices;
  for (const auto& w : workers_) devices.emplace_back(w->name(), &health_[w->name()]);
  const CycleView view{snap_, decision_, state_, profiles_, loads_, relays_.get(), energy_, devices, mqtt_health_, loop_,
                       device_alarms_};
  metrics_server_->publish(metrics_collector_.collect(
      view, {.site_id = fleet_site_id(), .site_name = config_.site_name, .version = SHACKD_VERSION, .wall_s = wall,
             .started_unix_s = started_unix_s_, .dry_run = config_.dry_run},
      now));
}

}  // namespace shackd
