// Witnesses: decoding a solver model into the input JSON of SPEC §7.2, and confirming a
// claim about it by running the real bundle through the VM.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "analysis/Encoder.h"
#include "source/Source.h"

namespace pave::rt {
class LoadedBundle;
class Decider;
}  // namespace pave::rt

namespace pave::analysis {

/// A complete input: every required attribute of the request type, the principal's type
/// and the context. Nullopt when a value cannot be written as JSON (a string that is not
/// UTF-8); `badStrings` then lists the string variables at fault.
std::optional<nlohmann::json> decodeWitness(Encoder& enc, const z3::model& model,
                                            std::vector<z3::expr>* badStrings = nullptr);

/// The compiled bundle of a program, shared by all threads.
class Bundle {
 public:
  static std::shared_ptr<const Bundle> build(const sema::CheckedProgram& p, const SourceManager& sources,
                                             std::string& error);
  std::shared_ptr<const rt::LoadedBundle> loaded;
  /// Request types whose decisions depend on tables whose data was not read: the VM's
  /// decision on them confirms nothing (`Confirmer::decide` gives null).
  std::set<std::string> unconfirmable;
};

/// Runs inputs through one bundle; one per thread.
class Confirmer {
 public:
  explicit Confirmer(std::shared_ptr<const Bundle> bundle);
  ~Confirmer();
  /// The decision JSON with its `--explain` trace, of the rules that matched (true or on an error).
  nlohmann::json decide(const nlohmann::json& input);

 private:
  std::shared_ptr<const Bundle> bundle_;
  std::unique_ptr<rt::Decider> decider_;
};

/// Trace helpers over a decision JSON.
bool matchedTrue(const nlohmann::json& decision, const std::string& rule);
bool matchedAtAll(const nlohmann::json& decision, const std::string& rule);  // true or error
bool validInput(const nlohmann::json& decision);
bool listed(const nlohmann::json& decision, const char* list, const std::string& rule);

}  // namespace pave::analysis
