// Loading: header and section directory, digest, signature, decoding and verification turn
// the bytes into a verified bundle; then its tables are materialized and its decision plan
// built (plan/plan.h, buildPlan), the phase that prepares what a decision runs.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include "bundle_reader.h"
#include "bytes.h"
#include "crypto.h"
#include "program.h"

namespace pave::rt {

bool checkPublicKeys(std::string_view pem, size_t* count, std::string* error) {
  return ed25519ReadPublicKeys(pem, count, error);
}

namespace {

const char* sectionName(uint32_t id) {
  switch (id) {
    case SecStrings: return "strings";
    case SecSchema: return "schema";
    case SecRules: return "rules";
    case SecCode: return "code";
    case SecSourceMap: return "source map";
    case SecMeta: return "metadata";
    case SecData: return "data";
  }
  return "?";
}

bool readContainer(std::span<const uint8_t> bytes, const LoadOptions& opts, LoadedBundle::Impl& impl,
                   std::string* error) {
  auto fail = [&](const std::string& m) {
    if (error) *error = m;
    return false;
  };
  ByteReader hr(bytes.data(), bytes.size());
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, 4) != 0) return fail("not a Pave bundle (bad magic)");
  hr.bytes(4);
  uint16_t major = hr.u16(), minor = hr.u16();
  if (major != kFormatMajor || minor > kFormatMinor)
    return fail("unsupported bundle format " + std::to_string(major) + "." + std::to_string(minor));
  uint32_t flags = hr.u32(), count = hr.u32();
  if (flags & ~kFlagSigned) return fail("unknown header flags");
  if (count > 16 || bytes.size() < kHeaderSize + count * kDirEntrySize) return fail("truncated section directory");
  struct Entry { uint32_t id, offset, size; };
  std::vector<Entry> dir(count);
  uint64_t expect = kHeaderSize + uint64_t(count) * kDirEntrySize;
  uint32_t lastId = 0;
  for (Entry& e : dir) {
    e = {hr.u32(), hr.u32(), hr.u32()};
    if (e.id <= lastId || e.id > SecData) return fail("invalid section directory");
    if (e.offset != expect || uint64_t(e.offset) + e.size > bytes.size()) return fail("section out of bounds");
    expect += e.size;
    lastId = e.id;
  }
  impl.isSigned = flags & kFlagSigned;
  impl.formatMinor = minor;
  size_t content = size_t(expect);
  size_t total = content + kDigestSize + (impl.isSigned ? kSignatureSize : 0);
  if (bytes.size() != total) return fail(bytes.size() < total ? "truncated bundle" : "trailing bytes after the bundle");
  impl.digest = sha256(bytes.data(), content);
  if (std::memcmp(impl.digest.data(), bytes.data() + content, kDigestSize) != 0) return fail("digest mismatch");
  impl.digestHex = toHex(impl.digest.data(), impl.digest.size());
  if (!opts.publicKeysPem.empty()) {
    // A configured key is never "no key": each must be a valid Ed25519 public key, checked
    // before anything else so that a bad key is reported as such whatever the bundle.
    std::string why;
    for (size_t i = 0; i < opts.publicKeysPem.size(); ++i)
      if (!ed25519ReadPublicKeys(opts.publicKeysPem[i], nullptr, &why))
        return fail(opts.publicKeysPem.size() == 1 ? why : "key text " + std::to_string(i + 1) + ": " + why);
    if (!impl.isSigned) return fail("the bundle is not signed");
    if (!ed25519Verify(opts.publicKeysPem, impl.digest.data(), kDigestSize, bytes.data() + content + kDigestSize, &why,
                       &impl.signerKeyHex))
      return fail(why);
  }
  for (uint32_t need : {SecStrings, SecSchema, SecRules, SecCode, SecMeta})
    if (std::none_of(dir.begin(), dir.end(), [&](const Entry& e) { return e.id == need; }))
      return fail(std::string("missing section: ") + sectionName(need));
  for (const Entry& e : dir) {
    std::string why;
    if (!decodeSection(e.id, bytes.data() + e.offset, e.size, minor, impl.model, &why))
      return fail(std::string(sectionName(e.id)) + " section: " + why);
    impl.sectionSizes.emplace_back(sectionName(e.id), e.size);
  }
  impl.fileSize = bytes.size();
  return true;
}

void addName(TypeNames& names, std::string_view qualified, int32_t index) {
  names.qualified[qualified] = index;
  size_t dot = qualified.rfind('.');
  std::string_view shortName = dot == std::string_view::npos ? qualified : qualified.substr(dot + 1);
  auto [it, added] = names.shortNames.emplace(shortName, index);
  if (!added) it->second = -1;  // ambiguous short name
}

// The request and principal types by name (LoadedBundle::findRequestType and
// findPrincipalType).
void indexNames(LoadedBundle::Impl& impl) {
  const Bundle& m = impl.model;
  for (uint32_t t = 0; t < m.schema.requests.size(); ++t)
    addName(impl.requestNames, m.strings[m.schema.requests[t].name], int32_t(t));
  for (uint32_t p = 0; p < m.schema.principals.size(); ++p)
    addName(impl.principalNames, m.strings[m.schema.principals[p].name], int32_t(p));
}

}  // namespace

namespace {
std::atomic<size_t> g_live_bundles{0};
}  // namespace

// Internal, for tests: how many LoadedBundle objects exist in the process.
size_t liveBundleCount() { return g_live_bundles.load(); }

LoadedBundle::LoadedBundle(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) { ++g_live_bundles; }
LoadedBundle::~LoadedBundle() { --g_live_bundles; }

std::shared_ptr<const LoadedBundle> LoadedBundle::load(std::span<const uint8_t> bytes, const LoadOptions& opts,
                                                       std::string* error) {
  auto impl = std::make_unique<Impl>();
  if (!readContainer(bytes, opts, *impl, error)) return nullptr;
  std::string why;
  if (!verifyBundle(impl->model, &why) || !materializeTables(*impl, &why)) {
    if (error) *error = "invalid bundle: " + why;
    return nullptr;
  }
  impl->plan = buildPlan(impl->model, impl->tables.data(), impl->tableIndex.data());
  indexNames(*impl);
  buildJsonTables(*impl);
  return std::shared_ptr<const LoadedBundle>(new LoadedBundle(std::move(impl)));
}

std::shared_ptr<const LoadedBundle> LoadedBundle::loadFile(const std::string& path, const LoadOptions& opts,
                                                           std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) *error = "cannot open " + path;
    return nullptr;
  }
  // One read of the file's size (a bundle with a large table is tens of megabytes).
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::vector<uint8_t> bytes;
  if (size > 0) {
    bytes.resize(size_t(size));
    in.read(reinterpret_cast<char*>(bytes.data()), size);
  }
  if (size < 0 || !in) {
    if (error) *error = "cannot read " + path;
    return nullptr;
  }
  return load(bytes, opts, error);
}

const Bundle& LoadedBundle::model() const { return impl_->model; }
std::string_view LoadedBundle::digestHex() const { return impl_->digestHex; }
bool LoadedBundle::isSigned() const { return impl_->isSigned; }
std::string_view LoadedBundle::signerKeyHex() const { return impl_->signerKeyHex; }

int32_t LoadedBundle::findRequestType(std::string_view name) const { return impl_->requestNames.find(name); }
int32_t LoadedBundle::findPrincipalType(std::string_view name) const { return impl_->principalNames.find(name); }

}  // namespace pave::rt
