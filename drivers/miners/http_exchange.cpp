#include "drivers/miners/http_exchange.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string_view>

namespace drivers::miners {

namespace {
// Splits off the text up to the next newline (consumed); throws when there is none.
std::string line(const std::string& text, std::size_t& at, const char* what) {
  const auto nl = text.find('\n', at);
  if (nl == std::string::npos) throw std::runtime_error(std::string("HTTP envelope: no ") + what);
  std::string out = text.substr(at, nl - at);
  at = nl + 1;
  return out;
}

// libcurl's global state, made once before the first handle (curl_global_init(3): not to be
// raced; the miners' workers start their exchanges on threads of their own).
void curl_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("libcurl would not start");
  });
}

struct Easy {
  CURL* p = curl_easy_init();
  Easy() {
    if (!p) throw std::bad_alloc();
  }
  ~Easy() { curl_easy_cleanup(p); }
  Easy(const Easy&) = delete;
  Easy& operator=(const Easy&) = delete;
};

// One easy handle in a multi handle, so that the wait can watch the Cancel's eventfd too.
struct Multi {
  CURLM* p = curl_multi_init();
  CURL* easy = nullptr;
  explicit Multi(CURL* e) {
    if (!p) throw std::bad_alloc();
    if (curl_multi_add_handle(p, e) != CURLM_OK) {
      curl_multi_cleanup(p);
      throw std::runtime_error("libcurl refused the exchange");
    }
    easy = e;
  }
  ~Multi() {
    curl_multi_remove_handle(p, easy);
    curl_multi_cleanup(p);
  }
  Multi(const Multi&) = delete;
  Multi& operator=(const Multi&) = delete;
};

struct Headers {
  curl_slist* p = nullptr;
  void add(const std::string& h) {
    curl_slist* next = curl_slist_append(p, h.c_str());
    if (!next) throw std::bad_alloc();
    p = next;
  }
  ~Headers() { curl_slist_free_all(p); }
};

// What the callbacks gather, bounded while it arrives: the first bound broken is said, and the
// callback's short count makes libcurl end the exchange there (CURLE_WRITE_ERROR).
struct Reply {
  std::string body;
  std::size_t head_bytes = 0;
  std::size_t head_lines = 0;
  std::string refused;
  std::string length;  // Content-Length as the peer wrote it, for the message when it is too large
};

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* cls) {
  auto& r = *static_cast<Reply*>(cls);
  const std::size_t len = size * n;
  r.head_bytes += len;
  ++r.head_lines;
  if (r.head_bytes > kMaxHeadBytes) {
    r.refused = "HTTP reply: its head is over 16 KiB, refused";
    return 0;
  }
  // The status line and the blank line that ends the head are lines too.
  if (r.head_lines > kMaxHeaderLines + 2) {
    r.refused = "HTTP reply: over 100 header lines, refused";
    return 0;
  }
  // Kept only to be named in the refusal of a body announced past the bound (libcurl has read it
  // by then, and its CURLINFO_CONTENT_LENGTH_DOWNLOAD_T is unset when it refused).
  constexpr std::string_view kLength = "content-length:";
  const std::string_view text(data, len);
  if (text.size() > kLength.size() && text.size() < 64 &&
      std::equal(kLength.begin(), kLength.end(), text.begin(), [](char a, char b) { return a == (b | 0x20); })) {
    const auto value = text.substr(kLength.size());
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    r.length = first == std::string_view::npos ? "" : std::string(value.substr(first, last - first + 1));
  }
  return len;
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* cls) {
  auto& r = *static_cast<Reply*>(cls);
  const std::size_t len = size * n;
  if (len > kMaxHttpBody - r.body.size()) {
    r.refused = "HTTP reply: the body is over 1 MiB, refused";
    return 0;
  }
  r.body.append(data, len);
  return len;
}

template <typename T>
void set(CURL* e, CURLoption o, T v) {
  if (curl_easy_setopt(e, o, v) != CURLE_OK) throw std::runtime_error("libcurl refused an option");
}

}  // namespace

