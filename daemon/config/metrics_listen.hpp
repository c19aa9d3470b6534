#pragma once
// The metrics endpoint's settings as config text gives them (metrics.listen, metrics.token_file):
// read by the config's parser and by the endpoint (daemon/metrics/server.hpp), so they sit under
// both; the config knows no server.
#include <optional>
#include <string>

namespace shackd::metrics {

// A token file's first line, without the line end and surrounding blanks; nullopt when it cannot
// be read.
std::optional<std::string> read_token(const std::string& path);

// host:port, [v6]:port; the error names the rule broken, or is empty.
std::string parse_listen(const std::string& text, std::string& host, int& port);

}  // namespace shackd::metrics
