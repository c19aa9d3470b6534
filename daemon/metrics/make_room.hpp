#pragma once
// Which connection a full metrics endpoint closes for a newcomer (daemon/metrics/server.hpp): the
// one that has been reading its request the longest, one with nothing waiting unread in its socket
// first. A scraper's request comes in one packet at once: a scrape the endpoint has accepted but
// not yet read has it waiting there, while a connection that says nothing has none. On its own
// so that the choice is tested without a race to stage (tests/daemon/metrics_test.cpp).
#include <vector>

namespace shackd::metrics {

// `oldest_first`: the connections in the order accepted. `reading(c)`: it is still reading its
// request (and not already closed); `unread(c)`: bytes wait in its socket. nullptr: none is
// reading but the newcomer, which goes itself.
template <class Conn, class Reading, class Unread>
Conn* make_room(const std::vector<Conn*>& oldest_first, const Conn* newcomer, Reading reading, Unread unread) {
  Conn* oldest = nullptr;
  for (Conn* c : oldest_first) {
    if (c == newcomer || !reading(*c)) continue;
    if (!unread(*c)) return c;
    if (!oldest) oldest = c;  // every one reading has something waiting: the oldest all the same
  }
  return oldest;
}

}  // namespace shackd::metrics