std::string encode(const HttpRequest& r) { return r.method + ' ' + r.path + '\n' + r.token + '\n' + r.body; }
std::string encode(const HttpReply& r) { return std::to_string(r.status) + '\n' + r.body; }

HttpRequest decode_request(const std::string& text) {
  std::size_t at = 0;
  HttpRequest r;
  const std::string first = line(text, at, "request line");
  const auto sp = first.find(' ');
  if (sp == std::string::npos) throw std::runtime_error("HTTP envelope: no path in '" + first + "'");
  r.method = first.substr(0, sp);
  r.path = first.substr(sp + 1);
  r.token = line(text, at, "token line");
  r.body = text.substr(at);
  return r;
}

HttpReply decode_reply(const std::string& text) {
  std::size_t at = 0;
  const std::string status = line(text, at, "status line");
  HttpReply r;
  try {
    r.status = std::stoi(status);
  } catch (const std::exception&) {
    throw std::runtime_error("HTTP envelope: status '" + status.substr(0, 20) + "' is not a number");
  }
  r.body = text.substr(at);
  return r;
}

Exchange http_exchange(std::string host, int port, std::chrono::milliseconds timeout, std::shared_ptr<const Cancel> cancel,
                       HttpsOptions https) {
  curl_once();
  return [host = std::move(host), port, timeout, cancel = std::move(cancel), https = std::move(https)](const std::string& request) {
    const HttpRequest q = decode_request(request);
    if (q.method != "GET" && q.method != "PUT" && q.method != "POST") {
      throw std::runtime_error("HTTP: method '" + q.method + "' is not one a miner client sends");
    }
    const auto bad = [](const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; };
    if (bad(q.path) || bad(q.token)) throw std::runtime_error("HTTP " + q.method + ": a line break in the path or token");
    if (q.path.empty() || q.path.front() != '/' || q.path.find_first_of(" #") != std::string::npos) {
      throw std::runtime_error("HTTP " + q.method + ": '" + q.path.substr(0, 40) + "' is not a path");
    }
    if (cancel && cancel->cancelled()) throw std::runtime_error("stopping");
    const std::string what = "HTTP " + q.method + " " + q.path;
    // An IPv6 literal is bracketed in a URL (RFC 3986 §3.2.2).
    const std::string authority = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
    const std::string url = std::string(https.on ? "https://" : "http://") + authority + q.path;
    Easy easy;
    CURL* e = easy.p;
    Reply reply;
    char error[CURL_ERROR_SIZE] = {};
    Headers headers;
    // Braiins OS: "a token is returned, which should be included in the Authorization header"
    // (REST API v1.7.0, /api/v1/auth/login); the raw token, as its gRPC API takes it
    // (bos-plus-api README: metadata `authorization`, no scheme).
    headers.add("Accept: application/json");
    if (!q.token.empty()) headers.add("Authorization: " + q.token);
    // One request per connection (RFC 9112 §9.6): nothing kept open on a miner between polls.
    headers.add("Connection: close");
    if (q.method != "GET") {
      headers.add("Content-Type: application/json");
      headers.add("Expect:");  // the body goes at once, not after a 100 Continue
    }
    set(e, CURLOPT_URL, url.c_str());
    // Only HTTP and HTTPS, never a redirect to anything, no proxy from the environment, no
    // compressed reply (a small body could inflate past the bound before it is counted).
    set(e, CURLOPT_PROTOCOLS_STR, "http,https");
    set(e, CURLOPT_FOLLOWLOCATION, 0L);
    set(e, CURLOPT_PROXY, "");
    set(e, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS time-outs
    set(e, CURLOPT_HTTPHEADER, headers.p);
    if (q.method == "GET") {
      set(e, CURLOPT_HTTPGET, 1L);
    } else {
      set(e, CURLOPT_CUSTOMREQUEST, q.method.c_str());
      set(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(q.body.size()));
      set(e, CURLOPT_POSTFIELDS, q.body.c_str());
    }
    // One deadline for the whole exchange: connect, send, the reply's head and body (a peer that
    // drips a byte every half second cannot stretch it: issue 49).
    set(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    set(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
    // A body announced past the bound is refused before it comes; one that is not announced
    // (chunked, or to the close) is counted as it comes (on_body).
    set(e, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(kMaxHttpBody));
    set(e, CURLOPT_HEADERFUNCTION, &on_header);
    set(e, CURLOPT_HEADERDATA, &reply);
    set(e, CURLOPT_WRITEFUNCTION, &on_body);
    set(e, CURLOPT_WRITEDATA, &reply);
    set(e, CURLOPT_ERRORBUFFER, error);
    if (https.on) {
      // The miner's certificate is checked, its name too: against the system's CAs, or the one
      // the owner gave (a self-signed miner's own certificate).
      set(e, CURLOPT_SSL_VERIFYPEER, 1L);
      set(e, CURLOPT_SSL_VERIFYHOST, 2L);
      if (!https.ca_file.empty()) set(e, CURLOPT_CAINFO, https.ca_file.c_str());
    }
    Multi multi(e);
    CURLcode result = CURLE_OK;
    for (;;) {
      int running = 0;
      if (const CURLMcode m = curl_multi_perform(multi.p, &running); m != CURLM_OK) {
        throw std::runtime_error(what + ": " + curl_multi_strerror(m));
      }
      if (running == 0) {
        int left = 0;
        for (CURLMsg* msg = curl_multi_info_read(multi.p, &left); msg; msg = curl_multi_info_read(multi.p, &left)) {
          if (msg->msg == CURLMSG_DONE) result = msg->data.result;
        }
        break;
      }
      // Waits for the exchange's sockets, libcurl's next time-out, or the cancel, whichever first.
      curl_waitfd stop{cancel ? cancel->fd() : -1, CURL_WAIT_POLLIN, 0};
      if (const CURLMcode m = curl_multi_poll(multi.p, cancel ? &stop : nullptr, cancel ? 1u : 0u, 1000, nullptr);
          m != CURLM_OK) {
        throw std::runtime_error(what + ": " + curl_multi_strerror(m));
      }
      if (cancel && (stop.revents & CURL_WAIT_POLLIN)) throw std::runtime_error("stopping");
    }
    if (result == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      return encode(HttpReply{static_cast<int>(status), std::move(reply.body)});
    }
    if (!reply.refused.empty()) throw std::runtime_error(what + ": " + reply.refused);
    if (result == CURLE_OPERATION_TIMEDOUT) {
      curl_off_t connected_us = 0;
      curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connected_us);
      throw std::runtime_error(what + ": " + (connected_us > 0 ? "reply" : "connect") + ": timed out (the whole exchange has " +
                               std::to_string(timeout.count()) + " ms)");
    }
    if (result == CURLE_FILESIZE_EXCEEDED) {
      // Announced past the bound; or, libcurl 8.4 and later (Debian 13), a body without a length
      // that went past it while it came (before it reached on_body's own count).
      if (reply.length.empty()) throw std::runtime_error(what + ": HTTP reply: the body is over 1 MiB, refused");
      throw std::runtime_error(what + ": HTTP reply: a body of " + reply.length + " bytes, over 1 MiB, refused");
    }
    const std::string said = error[0] ? std::string(error) : std::string(curl_easy_strerror(result));
    if (result == CURLE_PEER_FAILED_VERIFICATION || result == CURLE_SSL_CACERT_BADFILE || result == CURLE_SSL_CONNECT_ERROR) {
      throw std::runtime_error(what + ": TLS: " + said + " (a miner's own certificate: miners.<name>.ca_file)");
    }
    throw std::runtime_error(what + ": " + said);
  };
}

}  // namespace drivers::miners
