#include "bundle_store.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "http_client.h"
#include "pave/literals.h"

namespace pave::server {
namespace {

using json = nlohmann::json;

bool isUrl(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

int64_t wallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string millis(int64_t ms) {
  std::string s = rt::formatTimestamp(ms / 1000);
  char frac[32];
  std::snprintf(frac, sizeof frac, ".%03lldZ", (long long)(ms % 1000));
  s.pop_back();
  return s + frac;
}

// Identity of a file's current content as far as stat tells: device, inode, size, mtime.
std::string fileStamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  std::ostringstream o;
  o << st.st_dev << ':' << st.st_ino << ':' << st.st_size << ':' << st.st_mtim.tv_sec << '.' << st.st_mtim.tv_nsec;
  return o.str();
}

}  // namespace

std::string bundleInfoJson(const rt::LoadedBundle& b, const std::string& source, int64_t loadedAtMs) {
  const rt::Bundle& m = b.model();
  auto str = [&](rt::StrId id) { return id == rt::kNone ? json(nullptr) : json(std::string(m.str(id))); };
  nlohmann::ordered_json exceptions = nlohmann::ordered_json::array();  // members in SPEC order
  size_t rules = 0;
  for (const rt::Rule& r : m.rules) {
    if (r.effect != rt::Effect::Exception) {
      ++rules;
      continue;
    }
    exceptions.push_back(nlohmann::ordered_json{{"id", str(r.name)},
                          {"lifts", str(m.rules[r.lifts].name)},
                          {"until", rt::formatTimestamp(r.until)},
                          {"owner", str(r.owner)},
                          {"ticket", str(r.ticket)}});
  }
  std::sort(exceptions.begin(), exceptions.end(), [](const auto& a, const auto& b) {
    return a["id"].template get<std::string>() < b["id"].template get<std::string>();
  });
  // Members in the order of SPEC §10.2 (nlohmann sorts keys, so the object is built as text).
  std::string s =
      "{\"name\":" + str(m.meta.name).dump() + ",\"revision\":" + str(m.meta.revision).dump() +
      ",\"digest\":\"sha256:" + std::string(b.digestHex()) + "\"" +
      (m.meta.dataDigest == rt::kNone ? "" : ",\"data_digest\":" + str(m.meta.dataDigest).dump()) +
      ",\"signed\":" + (b.isSigned() ? "true" : "false") + ",\"key\":" +
      (b.signerKeyHex().empty() ? std::string("null") : "\"sha256:" + std::string(b.signerKeyHex()) + "\"") +
      ",\"loaded_at\":\"" + millis(loadedAtMs) + "\",\"source\":" + json(source).dump() +
      ",\"rules\":" + std::to_string(rules) + ",\"exceptions\":" + exceptions.dump() + "}";
  return s;
}

BundleStore::BundleStore(StoreOptions opts, Metrics& metrics) : opts_(std::move(opts)), metrics_(metrics) {}

BundleStore::~BundleStore() { stop(); }

void BundleStore::fail(const std::string& reason, const std::string& message) {
  failures_.fetch_add(1);
  metrics_.reloadFailures.get({reason})->add();
  std::fprintf(stderr, "pave serve: bundle not loaded from %s (%s): %s; %s\n", opts_.source.c_str(), reason.c_str(),
               message.c_str(), current() ? "the last good bundle keeps serving" : "no bundle yet: decisions deny");
}

bool BundleStore::install(const std::string& bytes, const std::string& origin) {
  rt::LoadOptions lo;
  lo.publicKeysPem = opts_.publicKeysPem;
  std::string error;
  auto b = rt::LoadedBundle::load(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), lo, &error);
  if (!b) {
    // The reason label: a small fixed set, from the loader's message.
    std::string reason = error.find("signature") != std::string::npos || error.find("not signed") != std::string::npos
                             ? "signature"
                         : error.find("digest") != std::string::npos ? "digest"
                         : error.find("invalid bundle") != std::string::npos ? "verification"
                                                                             : "format";
    fail(reason, error);
    return false;
  }
  auto gen = std::make_shared<Generation>();
  gen->bundle = b;
  gen->source = origin;
  gen->loadedAtMs = wallMs();
  gen->infoJson = bundleInfoJson(*b, origin, gen->loadedAtMs);
  const rt::Bundle& m = b->model();
  static const char* kOutcome[3] = {"allow", "approval", "deny"};
  for (const rt::RequestType& reqType : m.schema.requests) {
    std::array<Counter*, 3> row{};
    for (int o = 0; o < 3; ++o)
      row[size_t(o)] = metrics_.decisions.get({std::string(m.str(reqType.name)), kOutcome[o]});
    gen->decisions.push_back(row);
  }
  for (const rt::Rule& r : m.rules) {
    bool x = r.effect == rt::Effect::Exception;
    gen->ruleMatches.push_back(x ? nullptr : metrics_.ruleMatches.get({std::string(m.str(r.name))}));
    gen->exceptionUses.push_back(
        x ? metrics_.exceptionUses.get({std::string(m.str(r.name)), std::string(m.str(m.rules[r.lifts].name))})
          : nullptr);
  }
  std::shared_ptr<const Generation> old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    gen->serial = ++serial_;
    old = current_;
    if (old && old->bundle->digestHex() == b->digestHex()) return false;  // the same bundle again
    current_ = gen;
  }
  std::fprintf(stderr, "pave serve: bundle %s loaded from %s (%s, %zu rules)%s\n",
               std::string(b->digestHex()).substr(0, 12).c_str(), origin.c_str(),
               b->signerKeyHex().empty() ? "signature not checked" : "signature verified", m.rules.size(),
               old ? ", replacing the previous one" : "");
  return true;
}

