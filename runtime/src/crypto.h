// SHA-256 and Ed25519 through OpenSSL 3.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pave::rt {

std::array<uint8_t, 32> sha256(const uint8_t* data, size_t n);
std::string toHex(const uint8_t* data, size_t n);
// Signs `msg` with an Ed25519 private key in PEM form; false with `error` on failure.
bool ed25519Sign(std::string_view privatePem, const uint8_t* msg, size_t n, std::array<uint8_t, 64>& sig,
                 std::string* error);
// The Ed25519 public keys in `pem`: every PEM block in it must be an Ed25519 public key, and
// there must be at least one; otherwise false with `error` (an empty text is no key).
bool ed25519ReadPublicKeys(std::string_view pem, size_t* count, std::string* error);
// Whether one of the Ed25519 public keys in any of `pems` verifies `sig` over `msg`. Every
// text must hold valid keys (ed25519ReadPublicKeys); an invalid one fails the whole check.
// `signer`, when given, receives the SHA-256 (hex) of the raw 32-byte public key that verified.
bool ed25519Verify(const std::vector<std::string>& pems, const uint8_t* msg, size_t n, const uint8_t* sig,
                   std::string* error, std::string* signer = nullptr);

}  // namespace pave::rt
