#pragma once
#include <string>
#include <string_view>

namespace shackd {

// Lowercase hex SHA-256 (OpenSSL's libcrypto, already a paho dependency).
std::string sha256_hex(std::string_view data);

}  // namespace shackd