bool BundleStore::reload(bool forced) {
  std::lock_guard<std::mutex> lock(loadMu_);
  if (isUrl(opts_.source)) {
    HttpResponse r = httpGet(opts_.source, forced ? "" : etag_, opts_.maxBundleBytes, 30);
    if (!r.ok) {
      fail("fetch", r.error);
      return false;
    }
    if (r.status == 304) return false;
    if (r.status != 200) {
      fail("fetch", "HTTP " + std::to_string(r.status));
      return false;
    }
    bool ok = install(r.body, opts_.source);
    etag_ = r.etag;  // a bad bundle behind an unchanged ETag is not fetched again
    return ok;
  }
  std::string stamp = fileStamp(opts_.source);
  if (!forced && stamp == fileStamp_) return false;
  fileStamp_ = stamp;
  std::ifstream in(opts_.source, std::ios::binary);
  if (!in) {
    fail("read", "cannot open " + opts_.source);
    return false;
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() > opts_.maxBundleBytes) {
    fail("read", "the file is larger than " + std::to_string(opts_.maxBundleBytes) + " bytes");
    return false;
  }
  // A file replaced while being read: its stamp changed; read it again at the next check.
  if (fileStamp(opts_.source) != stamp) fileStamp_.clear();
  return install(bytes, opts_.source);
}

void BundleStore::start() {
  watcher_ = std::thread([this] { watch(); });
}

void BundleStore::stop() {
  {
    std::lock_guard<std::mutex> lock(watchMu_);
    stopping_ = true;
  }
  watchCv_.notify_all();
  if (watcher_.joinable()) watcher_.join();
}

void BundleStore::watch() {
  // A file is checked every second (cheap: a stat); a URL every poll period ± 10%.
  std::mt19937_64 rng(std::random_device{}());
  const bool url = isUrl(opts_.source);
  for (;;) {
    int64_t wait = url ? opts_.pollMs : std::min<int64_t>(opts_.pollMs, 1000);
    if (url) wait += int64_t(rng() % uint64_t(wait / 5 + 1)) - wait / 10;
    {
      std::unique_lock<std::mutex> lock(watchMu_);
      if (watchCv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait, 10)), [&] { return stopping_; }))
        return;
    }
    // Before the first good bundle, retry a URL whatever its ETag said.
    reload(!current() && url);
  }
}

}  // namespace pave::server
