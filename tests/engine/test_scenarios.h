// Small scenarios for engine tests, built from JSON text so they go through the real parser.
#pragma once

#include <fstream>

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/scenario.h"
#include "engine/simulation.h"
#include "engine/subprocess.h"
#include "models/preset_library.h"

namespace moesim::testing {

inline const PresetLibrary& Presets() {
  static const PresetLibrary* lib = [] {
    auto l = PresetLibrary::Load(MOESIM_SOURCE_DIR "/models/presets");
    REQUIRE(l.ok());
    return new PresetLibrary(std::move(*l));
  }();
  return *lib;
}

// Qwen3-30B-A3B on H200 with the given TP (= EP) in one server, closed loop.
inline nlohmann::json SmallScenarioJson(int tp, int concurrency, const std::string& fidelity) {
  nlohmann::json doc = nlohmann::json::parse(R"({
    "name": "engine-test",
    "hardware": {"gpu": "H200", "gpus_per_server": 8},
    "model": {"preset": "Qwen3-30B-A3B", "weight_dtype": "fp8"},
    "runtime": {"preset": "vllm", "execution_mode": "cuda_graph"},
    "workload": {"arrival": "closed_loop", "concurrency": 16,
                 "input_tokens": {"kind": "uniform", "min_tokens": 50, "max_tokens": 400},
                 "output_tokens": {"kind": "uniform", "min_tokens": 20, "max_tokens": 200}},
    "simulation": {"duration_s": 6, "warmup_s": 1, "seed": 7}
  })");
  doc["deployment"] = {{"tensor_parallel", tp}, {"expert_parallel", tp}};
  doc["simulation"]["fidelity"] = fidelity;
  doc["workload"]["concurrency"] = concurrency;
  return doc;
}

Scenario MustParse(const nlohmann::json& doc);

// Simulates one parsed scenario in a child process; its report, or the run's error.
inline absl::StatusOr<nlohmann::json> SimulateInChild(const Scenario& s) {
  const auto r = RunInSubprocesses({[&s]() -> absl::StatusOr<std::string> {
                                     auto report = RunSimulation(s);
                                     if (!report.ok()) return report.status();
                                     return report->dump();
                                   }},
                                   1);
  if (!r[0].ok()) return r[0].status();
  return nlohmann::json::parse(*r[0]);
}

// Simulates each scenario document in its own process (SimGrid: one engine per process), two at
// a time; returns the reports in order.
inline std::vector<nlohmann::json> RunReports(const std::vector<nlohmann::json>& docs) {
  std::vector<Scenario> scenarios;
  for (const auto& d : docs) scenarios.push_back(MustParse(d));
  std::vector<SubprocessJob> jobs;
  for (const Scenario& s : scenarios) {
    jobs.push_back([&s]() -> absl::StatusOr<std::string> {
      auto r = RunSimulation(s);
      if (!r.ok()) return r.status();
      return r->dump();
    });
  }
  std::vector<nlohmann::json> out;
  for (auto& r : RunInSubprocesses(jobs, 2)) {
    REQUIRE(r.ok());
    out.push_back(nlohmann::json::parse(*r));
  }
  return out;
}

// A shipped scenario file, scenarios/<folder>/<name>.json, as JSON.
inline nlohmann::json ShippedScenario(const std::string& folder, const std::string& name) {
  std::ifstream in(std::string(MOESIM_SOURCE_DIR) + "/scenarios/" + folder + "/" + name + ".json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

inline Scenario MustParse(const nlohmann::json& doc) {
  auto s = ParseScenario(doc, "test.json", Presets());
  INFO((s.ok() ? std::string("ok") : std::string(s.status().message())));
  REQUIRE(s.ok());
  return *s;
}

// A parsed scenario and its serve pool as deployed, for components that take a pool; both live
// behind pointers (the pool's context refers into them).
struct TestPool {
  std::unique_ptr<Scenario> scenario;
  std::unique_ptr<ServeSetup> setup;
  const PoolContext& pool() const { return *setup->pool; }
};

inline TestPool MustDeploy(const nlohmann::json& doc) {
  TestPool t;
  t.scenario = std::make_unique<Scenario>(MustParse(doc));
  auto setup = SetUpServePool(*t.scenario);
  INFO((setup.ok() ? std::string("ok") : std::string(setup.status().message())));
  REQUIRE(setup.ok());
  t.setup = std::move(*setup);
  return t;
}

}  // namespace moesim::testing
