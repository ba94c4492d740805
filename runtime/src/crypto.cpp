#include "crypto.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>

namespace pave::rt {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

Pkey readKey(std::string_view pem, bool is_private, std::string* error) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  if (!bio) return nullptr;
  Pkey key(is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                      : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    if (error) *error = is_private ? "cannot read the private key (PEM)" : "cannot read the public key (PEM)";
    return nullptr;
  }
  if (!EVP_PKEY_is_a(key.get(), "ED25519")) {
    if (error) *error = "the key is not an Ed25519 key";
    return nullptr;
  }
  return key;
}

}  // namespace

std::array<uint8_t, 32> sha256(const uint8_t* data, size_t n) {
  std::array<uint8_t, 32> md{};
  unsigned len = 0;
  EVP_Digest(data, n, md.data(), &len, EVP_sha256(), nullptr);
  return md;
}

std::string toHex(const uint8_t* data, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s += kHex[data[i] >> 4];
    s += kHex[data[i] & 15];
  }
  return s;
}

bool ed25519Sign(std::string_view private_pem, const uint8_t* msg, size_t n, std::array<uint8_t, 64>& sig,
                 std::string* error) {
  Pkey key = readKey(private_pem, true, error);
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, msg, n) != 1 || len != sig.size()) {
    if (error) *error = "signing failed";
    return false;
  }
  return true;
}

bool ed25519Verify(std::string_view public_pem, const uint8_t* msg, size_t n, const uint8_t* sig,
                   std::string* error) {
  Pkey key = readKey(public_pem, false, error);
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestVerify(ctx.get(), sig, 64, msg, n) != 1) {
    if (error) *error = "signature verification failed";
    return false;
  }
  return true;
}

}  // namespace pave::rt
