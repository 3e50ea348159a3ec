#include "tools/cli_support.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace moesim {

int ExitCodeFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      return kExitBadInput;
    default:
      return kExitInternal;
  }
}

int Fail(const absl::Status& s) {
  std::cerr << "moesim: " << s.message() << "\n";
  return ExitCodeFor(s);
}

bool WriteFile(const std::string& path, const std::string& text) {
  if (path == "-") {
    std::cout << text;
    return static_cast<bool>(std::cout);
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

absl::Status CheckWritable(const std::string& path) {
  if (path.empty() || path == "-") return absl::OkStatus();
  errno = 0;
  std::ofstream out(path, std::ios::binary | std::ios::app);
  if (!out) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot write (", errno != 0 ? std::strerror(errno) : "unknown", ")"));
  }
  return absl::OkStatus();
}

nlohmann::json RunMeta(const Scenario& scenario, const std::string& path,
                       const std::string& version) {
  // FNV-1a, 64 bit: stable across machines and runs (std::hash is not).
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : ScenarioToJson(scenario).dump()) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return {{"moesim_version", version},
          {"scenario_file", path},
          {"resolved_scenario_fnv1a64", absl::StrFormat("%016x", h)},
          {"seed", scenario.simulation.seed},
          {"warmup_s", scenario.simulation.warmup_s},
          {"duration_s", scenario.simulation.duration_s}};
}

}  // namespace moesim
