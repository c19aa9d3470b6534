#include "daemon/config/config_keys.hpp"

#include <fmt/format.h>

#include <functional>

#include "daemon/config/devices_yaml.hpp"
#include "daemon/config/metrics_listen.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "rules/format.hpp"
#include "rules/profile.hpp"

namespace shackd::config_keys {

namespace {

// How the tables below are written: one call per key, naming where its value goes (a member
// pointer, or a function to a member of a member), its range where it has one, and its doc.
template <typename T, typename Locate>
Key<T> text(std::string_view key, Locate at, std::string_view doc) {
  return {key, "", "", doc,
          [at](const YAML::Node& v, const std::string& p, Context& c, T& t) { c.r.text(v, p, std::invoke(at, t)); },
          [at](const T& t) { return std::string(std::invoke(at, t)); }};
}

template <typename T, typename Locate>
Key<T> flag(std::string_view key, Locate at, std::string_view doc) {
  return {key, "", "", doc,
          [at](const YAML::Node& v, const std::string& p, Context& c, T& t) { c.r.boolean(v, p, std::invoke(at, t)); },
          [at](const T& t) { return std::string(std::invoke(at, t) ? "true" : "false"); }};
}

template <typename T, typename Locate>
Key<T> whole(std::string_view key, Locate at, long long min, long long max, std::string_view unit, std::string_view doc) {
  return {key, unit, fmt::format("{} to {}", min, max), doc,
          [at, min, max](const YAML::Node& v, const std::string& p, Context& c, T& t) {
            c.r.integer_as(v, p, min, max, std::invoke(at, t));
          },
          [at](const T& t) { return std::to_string(std::invoke(at, t)); }};
}

// Whole seconds in the file, into any duration.
template <typename T, typename Locate>
Key<T> secs(std::string_view key, Locate at, long long min, long long max, std::string_view doc) {
  return {key, "s", fmt::format("{} to {}", min, max), doc,
          [at, min, max](const YAML::Node& v, const std::string& p, Context& c, T& t) {
            c.r.secs(v, p, min, max, std::invoke(at, t));
          },
          [at](const T& t) {
            return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(std::invoke(at, t)).count());
          }};
}

template <typename T, typename Locate>
Key<T> millis(std::string_view key, Locate at, long long min, long long max, std::string_view doc) {
  return {key, "ms", fmt::format("{} to {}", min, max), doc,
          [at, min, max](const YAML::Node& v, const std::string& p, Context& c, T& t) {
            c.r.ms(v, p, min, max, std::invoke(at, t));
          },
          [at](const T& t) { return std::to_string(std::invoke(at, t).count()); }};
}

template <typename T, typename Locate>
Key<T> list(std::string_view key, Locate at, std::string_view doc) {
  return {key, "", "", doc,
          [at](const YAML::Node& v, const std::string& p, Context& c, T& t) { c.r.strings(v, p, std::invoke(at, t)); },
          [at](const T& t) { return fmt::format("[{}]", fmt::join(std::invoke(at, t), ", ")); }};
}

// A number with a closed range; "{x} is out of range: must be {min} to {max}" past it.
std::optional<double> ranged_real(const YAML::Node& v, const std::string& p, Context& c, double min, double max) {
  const auto x = yaml::real(v, p, c.r.e);
  if (x && (*x < min || *x > max)) {
    c.r.e.add(p, v, fmt::format("{} is out of range: must be {} to {}", *x, min, max));
    return std::nullopt;
  }
  return x;
}

template <typename T>
Key<T> custom(std::string_view key, std::string_view unit, std::string range, std::string_view doc,
              std::function<void(const YAML::Node&, const std::string&, Context&, T&)> read,
              std::function<std::string(const T&)> shown) {
  return {key, unit, std::move(range), doc, std::move(read), std::move(shown)};
}

// A check after the key is read: its problem, if any, is the key's error.
template <typename T>
Key<T> checked(Key<T> k, std::function<std::string(const T&)> problem) {
  k.read = [read = std::move(k.read), problem = std::move(problem)](const YAML::Node& v, const std::string& p,
                                                                     Context& c, T& t) {
    read(v, p, c, t);
    if (const std::string why = problem(t); !why.empty()) c.r.e.add(p, v, why);
  };
  return k;
}

std::string number(double v) { return rules::format_value(v); }

// A site id is one topic level at a central broker shared by many sites, a label value and part
// of each event's id: lower case letters, digits, '_' and '-', as Home Assistant's ids are made.
std::string site_id_problem(const std::string& id) {
  if (id.empty() || id.size() > 64) return "must be 1 to 64 characters";
  for (const char ch : id) {
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')) {
      return "may hold only a-z, 0-9, '_' and '-' (it is a topic level at the central broker)";
    }
  }
  return "";
}

