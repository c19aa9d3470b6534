#pragma once
// When the MQTT link tries the broker again (issue 56). A site's broker is on the Pi itself or on
// its LAN: a connect that fails costs it a refused TCP handshake, so the link tries again within
// `cap` (0.5 s by default), never the 30 s paho's own back-off reaches (1 s doubling: a relay OFF
// decided during a 45 s outage reached the broker 27 s and 30 s after it was back). Each wait is
// jittered (uniform over its upper half), so tries never fall in step with a periodic fault: a
// broker up 1 s and down 1 s is met in every up period. A broker that answers and refuses us (bad
// credentials, not authorised: CONNACK 1-5) is there and says no: that is tried again slowly, up
// to `refused_cap`, so that a wrong password does not fill the broker's log.
#include <chrono>
#include <cstdint>

namespace drivers::mqtt {

struct ReconnectPolicy {
  std::chrono::milliseconds first{50};          // the first wait after a loss or a failure
  std::chrono::milliseconds cap{500};           // the longest wait while the broker cannot be reached
  std::chrono::milliseconds refused_cap{30000}; // the longest wait while the broker refuses us
  bool operator==(const ReconnectPolicy&) const = default;
};

class Backoff {
 public:
  Backoff(ReconnectPolicy policy, std::uint64_t seed);
  // The wait before the next try: after a connection was lost, after a failed try (`refused`:
  // the broker answered and refused us).
  std::chrono::milliseconds after_loss();
  std::chrono::milliseconds after_failure(bool refused);
  void connected() { failures_ = 0; }
  const ReconnectPolicy& policy() const { return policy_; }

 private:
  std::chrono::milliseconds jittered(std::chrono::milliseconds upper);
  ReconnectPolicy policy_;
  std::uint64_t state_;
  int failures_ = 0;
};

}  // namespace drivers::mqtt
