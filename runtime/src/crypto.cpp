#include "crypto.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
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

Pkey readKey(std::string_view pem, bool isPrivate, std::string* error) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  if (!bio) return nullptr;
  Pkey key(isPrivate ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                     : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    if (error) *error = isPrivate ? "cannot read the private key (PEM)" : "cannot read the public key (PEM)";
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

bool ed25519Sign(std::string_view privatePem, const uint8_t* msg, size_t n, std::array<uint8_t, 64>& sig,
                 std::string* error) {
  Pkey key = readKey(privatePem, true, error);
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

namespace {

// Reads every PEM block of `pem` as an Ed25519 public key.
bool readPublicKeys(std::string_view pem, std::vector<Pkey>& keys, std::string* error) {
  auto fail = [&](std::string m) {
    ERR_clear_error();
    if (error) *error = std::move(m);
    return false;
  };
  if (pem.size() > (1u << 20)) return fail("the public key text is too large (over 1 MiB)");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
  if (!bio) return fail("cannot read the public key");
  for (;;) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) {
      // The end of the text, or a block that does not decode (bad base64, no end line).
      unsigned long e = ERR_peek_last_error();
      if (e && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE))
        return fail("public key " + std::to_string(keys.size() + 1) + ": a PEM block that does not decode");
      break;
    }
    std::string block = name ? name : "";
    const unsigned char* p = data;
    Pkey key(block == "PUBLIC KEY" ? d2i_PUBKEY(nullptr, &p, len) : nullptr);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    size_t n = keys.size() + 1;
    if (block != "PUBLIC KEY")
      return fail("public key " + std::to_string(n) + ": a PEM `" + block + "` block is not a public key");
    if (!key) return fail("public key " + std::to_string(n) + ": cannot decode the key");
    if (!EVP_PKEY_is_a(key.get(), "ED25519")) return fail("public key " + std::to_string(n) + ": not an Ed25519 key");
    keys.push_back(std::move(key));
  }
  ERR_clear_error();
  if (keys.empty()) return fail("no public key found (expected a PEM `PUBLIC KEY` block holding an Ed25519 key)");
  return true;
}

}  // namespace

bool ed25519ReadPublicKeys(std::string_view pem, size_t* count, std::string* error) {
  std::vector<Pkey> keys;
  if (!readPublicKeys(pem, keys, error)) return false;
  if (count) *count = keys.size();
  return true;
}

bool ed25519Verify(const std::vector<std::string>& pems, const uint8_t* msg, size_t n, const uint8_t* sig,
                   std::string* error, std::string* signer) {
  std::vector<Pkey> keys;
  for (const std::string& pem : pems)
    if (!readPublicKeys(pem, keys, error)) return false;
  if (keys.empty()) {
    if (error) *error = "no public key to verify the signature with";
    return false;
  }
  for (const Pkey& key : keys) {
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
    if (ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) == 1 &&
        EVP_DigestVerify(ctx.get(), sig, 64, msg, n) == 1) {
      uint8_t raw[32];
      size_t len = sizeof raw;
      if (signer && EVP_PKEY_get_raw_public_key(key.get(), raw, &len) == 1) {
        auto md = sha256(raw, len);
        *signer = toHex(md.data(), md.size());
      }
      return true;
    }
  }
  ERR_clear_error();
  if (error)
    *error = keys.size() == 1 ? "signature verification failed"
                              : "signature verification failed with each of the " + std::to_string(keys.size()) +
                                    " public keys";
  return false;
}

}  // namespace pave::rt
