// The miners' component at its seam (daemon/miners/fleet.hpp), in process with fake links: what
// the core asks of it (reports taken, readings into the snapshot, the relay step) never waits on
// a miner, and what it tells after the relays goes through the sink alone.
#include "daemon/miners/fleet.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace shackd;
using namespace std::chrono_literals;

// A miner's API as the fleet sees it: what was sent, what the next take hands back.
struct Script {
  std::vector<MinerOrder> sent;
  MinerReport next;
  bool throws = false;
};

class ScriptedLink final : public MinerLink {
 public:
  explicit ScriptedLink(std::shared_ptr<Script> s) : s_(std::move(s)) {}
  void send(MinerOrder order) override { s_->sent.push_back(order); }
  MinerReport take() override {
    if (s_->throws) throw std::runtime_error("its queue is broken");
    return std::exchange(s_->next, {});
  }

 private:
  std::shared_ptr<Script> s_;
};

struct Told : MinerSink {
  struct Actuation {
    std::string load_id, detail;
    std::optional<double> target_w;
  };
  std::vector<Actuation> actuations;
  std::vector<std::pair<std::string, std::string>> states;
  void actuation(const std::string& load_id, const rules::Reason&, const std::string& detail,
                 std::optional<double> target_w) override {
    actuations.push_back({load_id, detail, target_w});
  }
  void miner_state(const std::string& load_id, MinerStateFacts facts) override {
    states.emplace_back(load_id, miner_state_json(facts));
  }
};

drivers::miners::MinerConfig luxos(const std::string& id) {
  drivers::miners::MinerConfig c;
  c.load_id = id;
  c.kind = drivers::miners::find_miner_kind("luxos");
  c.host = "127.0.0.1";
  c.port = 4028;
  c.idle_w = 60;
  return c;
}

drivers::miners::Telemetry answered(double power_w, double temp_c) {
  drivers::miners::Telemetry t;
  t.answered = true;
  t.state = drivers::miners::MinerState::mining;
  t.power_w = power_w;
  t.max_temp_c = temp_c;
  t.firmware = "LUXminer 2025.6.2.1";
  return t;
}

struct Fleet {
  std::map<std::string, std::shared_ptr<Script>> scripts;
  MinerFleet fleet;
  std::vector<std::string> failed;
  explicit Fleet(const std::vector<std::string>& ids, bool read_only = false) {
    std::vector<drivers::miners::MinerConfig> configs;
    for (const auto& id : ids) {
      scripts[id] = std::make_shared<Script>();
      configs.push_back(luxos(id));
    }
    fleet.start(
        configs, [&](const drivers::miners::MinerConfig& c) { return std::make_unique<ScriptedLink>(scripts.at(c.load_id)); },
        nullptr, read_only);
  }
  void take(rules::SteadyTime now) {
    fleet.take_reports(now, [&](const char* what) { failed.emplace_back(what); });
  }
};

const rules::SteadyTime t0 = rules::SteadyTime{} + 1000s;

}  // namespace

TEST_CASE("fleet: a miner's answer reaches the snapshot at its load's index, its draw only while fresh") {
  Fleet f({"m1"});
  const std::vector<LoadRef> loads{{LoadRef::Kind::miner, 0, "other", "Other", "miner:Other"},
                                   {LoadRef::Kind::miner, 1, "m1", "M1", "miner:M1"}};
  f.scripts["m1"]->next.telemetry = answered(3100, 71);
  f.take(t0);
  rules::Snapshot snap;
  f.fleet.readings(loads, snap);
  REQUIRE(snap.miner_w.size() == 2);
  CHECK_FALSE(snap.miner_w[0]);
  REQUIRE(snap.miner_w[1]);
  CHECK(snap.miner_w[1]->value == 3100);
  REQUIRE(snap.miner_temp_c.size() == 2);
  CHECK(snap.miner_temp_c[1]->value == 71);
  CHECK(f.fleet.draw_w("m1", t0 + 29s) == 3100);
  CHECK_FALSE(f.fleet.draw_w("m1", t0 + 31s));  // three polls of 10 s, 30 s at least
  CHECK_FALSE(f.fleet.draw_w("other", t0));
  CHECK(f.failed.empty());
}

