// moesim-mpi-sweep: `moesim sweep` sharded over MPI ranks (Open MPI), for sweeps larger than one
// machine runs in time:
//
//   mpirun -np 16 --hostfile hosts moesim-mpi-sweep SWEEP.json --jobs 8 --csv plans.csv
//
// Every rank reads the sweep and screens every plan (deterministic, seconds); the plans selected
// for simulation are dealt round-robin over the ranks, each rank simulates its share in child
// processes (`--jobs` at a time, one SimGrid engine each), and rank 0 gathers the results in plan
// order and writes the same table, byte for byte, as `moesim sweep` on one machine. A plan whose
// simulation fails is reported failed; the sweep goes on. Exit codes as moesim's
// (tools/cli_support.h); every rank returns rank 0's.
#include <mpi.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "engine/subprocess.h"
#include "engine/sweep.h"
#include "models/preset_library.h"
#include "tools/cli_support.h"
#include "tools/sweep_command.h"

namespace {

using moesim::Fail;

// Gathers every rank's `local` (a JSON array of [plan position, encoded result]) on rank 0.
std::vector<std::string> GatherOnRoot(const std::string& local, int rank, int size) {
  int length = static_cast<int>(local.size());
  std::vector<int> lengths(size), offsets(size);
  MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  std::string all;
  if (rank == 0) {
    int total = 0;
    for (int r = 0; r < size; ++r) {
      offsets[r] = total;
      total += lengths[r];
    }
    all.resize(total);
  }
  MPI_Gatherv(local.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
              0, MPI_COMM_WORLD);
  std::vector<std::string> parts;
  if (rank == 0) {
    for (int r = 0; r < size; ++r) parts.push_back(all.substr(offsets[r], lengths[r]));
  }
  return parts;
}

int RunSweep(int argc, char** argv, int rank, int size) {
  CLI::App app{"moesim-mpi-sweep: a moesim sweep sharded over MPI ranks"};
  std::string preset_dir = moesim::PresetLibrary::DefaultDir(), path;
  moesim::SweepOutputs out;
  int jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  app.add_option("--presets", preset_dir, "directory of preset JSON files")
      ->check(CLI::ExistingDirectory);
  app.add_option("scenario", path, "scenario JSON file with a sweep section")->required();
  app.add_option("--jobs", jobs, "simulations each rank runs in parallel")
      ->check(CLI::Range(1, 256));
  app.add_option("--json", out.json, "write the table as JSON (rank 0; - : stdout)");
  app.add_option("--csv", out.csv, "write the table as CSV (rank 0; - : stdout)");
  app.add_flag("--quiet", out.quiet, "no text summary");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return rank == 0 ? (app.exit(e) == 0 ? moesim::kExitOk : moesim::kExitBadInput)
                     : moesim::kExitBadInput;
  }
  auto presets = moesim::PresetLibrary::Load(preset_dir);
  if (!presets.ok())
    return rank == 0 ? Fail(presets.status()) : moesim::ExitCodeFor(presets.status());
  // Every rank screens every plan: the same selection everywhere, no broadcast needed.
  auto sweep = moesim::LoadSweep(path, *presets);
  if (!sweep.ok()) return rank == 0 ? Fail(sweep.status()) : moesim::ExitCodeFor(sweep.status());
  if (rank == 0) {
    for (const std::string& f : {out.json, out.csv}) {
      if (absl::Status s = moesim::CheckWritable(f); !s.ok()) return Fail(s);
    }
  }
  const std::vector<size_t> selected = sweep->Selected();
  std::vector<size_t> mine;
  for (size_t k = rank; k < selected.size(); k += size) mine.push_back(k);
  std::vector<moesim::SubprocessJob> work;
  for (size_t k : mine) {
    const size_t plan = selected[k];
    work.push_back([&sweep, plan]() { return moesim::SimulatePlan(*sweep, plan); });
  }
  const auto results = moesim::RunInSubprocesses(work, jobs);
  nlohmann::json local = nlohmann::json::array();
  for (size_t i = 0; i < mine.size(); ++i)
    local.push_back({mine[i], moesim::EncodeJobResult(results[i])});
  const std::vector<std::string> parts = GatherOnRoot(local.dump(), rank, size);
  if (rank != 0) return moesim::kExitOk;
  std::vector<absl::StatusOr<std::string>> gathered(
      selected.size(), absl::InternalError("no rank returned this plan's result"));
  for (const std::string& part : parts) {
    for (const auto& entry : nlohmann::json::parse(part)) {
      gathered.at(entry[0].get<size_t>()) = moesim::DecodeJobResult(entry[1].get<std::string>());
    }
  }
  moesim::FinishSweep(*sweep, gathered);
  if (!out.quiet && out.json != "-" && out.csv != "-") {
    std::cout << "(" << size << " MPI ranks, " << jobs << " jobs each)\n";
  }
  return moesim::WriteSweepResults(*sweep, out);
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int code = moesim::kExitInternal;
  try {
    code = RunSweep(argc, argv, rank, size);
  } catch (const std::exception& e) {
    std::cerr << "moesim-mpi-sweep: internal error: " << e.what() << "\n";
  }
  // Every rank exits with rank 0's code.
  MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
  MPI_Finalize();
  return code;
}
