// moesim_mutation_run: a bounded whole-program mutation run (issue 17, "prove it continuously").
//
// Takes the shipped scenarios as seeds, mutates each copy structurally (a number set to 0, -1, a
// fraction or a huge value; a value of another JSON type; a key deleted or unknown; an array
// emptied or doubled; a string swapped for another string of the same file), caps the simulated
// time so that each run stays short, and runs the real `moesim run` binary on it in a child
// process with a wall-clock timeout. The CLI's contract says what may happen:
//   exit 0 (simulated) or exit 2 (bad input, a message naming the file, path and value)
// anything else is a finding: exit 1 (internal error), a signal (a crash, a sanitizer report, a
// broken MOESIM_CHECK) or the timeout (a hang). Each finding's scenario and stderr are kept in
// the output folder; the exit status is 1 when there is any.
//
// Deterministic: the mutations of run i come from --seed and i alone (std::mt19937_64), so a
// finding is reproduced by its kept file, and the same flags mutate the same files.
//
//   moesim_mutation_run --moesim build/moesim --scenarios scenarios --out /tmp/mut --runs 200
//       [--seconds 180] [--timeout 60] [--seed 1]
#include <fcntl.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Simulated time each mutated run may cover, and the RLVR steps it may take: enough for a step
// or two of every shipped plan, small enough that a run takes seconds.
constexpr double kMaxDurationS = 2.0;
constexpr double kMaxWarmupS = 0.5;
constexpr int kMaxRlvrSteps = 1;

struct Node {
  json::json_pointer where;
  json::value_t type;
};

void Collect(const json& j, const json::json_pointer& at, std::vector<Node>* out) {
  out->push_back({at, j.type()});
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) Collect(*it, at / it.key(), out);
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) Collect(j[i], at / i, out);
  }
}

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  size_t Pick(size_t n) { return n == 0 ? 0 : static_cast<size_t>(rng_() % n); }

  // One structural mutation somewhere in `doc`; returns what it did.
  std::string MutateOnce(json& doc) {
    std::vector<Node> nodes;
    Collect(doc, json::json_pointer(), &nodes);
    const Node& n = nodes[Pick(nodes.size())];
    json& v = doc[n.where];
    const std::string at = n.where.to_string().empty() ? "/" : n.where.to_string();
    switch (Pick(6)) {
      case 0: {  // a number at an edge
        static const double kNumbers[] = {0, -1, 0.5, 1e-9, 3.7, 1e9, 2147483648.0, 1e300};
        const double x = kNumbers[Pick(std::size(kNumbers))];
        if (v.is_number_integer() && std::fabs(x) < 9e18 && x == std::floor(x)) {
          v = static_cast<int64_t>(x);
        } else {
          v = x;
        }
        return "number " + at + " = " + v.dump();
      }
      case 1: {  // a value of another type
        const json kOthers[] = {json(nullptr), json(true),     json("x"),
                                json::array(), json::object(), json(1)};
        v = kOthers[Pick(std::size(kOthers))];
        return "type " + at + " = " + v.dump();
      }
      case 2: {  // a key deleted
        if (v.is_object() && !v.empty()) {
          auto it = v.begin();
          std::advance(it, Pick(v.size()));
          const std::string key = it.key();
          v.erase(key);
          return "delete " + at + "/" + key;
        }
        return MutateOnce(doc);
      }
      case 3: {  // an unknown key (must be refused, never ignored)
        if (v.is_object()) {
          v["zz_unknown_key"] = 1;
          return "unknown key in " + at;
        }
        return MutateOnce(doc);
      }
      case 4: {  // an array emptied or doubled
        if (v.is_array()) {
          if (Pick(2) == 0 || v.empty()) {
            v = json::array();
            return "empty " + at;
          }
          json twice = v;
          for (const json& e : v) twice.push_back(e);
          v = twice;
          return "double " + at;
        }
        return MutateOnce(doc);
      }
      default: {  // a string swapped for another string of the file
        std::vector<std::string> strings;
        for (const Node& m : nodes) {
          if (m.type == json::value_t::string) strings.push_back(doc[m.where].get<std::string>());
        }
        if (v.is_string() && !strings.empty()) {
          v = strings[Pick(strings.size())];
          return "string " + at + " = " + v.dump();
        }
        return MutateOnce(doc);
      }
    }
  }

 private:
  std::mt19937_64 rng_;
};

