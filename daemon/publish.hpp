#pragma once
// What shackd says on MQTT, as JSON text built from the rules' decision. Missing is null, never 0;
// every measurement carries its age.
#include <string>
#include <vector>

#include "daemon/loads.hpp"
#include "drivers/modbus_device.hpp"
#include "rules/decision.hpp"
#include "rules/snapshot.hpp"

namespace shackd {

// <prefix>/state (retained): battery voltage and source, the SOC estimate labelled as estimated,
// PV, load, battery power and current, temperatures, band and charge block.
std::string state_json(const rules::Snapshot& snap, const rules::Decision& d, const StoredProfiles& p);

// <prefix>/load/<id>/reason: {"code":41,"name":"below_start_voltage","text":"...", "remaining_s":...}
std::string reason_json(const rules::Reason& r);
void append_reason(std::string& out, const rules::Reason& r);

const rules::LoadDecision& decision_for(const rules::Decision& d, const LoadRef& load);

// <prefix>/decision: every load's desired state and reason, once per cycle.
std::string decision_json(const rules::Decision& d, const std::vector<LoadRef>& loads);

// <prefix>/event: a transition or an alarm.
std::string event_json(const std::string& kind, const std::string& load_id, const rules::Reason& r,
                       const std::string& detail = "");

// <prefix>/device/<id>/health
std::string health_json(const drivers::DeviceHealth& h, rules::SteadyTime now);

}  // namespace shackd
