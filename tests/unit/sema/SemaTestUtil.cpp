#include "SemaTestUtil.h"

#include <gtest/gtest.h>

#include "stdlib/Stdlib.h"
#include "syntax/Parser.h"

namespace pave::testing {

const char* const kPrelude = R"(namespace acme;

enum Env { dev, staging, prod }
enum Mode { read, write }

principal Human { email: String, groups: Set<String>, on_call: Bool }
principal Workload { spiffe_id: String, owner: String, env: Env, attested: Bool }
principal Agent { model: String, operator: String, delegated_by: String? }

context { source_ip: Ip?, break_glass: Bool }

/// A short-lived cloud role session.
request CloudRole for Human, Workload {
  account: String,
  role: String,
  env: Env,
  duration: Duration,
  justification: String?,
  tags: Map<String, String>,
  grant max_ttl: Duration = 1h merge min,
  grant scopes: Set<String> = [] merge union,
}

request SecretAccess for Workload, Agent {
  path: String,
  mode: Mode,
  env: Env,
  ttl: Duration,
  grant token_ttl: Duration = 15m merge min,
}
)";

const uint32_t kPreludeLines = [] {
  uint32_t n = 0;
  for (const char* p = kPrelude; *p; ++p) n += *p == '\n';
  return n;
}();

std::string Checked::text() const {
  std::string out;
  for (const Diagnostic& d : diags.all()) {
    LineCol lc = d.range.valid() ? sources.lineCol(d.range.file, d.range.begin) : LineCol{};
    out += (d.range.valid() ? sources.path(d.range.file) : std::string("?")) + ":" + std::to_string(lc.line) + ": " +
           std::string(d.code()) + ": " + d.message + "\n";
    for (const std::string& n : d.notes) out += "  note: " + n + "\n";
  }
  return out;
}

size_t Checked::count(std::string_view code) const {
  size_t n = 0;
  for (const Diagnostic& d : diags.all()) n += d.code() == code;
  return n;
}

const Diagnostic* Checked::find(std::string_view code) const {
  for (const Diagnostic& d : diags.all())
    if (d.code() == code) return &d;
  return nullptr;
}

uint32_t Checked::line(std::string_view code) const {
  const Diagnostic* d = find(code);
  return d && d->range.valid() ? sources.lineCol(d->range.file, d->range.begin).line : 0;
}

std::string Checked::message(std::string_view code) const {
  const Diagnostic* d = find(code);
  return d ? d->message : "<no " + std::string(code) + ">";
}

const sema::RuleInfo& Checked::rule(std::string_view name) const {
  for (const sema::RuleInfo& r : program->rules)
    if (r.name == name) return r;
  ADD_FAILURE() << "no rule " << name;
  static sema::RuleInfo none;
  return none;
}

std::string Checked::cond(std::string_view name) const {
  std::string out;
  for (const sema::Conjunct& c : rule(name).condition) out += (out.empty() ? "" : " && ") + program->dump(c.expr);
  return out;
}

std::unique_ptr<Checked> checkFiles(const std::vector<std::pair<std::string, std::string>>& files, int64_t now) {
  auto c = std::make_unique<Checked>();
  for (const EmbeddedFile& f : stdlibFiles()) {
    FileId id = c->sources.add(std::string(f.path), std::string(f.text));
    c->parsed &= syntax::parseFile(c->ast, c->sources, id, c->diags, true);
  }
  for (const auto& [path, text] : files) {
    FileId id = c->sources.add(path, text);
    c->parsed &= syntax::parseFile(c->ast, c->sources, id, c->diags, false);
  }
  EXPECT_TRUE(c->parsed) << c->text();
  sema::CheckOptions options;
  options.now = now;
  c->program = sema::check(c->ast, c->sources, c->diags, options);
  return c;
}

std::unique_ptr<Checked> checkBody(std::string_view body, int64_t now) {
  return checkFiles({{"policy.pave", std::string(kPrelude) + std::string(body)}}, now);
}

}  // namespace pave::testing
