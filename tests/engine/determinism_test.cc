// The same scenario and seed give byte-identical reports; another seed gives another run.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/simulation.h"
#include "engine/subprocess.h"
#include "engine/trace_recorder.h"
#include "test_scenarios.h"

namespace moesim {
namespace {

std::vector<std::string> RunAll(const std::vector<Scenario>& scenarios) {
  std::vector<SubprocessJob> jobs;
  for (const Scenario& s : scenarios) {
    jobs.push_back([&s]() -> absl::StatusOr<std::string> {
      auto r = RunSimulation(s);
      if (!r.ok()) return r.status();
      return r->dump(2);
    });
  }
  std::vector<std::string> out;
  for (auto& r : RunInSubprocesses(jobs, 2)) {
    REQUIRE(r.ok());
    out.push_back(*r);
  }
  return out;
}

TEST_CASE("same scenario and seed give byte-identical reports", "[determinism]") {
  nlohmann::json doc = testing::SmallScenarioJson(2, 24, "layer");
  const Scenario s = testing::MustParse(doc);
  doc["simulation"]["seed"] = 8;
  const Scenario other_seed = testing::MustParse(doc);
  const auto out = RunAll({s, s, other_seed});
  CHECK(out[0] == out[1]);
  CHECK(out[0] != out[2]);
}

// A progress callback (the command line's progress line) and a trace watch the run without
// changing it.
TEST_CASE("a run watched by a progress callback and a trace gives the same report",
          "[determinism]") {
  const Scenario s = testing::MustParse(testing::SmallScenarioJson(2, 24, "layer"));
  std::vector<SubprocessJob> jobs;
  jobs.push_back([&s]() -> absl::StatusOr<std::string> {
    auto r = RunSimulation(s);
    if (!r.ok()) return r.status();
    return r->dump(2);
  });
  jobs.push_back([&s]() -> absl::StatusOr<std::string> {
    int calls = 0;
    double last = 0;
    RunOptions watch;
    watch.progress = [&](double simulated, double duration, int64_t finished) {
      ++calls;
      if (simulated < last || simulated > duration || finished < 0) calls = -1000000;
      last = simulated;
    };
    TraceRecorder trace(0, 1e9);
    watch.trace = &trace;
    auto r = RunSimulation(s, watch);
    if (!r.ok()) return r.status();
    if (calls < 100) return absl::InternalError("progress was called " + std::to_string(calls));
    return r->dump(2);
  });
  const auto out = RunInSubprocesses(jobs, 2);
  REQUIRE(out[0].ok());
  INFO(out[1].status().message());
  REQUIRE(out[1].ok());
  CHECK(*out[0] == *out[1]);
}

// The DP-attention path with every source of randomness and concurrency: sampled Zipf routing,
// DeepEP normal kernels (Monte-Carlo hit rates), two-batch overlap with SimGrid parallel tasks in
// helper actors, a group over two servers.
TEST_CASE("a DP-attention EP group gives byte-identical reports", "[determinism][dp-attention]") {
  nlohmann::json doc = {
      {"name", "det-ep16"},
      {"hardware", {{"gpu", "H200"}, {"gpus_per_server", 8}, {"servers_per_rack", 2}}},
      {"model", {{"preset", "Qwen3-30B-A3B"}, {"weight_dtype", "fp8"}}},
      {"runtime", {{"preset", "vllm"}, {"execution_mode", "eager"}}},
      {"deployment",
       {{"attention", "data_parallel"},
        {"expert_parallel", 16},
        {"moe_dispatch", "normal"},
        {"two_batch_overlap", true}}},
      {"routing", {{"kind", "zipf"}, {"exponent", 1.0}}},
      {"workload",
       {{"arrival", "closed_loop"},
        {"concurrency", 512},
        {"input_tokens", {{"kind", "uniform"}, {"min_tokens", 10}, {"max_tokens", 300}}},
        {"output_tokens", {{"kind", "uniform"}, {"min_tokens", 10}, {"max_tokens", 200}}}}},
      {"simulation",
       {{"duration_s", 2}, {"warmup_s", 0.5}, {"seed", 3}, {"collectives", "ptask"}}}};
  const Scenario s = testing::MustParse(doc);
  doc["simulation"]["seed"] = 4;
  const Scenario other_seed = testing::MustParse(doc);
  const auto out = RunAll({s, s, other_seed});
  CHECK(out[0] == out[1]);
  CHECK(out[0] != out[2]);
}

}  // namespace
}  // namespace moesim
