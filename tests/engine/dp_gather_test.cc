// The two forms of the DP-attention gather (RuntimeSpec::dp_gather, engine/ep_dispatch_plan.h):
// SGLang pads a decode step's all-gather to the largest rank's tokens and all-reduces the summed
// buffer when prompt tokens ride along; TensorRT-LLM all-gathers each rank's own tokens (as the
// expert kernel takes them, with their top-k ids and weights) and reduce-scatters bf16 back, in
// every step. Checked on the message each form hands to the group's patterns.
#include <vector>

#include <catch2/catch.hpp>

#include "engine/ep_dispatch_plan.h"
#include "engine/instance_fabric.h"
#include "models/moe_traffic.h"
#include "test_scenarios.h"
#include "topology/cluster_graph.h"

namespace moesim {
namespace {

// DeepSeek-R1 as an 8-rank DP-attention group on one 8xB200 server, experts tensor-sharded
// under the gather, on the given stack.
nlohmann::json GatherGroup(const std::string& stack, const std::string& experts) {
  nlohmann::json doc = testing::SmallScenarioJson(1, 64, "step");
  doc["model"] = {{"preset", "DeepSeek-R1"},
                  {"weight_dtype", "fp8"},
                  {"expert_weight_dtype", experts},
                  {"kv_dtype", "fp8"}};
  doc["hardware"] = {{"gpu", "B200"}, {"gpus_per_server", 8}};
  doc["runtime"] = {{"preset", stack}};
  doc["deployment"] = {{"attention", "data_parallel"},
                       {"expert_parallel", 8},
                       {"moe_dispatch", "gather"},
                       {"moe_sharding", "tensor"}};
  return doc;
}

struct Planned {
  CollectiveCost dispatch, combine;
  double dispatch_bytes = 0, combine_bytes = 0;  // wire bytes of one gather each way
  // Wire bytes of the group's ring all-gather for the messages the test expects.
  double expected_dispatch_bytes = 0, expected_combine_bytes = 0;
};

double WireBytes(const std::vector<Transfer>& wire) {
  double b = 0;
  for (const Transfer& w : wire) b += w.bytes;
  return b;
}

// Plans one dispatch and one combine of `tokens` per rank, and the ring all-gather's wire bytes
// for the messages (bytes) the test expects each way.
Planned PlanGather(const nlohmann::json& doc, const std::vector<double>& tokens, bool extend,
                   double dispatch_message = 0, double combine_message = 0) {
  const testing::TestPool t = testing::MustDeploy(doc);
  auto graph = ClusterGraph::Build(t.pool().cluster());
  REQUIRE(graph.ok());
  auto fabric = BuildInstanceFabric(t.pool(), *graph, 0);
  REQUIRE(fabric.ok());
  REQUIRE(fabric->dp_gather != nullptr);
  const EpDispatchPlanner planner(t.pool(), *fabric, {});
  const std::vector<MoeLayerLoad> loads(tokens.size(), MoeLayerLoad{1, 1});
  Planned p;
  std::vector<Transfer> wire;
  p.dispatch = planner.Plan(true, 0, tokens, loads, extend, &wire);
  p.dispatch_bytes = WireBytes(wire);
  p.combine = planner.Plan(false, 0, tokens, loads, extend, &wire);
  p.combine_bytes = WireBytes(wire);
  p.expected_dispatch_bytes = WireBytes(fabric->dp_gather->WireTransfers(dispatch_message));
  p.expected_combine_bytes = WireBytes(fabric->dp_gather->WireTransfers(combine_message));
  return p;
}

TEST_CASE("sized gather bytes per token follow the expert kernel's input", "[dp-gather]") {
  ModelSpec m;
  m.hidden = 7168;
  m.moe.top_k = 8;
  m.expert_weight_dtype = DType::kFp4;
  // nvfp4: 0.5 B per value and one e4m3 scale per 16, plus 8 x (int32 id + fp32 weight).
  CHECK(SizedGatherBytesPerToken(m) == Approx(3584 + 448 + 64));
  m.expert_weight_dtype = DType::kFp8;
  m.fp8_block_scaled = true;  // DeepGEMM / CUTLASS block scales: quantised after the gather
  CHECK(SizedGatherBytesPerToken(m) == Approx(14336 + 64));
  m.fp8_block_scaled = false;  // per-tensor fp8: quantised before it
  CHECK(SizedGatherBytesPerToken(m) == Approx(7168 + 64));
  m.expert_weight_dtype = DType::kBf16;
  CHECK(SizedGatherBytesPerToken(m) == Approx(14336 + 64));
}

// Ranks holding 1, 1, ..., 1 and 9 decode tokens: SGLang's buffer is 8 x 9 padded tokens of bf16,
// TRT-LLM's the 16 real ones as nvfp4 with scales and routing; both ride the group's ring.
TEST_CASE("TensorRT-LLM's gather carries each rank's own tokens, SGLang's pads to the largest",
          "[dp-gather]") {
  const std::vector<double> tokens = {1, 1, 1, 1, 1, 1, 1, 9};
  const double bf16 = 7168 * 2.0;
  const Planned sglang =
      PlanGather(GatherGroup("sglang", "fp4"), tokens, false, 8 * 9 * bf16, 8 * 9 * bf16);
  const Planned trt =
      PlanGather(GatherGroup("trtllm", "fp4"), tokens, false, 16 * (3584 + 448 + 64), 16 * bf16);
  REQUIRE(sglang.dispatch_bytes > 0);
  CHECK(sglang.dispatch_bytes == Approx(sglang.expected_dispatch_bytes));
  CHECK(sglang.combine_bytes == Approx(sglang.expected_combine_bytes));
  CHECK(trt.dispatch_bytes == Approx(trt.expected_dispatch_bytes));
  CHECK(trt.combine_bytes == Approx(trt.expected_combine_bytes));
  CHECK(trt.dispatch_bytes < sglang.dispatch_bytes);
  CHECK(trt.dispatch.seconds < sglang.dispatch.seconds);
  CHECK(trt.combine.seconds < sglang.combine.seconds);
}

// A step with prompt tokens: SGLang all-reduces the summed buffer (SUM_LEN), TRT-LLM gathers as
// in decode; with equal ranks and bf16 activations the all-gather moves about half an
// all-reduce's bytes.
TEST_CASE("with prompt tokens SGLang all-reduces the summed buffer, TensorRT-LLM still gathers",
          "[dp-gather]") {
  const std::vector<double> tokens(8, 256);
  const double bf16 = 7168 * 2.0;
  const Planned sglang = PlanGather(GatherGroup("sglang", "fp8"), tokens, true);
  const Planned trt =
      PlanGather(GatherGroup("trtllm", "fp8"), tokens, true, 8 * 256 * (bf16 + 64), 8 * 256 * bf16);
  const Planned trt_decode = PlanGather(GatherGroup("trtllm", "fp8"), tokens, false);
  CHECK(trt.dispatch_bytes == Approx(trt.expected_dispatch_bytes));
  CHECK(trt.combine_bytes == Approx(trt.expected_combine_bytes));
  CHECK(trt.dispatch_bytes == Approx(trt_decode.dispatch_bytes));
  // An all-reduce moves about twice an all-gather's bytes.
  CHECK(trt.combine_bytes < 0.75 * sglang.combine_bytes);
  CHECK(trt.combine_bytes > 0.4 * sglang.combine_bytes);
}

TEST_CASE("dp_gather is a runtime key with the stack's value and a refused bad value",
          "[dp-gather][bad-input]") {
  nlohmann::json doc = GatherGroup("trtllm", "fp8");
  CHECK(testing::MustParse(doc).runtime.dp_gather == DpGather::kSizes);
  doc["runtime"]["dp_gather"] = "max_len";
  CHECK(testing::MustParse(doc).runtime.dp_gather == DpGather::kMaxLen);
  doc["runtime"]["dp_gather"] = "padded";
  auto s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("bad.json: $.runtime.dp_gather: got \"padded\", expected one of"));
}

}  // namespace
}  // namespace moesim