// Keeps a mutated scenario's run short: caps the simulated window and the RLVR steps, where
// they are numbers (a mutation that broke them is the validator's to refuse).
void CapRun(json& doc) {
  if (!doc.is_object()) return;
  auto cap = [](json& parent, const char* key, double max) {
    if (parent.is_object() && parent.contains(key) && parent[key].is_number() &&
        parent[key].get<double>() > max) {
      parent[key] = max;
    }
  };
  if (doc.contains("simulation")) {
    cap(doc["simulation"], "duration_s", kMaxDurationS);
    cap(doc["simulation"], "warmup_s", kMaxWarmupS);
  }
  if (doc.contains("rlvr")) cap(doc["rlvr"], "steps", kMaxRlvrSteps);
}

struct Outcome {
  int exit_code = -1;  // when exited
  int signal = 0;      // when killed by a signal
  bool timed_out = false;
};

Outcome RunChild(const std::string& binary, const std::string& scenario, const std::string& err,
                 double timeout_s) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int null = open("/dev/null", O_WRONLY);
    if (fd >= 0) dup2(fd, 2);
    if (null >= 0) dup2(null, 1);
    execl(binary.c_str(), binary.c_str(), "run", scenario.c_str(), "--quiet", "--json", "/dev/null",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  Outcome o;
  if (pid < 0) return o;
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (waited > timeout_s) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      o.timed_out = true;
      return o;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) o.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) o.signal = WTERMSIG(status);
  return o;
}

std::vector<fs::path> Seeds(const fs::path& dir) {
  std::vector<fs::path> seeds;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    const std::string rel = fs::relative(e.path(), dir).string();
    // Sweeps are plan searches over child processes, not runs (tests/engine/sweep_test.cc).
    if (rel.rfind("sweeps/", 0) == 0) continue;
    seeds.push_back(e.path());
  }
  std::sort(seeds.begin(), seeds.end());
  return seeds;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("moesim_mutation_run: mutated shipped scenarios through `moesim run`");
  std::string binary, scenarios, out;
  int runs = 100, first = 0;
  double seconds = 0, timeout_s = 60;
  uint64_t seed = 1;
  app.add_option("--moesim", binary, "the moesim binary")->required();
  app.add_option("--scenarios", scenarios, "the folder of seed scenarios")->required();
  app.add_option("--out", out, "folder for the findings (created)")->required();
  app.add_option("--runs", runs, "mutated runs at most");
  app.add_option("--first", first,
                 "index of the first run (to replay a finding: --first N --runs 1)");
  app.add_option("--seconds", seconds, "stop starting runs after this wall time (0: no limit)");
  app.add_option("--timeout", timeout_s, "wall seconds a run may take before it counts as a hang");
  app.add_option("--seed", seed, "seed of the mutations");
  CLI11_PARSE(app, argc, argv);

  const std::vector<fs::path> seeds = Seeds(scenarios);
  if (seeds.empty()) {
    std::cerr << "moesim_mutation_run: no .json scenarios under " << scenarios << "\n";
    return 2;
  }
  fs::create_directories(out);
  const auto start = std::chrono::steady_clock::now();
  int done = 0, simulated = 0, refused = 0, findings = 0;
  for (int i = first; i < first + runs; ++i) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds > 0 && elapsed > seconds) break;
    Mutator m(seed * 1000003ULL + static_cast<uint64_t>(i));
    const fs::path& from = seeds[m.Pick(seeds.size())];
    std::ifstream in(from);
    json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      std::cerr << "moesim_mutation_run: seed " << from << " is not JSON\n";
      return 2;
    }
    std::string what;
    const size_t mutations = 1 + m.Pick(3);
    for (size_t k = 0; k < mutations; ++k) what += (k ? "; " : "") + m.MutateOnce(doc);
    CapRun(doc);
    const std::string file = (fs::path(out) / "current.json").string();
    const std::string err = (fs::path(out) / "current.stderr").string();
    std::ofstream(file) << doc.dump(2) << "\n";
    const Outcome o = RunChild(binary, file, err, timeout_s);
    ++done;
    if (o.exit_code == 0) {
      ++simulated;
      continue;
    }
    if (o.exit_code == 2) {
      ++refused;
      continue;
    }
    ++findings;
    const std::string kind = o.timed_out     ? "hang"
                             : o.signal != 0 ? "signal " + std::to_string(o.signal)
                                             : "exit " + std::to_string(o.exit_code);
    const fs::path kept = fs::path(out) / ("finding-" + std::to_string(i) + ".json");
    fs::copy_file(file, kept, fs::copy_options::overwrite_existing);
    fs::copy_file(err, kept.string() + ".stderr", fs::copy_options::overwrite_existing);
    std::cout << "FINDING run " << i << " (" << kind << ") from " << from.string() << ": " << what
              << "\n  kept as " << kept.string() << "\n";
  }
  std::cout << "moesim_mutation_run: " << done << " mutated runs: " << simulated << " simulated, "
            << refused << " refused as bad input, " << findings << " findings\n";
  return findings > 0 ? 1 : 0;
}
