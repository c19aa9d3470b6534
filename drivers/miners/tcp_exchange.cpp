#include "drivers/miners/tcp_exchange.hpp"

#include <stdexcept>

#include "drivers/miners/json_frame.hpp"

namespace drivers::miners {

namespace {
std::uint32_t le32(const std::string& s) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(s[static_cast<std::size_t>(i)]);
  return v;
}
}  // namespace

Exchange tcp_exchange(std::string host, int port, MinerKind::Framing framing, std::chrono::milliseconds timeout,
                      std::shared_ptr<const Cancel> cancel) {
  return [host = std::move(host), port, framing, timeout, cancel = std::move(cancel)](const std::string& request) {
    const Io io{IoClock::now() + timeout, timeout, cancel.get()};
    Fd s{connect_to(host, port, io)};
    std::string out;
    if (framing == MinerKind::Framing::length_le32) {
      std::string frame(4, '\0');
      for (int i = 0; i < 4; ++i) frame[static_cast<std::size_t>(i)] = static_cast<char>((request.size() >> (8 * i)) & 0xff);
      send_all(s.fd, frame + request, io);
      while (out.size() < 4) {
        if (!receive_some(s.fd, out, 4 + kMaxReplyBytes, io, "reply")) throw std::runtime_error("reply: closed before its length");
      }
      const std::uint32_t n = le32(out);
      if (n > kMaxReplyBytes) throw std::runtime_error("reply: a length of " + std::to_string(n) + " bytes, over 1 MiB");
      while (out.size() < 4 + n) {
        if (!receive_some(s.fd, out, 4 + kMaxReplyBytes, io, "reply")) throw std::runtime_error("reply: closed before its end");
      }
      return out.substr(4, n);
    }
    send_all(s.fd, request, io);
    // Only what arrived is searched for the NUL: a 1 MiB reply costs one pass, not one per read.
    // A bare JSON object (Whatsminer v2) ends where it closes: its miner need not close first.
    JsonObjectEnd object;
    const bool bare = framing == MinerKind::Framing::json_object;
    std::size_t searched = 0, nul = std::string::npos, end = std::string::npos;
    while (nul == std::string::npos && !(bare && (end = object.feed(out)) != std::string::npos) &&
           receive_some(s.fd, out, kMaxReplyBytes, io, "reply")) {
      nul = out.find('\0', searched);
      searched = out.size();
    }
    if (end != std::string::npos) out.resize(end);
    if (nul = out.find('\0'); nul != std::string::npos) out.resize(nul);
    if (out.empty()) throw std::runtime_error("reply: closed with nothing");
    return out;
  };
}

}  // namespace drivers::miners
