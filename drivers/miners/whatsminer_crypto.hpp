#pragma once
// The crypto Whatsminer's btminer API v2 wraps its writes in (MicroBT "Whatsminer API V1.3.8"
// §3.7 and §4.1; docs/protocols.md §8.4): md5-crypt for the key and the sign, SHA-256 of the key
// as an AES-256 key, AES-256-ECB and base64 for the envelope. md5-crypt is libxcrypt's
// (crypt_rn(3), libcrypt1 in every Debian); SHA-256, AES and base64 are OpenSSL's libcrypto, which
// shackd links for the v3 token already. Only the wrapping is ours.
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace drivers::miners {

// The hash field of md5-crypt ("$1$<salt>$<hash>", P.-H. Kamp's crypt(3) for FreeBSD, what
// `openssl passwd -1 -salt SALT PASSWORD` prints): 22 characters. At most 8 characters of the salt
// are used, up to a '$'. Throws std::runtime_error on a salt md5-crypt does not take (a character
// outside ./0-9A-Za-z) or a NUL in the password.
std::string md5_crypt_hash(std::string_view password, std::string_view salt);

using AesKey = std::array<unsigned char, 32>;
AesKey sha256_key(std::string_view text);

// AES-256-ECB of `plain` padded with PKCS#7 (as MicroBT's own client sends it), in base64 without
// line breaks.
std::string aes_ecb_encrypt_b64(const AesKey& key, std::string_view plain);
// The reverse, for a reply: nullopt when `b64` is not base64 of whole blocks. The padding is taken
// off whichever the firmware used (PKCS#7, or NUL bytes as one public client pads).
std::optional<std::string> aes_ecb_decrypt_b64(const AesKey& key, std::string_view b64);

// The v2 write token from get_token's reply (S3 §3.7): key = md5_crypt_hash(password, salt); sign
// = md5_crypt_hash(key + the last four characters of time, newsalt); the AES key is SHA-256(key).
struct V2Token {
  std::string sign;
  AesKey aes_key{};
};
V2Token whatsminer_v2_token(std::string_view password, std::string_view salt, std::string_view newsalt,
                            std::string_view time);

}  // namespace drivers::miners