// A candidate's changes: each of replay's --set form; a bounded list of bounded lines (a config is
// text from anyone who can write the file).
std::string candidate_problem(const std::vector<std::string>& sets) {
  constexpr std::size_t kMaxSets = 64, kMaxLength = 256;
  if (sets.size() > kMaxSets) return fmt::format("{} changes: at most {}", sets.size(), kMaxSets);
  for (const auto& s : sets) {
    if (s.size() > kMaxLength) return fmt::format("a change of {} characters: at most {}", s.size(), kMaxLength);
    std::string error;
    if (!parse_profile_set(s, error)) return error;
  }
  return "";
}

template <typename T>
std::vector<KeyDoc> docs(const std::vector<Key<T>>& keys) {
  std::vector<KeyDoc> out;
  const T fallback{};
  for (const auto& k : keys) {
    out.push_back({std::string(k.key), std::string(k.unit), k.range, k.shown ? k.shown(fallback) : "", std::string(k.doc)});
  }
  return out;
}

using drivers::mqtt::RelayConfig;
using drivers::mqtt::RelayTiming;
using drivers::mqtt::SensorConfig;

}  // namespace

const std::vector<Key<Config>>& site_keys() {
  static const std::vector<Key<Config>> keys = {
      text<Config>("name", &Config::site_name, "shown in Home Assistant; its ids are fixed at the first start"),
      checked(text<Config>("id", &Config::site_id,
                           "the site's id in a fleet (uplink topics, event ids, metrics): a-z, 0-9, _ and -; "
                           "empty: the id fixed at the first start"),
              std::function<std::string(const Config&)>([](const Config& c) {
                const auto why = site_id_problem(c.site_id);
                return why.empty() ? why : fmt::format("'{}': {}", c.site_id, why);
              })),
  };
  return keys;
}

const std::vector<Key<Config>>& database_keys() {
  static const std::vector<Key<Config>> keys = {
      text<Config>("path", &Config::database_path, "the SQLite file; its directory must exist"),
      whole<Config>("telemetry_days", &Config::telemetry_days, 1, 3650, "days", "minute averages kept this long"),
      whole<Config>("events_days", &Config::events_days, 1, 3650, "days", "events kept this long"),
      whole<Config>("journal_days", &Config::journal_days, 0, 3650, "days",
                    "every cycle's inputs, for `shackd replay` (about 5 MB a day at 2 s cycles); 0: off"),
  };
  return keys;
}

const std::vector<Key<Config>>& loop_keys() {
  static const std::vector<Key<Config>> keys = {
      millis<Config>("interval_ms", &Config::interval, 100, 60000, "one poll, decision and publish per interval"),
      flag<Config>("dry_run", &Config::dry_run, "true: decide and publish, switch nothing"),
      flag<Config>("shadow", &Config::shadow,
                   "true: beside another controller: decide, command nothing, record where it disagrees with the relays"),
      checked(list<Config>("candidate", &Config::candidate,
                           "profile changes to try beside the ones in force, as `replay --set` takes them "
                           "(miners.<name>.start_voltage=53): decided every cycle, never actuated, their differences recorded"),
              std::function<std::string(const Config&)>([](const Config& c) { return candidate_problem(c.candidate); })),
  };
  return keys;
}

