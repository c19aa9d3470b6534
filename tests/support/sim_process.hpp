#pragma once
// The simulator as a real child process on loopback: started, commanded over its stdin, killed.
// Waits are for a process, and bounded: a missing "ready" or "ok" fails the test.
#include <doctest/doctest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

namespace test {

class SimProcess {
 public:
  explicit SimProcess(std::vector<std::string> extra_args = {}, int victron_port = 0, int solark_port = 0) {
    start(std::move(extra_args), victron_port, solark_port);
  }
  ~SimProcess() { stop(); }

  void start(std::vector<std::string> extra_args, int victron_port, int solark_port) {
    int in[2], out[2];
    REQUIRE(pipe(in) == 0);
    REQUIRE(pipe(out) == 0);
    args_ = extra_args;
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      close(in[1]);
      close(out[0]);
      std::vector<std::string> argv{SHACKD_SIM, "--victron-port", std::to_string(victron_port), "--solark-port",
                                    std::to_string(solark_port)};
      argv.insert(argv.end(), extra_args.begin(), extra_args.end());
      std::vector<char*> c;
      for (auto& a : argv) c.push_back(a.data());
      c.push_back(nullptr);
      execv(c[0], c.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = in[1];
    from_ = out[0];
    const std::string ready = line(std::chrono::seconds(10));
    REQUIRE_MESSAGE(ready.rfind("ready ", 0) == 0, "simulator did not start: '" << ready << "'");
    victron_port_ = std::stoi(ready.substr(ready.find("victron=127.0.0.1:") + 18));
    solark_port_ = std::stoi(ready.substr(ready.find("solark=127.0.0.1:") + 17));
  }

  // SIGKILL, as a crash or a power cut of the device would.
  void kill_hard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    close(to_);
    close(from_);
  }
  void restart() { start(args_, victron_port_, solark_port_); }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
    close(to_);
    close(from_);
  }

  // Sends one command and returns the simulator's one-line answer.
  std::string command(const std::string& cmd) {
    const std::string text = cmd + "\n";
    REQUIRE(write(to_, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    return line(std::chrono::seconds(5));
  }
  void ok(const std::string& cmd) { REQUIRE(command(cmd) == "ok"); }

  int victron_port() const { return victron_port_; }
  int solark_port() const { return solark_port_; }

 private:
  std::string line(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      const auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return l;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return "(timed out waiting for the simulator)";
      pollfd p{from_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[512];
      const ssize_t n = read(from_, buf, sizeof buf);
      if (n <= 0) return "(simulator closed its output)";
      buffer_.append(buf, static_cast<std::size_t>(n));
    }
  }

  pid_t pid_ = -1;
  int to_ = -1, from_ = -1;
  int victron_port_ = 0, solark_port_ = 0;
  std::vector<std::string> args_;
  std::string buffer_;
};

}  // namespace test
