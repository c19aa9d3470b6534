#include "drivers/miners/http_reply.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace drivers::miners {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

[[noreturn]] void refuse(const std::string& why) { throw std::runtime_error("HTTP reply: " + why); }

std::string size_words(std::size_t bytes) {
  return bytes % (1u << 20) == 0 ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes >> 10) + " KiB";
}

}  // namespace

void HttpReplyReader::feed(const char* data, std::size_t n) {
  raw_ += n;
  if (raw_ > max_raw()) refuse("over " + size_words(max_raw()) + " on the wire, refused (a miner's reply is a few kB)");
  if (state_ == State::done) return;  // anything after a whole reply is not read
  // Consumed bytes are dropped first, so the buffer holds at most one unparsed line or chunk.
  if (at_ > 0) {
    buf_.erase(0, at_);
    at_ = 0;
  }
  buf_.append(data, n);
  run();
}

void HttpReplyReader::closed() {
  if (state_ == State::body_close) {
    state_ = State::done;
    return;
  }
  if (state_ != State::done) refuse("the peer closed before the end of the reply");
}

void HttpReplyReader::parse_head() {
  // Searched from where the last search stopped (less the three bytes an end could straddle).
  const auto end = buf_.find("\r\n\r\n", head_searched_);
  if (end == std::string::npos) {
    if (buf_.size() > kMaxHeadBytes) refuse("its head is over " + size_words(kMaxHeadBytes) + ", refused");
    head_searched_ = buf_.size() > 3 ? buf_.size() - 3 : 0;
    return;
  }
  if (end > kMaxHeadBytes) refuse("its head is over " + size_words(kMaxHeadBytes) + ", refused");
  const std::string_view head(buf_.data(), end);
  std::size_t line_end = head.find("\r\n");
  const std::string_view first = head.substr(0, line_end);
  // "HTTP/1.1 200 OK" (RFC 9112 §4)
  if (first.size() < 12 || first.substr(0, 7) != "HTTP/1." || first[8] != ' ' ||
      !std::all_of(first.begin() + 9, first.begin() + 12, [](char c) { return c >= '0' && c <= '9'; })) {
    refuse("'" + std::string(first.substr(0, 40)) + "' is not an HTTP/1.x status line");
  }
  status_ = (first[9] - '0') * 100 + (first[10] - '0') * 10 + (first[11] - '0');
  bool chunked = false;
  std::optional<unsigned long long> length;  // (not size_t: 32 bits on armhf, where 12 digits wrap)
  std::size_t lines = 0;
  while (line_end != std::string_view::npos) {
    const std::size_t from = line_end + 2;
    line_end = head.find("\r\n", from);
    const std::string_view line = head.substr(from, line_end == std::string_view::npos ? head.npos : line_end - from);
    if (++lines > kMaxHeaderLines) refuse("over " + std::to_string(kMaxHeaderLines) + " header lines, refused");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = lower(trim(line.substr(0, colon)));
    const std::string_view value = trim(line.substr(colon + 1));
    if (name == "transfer-encoding") {
      chunked = lower(value).find("chunked") != std::string::npos;
    } else if (name == "content-length") {
      if (value.empty() || value.size() > 12 || !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        refuse("Content-Length '" + std::string(value.substr(0, 20)) + "' is not a length");
      }
      length = std::stoull(std::string(value));
    }
  }
  at_ = end + 4;
  // RFC 9112 §6.3: no body for 1xx, 204 and 304; chunked wins over a length; else the length;
  // else up to the close.
  if (status_ / 100 == 1 || status_ == 204 || status_ == 304) {
    state_ = State::done;
  } else if (chunked) {
    state_ = State::chunk_size;
  } else if (length) {
    if (*length > max_body_) {
      refuse("a body of " + std::to_string(*length) + " bytes, over " + size_words(max_body_) + ", refused");
    }
    left_ = static_cast<std::size_t>(*length);  // at most max_body_, checked above
    state_ = left_ == 0 ? State::done : State::body_length;
  } else {
    state_ = State::body_close;
  }
}

void HttpReplyReader::run() {
  for (;;) {
    const std::size_t have = buf_.size() - at_;
    switch (state_) {
      case State::head:
        parse_head();
        if (state_ == State::head) return;
        break;
      case State::body_length:
      case State::chunk_data: {
        const std::size_t take = std::min(left_, have);
        if (body_.size() + take > max_body_) refuse("the body is over " + size_words(max_body_) + ", refused");
        body_.append(buf_, at_, take);
        at_ += take;
        left_ -= take;
        if (left_ > 0) return;
        state_ = state_ == State::body_length ? State::done : State::chunk_end;
        break;
      }
      case State::body_close:
        if (body_.size() + have > max_body_) refuse("the body is over " + size_words(max_body_) + ", refused");
        body_.append(buf_, at_, have);
        at_ += have;
        return;
      case State::chunk_size: {
        // "1a;ext=1\r\n" (RFC 9112 §7.1)
        const auto nl = buf_.find("\r\n", at_);
        if (nl == std::string::npos) {
          if (have > 256) refuse("a chunk's size line is over 256 bytes");
          return;
        }
        std::string_view line(buf_.data() + at_, nl - at_);
        line = trim(line.substr(0, line.find(';')));
        if (line.empty() || line.size() > 8 || !std::all_of(line.begin(), line.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
          refuse("chunk size '" + std::string(line.substr(0, 20)) + "' is not one");
        }
        // Compared before it is a size_t, and against what is left (a sum could wrap on 32 bits).
        const unsigned long long chunk = std::stoull(std::string(line), nullptr, 16);
        if (chunk > max_body_ - body_.size()) refuse("the body is over " + size_words(max_body_) + ", refused");
        left_ = static_cast<std::size_t>(chunk);
        at_ = nl + 2;
        state_ = left_ == 0 ? State::trailers : State::chunk_data;
        break;
      }
      case State::chunk_end:
        if (have < 2) return;
        if (buf_.compare(at_, 2, "\r\n") != 0) refuse("a chunk does not end where its size says");
        at_ += 2;
        state_ = State::chunk_size;
        break;
      case State::trailers: {
        const auto nl = buf_.find("\r\n", at_);
        if (nl == std::string::npos) {
          if (have > kMaxHeadBytes) refuse("its trailer is over " + size_words(kMaxHeadBytes) + ", refused");
          return;
        }
        const bool last = nl == at_;
        at_ = nl + 2;
        if (last) {
          state_ = State::done;
        } else if (++trailers_ > kMaxHeaderLines) {
          refuse("over " + std::to_string(kMaxHeaderLines) + " trailer lines, refused");
        }
        break;
      }
      case State::done:
        return;
    }
  }
}

}  // namespace drivers::miners