const std::vector<Key<MqttConfig>>& mqtt_keys() {
  using M = MqttConfig;
  static const std::vector<Key<M>> keys = {
      checked(text<M>("uri", &M::uri, "the broker: tcp://host:port or ssl://host:port (your own Mosquitto)"),
              std::function<std::string(const M&)>([](const M& m) {
                return m.uri.rfind("tcp://", 0) == 0 || m.uri.rfind("ssl://", 0) == 0
                           ? std::string()
                           : fmt::format("'{}' must start with tcp:// or ssl://", m.uri);
              })),
      text<M>("client_id", &M::client_id, "shackd's client id at the broker"),
      text<M>("username", &M::username, "with a password: the broker's user"),
      text<M>("password_file", &M::password_file, "a file whose first line is the password (never the password here)"),
      text<M>("ca_file", &M::ca_file, "for ssl://: the CA that signed the broker's certificate"),
      text<M>("cert_file", &M::cert_file, "for ssl:// with client certificates: shackd's certificate"),
      text<M>("key_file", &M::key_file, "... and its key"),
      checked(text<M>("prefix", &M::prefix, "shackd's topics: <prefix>/state, <prefix>/load/<id>/..."),
              std::function<std::string(const M&)>([](const M& m) {
                return m.prefix.empty() || m.prefix.find_first_of("#+") != std::string::npos || m.prefix.back() == '/'
                           ? "must be a topic without wildcards or a trailing /"
                           : "";
              })),
      secs<M>("keepalive_s", &M::keepalive, 5, 3600, "the MQTT keepalive"),
      flag<M>("discovery", &M::discovery, "Home Assistant MQTT discovery"),
      text<M>("discovery_prefix", &M::discovery_prefix, "Home Assistant's discovery prefix"),
      flag<M>("allow_settings", &M::allow_settings,
              "true: each miner's fields marked over MQTT (Profile keys) can be set over MQTT, except a value the "
              "profiles: section gives"),
  };
  return keys;
}

const std::vector<Key<RelayConfig>>& relay_keys() {
  using R = RelayConfig;
  static const std::vector<Key<R>> keys = {
      custom<R>(
          "protocol", "", "", "tasmota, shelly_gen1, shelly_gen2, esphome or generic (required)",
          [](const YAML::Node& v, const std::string& p, Context& c, R& r) {
            std::string protocol;
            c.r.text(v, p, protocol);
            if (auto pr = drivers::mqtt::parse_protocol(protocol)) {
              r.protocol = *pr;
            } else {
              c.r.e.add(p, v,
                        fmt::format("'{}' must be tasmota, shelly_gen1, shelly_gen2, esphome or generic", protocol));
            }
          },
          [](const R&) { return std::string(); }),
      text<R>("topic", &R::topic, "Tasmota %topic%, a Shelly Gen1's id, a Shelly Gen2's or ESPHome's topic prefix"),
      text<R>("full_topic", &R::full_topic, "Tasmota FullTopic"),
      whole<R>("channel", &R::channel, 0, 32, "", "Tasmota POWER<n> (from 1); a Shelly's relay (from 0, its default)"),
      text<R>("object_id", &R::object_id, "ESPHome: the switch's object id"),
      text<R>("command_topic", &R::command_topic, "generic: where ON and OFF go"),
      text<R>("state_topic", &R::state_topic, "generic: where it reports its state"),
      text<R>("availability_topic", &R::availability_topic, "generic: where it says it is online"),
      text<R>("payload_on", &R::payload_on, "generic: the ON command"),
      text<R>("payload_off", &R::payload_off, "generic: the OFF command"),
      text<R>("state_on", &R::state_on, "generic: its state when on"),
      text<R>("state_off", &R::state_off, "generic: its state when off"),
      text<R>("available", &R::available, "generic: its availability payload when online"),
      text<R>("not_available", &R::not_available, "generic: ... and when offline"),
      secs<R>("dead_man_s", &R::dead_man, 0, 64800,
              "each ON arms the device's own auto-off (Tasmota PulseTime, Shelly Gen2 toggle_after); 0: off"),
      flag<R>("speed_dimmer", &R::speed_dimmer, "a fan's speed as Tasmota Dimmer 0..100"),
      text<R>("speed_topic", &R::speed_topic, "generic: a topic that takes the fan's speed in percent"),
  };
  return keys;
}

const std::vector<Key<RelayTiming>>& relay_timing_keys() {
  using T = RelayTiming;
  static const std::vector<Key<T>> keys = {
      secs<T>("resend_s", &T::resend_interval, 5, 3600, "the desired state again, even when confirmed"),
      secs<T>("confirm_s", &T::confirm_timeout, 1, 600, "no matching report by then: relay_unconfirmed, retried"),
      secs<T>("retry_min_s", &T::retry_min, 1, 600, "the first retry of an unconfirmed command, doubling ..."),
      secs<T>("retry_max_s", &T::retry_max, 1, 3600, "... up to this"),
  };
  return keys;
}

