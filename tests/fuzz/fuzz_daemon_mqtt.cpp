// libFuzzer: the daemon's whole MQTT intake, through a cycle (issue 27). Each input is a few
// messages on the topics the daemon subscribes to (the wildcards filled from the input), handed to
// a real Daemon through its in-process link (tests/support/fake_site.hpp), then one cycle. The
// properties: the cycle decides and pings the watchdog whatever arrived, and everything the daemon
// publishes on its own topics is valid JSON. A breach aborts, so libFuzzer keeps the input.
// Input: repeated [selector byte][id length byte][id][payload length, 2 bytes LE][payload].
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/fake_site.hpp"

namespace {

test::FakeSite& site() {
  static test::FakeSite* s = [] {
    auto* made = new test::FakeSite();  // lives for the process: libFuzzer never returns
    if (made->daemon->start()) std::abort();
    made->cycles(3);
    return made;
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  test::FakeSite& s = site();
  const std::vector<std::string> filters(s.broker.subscriptions.begin(), s.broker.subscriptions.end());
  std::size_t i = 0;
  int messages = 0;
  while (i + 4 <= size && messages < 16) {
    const std::string& filter = filters[data[i] % filters.size()];
    const std::size_t id_len = std::min<std::size_t>(data[i + 1], size - i - 2);
    const std::string id(reinterpret_cast<const char*>(data + i + 2), id_len);
    i += 2 + id_len;
    if (i + 2 > size) break;
    const std::size_t len = std::min<std::size_t>(data[i] | (data[i + 1] << 8), size - i - 2);
    const std::string payload(reinterpret_cast<const char*>(data + i + 2), len);
    i += 2 + len;
    std::string topic = filter;
    // Each wildcard once, scanning on past what was put in: an id may hold '+' itself (a harness
    // that searched from the start again looped forever on such an id; CI's "timeout").
    for (std::size_t p = 0; (p = topic.find('+', p)) != std::string::npos; p += id.size()) topic.replace(p, 1, id);
    if (const auto p = topic.find('#'); p != std::string::npos) topic.replace(p, 1, id);
    s.broker.message(topic, payload, (id_len & 1) != 0 && id_len > 8);
    ++messages;
  }
  const int pings = s.pings();
  const std::size_t from = s.broker.published.size();
  s.cycles(1);
  if (s.pings() != pings + 1) std::abort();  // the cycle did not decide and switch
  for (std::size_t k = from; k < s.broker.published.size(); ++k) {
    const auto& m = s.broker.published[k];
    if (m.topic.rfind("shack/", 0) == 0 && m.topic != "shack/status" && !m.payload.empty() &&
        (m.payload.front() == '{' || m.payload.front() == '[') && !nlohmann::json::accept(m.payload)) {
      std::abort();  // invalid JSON went out
    }
  }
  // Keep the published list and the notifications from growing without bound over millions of
  // inputs (pings() reads them all).
  if (s.broker.published.size() > 20000) s.broker.published.clear();
  if (s.notified.size() > 10000) s.notified.clear();
  return 0;
}
