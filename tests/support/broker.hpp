#pragma once
// A real mosquitto on a free loopback port, started by the test and stopped with it. A missing
// mosquitto fails the test loudly: nothing here skips and calls it a pass.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace test {

inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

inline bool port_open(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  close(fd);
  return ok;
}

class Broker {
 public:
  // With a user, the broker takes only that user and password (mosquitto_passwd's file), as a
  // site's broker does.
  // `extra` is appended to mosquitto.conf (more listeners, e.g. a TLS one; their ports are the
  // caller's to wait for).
  explicit Broker(const std::string& user = "", const std::string& password = "", int port = 0,
                  const std::string& extra = "")
      : port_(port > 0 ? port : free_port()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "shackd-broker-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    std::ofstream conf(dir_ / "mosquitto.conf");
    conf << "listener " << port_ << " 127.0.0.1\npersistence false\n";
    if (user.empty()) {
      conf << "allow_anonymous true\n";
    } else {
      const std::string file = (dir_ / "passwd").string();
      const std::string cmd = "mosquitto_passwd -c -b '" + file + "' '" + user + "' '" + password + "' >/dev/null 2>&1";
      REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "mosquitto_passwd failed");
      conf << "allow_anonymous false\npassword_file " << file << "\n";
      // As root, mosquitto drops to its own user, which cannot read this private directory.
      if (getuid() == 0) conf << "user root\n";
    }
    conf << extra;
    conf.close();
    start();
  }
  ~Broker() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void start() {
    const char* bin = "/usr/sbin/mosquitto";
    REQUIRE_MESSAGE(std::filesystem::exists(bin), "mosquitto is not installed: scripts/setup.sh installs it");
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const std::string conf = (dir_ / "mosquitto.conf").string();
      const std::string log = (dir_ / "mosquitto.log").string();
      if (!freopen(log.c_str(), "a", stdout) || !freopen(log.c_str(), "a", stderr)) _exit(126);
      execl(bin, "mosquitto", "-c", conf.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!port_open(port_)) {
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "mosquitto did not start on port " << port_);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // waiting on a process: bounded
    }
  }
  void kill_hard() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  void stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string uri() const { return "tcp://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& dir() const { return dir_; }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
  std::filesystem::path dir_;
};

}  // namespace test
