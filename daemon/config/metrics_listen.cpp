#include "daemon/config/metrics_listen.hpp"

#include "drivers/text/secret_file.hpp"

namespace shackd::metrics {

std::optional<std::string> read_token(const std::string& path) {
  // Bounded, never waiting on a FIFO: it is read on the loop's thread at a start and each minute
  // until it serves (exporter.cpp), and by a reload's.
  std::string why;
  const auto first_line = drivers::text::read_first_line(path, why);
  if (!first_line) return std::nullopt;
  const std::string& line = *first_line;
  const auto first = line.find_first_not_of(" \t\r");
  if (first == std::string::npos) return std::string();
  return line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
}

std::string parse_listen(const std::string& text, std::string& host, int& port) {
  std::string h, p;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find("]:");
    if (close == std::string::npos) return "an IPv6 address is written [address]:port";
    h = text.substr(1, close - 1);
    p = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return "must be address:port, for example 127.0.0.1:9466";
    h = text.substr(0, colon);
    p = text.substr(colon + 1);
    if (h.find(':') != std::string::npos) return "an IPv6 address is written [address]:port";
  }
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos) {
    return "the port must be a number from 0 to 65535";
  }
  const int n = std::stoi(p);
  if (n > 65535) return "the port must be a number from 0 to 65535";
  host = h;
  port = n;
  return "";
}

}  // namespace shackd::metrics
