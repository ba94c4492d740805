// One function per `pave` command; main.cpp wires them into the command line.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace pave::driver {

/// Exit codes (SPEC §9.2).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1;
inline constexpr int kExitUsage = 2;

/// Each `register*` adds a subcommand to `app`; its callback stores the exit code.
void registerCheck(CLI::App& app, int& exitCode);
void registerReport(CLI::App& app, int& exitCode);
void registerBundleCommands(CLI::App& app, int& exitCode);  // eval, inspect, verify
void registerBuild(CLI::App& app, int& exitCode);
void registerTest(CLI::App& app, int& exitCode);
void registerDiff(CLI::App& app, int& exitCode);
void registerFmt(CLI::App& app, int& exitCode);
void registerLsp(CLI::App& app, int& exitCode);
void registerServe(CLI::App& app, int& exitCode);
void registerAudit(CLI::App& app, int& exitCode);  // exceptions, recheck, show

/// Prints `pave: error: <message>` to stderr.
void printError(const std::string& message);
/// The check time: `--now` when given (a timestamp), else the current UTC time. Prints an
/// error and returns nullopt when `flag` is malformed.
std::optional<int64_t> resolveNow(const std::string& flag);

}  // namespace pave::driver
