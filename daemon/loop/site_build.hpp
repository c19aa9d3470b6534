#pragma once
// What a config and the stored profiles make of the site (issue 44): the profiles, the loads, the
// snapshot mapping and the journal's header, computed aside from the running daemon (a reload on
// the reloader's thread, the start on the opener's), then taken whole by the safety core.
// Nothing here reads the daemon: a throw leaves the running site whole.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "daemon/config/config.hpp"
#include "daemon/site/loads.hpp"
#include "daemon/site/profiles.hpp"
#include "daemon/store/cycle_journal.hpp"
#include "daemon/store/sqlite.hpp"
#include "drivers/readings.hpp"
#include "rules/state.hpp"

namespace shackd {

struct PreparedSite {
  StoredProfiles profiles;
  std::vector<LoadRef> loads;
  rules::State state;
  drivers::SnapshotMapping mapping;
  std::string journal_header;
  std::vector<std::size_t> journal_miners;  // profile indexes of the miners whose draw is journaled
  std::vector<JournalAc> journal_ac;        // the AC sources' words the journal carries
  std::vector<LoadRef> removed;   // loads gone whose relay is still defined: switched off
  std::set<std::string> defined;  // the relay ids the config defines
};

struct SiteLoad {
  bool ok = false;
  std::string refusal;
  std::optional<PreparedSite> ready;
  std::vector<std::string> events;  // the profiles' changes, for the history
};

// The site `config` makes with the profiles `p`; the loads' state is carried over at the commit.
PreparedSite prepare_site(const Config& config, StoredProfiles p);
// Each load's state carried over from the running `loads` and `state` by its name.
void carry_over(PreparedSite& r, const std::vector<LoadRef>& loads, const rules::State& state);
// The profiles against the database: read, overlaid with the config's, checked, stored and read
// again. `first`: the start (a refused profiles: section keeps the stored profiles in force).
SiteLoad load_site(db::Db& db, const Config& config, bool first);

}  // namespace shackd
