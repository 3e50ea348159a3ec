// One body over both ways the runner turns a step into time, for every registered instance kind
// (ns-3's simulator test suite runs one body against every scheduler): the analytic estimate on
// an idle fabric (Instance::EstimateDecode) and the run on SimGrid's clock with collectives and
// transfers as SimGrid activities (engine/step_probe.h) agree on an isolated instance.
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "engine/instance.h"
#include "engine/step_probe.h"
#include "engine/subprocess.h"
#include "test_scenarios.h"

namespace moesim {
namespace {

// One scenario per kind, small enough to probe in a subprocess.
nlohmann::json ScenarioFor(const std::string& kind, const std::string& collectives) {
  nlohmann::json doc = testing::SmallScenarioJson(4, 16, "layer");
  if (kind == "ep_group") {
    doc["deployment"] = {
        {"attention", "data_parallel"}, {"tensor_parallel", 1}, {"expert_parallel", 8}};
  }
  if (kind == "afd") {
    doc["deployment"] = {{"attention", "data_parallel"},
                         {"attention_ffn", {{"attention_gpus", 4}, {"expert_gpus", 4}}}};
  }
  doc["simulation"]["collectives"] = collectives;
  return doc;
}

TEST_CASE("for every instance kind, Estimate and the SimGrid run agree on an isolated instance",
          "[runner][fidelity]") {
  for (const auto& [kind, entry] : InstanceRegistry::Builtin().kinds()) {
    for (const std::string collectives : {"ptask", "flows"}) {
      INFO("kind " << kind << ", collectives " << collectives);
      const Scenario s = testing::MustParse(ScenarioFor(kind, collectives));
      REQUIRE(InstanceKindFor(s.plan.pools[0].deployment) == kind);
      auto out =
          RunInSubprocesses({[&s]() -> absl::StatusOr<std::string> {
                              auto t = ProbeDecodeStep(s, 24, 700);
                              if (!t.ok()) return t.status();
                              char buf[64];
                              std::snprintf(buf, sizeof(buf), "%.17g", t->end_s - t->start_s);
                              return std::string(buf);
                            }},
                            1);
      REQUIRE(out[0].ok());
      const double simulated = std::stod(*out[0]);
      // The estimate, built the same way without SimGrid.
      auto setup = SetUpServePool(s);
      REQUIRE(setup.ok());
      const PoolContext& pool = *(*setup)->pool;
      auto graph = ClusterGraph::Build(s.cluster());
      REQUIRE(graph.ok());
      auto fabric = BuildInstanceFabric(pool, *graph, 0);
      REQUIRE(fabric.ok());
      InstanceContext context{pool, *fabric, pool.InstanceGpus(0)};
      context.new_resource = [] { return -1; };
      auto instance = entry.factory(context);
      REQUIRE(instance.ok());
      const StepTiming e = (*instance)->EstimateDecode(24, 700);
      CHECK(simulated > 0);
      CHECK(simulated == Approx(e.end_s - e.start_s).epsilon(1e-5));
    }
  }
}

}  // namespace
}  // namespace moesim
