#include "drivers/text/secret_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace drivers::text {

std::optional<std::string> read_first_line(const std::string& path, std::string& why) {
  // O_NONBLOCK: the open of a FIFO with no writer returns at once instead of waiting for one
  // (fifo(7)); it is refused below as no regular file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    why = "not a regular file";
    ::close(fd);
    return std::nullopt;
  }
  std::string text(kSecretFileMaxBytes, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  text.resize(got);
  const auto end = text.find('\n');
  if (end == std::string::npos && static_cast<std::size_t>(st.st_size) > kSecretFileMaxBytes) {
    why = "its first line is longer than " + std::to_string(kSecretFileMaxBytes) + " bytes";
    return std::nullopt;
  }
  if (end != std::string::npos) text.resize(end);
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

}  // namespace drivers::text
