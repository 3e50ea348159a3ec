// DCGM-comparable counters (report "dcgm": fields 1002 sm_active, 1004 tensor_active,
// 1005 dram_active) and power against seed 000's eager columns
// (../shared/reference/seeds/000_*-excerpt.txt: Qwen3-30B-A3B fp8, vLLM --enforce-eager, H200).
//
// What matches: tensor_active (tensor-core FLOPs at the dense bf16 peak) within 30 % at
// C = 1024 and 4096 (seed 11.6 %, 17.0 %), SM activity and power at C = 1 (3.6 %, 135 W).
// What does not (reported, not hidden): at large C the seed's SMs are active 55-89 % of the
// time, the model's kernels only ~45-55 %: the modelled eager step is CPU-bound (launch gaps and
// host work) with kernels shorter than the real ones. The test pins the ordering there.
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"
#include "engine/scenario.h"

namespace moesim {
namespace {

std::vector<nlohmann::json> SeedRuns() {
  std::vector<nlohmann::json> docs;
  for (const char* c : {"0001", "0256", "1024", "4096"}) {
    std::ifstream in(std::string(MOESIM_SOURCE_DIR "/scenarios/reference/seed000_c") + c + ".json");
    docs.push_back(nlohmann::json::parse(in));
  }
  return testing::RunReports(docs);
}

TEST_CASE("DCGM counters and power against seed 000's eager columns", "[reference][dcgm]") {
  const std::vector<nlohmann::json> r = SeedRuns();
  for (const auto& j : r) {
    for (const char* f : {"sm_active", "tensor_active", "dram_active"}) {
      INFO(f);
      CHECK(j["dcgm"][f].get<double>() >= 0);
      CHECK(j["dcgm"][f].get<double>() <= 1);
    }
  }
  // C = 1: SM active 3.6 %, power 135 W.
  CHECK(r[0]["dcgm"]["sm_active"].get<double>() == Approx(0.036).margin(0.02));
  CHECK(r[0]["power"]["mean_w_per_gpu"].get<double>() == Approx(135).epsilon(0.15));
  // Tensor active at C = 1024 and 4096: 11.6 %, 17.0 %.
  CHECK(r[2]["dcgm"]["tensor_active"].get<double>() == Approx(0.116).epsilon(0.3));
  CHECK(r[3]["dcgm"]["tensor_active"].get<double>() == Approx(0.170).epsilon(0.3));
  // The seed's SM activity and power rise with concurrency; so do the model's.
  for (size_t i = 1; i < r.size(); ++i) {
    CHECK(r[i]["dcgm"]["sm_active"].get<double>() > r[i - 1]["dcgm"]["sm_active"].get<double>());
    CHECK(r[i]["power"]["mean_w_per_gpu"].get<double>() >
          r[i - 1]["power"]["mean_w_per_gpu"].get<double>());
  }
}

}  // namespace
}  // namespace moesim
