#pragma once
// A miner on a whole site, in process (tests/miners/*_test.cpp): the daemon on a stepped clock
// (tests/support/fake_site.hpp), its relays on an in-process broker, and the miner the
// simulator's model of its firmware (sim/miner_model.hpp) behind the kind's own client, so the
// wire replies are the firmware's shapes.
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/miner_model.hpp"
#include "tests/support/fake_site.hpp"
#include "tests/support/inline_miner.hpp"

namespace test {

struct MinerSite {
  sim::MinerModel miner;
  std::unique_ptr<test::FakeSite> site;
  bool relay_on = false;
  std::size_t seen = 0;
  std::vector<std::string> story;  // "sleep", "relay OFF at 15 W", ...

  explicit MinerSite(const char* kind, const std::string& extra = "", const std::string& base = test::kFakeSiteConfig) {
    miner.kind = drivers::miners::find_miner_kind(kind);
    site = std::make_unique<test::FakeSite>(
        std::string("miners:\n  primary_s21: {kind: ") + kind + ", host: 127.0.0.1" +
            (std::string(kind) != "luxos" ? ", password: sim-secret" : "") + extra + "}\n",
        [this](const drivers::miners::MinerConfig& c) -> std::unique_ptr<shackd::MinerLink> {
          return std::make_unique<test::InlineMiner>(c.kind->make(c, [this](const std::string& req) { return miner.handle(req); }));
        },
        base);
    REQUIRE_FALSE(site->daemon->start());
  }
  // One second: the relay follows the daemon's last command, the miner its relay.
  void second() {
    const int sleeps = miner.sleeps;
    site->cycles(1);
    if (miner.sleeps > sleeps) story.push_back("sleep");
    const auto& pub = site->broker.published;
    for (; seen < pub.size(); ++seen) {
      if (pub[seen].topic != "cmnd/primary_s21/POWER1") continue;
      const bool on = pub[seen].payload == "ON";
      if (on != relay_on) story.push_back(std::string("relay ") + (on ? "ON" : "OFF") + " at " + std::to_string(std::lround(miner.draw_w())) + " W");
      relay_on = on;
      site->broker.message("stat/primary_s21/POWER1", on ? "ON" : "OFF");
    }
    miner.advance(1.0, relay_on);
    if (house_w) site->gx->values["system.ac_consumption_l1_w"] = *house_w + miner.draw_w();
  }
  std::optional<double> house_w;  // set: the GX's AC load is the house plus what the miner draws
  void run(int seconds) {
    for (int i = 0; i < seconds; ++i) second();
  }
};

}  // namespace test
