// moesim-mpi-sweep under `mpirun -np 2` on this machine: the table gathered on rank 0 is the
// same bytes as `moesim sweep` writes locally, and an invalid sweep exits with moesim's code on
// every rank. (Built only where Open MPI is installed; tools/setup.sh installs it.)
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>

namespace {

int Run(const std::string& cmd, std::string* output) {
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output->append(buf, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Open MPI refuses root unless told; CI runs as root. --oversubscribe: 2 ranks on any machine.
const std::string kMpirun =
    std::string("OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 ") + MOESIM_MPIRUN +
    " -np 2 --oversubscribe " + MOESIM_MPI_SWEEP_BINARY;
const std::string kSweep = MOESIM_SOURCE_DIR "/scenarios/sweeps/deepseek-v3-h200-small.json";

TEST_CASE("an MPI sweep on 2 ranks writes the local sweep's table byte for byte", "[mpi]") {
  std::string out;
  const std::string mpi_csv = "/tmp/moesim-mpi-test.csv", local_csv = "/tmp/moesim-local-test.csv";
  const std::string mpi_json = "/tmp/moesim-mpi-test.json",
                    local_json = "/tmp/moesim-local-test.json";
  REQUIRE(Run(kMpirun + " " + kSweep + " --jobs 1 --csv " + mpi_csv + " --json " + mpi_json,
              &out) == 0);
  INFO(out);
  CHECK(out.find("2 MPI ranks") != std::string::npos);
  REQUIRE(Run(std::string(MOESIM_BINARY) + " sweep " + kSweep + " --quiet --csv " + local_csv +
                  " --json " + local_json,
              &out) == 0);
  const std::string csv = ReadFile(mpi_csv);
  CHECK(csv.find("simulated") != std::string::npos);
  CHECK(csv == ReadFile(local_csv));
  CHECK(ReadFile(mpi_json) == ReadFile(local_json));
}

TEST_CASE("an invalid MPI sweep fails on every rank with moesim's exit code", "[mpi]") {
  std::string out;
  const int code = Run(kMpirun + " " + MOESIM_SOURCE_DIR "/scenarios/default.json", &out);
  INFO(out);
  CHECK(code == 2);
  CHECK(out.find("needs a \"sweep\" section") != std::string::npos);
}

}  // namespace