const std::vector<Key<SensorConfig>>& sensor_keys() {
  using S = SensorConfig;
  static const std::vector<Key<S>> keys = {
      text<S>("topic", &S::topic, "where it reports"),
      custom<S>(
          "format", "", "", "tasmota, json or number",
          [](const YAML::Node& v, const std::string& p, Context& c, S& s) {
            std::string f;
            c.r.text(v, p, f);
            if (f == "tasmota") s.format = drivers::mqtt::SensorFormat::tasmota;
            else if (f == "json") s.format = drivers::mqtt::SensorFormat::json;
            else if (f == "number") s.format = drivers::mqtt::SensorFormat::number;
            else c.r.e.add(p, v, fmt::format("'{}' must be tasmota, json or number", f));
          },
          [](const S&) { return std::string("tasmota"); }),
      text<S>("key", &S::key, "tasmota: the sensor's key (BME280) or a DS18x20's Id; json: a dotted path"),
      text<S>("field", &S::field, "tasmota: the value inside the sensor's object"),
      custom<S>(
          "min", "°C", "", "a reading below this is implausible, and dropped",
          [](const YAML::Node& v, const std::string& p, Context& c, S& s) {
            if (auto d = yaml::real(v, p, c.r.e)) s.min = *d;
          },
          [](const S& s) { return number(s.min); }),
      custom<S>(
          "max", "°C", "", "... and above this",
          [](const YAML::Node& v, const std::string& p, Context& c, S& s) {
            if (auto d = yaml::real(v, p, c.r.e)) s.max = *d;
          },
          [](const S& s) { return number(s.max); }),
  };
  return keys;
}

const std::vector<Key<Config>>& readings_keys() {
  static const std::vector<Key<Config>> keys = {
      list<Config>("pv_w", &Config::pv_readings, "readings summed into PV; default: what the devices offer"),
      list<Config>("load_w", &Config::load_readings, "readings summed into the load"),
      list<Config>("battery_v", &Config::battery_v_readings, "the battery's voltage, best first"),
      list<Config>("battery_temp_c", &Config::battery_temp_readings, "the battery's temperature, best first"),
  };
  return keys;
}

const std::vector<Key<Config>>& safety_keys() {
  static const std::vector<Key<Config>> keys = {
      custom<Config>(
          "shutdown_policy", "", "", "leave (the dead-man covers a long absence) or miners_off, at shackd's stop",
          [](const YAML::Node& v, const std::string& p, Context& c, Config& cfg) {
            std::string s;
            c.r.text(v, p, s);
            if (s == "leave") cfg.shutdown_policy = ShutdownPolicy::leave;
            else if (s == "miners_off") cfg.shutdown_policy = ShutdownPolicy::miners_off;
            else c.r.e.add(p, v, fmt::format("'{}' must be leave or miners_off", s));
          },
          [](const Config& cfg) {
            return std::string(cfg.shutdown_policy == ShutdownPolicy::leave ? "leave" : "miners_off");
          }),
      custom<Config>(
          "charge_block_action", "", "",
          "while a cold battery blocks charging: alarm, or the chargers' limits to hold at 0 A ([dvcc, solark])",
          [](const YAML::Node& v, const std::string&, Context& c, Config& cfg) {
            parse_charge_block(v, c.r, c.kinds, cfg.charge_block_action);
          },
          [](const Config& cfg) {
            return cfg.charge_block_action.empty() ? std::string("alarm")
                                                   : fmt::format("[{}]", fmt::join(cfg.charge_block_action, ", "));
          }),
  };
  return keys;
}

const std::vector<Key<MetricsConfig>>& metrics_keys() {
  using M = MetricsConfig;
  static const std::vector<Key<M>> keys = {
      custom<M>(
          "listen", "", "", "host:port of the Prometheus endpoint (off without it): loopback or a VPN address",
          [](const YAML::Node& v, const std::string& p, Context& c, M& m) {
            std::string value;
            c.r.text(v, p, value);
            m.enabled = true;
            if (const auto why = metrics::parse_listen(value, m.host, m.port); !why.empty()) {
              c.r.e.add(p, v, fmt::format("'{}': {}", value, why));
            }
          },
          [](const M&) { return std::string(); }),
      text<M>("token_file", &M::token_file, "a file whose first line is the bearer token a scraper must send"),
  };
  return keys;
}

