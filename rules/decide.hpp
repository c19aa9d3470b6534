#pragma once
// The decision core: snapshot + profiles + previous state in, desired states + reasons + next
// state out. Pure: no I/O, no clock reads, no logging. Time comes in through Snapshot::now.
#include "rules/decision.hpp"
#include "rules/profile.hpp"
#include "rules/snapshot.hpp"
#include "rules/state.hpp"

namespace rules {

// `profiles` must have passed validate(). `out` is overwritten; reusing one Decision across
// cycles keeps steady-state calls free of heap allocation. `prev` and `out.next` may not alias.
void decide(const Snapshot& snap, const Profiles& profiles, const State& prev, Decision& out);

inline Decision decide(const Snapshot& snap, const Profiles& profiles, const State& prev) {
  Decision out;
  decide(snap, profiles, prev, out);
  return out;
}

}  // namespace rules
