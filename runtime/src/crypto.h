// SHA-256 and Ed25519 through OpenSSL 3.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace pave::rt {

std::array<uint8_t, 32> sha256(const uint8_t* data, size_t n);
std::string toHex(const uint8_t* data, size_t n);
// Signs `msg` with an Ed25519 private key in PEM form; false with `error` on failure.
bool ed25519Sign(std::string_view private_pem, const uint8_t* msg, size_t n, std::array<uint8_t, 64>& sig,
                 std::string* error);
bool ed25519Verify(std::string_view public_pem, const uint8_t* msg, size_t n, const uint8_t* sig,
                   std::string* error);

}  // namespace pave::rt
