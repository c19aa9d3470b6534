// A load whose relay lost its power (rules/state.hpp, lose_power).
#include <algorithm>

#include "rules/state.hpp"

namespace rules {

void lose_power(LoadState& st, SteadyTime off_since) {
  if (st.on || !st.last_change) st.last_change = off_since;
  else st.last_change = std::max(*st.last_change, off_since);
  st.on = false;
  st.start_cond_since.reset();
  st.stop_cond_since.reset();
  st.pv_ok_since.reset();
  st.probe_since.reset();
  st.probe_sampled_at.reset();
  st.probe_ah = 0;
  st.on_hidden_surplus = false;
  // A miner that restarts runs at its firmware's own target until it is given one again.
  st.target_w.reset();
  st.target_written_at.reset();
  st.target_probed = false;
  st.target_probe_step_w = 0;
  st.target_least_surplus_w.reset();
  st.target_paying_since.reset();
}

}  // namespace rules
