// Unit tests of the report's attention_ffn section (engine/afd_report.h) on hand-made totals:
// bytes per hop, step and token; the hidden hop share; each side's shares; the limiting side.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "afd_test_support.h"
#include "engine/afd_report.h"

namespace moesim {
namespace {

// 10 steps of 100 ms, 2,000 tokens, 58 MoE layers x 3 micro-batches of hops each way per step.
InstanceTotals Totals(double expert_hbm_s, double combine_s) {
  InstanceTotals t;
  t.steps = 10;
  t.step_time_s = 1.0;
  t.tokens = 2000;
  AfdStepStats& a = t.afd;
  a.hops = 10 * 2 * 58 * 3;
  a.dispatch_bytes = 10 * 58 * 3 * 1e6;
  a.combine_bytes = 2 * a.dispatch_bytes;
  a.dispatch_s = combine_s / 2;
  a.combine_s = combine_s;
  a.attention.compute_s = 0.1;
  a.attention.memory_s = 0.3;
  a.attention.comm_s = 0.5;  // waiting for the combines
  a.experts.compute_s = 0.1;
  a.experts.memory_s = expert_hbm_s;
  return t;
}

TEST_CASE("afd report: bytes, hidden share, side shares and the limiting side", "[afd]") {
  const testing::TestPool t = testing::MustDeploy(testing::AfdDoc(16, 8));
  const nlohmann::json a = AfdSection(t.pool(), Totals(0.6, 0.4));
  CHECK(a["attention_gpus"] == 16);
  CHECK(a["expert_gpus"] == 8);
  CHECK(a["hops_per_step"].get<double>() == Approx(2 * 58 * 3));
  CHECK(a["bytes_per_hop"]["dispatch"].get<double>() == Approx(1e6));
  CHECK(a["bytes_per_hop"]["combine"].get<double>() == Approx(2e6));
  CHECK(a["bytes_per_step"]["dispatch"].get<double>() == Approx(58 * 3 * 1e6));
  CHECK(a["bytes_per_token"]["combine"].get<double>() == Approx(2 * 58 * 3 * 1e7 / 2000));
  CHECK(a["mean_step_ms"].get<double>() == Approx(100));
  // Hops 0.6 s in series over the run, the attention side waited 0.5 s: at least 1/6 hidden.
  CHECK(a["hop_ms_per_step_in_series"].get<double>() == Approx(60));
  CHECK(a["hop_share_hidden_at_least"].get<double>() == Approx(1.0 / 6));
  CHECK(a["attention_wait_share"].get<double>() == Approx(0.5));
  CHECK(a["attention_side"]["utilisation"].get<double>() == Approx(0.4));
  CHECK(a["attention_side"]["idle"].get<double>() == Approx(0.1));
  CHECK(a["expert_side"]["hbm"].get<double>() == Approx(0.6));
  // The expert side is busiest (70 ms of HBM and compute per step against 40 ms of combines).
  CHECK(a["limit"]["side"] == "expert_hbm");
  // Combines longer than either side's work: the fabric limits.
  CHECK(AfdSection(t.pool(), Totals(0.2, 0.9))["limit"]["side"] == "fabric");
  // Little expert or fabric time: the attention side's HBM.
  CHECK(AfdSection(t.pool(), Totals(0.05, 0.1))["limit"]["side"] == "attention_hbm");
}

}  // namespace
}  // namespace moesim
