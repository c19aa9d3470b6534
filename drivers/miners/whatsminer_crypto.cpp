#include "drivers/miners/whatsminer_crypto.hpp"

#include <crypt.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace drivers::miners {

namespace {

struct CipherCtx {
  EVP_CIPHER_CTX* p = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(p); }
};

}  // namespace

std::string md5_crypt_hash(std::string_view password, std::string_view salt) {
  constexpr std::string_view kMagic = "$1$";
  if (salt.starts_with(kMagic)) salt.remove_prefix(kMagic.size());
  salt = salt.substr(0, std::min(salt.find('$'), std::size_t{8}));
  // libxcrypt's crypt_rn(3) with a "$1$" setting: md5-crypt as FreeBSD's crypt(3) made it. The
  // phrase is a C string: a NUL would end it early, so it is refused (a config value cannot hold
  // one; a salt from a miner's reply could).
  if (password.find('\0') != std::string_view::npos) throw std::runtime_error("md5-crypt: a NUL in the password");
  const std::string phrase(password);
  const std::string setting = std::string(kMagic) + std::string(salt) + "$";
  const auto data = std::make_unique<crypt_data>();  // 32 KiB: not on a worker's stack
  const char* out = crypt_rn(phrase.c_str(), setting.c_str(), data.get(), static_cast<int>(sizeof *data));
  if (!out) {
    throw std::runtime_error("md5-crypt: libcrypt refused the salt '" + std::string(salt) +
                             "' (md5-crypt takes the characters ./0-9A-Za-z)");
  }
  const std::string_view hashed(out);
  return std::string(hashed.substr(hashed.rfind('$') + 1));
}

AesKey sha256_key(std::string_view text) {
  AesKey k{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), k.data());
  return k;
}

std::string aes_ecb_encrypt_b64(const AesKey& key, std::string_view plain) {
  CipherCtx ctx;
  std::vector<unsigned char> buf(plain.size() + 32);
  int n = 0, tail = 0;
  if (!ctx.p || EVP_EncryptInit_ex(ctx.p, EVP_aes_256_ecb(), nullptr, key.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.p, buf.data(), &n, reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.p, buf.data() + n, &tail) != 1) {
    throw std::runtime_error("aes-256-ecb: libcrypto refused");
  }
  const std::size_t len = static_cast<std::size_t>(n + tail);
  std::string b64(4 * ((len + 2) / 3) + 1, '\0');
  const int m = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), buf.data(), static_cast<int>(len));
  b64.resize(static_cast<std::size_t>(m));
  return b64;
}

std::optional<std::string> aes_ecb_decrypt_b64(const AesKey& key, std::string_view b64) {
  // A reply is a few hundred bytes; 1 MiB is the exchange's own bound.
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > (1 << 20)) return std::nullopt;
  std::vector<unsigned char> raw(b64.size() / 4 * 3);
  const int m = EVP_DecodeBlock(raw.data(), reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (m < 0) return std::nullopt;
  // EVP_DecodeBlock counts the bytes that '=' stands for as zeros. Base64 pads its last quantum
  // with at most two, and nowhere else: more '=' counted here ran the length below zero (128 of
  // them asked std::string for 2^64 bytes).
  std::size_t b64_pad = 0;
  while (b64_pad < 2 && b64[b64.size() - 1 - b64_pad] == '=') ++b64_pad;
  if (b64.find('=') < b64.size() - b64_pad) return std::nullopt;
  const std::size_t len = static_cast<std::size_t>(m) - b64_pad;
  if (len == 0 || len % 16 != 0) return std::nullopt;
  CipherCtx ctx;
  std::string out(len + 16, '\0');
  int n = 0, tail = 0;
  if (!ctx.p || EVP_DecryptInit_ex(ctx.p, EVP_aes_256_ecb(), nullptr, key.data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx.p, 0) != 1 ||
      EVP_DecryptUpdate(ctx.p, reinterpret_cast<unsigned char*>(out.data()), &n, raw.data(), static_cast<int>(len)) != 1 ||
      EVP_DecryptFinal_ex(ctx.p, reinterpret_cast<unsigned char*>(out.data()) + n, &tail) != 1) {
    return std::nullopt;
  }
  out.resize(static_cast<std::size_t>(n + tail));
  const auto pad = static_cast<unsigned char>(out.back());
  if (pad >= 1 && pad <= 16 && out.size() >= pad && out.find_first_not_of(static_cast<char>(pad), out.size() - pad) == std::string::npos) {
    out.resize(out.size() - pad);
  }
  while (!out.empty() && out.back() == '\0') out.pop_back();
  return out;
}

V2Token whatsminer_v2_token(std::string_view password, std::string_view salt, std::string_view newsalt,
                            std::string_view time) {
  const std::string key = md5_crypt_hash(password, salt);
  const std::string_view last4 = time.size() > 4 ? time.substr(time.size() - 4) : time;
  return V2Token{md5_crypt_hash(key + std::string(last4), newsalt), sha256_key(key)};
}

}  // namespace drivers::miners