const std::vector<Key<UplinkConfig>>& uplink_keys() {
  using U = UplinkConfig;
  static const std::vector<Key<U>> keys = {
      secs<U>("state_interval_s", &U::state_interval, 5, 3600, "<prefix>/site/<id>/state this often"),
      checked(text<U>("bridge", &U::bridge, "the bridge's connection name on $SYS; empty: shackd-<site id>"),
              std::function<std::string(const U&)>([](const U& u) {
                return u.bridge.empty() || u.bridge.size() > 64 || u.bridge.find_first_of("/+#") != std::string::npos
                           ? "must be the bridge's connection name: 1 to 64 characters, none of / + #"
                           : "";
              })),
  };
  return keys;
}

const std::vector<Key<HostConfig>>& host_keys() {
  using H = HostConfig;
  static const std::vector<Key<H>> keys = {
      flag<H>("enabled", &H::enabled, "false: the Pi's own health is not read"),
      text<H>("root", &H::root, "where /sys and /proc are (a test's fake tree)"),
      secs<H>("interval_s", &H::interval, 1, 3600, "read this often"),
      secs<H>("clear_after_s", [](auto& h) -> auto& { return h.limits.flag_clear_after; }, 1, 86400,
              "an under-voltage or throttling flag clears once not seen this long"),
      custom<H>(
          "hot_c", "°C", "40 to 120", "the SoC's temperature alarm (cleared 5 °C below)",
          [](const YAML::Node& v, const std::string& p, Context& c, H& h) {
            if (const auto x = ranged_real(v, p, c, 40, 120)) {
              h.limits.hot_c = *x;
              h.limits.hot_clear_c = *x - 5;
            }
          },
          [](const H& h) { return number(h.limits.hot_c); }),
      custom<H>(
          "shed_loads_above_c", "°C", "50 to 120", "miners and heaters off while the Pi is this hot; null: never",
          [](const YAML::Node& v, const std::string& p, Context& c, H& h) {
            if (yaml::is_null(v)) h.limits.shed_above_c.reset();
            else if (const auto x = ranged_real(v, p, c, 50, 120)) h.limits.shed_above_c = *x;
          },
          [](const H& h) { return h.limits.shed_above_c ? number(*h.limits.shed_above_c) : std::string("null"); }),
      custom<H>(
          "write_alarm_mb_per_h", "MB/h", "1 to 100000", "an alarm when shackd writes more to its storage",
          [](const YAML::Node& v, const std::string& p, Context& c, H& h) {
            if (const auto x = ranged_real(v, p, c, 1, 100000)) {
              h.limits.write_alarm_mb_per_h = *x;
              h.limits.write_clear_mb_per_h = *x * 2 / 3;
            }
          },
          [](const H& h) { return number(h.limits.write_alarm_mb_per_h); }),
  };
  return keys;
}

