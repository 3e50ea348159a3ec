// What every moesim command line shares: exit codes, turning an error into a message and an
// exit code, and writing output files ("-" is standard output).
//
// Exit codes: 0 ok, 2 bad input (scenario, preset or flag), 1 internal error, 3 `validate` found
// a prediction outside its tolerance.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/status.h"
#include "engine/scenario.h"

namespace moesim {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitOutOfTolerance = 3;

int ExitCodeFor(const absl::Status& s);
// Prints "moesim: <message>" on standard error; returns ExitCodeFor(s).
int Fail(const absl::Status& s);
// Writes `text` to `path` ("-": standard output); false when it cannot.
bool WriteFile(const std::string& path, const std::string& text);
// Checks before a long simulation that an output file can be written (opened for appending,
// so an existing file is left as it is until the report replaces it); "" and "-" pass.
absl::Status CheckWritable(const std::string& path);

// What makes a report reproducible, added to it as "meta": moesim's version, the scenario file
// as given, a hash of the resolved scenario (FNV-1a 64 of `moesim explain`'s JSON: every preset
// value and default that applied), the seed, the warm-up and the duration.
nlohmann::json RunMeta(const Scenario& scenario, const std::string& path,
                       const std::string& version);

}  // namespace moesim
