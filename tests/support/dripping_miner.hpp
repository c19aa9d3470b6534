#pragma once
// A miner's API that answers one byte a second, for ever (issue 44's stalls, in process): every
// connection it accepts on a loopback port gets a '{' each second, never a whole reply. For the tests and bench/core_stalls.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

namespace test {

class DrippingMiner {
 public:
  DrippingMiner() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("DrippingMiner: bind");
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] {
      std::vector<int> clients;
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 1000) > 0 && (p.revents & POLLIN)) {  // the pace of the fault: a byte a second
          const int c = ::accept(fd_, nullptr, nullptr);
          if (c >= 0) clients.push_back(c);
        }
        for (const int c : clients) (void)!::send(c, "{", 1, MSG_NOSIGNAL);
        ++bytes_;
      }
      for (const int c : clients) ::close(c);
    });
  }
  ~DrippingMiner() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  int bytes() const { return bytes_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> bytes_{0};
  std::thread thread_;
};


}  // namespace test