const std::vector<Key<AcSourceConfig>>& ac_source_keys() {
  using A = AcSourceConfig;
  // A rating in watts per phase: 0 is "not known" (no budget); a megawatt is no off-grid source.
  const auto watts = [](std::string_view key, double rules::AcSource::*member, std::string_view doc) {
    return custom<A>(
        key, "W", "0 to 1000000", doc,
        [member](const YAML::Node& v, const std::string& p, Context& c, A& a) {
          if (const auto x = ranged_real(v, p, c, 0, 1e6)) a.rating.*member = *x;
        },
        [member](const A& a) { return number(a.rating.*member); });
  };
  static const std::vector<Key<A>> keys = {
      custom<A>(
          "kind", "", "inverter or generator",
          "generator: on an inverter's AC input, it feeds no load directly; while it runs every load on an inverter "
          "is on it too (On generator power)",
          [](const YAML::Node& v, const std::string& p, Context& c, A& a) {
            const auto kind = yaml::text(v, p, c.r.e);  // not text (a list, null): its error said once
            if (!kind) return;
            if (*kind == "inverter") a.rating.kind = rules::AcSourceKind::inverter;
            else if (*kind == "generator") a.rating.kind = rules::AcSourceKind::generator;
            else c.r.e.add(p, v, fmt::format("'{}' must be inverter or generator", *kind));
          },
          [](const A& a) {
            return std::string(a.rating.kind == rules::AcSourceKind::generator ? "generator" : "inverter");
          }),
      whole<A>("phases", [](auto& a) -> auto& { return a.rating.phases; }, 1, 3, "",
               "1; 2: split phase (L1, L2); 3: three-phase"),
      watts("continuous_w", &rules::AcSource::continuous_w,
            "per phase: a start waits unless load + its draw + margin_w stays within it; 0: not known, no budget"),
      watts("surge_w", &rules::AcSource::surge_w, "per phase, at least continuous_w: the datasheet's; 0: not known"),
      watts("margin_w", &rules::AcSource::margin_w, "room a start must leave under continuous_w"),
      secs<A>("overload_tolerance_s", [](auto& a) -> auto& { return a.rating.overload_tolerance; }, 0, 3600,
              "a load measured above continuous_w this long is an overload, as the source's own warning is"),
      secs<A>("overload_hold_s", [](auto& a) -> auto& { return a.rating.overload_hold; }, 0, 86400,
              "no start on it this long after an overload"),
      list<A>("load_w_l1", [](auto& a) -> auto& { return a.load_w[0]; },
              "readings summed into its L1 output (a phase with none is not known: a start on a rated one waits; "
              "a generator with none: the generator power its devices offer)"),
      list<A>("load_w_l2", [](auto& a) -> auto& { return a.load_w[1]; }, "... into its L2 output"),
      list<A>("load_w_l3", [](auto& a) -> auto& { return a.load_w[2]; }, "... into its L3 output"),
      list<A>("overload", &A::overload, "its own overload words for the whole source (0 ok, 1 warning, 2 alarm)"),
      list<A>("overload_l1", [](auto& a) -> auto& { return a.overload_phase[0]; }, "... for L1"),
      list<A>("overload_l2", [](auto& a) -> auto& { return a.overload_phase[1]; }, "... for L2"),
      list<A>("overload_l3", [](auto& a) -> auto& { return a.overload_phase[2]; }, "... for L3"),
  };
  return keys;
}

const std::vector<Section>& sections() {
  static const std::vector<Section> all = {
      {"site", "the site's name and its id in a fleet", false, docs(site_keys())},
      {"database", "the SQLite file and how long its history is kept", false, docs(database_keys())},
      {"loop", "the cycle: its interval, a dry run, shadow mode beside another controller, a candidate profile", false,
       docs(loop_keys())},
      {"devices", "each device by your name for it, with its kind: and what that kind takes (Devices)", false, {}},
      {"mqtt", "the broker, its credentials, shackd's topics, Home Assistant discovery", false, docs(mqtt_keys())},
      {"relays", "each relay by the id the profiles use", true, docs(relay_keys())},
      {"relay_timing", "how relay commands are repeated and confirmed", false, docs(relay_timing_keys())},
      {"sensors", "each MQTT temperature sensor by the id the zones use", true, docs(sensor_keys())},
      {"readings", "which readings make the PV, the load and the battery's voltage and temperature", false,
       docs(readings_keys())},
      {"profiles", "the site's preferences, miners and zones, applied to the database (Profile keys)", false, {}},
      {"safety", "what shackd does at its stop and while a cold battery blocks charging", false, docs(safety_keys())},
      {"miners", "each miner's own API, by its relay id (Miners through their own API)", false, {}},
      {"metrics", "the Prometheus endpoint, off unless listen is given", false, docs(metrics_keys())},
      {"uplink", "the topics a bridge carries to a central broker, off unless the section is there", false,
       docs(uplink_keys())},
      {"host", "the Pi's own health", false, docs(host_keys())},
      {"ac_sources", "each AC source (an inverter, a generator) by the id the profiles' source names: its rating and readings",
       true, docs(ac_source_keys())},
  };
  return all;
}

std::vector<std::string_view> section_names() {
  std::vector<std::string_view> out;
  for (const auto& s : sections()) out.push_back(s.name);
  return out;
}

}  // namespace shackd::config_keys
