#include "daemon/metrics/http_request.hpp"

#include <algorithm>
#include <cctype>

namespace shackd::metrics {

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool contains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (iequal(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

HeadResult refuse(int status, std::string why) {
  HeadResult r;
  r.kind = HeadResult::Kind::refused;
  r.status = status;
  r.why = std::move(why);
  return r;
}

}  // namespace

HeadResult parse_head(std::string_view buffer) {
  // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request line.
  std::size_t start = 0;
  while (start + 1 < buffer.size() && buffer[start] == '\r' && buffer[start + 1] == '\n') start += 2;
  const auto end = buffer.find("\r\n\r\n", start);
  const std::size_t lines = static_cast<std::size_t>(std::count(
      buffer.begin() + static_cast<std::ptrdiff_t>(start),
      buffer.begin() + static_cast<std::ptrdiff_t>(end == std::string_view::npos ? buffer.size() : end), '\n'));
  if (lines + 1 > kMaxRequestLines) return refuse(431, "more than 64 header lines");
  if (end == std::string_view::npos) {
    if (buffer.size() > kMaxRequestHead) return refuse(431, "a request head over 8 KiB");
    return {};
  }
  if (end + 4 > kMaxRequestHead) return refuse(431, "a request head over 8 KiB");
  const std::string_view head = buffer.substr(start, end - start);
  auto line_end = head.find("\r\n");
  const std::string_view first = head.substr(0, line_end);
  // "GET /metrics HTTP/1.1" (RFC 9112 §3)
  const auto sp1 = first.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : first.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || first.find(' ', sp2 + 1) != std::string_view::npos) {
    return refuse(400, "not an HTTP request line");
  }
  HeadResult r;
  r.kind = HeadResult::Kind::request;
  r.consumed = end + 4;
  HttpRequest& q = r.request;
  q.method = std::string(first.substr(0, sp1));
  q.target = std::string(first.substr(sp1 + 1, sp2 - sp1 - 1));
  const std::string_view version = first.substr(sp2 + 1);
  if (version == "HTTP/1.1") {
    q.http11 = true;
  } else if (version == "HTTP/1.0") {
    q.http11 = false;
    q.keep_alive = false;
  } else if (version.substr(0, 5) == "HTTP/") {
    return refuse(505, "HTTP/1.0 and HTTP/1.1 only");
  } else {
    return refuse(400, "not an HTTP request line");
  }
  while (line_end != std::string_view::npos) {
    const std::size_t from = line_end + 2;
    line_end = head.find("\r\n", from);
    const std::string_view line = head.substr(from, line_end == std::string_view::npos ? head.npos : line_end - from);
    const auto colon = line.find(':');
    // RFC 9112 §5.1: no whitespace between a field's name and the colon; a line that is not a
    // field (an obsolete fold among them, §5.2) is refused.
    if (colon == std::string_view::npos || colon == 0 || line[colon - 1] == ' ' || line[colon - 1] == '\t' ||
        line.front() == ' ' || line.front() == '\t') {
      return refuse(400, "a header line that is not 'name: value'");
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequal(name, "authorization")) {
      q.authorization = std::string(value);
    } else if (iequal(name, "accept")) {
      q.accept = std::string(value);
    } else if (iequal(name, "connection")) {
      if (contains_token(value, "close")) q.keep_alive = false;
      if (!q.http11 && contains_token(value, "keep-alive")) q.keep_alive = true;
    } else if (iequal(name, "range")) {
      q.has_range = true;
    } else if (iequal(name, "transfer-encoding")) {
      return refuse(501, "a request body is not taken here");
    } else if (iequal(name, "content-length") && value != "0") {
      return refuse(413, "a request body is not taken here");
    }
  }
  return r;
}

}  // namespace shackd::metrics
