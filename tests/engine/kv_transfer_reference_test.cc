// Reference: KV transfer prefill -> decode with the Mooncake connector (vLLM v1, 1P1D).
// Source: kvcache-ai/Mooncake docs/source/performance/vllm/vllm-v1-pd-performance.md, as quoted
// in ../shared/reference/measurements/README.md §3. Two nodes of 8xH800 with 8 CX7 RoCE NICs of
// 200 Gb/s each (25 GB/s per direction), Qwen3-8B (36 layers, 8 KV heads of 128 dims, bf16:
// 147,456 B per token), prefill TP8 -> decode TP8. Tolerance 15 % (issue 11).
//
// Honest scope: the connector preset's two constants (setup_us, link_efficiency) were fitted by
// tools/calibrate/fit_kv_transfer.py on the 128-, 4096- and 32768-token rows; the 1024-, 8192-
// and 16384-token rows are held out. The simulated path adds the platform's route latency and
// runs SimGrid flows on the routed NICs, so this checks the engine, not only the formula.
#include <catch2/catch.hpp>

#include "../support/cluster_fixtures.h"
#include "engine/kv_transfer.h"
#include "engine/kv_transfer_plan.h"
#include "engine/subprocess.h"
#include "models/kv_connector.h"
#include "models/preset_library.h"
#include "test_scenarios.h"

namespace moesim {
namespace {

TEST_CASE("Mooncake vLLM PD table: KV transfer times within 15 %",
          "[kv-transfer][reference][calibration]") {
  const PresetLibrary& lib = testing::Presets();
  auto connector = ParseKvConnectorSpec(*lib.Find(PresetKind::kKvConnector, "mooncake"),
                                        {"kv_connectors.json", "$.mooncake"}, "mooncake");
  REQUIRE(connector.ok());
  ClusterSpec cluster = testing::IdealCluster(8, 2, 1);
  cluster.scaleout = testing::IdealFabric("cx7-200g", 25, 1.0);
  ModelSpec qwen3_8b;
  qwen3_8b.layers = 36;
  qwen3_8b.attention.kind = AttentionKind::kGqa;
  qwen3_8b.attention.kv_heads = 8;
  const double bytes_per_token = 36 * 8 * 128 * 2 * 2;
  std::vector<int> prefill(8), decode(8);
  for (int i = 0; i < 8; ++i) {
    prefill[i] = i;
    decode[i] = 8 + i;
  }
  const int64_t tokens[] = {128, 1024, 4096, 8192, 16384, 32768};
  const double measured_ms[] = {0.54, 1.50, 4.75, 8.84, 16.43, 31.65};
  std::vector<std::vector<Transfer>> sets;
  for (int64_t t : tokens) {
    sets.push_back(KvTransferPairs(TensorParallelKvShards(qwen3_8b, prefill, 8, 1),
                                   TensorParallelKvShards(qwen3_8b, decode, 8, 1),
                                   double(t) * bytes_per_token));
  }
  for (bool analytic : {false, true}) {
    auto out = RunInSubprocesses({[&]() -> absl::StatusOr<std::string> {
                                   auto s = ProbeKvTransfers(cluster, *connector, sets, analytic);
                                   if (!s.ok()) return s.status();
                                   std::string text;
                                   for (double x : *s) text += std::to_string(x) + " ";
                                   return text;
                                 }},
                                 1);
    REQUIRE(out[0].ok());
    std::istringstream in(*out[0]);
    for (int i = 0; i < 6; ++i) {
      double seconds = 0;
      in >> seconds;
      INFO((analytic ? "analytic" : "flows")
           << ": " << tokens[i] << " tokens: simulated " << seconds * 1e3 << " ms, measured "
           << measured_ms[i] << " ms");
      CHECK(seconds * 1e3 == Approx(measured_ms[i]).epsilon(0.15));
    }
  }
}

}  // namespace
}  // namespace moesim
