// The order of the rules is the order of precedence: battery protection first, then heat
// calls, then the AC sources (what an overload sheds), then miners by priority, then zones. A later step never undoes an earlier one's
// safety verdict (each load's force_off is decided before anything can want it on).
#include "rules/decide.hpp"

#include "rules/detail.hpp"

namespace rules {

void decide(const Snapshot& snap, const Profiles& p, const State& prev, Decision& out) {
  out.next = prev;  // vectors of equal size reuse their storage: no allocation in steady state
  out.next.miners.resize(p.miners.size());
  out.next.zones.resize(p.zones.size());
  out.miners.assign(p.miners.size(), LoadDecision{});
  out.zones.assign(p.zones.size(), ZoneDecision{});
  out.alarms.clear();

  detail::assess_battery(snap, p.site, out.battery, out.alarms);
  detail::update_lockout(out.battery, p.site.thresholds, out.next.site);
  detail::assess_charging(snap, p, prev.site, out);
  out.next.site.charge_blocked = out.block_charging;

  detail::update_zone_demand(snap, p, out);
  const detail::HeatCalls heat = detail::heat_calls(snap, p, out);
  detail::AcCycle ac;
  detail::assess_ac(snap, p, prev, heat, out.next.site, ac);
  const detail::HeaterRoom for_heaters = detail::reserve_heater_room(snap, p, heat, out, ac);
  detail::decide_miners(snap, p, heat, prev, ac, out);
  detail::release_heater_room(for_heaters, ac);
  detail::decide_zones(snap, p, prev, ac, out);
}

}  // namespace rules
