#pragma once
// A secret's file (mqtt.password_file, metrics.token_file): its first line, read with bounds. The
// path is the owner's, but a mistake in it must not stall a thread or fill memory: a FIFO's open
// waits for a writer, and /dev/zero or a log file has no first line's end (getline read on).
#include <optional>
#include <string>

namespace drivers::text {

// Read at most this much of it; a first line longer than this is refused.
inline constexpr std::size_t kSecretFileMaxBytes = 4096;

// The first line of the regular file at `path`, its line end ("\n", "\r\n") taken off; nullopt
// with `why` (what is wrong, for a message that names the file) when it cannot be opened, is not a
// regular file, or has no line end in its first kSecretFileMaxBytes when it is longer. Never
// waits on anything but the disk.
std::optional<std::string> read_first_line(const std::string& path, std::string& why);

}  // namespace drivers::text
