// The same scenario and seed give byte-identical reports; another seed gives another run.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/simulation.h"
#include "engine/subprocess.h"
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

}  // namespace
}  // namespace moesim
