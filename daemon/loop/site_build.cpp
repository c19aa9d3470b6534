// What a config and the stored profiles make of the site, built aside from the running daemon:
// a reload builds it on the reloader's thread, the start on the opener's (site_build.hpp).
#include "daemon/loop/site_build.hpp"

#include <set>

#include "daemon/config/ac_sources.hpp"
#include "daemon/config/miners_yaml.hpp"
#include "daemon/loop/profiles_apply.hpp"
#include "daemon/config/profiles_diff.hpp"
#include "daemon/config/profiles_yaml.hpp"
#include "daemon/devices/registry.hpp"
#include "daemon/store/cycle_journal.hpp"
#include "daemon/store/profile_store.hpp"
#include "daemon/system/log.hpp"

namespace shackd {

// What a config makes of the runtime, computed aside from it: nothing here reads or touches the
// daemon's members (a reload computes it on its own thread), so a throw leaves the running
// runtime whole. The loads' state is carried over at the commit (carry_over).
PreparedSite prepare_site(const Config& config, StoredProfiles p) {
  PreparedSite r;
  apply_miner_targets(config.miners, p);
  apply_ac_sources(config, p);  // its errors refused the config before (check_references)
  std::vector<std::string> zone_names;
  for (const auto& z : p.rules.zones) zone_names.push_back(z.name);
  const std::set<std::string> defined = relay_ids(config);
  r.loads = load_refs(p, &defined);
  r.defined = defined;
  r.mapping = devices::snapshot_mapping(config, p.rules.site.thresholds);
  r.mapping.fresh_within = p.rules.site.electrical_stale_after;
  std::vector<std::string> v_names, t_names;
  for (const auto& v : r.mapping.battery_v) v_names.push_back(v.name);
  for (const auto& t : r.mapping.battery_temp_c) t_names.push_back(t.name);
  // The miners whose own API reports their draw: the rules use it, so the journal carries it.
  std::vector<std::string> m_names;
  for (std::size_t i = 0; i < p.rules.miners.size() && i < p.miners.size(); ++i) {
    for (const auto& mc : config.miners) {
      if (mc.load_id == p.miners[i].relay_id && mc.kind) {
        r.journal_miners.push_back(i);
        m_names.push_back(p.rules.miners[i].name);
      }
    }
  }
  // The AC sources in the snapshot's order (the mapping has one spec a source), with the words
  // of theirs the devices give: the budget decides on them, so replay needs them.
  for (std::size_t i = 0; i < r.mapping.ac.size(); ++i) {
    const auto& spec = r.mapping.ac[i];
    JournalAc a{rules::ac_source(p.rules, i).name, !spec.overload.empty(), {}, {}};
    for (std::size_t k = 0; k < a.load_w.size(); ++k) {
      a.load_w[k] = !spec.load_w[k].empty();
      a.phase_overload[k] = !spec.overload_phase[k].empty();
    }
    r.journal_ac.push_back(std::move(a));
  }
  r.journal_header = journal_header(zone_names, v_names, t_names, m_names, r.journal_ac);
  for (std::size_t i = 0; i < p.zones.size(); ++i) {
    const auto& sid = p.zones[i].sensor_id;
    r.mapping.zone_temp_c.push_back(sid.find('.') == std::string::npos ? "sensor." + sid : sid);
  }
  r.profiles = std::move(p);
  return r;
}

// Carry each load's state over by its name, so a reload never flaps a relay. A load that is gone
// must not stay on: its relay, where it is still defined, is switched off at the commit (the
// relay manager would otherwise keep resending the last ON).
void carry_over(PreparedSite& r, const std::vector<LoadRef>& loads, const rules::State& state) {
  for (const auto& o : loads) {
    bool kept = false;
    for (const auto& l : r.loads) kept = kept || l.id == o.id;
    if (!kept && r.defined.count(o.id)) r.removed.push_back(o);
  }
  r.state.site = state.site;
  r.state.miners.resize(r.profiles.rules.miners.size());
  r.state.zones.resize(r.profiles.rules.zones.size());
  for (const auto& l : r.loads) {
    for (const auto& o : loads) {
      if (o.state_key == l.state_key) state_of(r.state, l) = state_of(state, o);
    }
  }
}

// The profiles against the database: read, overlaid with the config's, checked, stored and read
// again. Reads no member (a reload runs it on its own thread, the database on the recorder's).
SiteLoad load_site(db::Db& db, const Config& config, bool first) {
  SiteLoad out;
  // Profiles: the YAML's section over the database's. Checked in memory first, references
  // included, so that nothing is written for a config that will not be used.
  StoredProfiles p = load_profiles(db);
  bool apply = false;
  if (config.profiles) {
    StoredProfiles next = p;
    const auto errors = overlay_profiles(*config.profiles, next, "profiles");
    if (!errors.empty()) {
      // At the first start the site is controlled with the profiles in force; a reload with a
      // refused section is refused whole (it used to go on and record "reloaded").
      log::error("{}: the profiles: section was refused; {}:", config.source,
                 first ? "the profiles in force stay in force" : "reload refused, keeping the running config");
      for (const auto& e : errors) log::error("  {}", e);
      if (!first) {
        out.refusal = "the profiles: section: " + errors.front();
        return out;
      }
    } else {
      p = std::move(next);
      apply = true;
    }
  }
  const auto ref_errors = check_references(config, p);
  if (!ref_errors.empty()) {
    log::error("{}: {}", config.source, first ? "cannot start:" : "reload refused, keeping the running config:");
    for (const auto& e : ref_errors) log::error("  {}", e);
    out.refusal = ref_errors.front();
    return out;
  }
  PreparedSite ready = prepare_site(config, p);  // before anything is written: a throw here writes nothing
  for (const auto& id : unused_relays(config, p)) {
    log::warn("{}: relays.{} is defined but no profile switches it", config.source, id);
  }
  // What the AC budget will hold (issue 59): said at the start and a reload, as `check` says it.
  for (const auto& n : ac_source_notes(config, p)) log::info("{}: note: {}", config.source, n);
  if (apply) {
    const ApplyResult r = apply_profiles(db, config.text, config.source);
    if (!r.backup_path.empty()) log::info("database {}: backup before removing profiles: {}", db.path(), r.backup_path);
    if (r.outcome == ApplyOutcome::applied) {
      log::info("{}: profiles applied ({} row(s) changed)", config.source, r.rows_written);
      for (const auto& c : r.changes) {
        log::info("  {}", c);
        out.events.push_back("profiles: " + c);
      }
    }
    ready = prepare_site(config, load_profiles(db));  // as stored, with the rows' ids
  }
  out.ready = std::move(ready);
  out.ok = true;
  return out;
}

}  // namespace shackd