TEST_CASE("fleet: a stop queues sleep and keeps the relay, cuts once asleep; the sink alone hears of it") {
  Fleet f({"m1"});
  const LoadRef l{LoadRef::Kind::miner, 0, "m1", "M1", "miner:M1"};
  auto& api = *f.scripts["m1"];
  rules::LoadDecision on;
  on.on = true;
  rules::LoadDecision off;
  off.reason.code = rules::ReasonCode::below_start_voltage;
  Told told;

  api.next.telemetry = answered(3100, 70);
  f.take(t0);
  CHECK(f.fleet.relay("m1", on, t0));
  f.fleet.tell(l, on, t0, told);
  REQUIRE(told.states.size() == 1);  // its first answer: <prefix>/load/m1/miner
  CHECK(told.states[0].first == "m1");
  CHECK(told.states[0].second.find("\"power_w\":3100.0") != std::string::npos);

  // Decided off: sleep is queued to its link (nothing waited for), the relay kept on.
  f.take(t0 + 5s);
  CHECK(f.fleet.relay("m1", off, t0 + 5s));
  REQUIRE(api.sent.size() == 1);
  CHECK(api.sent[0].command == MinerCommand::sleep);
  f.fleet.tell(l, off, t0 + 5s, told);
  CHECK(told.actuations.empty());  // nothing answered yet

  // The sleep accepted and a read at idle: the relay is cut, the command told as an actuation.
  api.next.done.push_back({{MinerCommand::sleep, 0}, {true, "", false}});
  api.next.telemetry = answered(14, 50);
  f.take(t0 + 10s);
  CHECK_FALSE(f.fleet.relay("m1", off, t0 + 10s));
  f.fleet.tell(l, off, t0 + 10s, told);
  REQUIRE(told.actuations.size() == 1);
  CHECK(told.actuations[0].load_id == "m1");
  CHECK(told.actuations[0].detail == "sleep through its API: accepted");
  CHECK_FALSE(told.actuations[0].target_w);
}

// Shadow mode (issue 60): the miner is read as ever, and sent nothing: where a commanding shackd
// queues sleep (the case above) and then a power target, the read-only fleet sends neither.
TEST_CASE("fleet: read only, its answers reach the sink and the snapshot; no sleep, no target is sent") {
  Fleet f({"m1"}, true);
  const LoadRef l{LoadRef::Kind::miner, 0, "m1", "M1", "miner:M1"};
  auto& api = *f.scripts["m1"];
  rules::LoadDecision on;
  on.on = true;
  on.target_w = 2500;
  on.target_changed = true;
  rules::LoadDecision off;
  off.reason.code = rules::ReasonCode::below_start_voltage;
  Told told;
  api.next.telemetry = answered(3100, 70);
  f.take(t0);
  CHECK(f.fleet.relay("m1", on, t0));
  f.fleet.tell(l, on, t0, told);
  REQUIRE(told.states.size() == 1);
  rules::Snapshot snap;
  f.fleet.readings({l}, snap);
  REQUIRE(snap.miner_w.size() == 1);
  CHECK(snap.miner_w[0]->value == 3100);
  api.next.telemetry = answered(3100, 70);
  f.take(t0 + 5s);
  CHECK(f.fleet.relay("m1", on, t0 + 5s));
  f.fleet.tell(l, on, t0 + 5s, told);
  // Decided off: the decision alone says the relay (no soft stop under way), and nothing is queued.
  f.take(t0 + 10s);
  CHECK_FALSE(f.fleet.relay("m1", off, t0 + 10s));
  f.fleet.tell(l, off, t0 + 10s, told);
  CHECK(api.sent.empty());
  CHECK(told.actuations.empty());
}

TEST_CASE("fleet: a report that throws is handed to `failed`; the other miners' are taken") {
  Fleet f({"a", "b"});
  f.scripts["a"]->throws = true;
  f.scripts["b"]->next.telemetry = answered(2000, 60);
  f.take(t0);
  REQUIRE(f.failed.size() == 1);
  CHECK(f.failed[0] == std::string("its queue is broken"));
  CHECK(f.fleet.draw_w("b", t0) == 2000);
}

TEST_CASE("fleet: a load without an API is switched by the decision alone and told nothing") {
  Fleet f(std::vector<std::string>{});
  rules::LoadDecision d;
  d.on = true;
  CHECK(f.fleet.relay("plain", d, t0));
  d.on = false;
  CHECK_FALSE(f.fleet.relay("plain", d, t0));
  Told told;
  f.fleet.tell({LoadRef::Kind::miner, 0, "plain", "Plain", "miner:Plain"}, d, t0, told);
  CHECK(told.actuations.empty());
  CHECK(told.states.empty());
  CHECK(f.fleet.config("plain") == nullptr);
  CHECK(f.fleet.empty());
}
