// `moesim sweep` and `moesim compare` (tools/moesim_main.cc parses their flags; the MPI front
// end, tools/moesim_mpi_sweep.cc, shares the loading and writing of a sweep).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/sweep.h"
#include "models/preset_library.h"

namespace moesim {

struct SweepOutputs {
  std::string json;  // "" none, "-" standard output
  std::string csv;
  bool quiet = false;  // no text summary, no progress bar
  std::string html;    // "" none: the Pareto chart and the best plans (tools/html_report.h)
};

// Phase 2 of a sweep (engine/sweep.h): `screen_only` simulates nothing (every selected plan is
// reported as screened, unsimulated).

// Reads `path` and runs phase 1 of the sweep (engine/sweep.h PrepareSweep).
absl::StatusOr<Sweep> LoadSweep(const std::string& path, const PresetLibrary& presets);
// Prints the text summary (unless quiet or a table goes to standard output) and writes the
// JSON and CSV tables. Returns the exit code.
int WriteSweepResults(const Sweep& sweep, const SweepOutputs& out);

// The whole sweep on this machine: `jobs` simulations at a time, one process each.
int CmdSweep(const PresetLibrary& presets, const std::string& path, int jobs, bool screen_only,
             const SweepOutputs& out);

// Runs every scenario (and, with `without_speculation`, the first one again with its
// "speculative" section removed) and prints their reports side by side.
int CmdCompare(const PresetLibrary& presets, const std::vector<std::string>& paths,
               bool without_speculation, int jobs, double notable, const std::string& json_out,
               const std::string& html_out, bool quiet);

}  // namespace moesim
