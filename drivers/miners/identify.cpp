#include "drivers/miners/identify.hpp"

#include "drivers/miners/http_exchange.hpp"
#include "drivers/miners/tcp_exchange.hpp"

namespace drivers::miners {

Identified identify_miner(const std::string& host, int port, const std::string& password, std::chrono::milliseconds timeout) {
  Identified out;
  for (const MinerKind* kind : miner_kinds()) {
    MinerConfig c;
    c.kind = kind;
    c.host = host;
    c.port = port ? port : kind->port;
    c.password = password;
    auto exchange = kind->framing == MinerKind::Framing::http ? http_exchange(host, c.port, timeout)
                                                              : tcp_exchange(host, c.port, kind->framing, timeout);
    auto api = kind->make(c, std::move(exchange));
    Telemetry t = api->read();
    // A firmware that answered in its own protocol but wants a login is found all the same.
    const bool refused_login = !t.answered && t.error.find("login as ") != std::string::npos &&
                               t.error.find("HTTP 401") != std::string::npos;
    if (t.answered && !kind->firmware_mark.empty() && t.firmware.find(kind->firmware_mark) == std::string::npos) {
      t.answered = false;
      t.error = "it answered, as " + (t.firmware.empty() ? std::string("an unnamed firmware") : t.firmware) + ", not " +
                std::string(kind->firmware_mark);
    }
    if (!t.answered && !refused_login) {
      out.tried += (out.tried.empty() ? "" : "; ") + std::string(kind->key) + " on " + std::to_string(c.port) + ": " + t.error;
      continue;
    }
    out.kind = kind;
    out.port = c.port;
    out.needs_password = refused_login;
    out.telemetry = std::move(t);
    if (kind->takes_power_target && !refused_login) {
      try {
        out.range = api->power_range();
      } catch (const std::exception&) {
        // The range is a help for the config, not a verdict: the block says to look it up.
      }
    }
    return out;
  }
  return out;
}

}  // namespace drivers::miners
