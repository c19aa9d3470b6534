#pragma once
// An HTTP/1.1 reply (RFC 9112) read as it arrives, bounded before anything grows with it: a head of
// at most kMaxHeadBytes and kMaxHeaderLines lines, a body of at most a given size however it is
// framed (Content-Length, chunked, or up to the close), and a chunked body's framing bounded too
// (a peer sending one-byte chunks cannot make its raw bytes unbounded). Pure: no I/O, so the
// framing is tested on its own; the exchange (http_exchange.cpp) feeds it what recv() returns.
#include <cstddef>
#include <string>

namespace drivers::miners {

inline constexpr std::size_t kMaxHeadBytes = 16 * 1024;
inline constexpr std::size_t kMaxHeaderLines = 100;

class HttpReplyReader {
 public:
  explicit HttpReplyReader(std::size_t max_body) : max_body_(max_body) {}
  // Takes the next bytes; throws std::runtime_error naming the rule a reply broke.
  void feed(const char* data, std::size_t n);
  // The peer closed: the reply is whole if it was framed by the close (throws if it was cut short).
  void closed();
  bool done() const { return state_ == State::done; }
  int status() const { return status_; }
  const std::string& body() const { return body_; }
  // The most raw bytes a reply may take on the wire: head, body and a chunked body's framing.
  std::size_t max_raw() const { return kMaxHeadBytes + 2 * max_body_ + 4096; }

 private:
  enum class State { head, body_length, body_close, chunk_size, chunk_data, chunk_end, trailers, done };
  void parse_head();
  void run();  // consumes buf_ from at_ as far as it can
  std::size_t max_body_;
  State state_ = State::head;
  std::string buf_;      // what has arrived and is not consumed yet
  std::size_t at_ = 0;   // consumed up to here
  std::size_t raw_ = 0;  // every byte fed
  std::string body_;
  std::size_t left_ = 0;     // of a Content-Length body or the current chunk
  std::size_t trailers_ = 0;
  std::size_t head_searched_ = 0;
  int status_ = 0;
};

}  // namespace drivers::miners
