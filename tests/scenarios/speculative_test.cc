// Speculative decoding with MTP drafts (issue 13), on the shipped scenarios of
// scenarios/speculative/ and on TensorRT-LLM's published MTP sweep. Every run also checks token
// conservation (tokens sampled by the instances = tokens the requests hold; no request past its
// output length: engine/simulation.cc CheckConservation).
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

#include "../engine/test_scenarios.h"
#include "engine/simulation.h"

namespace moesim {
namespace {

using Catch::Matchers::Contains;

nlohmann::json Shipped(const std::string& name) {
  std::ifstream in(std::string(MOESIM_SOURCE_DIR) + "/scenarios/speculative/" + name + ".json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

// Why `d` does not parse or deploy (it must not).
std::string RefusalOf(const nlohmann::json& d) {
  auto s = ParseScenario(d, "spec.json", testing::Presets());
  if (s.ok()) {
    auto dep = DeployScenario(*s);
    REQUIRE_FALSE(dep.ok());
    return std::string(dep.status().message());
  }
  return std::string(s.status().message());
}

double PerUser(const nlohmann::json& r) {
  return r["throughput"]["per_user_output_tok_per_s"].get<double>();
}
double PerGpu(const nlohmann::json& r) {
  return r["throughput"]["output_tok_per_s_per_gpu"].get<double>();
}

// DeepSeek-V3 tech report §5.4.3 (calibration.md §5): 85-90 % second-token acceptance gives
// about 1.8x tokens/s. Tolerance 15 %.
TEST_CASE("speculative: DeepSeek-V3 MTP at 87 % acceptance speeds a lone user ~1.8x",
          "[speculative][reference]") {
  const auto r = testing::RunReports(
      {Shipped("deepseek-v3-h200-tp8-c1-mtp0"), Shipped("deepseek-v3-h200-tp8-c1-mtp1")});
  const double speedup = PerUser(r[1]) / PerUser(r[0]);
  INFO("speedup " << speedup);
  CHECK(speedup == Approx(1.8).epsilon(0.15));
  const nlohmann::json& sp = r[1]["speculative"];
  // Measured acceptance within sampling error of the configured 1.87 (thousands of draws).
  CHECK(sp["measured_acceptance_length"].get<double>() == Approx(1.87).margin(0.03));
  CHECK(sp["draft_time_share"].get<double>() > 0);
  CHECK(sp["draft_time_share"].get<double>() < 0.2);
  CHECK(sp["rejected_position_share"].get<double>() == Approx(1 - 1.87 / 2).margin(0.02));
  CHECK_FALSE(r[0].contains("speculative"));
}

TEST_CASE("speculative: pays at small batch, stops paying as the batch grows", "[speculative]") {
  const auto r = testing::RunReports(
      {Shipped("deepseek-v3-h200-tp8-c1-mtp0"), Shipped("deepseek-v3-h200-tp8-c1-mtp4"),
       Shipped("deepseek-v3-h200-tp8-c256-mtp0"), Shipped("deepseek-v3-h200-tp8-c256-mtp1"),
       Shipped("deepseek-v3-h200-tp8-c256-mtp4")});
  const double small = PerGpu(r[1]) / PerGpu(r[0]);
  const double large = PerGpu(r[4]) / PerGpu(r[2]);
  INFO("gain with 4 drafts: batch 1 " << small << ", batch 256 " << large);
  CHECK(small > 1.8);
  CHECK(large < 0.75 * small);
  // At 256 sequences more drafts no longer add throughput: each verifies 5 positions.
  CHECK(PerGpu(r[4]) < 1.02 * PerGpu(r[3]));
}

// The draft network also runs over every prompt token (SGLang's draft extend after a prefill,
// TensorRT-LLM's MTP context phase): it fills the draft's KV for the prompt and drafts the first
// tokens. For DeepSeek-V3's one MTP layer against 61 target layers that is ~1/61 more prefill
// work (plus the layer's share of the LM head), so a prefill-bound run's TTFT grows by about
// 1.6 %: between 0.5 % and 5 %, and never 0 (before, the prompt pass was not costed). Checked on
// a TP instance and on a DP-attention EP group.
TEST_CASE("speculative: the draft network's pass over the prompt is costed", "[speculative]") {
  for (const char* name : {"deepseek-v3-h200-tp8-c1-mtp1", "deepseek-v3-h200-dpa-ep8-c32-mtp2"}) {
    nlohmann::json with = Shipped(name);
    with["workload"]["input_tokens"] = {{"kind", "fixed"}, {"tokens", 8000}};
    with["workload"]["output_tokens"] = {{"kind", "fixed"}, {"tokens", 2}};
    with["workload"]["concurrency"] = 1;
    nlohmann::json without = with;
    without.erase("speculative");
    const auto r = testing::RunReports({with, without});
    const double ttft = r[0]["latency_s"]["ttft"]["p50"].get<double>();
    const double ttft_without = r[1]["latency_s"]["ttft"]["p50"].get<double>();
    INFO(name << ": TTFT " << ttft << " s with MTP, " << ttft_without << " s without");
    CHECK(ttft > 1.005 * ttft_without);
    CHECK(ttft < 1.05 * ttft_without);
  }
}

TEST_CASE("speculative: the same scenario and seed give byte-identical reports",
          "[speculative][determinism]") {
  const nlohmann::json doc = Shipped("deepseek-v3-h200-tp8-c32-mtp2");
  const auto r = testing::RunReports({doc, doc});
  CHECK(r[0].dump() == r[1].dump());
}

// Total tok/s counts input and output tokens as serving benchmarks do (InferenceX, vLLM's
// total_token_throughput), not the draft positions a verification step also processes: with
// 1,000-token prompts and outputs it is twice the output rate, with or without speculation,
// though a verifying step processes k + 1 = 3 positions per sequence.
TEST_CASE("speculative: total tok/s is input plus output tokens, not verified positions",
          "[speculative]") {
  const nlohmann::json with = Shipped("deepseek-v3-h200-tp8-c32-mtp2");
  nlohmann::json without = with;
  without.erase("speculative");
  const auto r = testing::RunReports({with, without});
  for (const nlohmann::json& report : r) {
    const nlohmann::json& t = report["throughput"];
    const double out = t["output_tok_per_s"].get<double>();
    const double in = t["input_tok_per_s"].get<double>();
    CHECK(t["total_tok_per_s"].get<double>() == Approx(in + out));
    // Within the window's edges (prompts prefilled in it against outputs sampled in it, a
    // request's 1,000 prompt tokens at once): counting the verified positions instead would
    // put the speculative run near 2.4x.
    CHECK(t["total_tok_per_s"].get<double>() == Approx(2 * out).epsilon(0.1));
  }
  CHECK(r[0]["throughput"]["output_tok_per_s"].get<double>() >
        r[1]["throughput"]["output_tok_per_s"].get<double>());
}

TEST_CASE("speculative: MTP layers take memory", "[speculative]") {
  nlohmann::json doc = Shipped("deepseek-v3-h200-tp8-c32-mtp2");
  const Scenario with = testing::MustParse(doc);
  nlohmann::json plain = doc;
  plain.erase("speculative");
  const Scenario without = testing::MustParse(plain);
  auto a = DeployScenario(with);
  auto b = DeployScenario(without);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  // One more MoE layer of weights and of KV per token on every GPU.
  CHECK(a->pools[0].memory.weight_bytes > b->pools[0].memory.weight_bytes);
  CHECK(a->pools[0].memory.kv_capacity_tokens < b->pools[0].memory.kv_capacity_tokens);
}

TEST_CASE(
    "speculative: MTP on a DP-attention EP group verifies k + 1 positions per rank and "
    "drafts with the group's all-to-alls",
    "[speculative]") {
  const nlohmann::json with = Shipped("deepseek-v3-h200-dpa-ep8-c32-mtp2");
  nlohmann::json without = with;
  without.erase("speculative");
  const auto r = testing::RunReports({with, without, with});
  const nlohmann::json& sp = r[0]["speculative"];
  // Acceptance sampled per sequence on every rank: 1 + 0.87 + 0.87 x 0.7 = 2.479 expected.
  CHECK(sp["measured_acceptance_length"].get<double>() == Approx(2.479).epsilon(0.03));
  CHECK(sp["draft_time_share"].get<double>() > 0.01);
  CHECK(sp["draft_time_share"].get<double>() < 0.2);
  // At 4 sequences per rank the step is memory- and latency-bound: speculation pays.
  const double speedup = r[0]["throughput"]["per_user_output_tok_per_s"].get<double>() /
                         r[1]["throughput"]["per_user_output_tok_per_s"].get<double>();
  CHECK(speedup > 1.4);
  CHECK(speedup < 2.479);
  CHECK(r[0].dump() == r[2].dump());  // deterministic
}

// Reference: TensorRT-LLM MTP sweep, DeepSeek-R1 on 8xB200 at batch 1, 1K/2K, attention TP8,
// MoE NVFP4 TP4 x EP2 (../shared/reference/measurements/README.md §2 P5: TensorRT-LLM tech blog
// 1, B200 min-latency): tok/s per user 111 (no MTP), 198, 250, 253, 245, 239 for MTP 1-5 with
// acceptance lengths 1.92, 2.58, 2.82, 2.99, 3.01 (the shipped curve
// deepseek-r1-trtllm-mtp-b200). Tolerance 15 % on the speedup over no MTP at every k, and the
// shape: gains rise, peak at k = 3 or 4, and fall by k = 5.
// Honest scope: the absolute tok/s per user come out ~40-50 % high at every k (the batch-1
// TP8 decode step of this older TensorRT-LLM build is 9.0 ms measured against 6.5 ms
// simulated, issue 9), so the absolute values are not asserted; the measured peak is at k = 3,
// the simulated one at k = 4 by 0.7 % over k = 3 (a draft pass costs 0.42 ms simulated against
// ~0.7 ms implied by the measurements).
// EAGLE-3 (issue 13): Kimi-K2 on 8xB200 with InferenceX's measured EAGLE3 curve for Kimi-K2.5
// (k = 3: acceptance length 2.88). The speedup cannot exceed the acceptance length (each step
// costs at least a verification) and shrinks with the batch; a dense head drafts for less of the
// step than DeepSeek-V3's MoE MTP layer at the same acceptance.
TEST_CASE("speculative: an EAGLE-3 head on Kimi-K2, against no speculation and against MTP",
          "[speculative]") {
  const auto r = testing::RunReports(
      {Shipped("kimi-k2-b200-tp8-c1-nospec"), Shipped("kimi-k2-b200-tp8-c1-eagle3"),
       Shipped("kimi-k2-b200-tp8-c64-nospec"), Shipped("kimi-k2-b200-tp8-c64-eagle3")});
  const double one = PerUser(r[1]) / PerUser(r[0]), many = PerGpu(r[3]) / PerGpu(r[2]);
  INFO("speedup at 1 user " << one << ", at 64 users " << many);
  CHECK(one > 2.0);  // measured 2.28
  CHECK(one < 2.88);
  CHECK(many < one);
  CHECK(many > 1.3);  // measured 1.81
  CHECK(r[1]["speculative"]["method"] == "eagle");
  CHECK(r[1]["speculative"]["measured_acceptance_length"].get<double>() ==
        Approx(2.88).epsilon(0.05));
  nlohmann::json eagle = Shipped("deepseek-v3-h200-tp8-c1-mtp2"), mtp = eagle;
  eagle["speculative"] = {{"method", "eagle"},
                          {"draft_tokens", 3},
                          {"acceptance", {{"curve", "kimi-k2.5-nvfp4-eagle3"}}}};
  mtp["speculative"] = {{"method", "mtp"},
                        {"draft_tokens", 3},
                        {"acceptance", {{"curve", "kimi-k2.5-nvfp4-eagle3"}}}};
  const auto v3 = testing::RunReports({eagle, mtp});
  CHECK(v3[0]["speculative"]["draft_time_share"].get<double>() <
        v3[1]["speculative"]["draft_time_share"].get<double>());
  CHECK(PerUser(v3[0]) >= PerUser(v3[1]));
}

TEST_CASE("TensorRT-LLM MTP sweep on 8xB200: speedup per k within 15 %, rise then fall",
          "[speculative][reference]") {
  const nlohmann::json base = nlohmann::json::parse(R"({
    "name": "trtllm-mtp-sweep-b200",
    "hardware": {"gpu": "B200", "gpus_per_server": 8},
    "model": {"preset": "DeepSeek-R1", "weight_dtype": "fp8", "expert_weight_dtype": "fp4",
              "kv_dtype": "fp8"},
    "runtime": {"preset": "trtllm", "memory_fraction": 0.8, "cuda_graph_max_batch": 512},
    "deployment": {"tensor_parallel": 8, "expert_parallel": 2},
    "workload": {"arrival": "closed_loop", "concurrency": 1,
                 "input_tokens": {"kind": "fixed", "tokens": 1024},
                 "output_tokens": {"kind": "fixed", "tokens": 2048}},
    "simulation": {"duration_s": 80, "warmup_s": 20, "seed": 1, "collectives": "analytic"}
  })");
  std::vector<nlohmann::json> docs;
  for (int k = 0; k <= 5; ++k) {
    nlohmann::json d = base;
    if (k > 0) {
      d["speculative"] = {{"method", "mtp"},
                          {"draft_tokens", k},
                          {"acceptance", {{"curve", "deepseek-r1-trtllm-mtp-b200"}}}};
    }
    docs.push_back(d);
  }
  const auto r = testing::RunReports(docs);
  const double measured[] = {111, 198, 250, 253, 245, 239};
  std::vector<double> user;
  for (const auto& x : r) user.push_back(PerUser(x));
  for (int k = 1; k <= 5; ++k) {
    INFO("k = " << k << ": " << user[k] << " tok/s per user (measured " << measured[k]
                << "), speedup " << user[k] / user[0] << " (measured " << measured[k] / measured[0]
                << ")");
    CHECK(user[k] / user[0] == Approx(measured[k] / measured[0]).epsilon(0.15));
    CHECK(r[k]["speculative"]["measured_acceptance_length"].get<double>() ==
          Approx(r[k]["speculative"]["configured_acceptance_length"].get<double>()).margin(0.05));
  }
  CHECK(user[1] > user[0]);
  CHECK(user[2] > user[1]);
  const int peak = static_cast<int>(std::max_element(user.begin(), user.end()) - user.begin());
  CHECK((peak == 3 || peak == 4));
  CHECK(user[5] < user[peak]);
}

// A separate draft model (vLLM's draft_model method): Qwen3-1.7B drafting for Qwen3-235B-A22B on
// 8xH200, TP8. The draft's weights (28 dense layers, 3.4 GB over 8 GPUs) and its KV sit beside
// the target's; each step verifies k + 1 positions and runs the draft's k chained passes, every
// one a 28-layer pass with its own all-reduces. The speedup stays below the acceptance length
// (2.80 at k = 3) because the draft passes cost a share of the step.
TEST_CASE("speculative: a separate draft model on the target's GPUs, at 1 and 64 users",
          "[speculative]") {
  std::vector<nlohmann::json> docs;
  for (const char* name :
       {"qwen3-235b-h200-tp8-c1-draft-qwen3-1.7b", "qwen3-235b-h200-tp8-c64-draft-qwen3-1.7b"}) {
    nlohmann::json with = Shipped(name);
    nlohmann::json without = with;
    without.erase("speculative");
    docs.push_back(with);
    docs.push_back(without);
  }
  const auto r = testing::RunReports(docs);
  for (int i : {0, 2}) {
    const nlohmann::json& sp = r[i]["speculative"];
    INFO(r[i]["scenario"].dump());
    CHECK(sp["method"] == "draft_model");
    CHECK(sp["draft_model"] == "Qwen3-1.7B");
    CHECK(sp["measured_acceptance_length"].get<double>() == Approx(2.80).epsilon(0.03));
    CHECK(sp["draft_time_share"].get<double>() > 0.05);
    CHECK(sp["draft_time_share"].get<double>() < 0.5);
    const double speedup = PerUser(r[i]) / PerUser(r[i + 1]);
    CHECK(speedup > 1.3);
    CHECK(speedup < 2.80);
  }
  // The draft's memory: its weights and its KV cost the target KV capacity.
  const Scenario with = testing::MustParse(docs[0]);
  const Scenario without = testing::MustParse(docs[1]);
  auto a = DeployScenario(with);
  auto b = DeployScenario(without);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  // Qwen3-1.7B at TP8: its 3.44 GB of bf16 weights sharded 8 ways (the embedding vocab-parallel).
  CHECK(a->pools[0].memory.weight_bytes - b->pools[0].memory.weight_bytes ==
        Approx(3.44e9 / 8).epsilon(0.02));
  CHECK(a->pools[0].memory.kv_capacity_tokens < b->pools[0].memory.kv_capacity_tokens);
}

TEST_CASE("speculative: draft models that cannot run are refused by path",
          "[speculative][bad-input]") {
  nlohmann::json doc = Shipped("qwen3-235b-h200-tp8-c1-draft-qwen3-1.7b");
  nlohmann::json j = doc;
  // The whole 235B model again as its own draft on 8 x H100: 2 x 470 GB does not fit 8 x 80 GB
  // (the target alone does).
  j["hardware"]["gpu"] = "H100";
  j["speculative"]["draft_model"] = "Qwen3-235B-A22B";
  CHECK_THAT(RefusalOf(j), Contains("spec.json: $.deployment: the plan does not fit in HBM"));
  CHECK_THAT(RefusalOf(j),
             Contains("the weights include the draft model Qwen3-235B-A22B's 58.86 GB"));
  j = doc;
  j["speculative"]["draft_model"] = "DeepSeek-V3";
  CHECK_THAT(RefusalOf(j), Contains("$.speculative.draft_model.vocab: got 129280"));
  // A dense model is a target only without expert parallelism or routing.
  j = doc;
  j["model"] = "Qwen3-32B";
  CHECK_THAT(RefusalOf(j), Contains("$.deployment.expert_parallel: got 8, expected no expert "
                                    "parallelism: Qwen3-32B is a dense model"));
  j["deployment"] = {{"tensor_parallel", 8}};
  j["routing"] = {{"kind", "uniform"}};
  CHECK_THAT(RefusalOf(j), Contains("$.routing: no routing section: Qwen3-32B is a dense model"));
  // An MoE draft needs an expert-parallel size that divides its experts.
  j = doc;
  j["speculative"]["draft_model"] = {{"preset", "Qwen3-30B-A3B"},
                                     {"moe", {{"routed_experts", 12}}}};
  CHECK_THAT(RefusalOf(j),
             Contains("$.deployment.expert_parallel: got 8, expected an expert-parallel "
                      "size that divides the draft model's 12 routed experts"));
}

TEST_CASE("speculative: a separate draft model on a GPU of its own, against the target's GPUs",
          "[speculative]") {
  std::vector<nlohmann::json> docs;
  for (const char* users : {"c1", "c64"}) {
    docs.push_back(
        Shipped(absl::StrCat("qwen3-235b-h200-tp8-", users, "-draft-qwen3-1.7b-own-gpu")));
    docs.push_back(Shipped(absl::StrCat("qwen3-235b-h200-tp8-", users, "-draft-qwen3-1.7b")));
  }
  nlohmann::json without = docs[0];
  without.erase("speculative");
  docs.push_back(without);
  const auto r = testing::RunReports(docs);
  for (int i : {0, 2}) {
    const nlohmann::json& own = r[i];
    const nlohmann::json& shared = r[i + 1];
    INFO(own["scenario"].dump());
    // The instance has the draft's GPU besides the target's 8, and pays for it.
    CHECK(own["plan"]["gpus"] == 9);
    CHECK(own["plan"]["draft_gpus_per_instance"] == 1);
    CHECK(own["cost"]["usd_per_hour"].get<double>() ==
          Approx(9.0 / 8.0 * shared["cost"]["usd_per_hour"].get<double>()));
    CHECK(own["speculative"]["measured_acceptance_length"].get<double>() ==
          Approx(2.80).epsilon(0.03));
    // Verified tokens to the draft GPU and drafts back, on the scale-out tier (it sits on the
    // second server): 4-byte token ids, (k + 1) + k per sequence and step, over a few links.
    const double steps = own["batch"]["steps"].get<double>();
    const double seqs = own["batch"]["mean_running"].get<double>();
    const double per_step = own["fabric"]["tiers"]["scale_out"]["bytes"].get<double>() / steps;
    CHECK(per_step >= 0.9 * seqs * (4 + 3) * 4);
    CHECK(per_step <= 4.0 * (seqs + 1) * (4 + 3) * 4);
    CHECK(shared["fabric"]["tiers"]["scale_out"]["bytes"].get<double>() == 0);
    // Nothing overlaps the drafts: each side idles while the other works.
    CHECK(own["utilisation"]["gpu_busy"].get<double>() <
          0.75 * shared["utilisation"]["gpu_busy"].get<double>());
    // One GPU streams the whole draft per pass (3.4 GB), slower than sharded 8 ways.
    CHECK(own["speculative"]["draft_time_share"].get<double>() >
          shared["speculative"]["draft_time_share"].get<double>());
    CHECK(PerUser(own) < PerUser(shared));
    // The draft's weights and KV live on its GPU: the target's weights are the model's alone,
    // and the instance holds as many tokens as the smaller of the two caches.
    const nlohmann::json& draft_mem = own["memory_gb_per_draft_gpu"];
    CHECK(draft_mem["weights"].get<double>() == Approx(3.44).epsilon(0.02));
    CHECK(own["kv"]["capacity_tokens"].get<double>() <=
          draft_mem["kv_capacity_tokens"].get<double>());
    CHECK(own["memory_gb_per_gpu"]["weights"].get<double>() <
          shared["memory_gb_per_gpu"]["weights"].get<double>());
  }
  // Still faster for a lone user than no speculation at all.
  CHECK(PerUser(r[0]) > 1.3 * PerUser(r[4]));
  CHECK(r[4]["memory_gb_per_gpu"]["weights"] == r[0]["memory_gb_per_gpu"]["weights"]);
}

TEST_CASE("speculative: a draft model on its own GPU in a prefill/decode-disaggregated plan",
          "[speculative]") {
  std::ifstream in(std::string(MOESIM_SOURCE_DIR) +
                   "/scenarios/kv/qwen3-235b-h200-2p1d-chat-think20-least-loaded.json");
  REQUIRE(in.good());
  nlohmann::json doc = nlohmann::json::parse(in);
  doc["hardware"]["servers_per_rack"] = 4;  // 2 x 8 prefill GPUs, then 9 decode GPUs
  doc["simulation"]["duration_s"] = 40;
  doc["simulation"]["warmup_s"] = 10;
  doc["speculative"] = {{"method", "draft_model"},
                        {"draft_model", "Qwen3-1.7B"},
                        {"draft_tokens", 3},
                        {"draft_gpus", 1},
                        {"acceptance", {{"curve", "qwen3-32b-qwen3-1.7b-draft-mtbench"}}}};
  const nlohmann::json r = testing::RunReports({doc})[0];
  // Only the decode pool drafts with GPUs of its own; the prefill pool keeps its 8 per instance.
  CHECK(r["pools"]["decode"]["plan"]["gpus"] == 9);
  CHECK(r["pools"]["decode"]["plan"]["draft_gpus_per_instance"] == 1);
  CHECK(r["pools"]["prefill"]["plan"]["gpus"] == 16);
  CHECK_FALSE(r["pools"]["prefill"]["plan"].contains("draft_gpus_per_instance"));
  CHECK(r["pools"]["decode"]["speculative"]["measured_acceptance_length"].get<double>() ==
        Approx(2.80).epsilon(0.05));
}

TEST_CASE("speculative: a draft model's own GPUs are refused where they cannot run",
          "[speculative][bad-input]") {
  const nlohmann::json doc = Shipped("qwen3-235b-h200-tp8-c1-draft-qwen3-1.7b-own-gpu");
  // The whole 235B model as its own draft does not fit one GPU.
  nlohmann::json j = doc;
  j["speculative"]["draft_model"] = "Qwen3-235B-A22B";
  CHECK_THAT(RefusalOf(j), Contains("spec.json: $.deployment: speculative.draft_gpus = 1: expected "
                                    "enough GPUs for the draft model Qwen3-235B-A22B"));
  // DP-attention groups draft on their own ranks.
  j = doc;
  j["deployment"] = {{"expert_parallel", 8}, {"attention", "data_parallel"}};
  CHECK_THAT(RefusalOf(j), Contains("$.deployment.attention: got \"data_parallel\", expected a "
                                    "tensor/pipeline-parallel pool"));
  // Nine GPUs need two servers.
  j = doc;
  j["hardware"].erase("servers_per_rack");
  CHECK_THAT(RefusalOf(j), Contains("instances of 9 GPUs"));
}

// Reference: vLLM's draft_model method, Qwen3-32B (bf16, dense) on one H100 80 GB with
// Qwen3-1.7B drafting, one InstructCoder prompt (183 tokens, 877 generated), greedy, batch 1
// (tomasruizt/vllm-scripts profiling/results2/bench-{nosd-32b,sd-32b-1.7b-k1..8}.log, the
// benchmark of vllm-project/vllm PR #24322's author): TPOT 23.65 ms without speculation, then
// 14.94, 12.33, 11.07, 10.46, 10.44, 10.65, 10.63, 11.07 ms for k = 1..8 at the acceptance
// lengths of the shipped curve qwen3-32b-qwen3-1.7b-draft-instructcoder. Tolerance 15 % on
// every TPOT and on the speedup over no speculation; the shape: TPOT falls to its lowest at
// k = 4-6 and rises again by k = 8. (A dense target serves here only as the reference: no
// published draft-model measurement has an MoE target.)
TEST_CASE("vLLM draft model Qwen3-1.7B for Qwen3-32B on H100: TPOT per k within 15 %",
          "[speculative][reference]") {
  const nlohmann::json base = nlohmann::json::parse(R"({
    "name": "vllm-draft-model-qwen3-32b-h100",
    "hardware": {"gpu": "H100", "gpus_per_server": 1},
    "model": "Qwen3-32B",
    "runtime": {"preset": "vllm", "max_num_seqs": 1},
    "deployment": {"tensor_parallel": 1},
    "workload": {"arrival": "closed_loop", "concurrency": 1,
                 "input_tokens": {"kind": "fixed", "tokens": 183},
                 "output_tokens": {"kind": "fixed", "tokens": 877}},
    "simulation": {"duration_s": 50, "warmup_s": 2, "seed": 1}
  })");
  std::vector<nlohmann::json> docs;
  for (int k = 0; k <= 8; ++k) {
    nlohmann::json d = base;
    if (k > 0) {
      d["speculative"] = {{"method", "draft_model"},
                          {"draft_model", "Qwen3-1.7B"},
                          {"draft_tokens", k},
                          {"acceptance", {{"curve", "qwen3-32b-qwen3-1.7b-draft-instructcoder"}}}};
    }
    docs.push_back(d);
  }
  const auto r = testing::RunReports(docs);
  const double measured[] = {23.65, 14.94, 12.33, 11.07, 10.46, 10.44, 10.65, 10.63, 11.07};
  std::vector<double> tpot;
  for (const auto& x : r) tpot.push_back(1e3 * x["latency_s"]["tpot"]["p50"].get<double>());
  for (int k = 0; k <= 8; ++k) {
    INFO("k = " << k << ": TPOT " << tpot[k] << " ms (measured " << measured[k] << "), speedup "
                << tpot[0] / tpot[k] << " (measured " << measured[0] / measured[k] << ")");
    CHECK(tpot[k] == Approx(measured[k]).epsilon(0.15));
    CHECK(tpot[0] / tpot[k] == Approx(measured[0] / measured[k]).epsilon(0.15));
  }
  const int best = static_cast<int>(std::min_element(tpot.begin(), tpot.end()) - tpot.begin());
  CHECK((best >= 4 && best <= 6));
  CHECK(tpot[8] > tpot[best]);
}

// Prefill/decode disaggregation: the decode pool verifies and drafts; the prefill pool, whose
// prompts decode elsewhere, has no speculative section (and no draft share).
TEST_CASE("speculative: MTP in a prefill/decode-disaggregated plan drafts in the decode pool",
          "[speculative]") {
  std::ifstream in(std::string(MOESIM_SOURCE_DIR) +
                   "/scenarios/disaggregation/deepseek-v3-h200-1p1d-tp8.json");
  REQUIRE(in.good());
  const nlohmann::json without = nlohmann::json::parse(in);
  nlohmann::json with = without;
  with["speculative"] = {
      {"method", "mtp"}, {"draft_tokens", 2}, {"acceptance", {{"per_position", {0.87, 0.7}}}}};
  const auto r = testing::RunReports({with, without});
  const nlohmann::json& pools = r[0]["pools"];
  CHECK_FALSE(pools["prefill"].contains("speculative"));
  REQUIRE(pools["decode"].contains("speculative"));
  const nlohmann::json& sp = pools["decode"]["speculative"];
  CHECK(sp["measured_acceptance_length"].get<double>() == Approx(2.479).epsilon(0.03));
  CHECK(sp["draft_time_share"].get<double>() > 0.0);
  const double tpot = r[0]["latency_s"]["tpot"]["p50"].get<double>();
  const double tpot_without = r[1]["latency_s"]["tpot"]["p50"].get<double>();
  CHECK(tpot < tpot_without / 1.3);
}

// Attention/FFN disaggregation (DeepSeek-V3, 32 attention : 16 expert H200s over 400GbE): the
// attention ranks verify k + 1 positions per sequence and run the MTP layer's draft passes,
// whose experts live on the expert side, so every verified and drafted token hops A -> E -> A.
// At 256 users the step is HBM-bound and speculation pays; at 4,096 users the fabric already
// limits and carrying 2.48x the tokens per hop (k + 1 = 3 positions verified) makes each user
// slower. An MoE draft model has no place on the expert side and is refused.
TEST_CASE("speculative: MTP with attention/FFN disaggregation pays until the fabric limits",
          "[speculative]") {
  std::ifstream in(std::string(MOESIM_SOURCE_DIR) +
                   "/scenarios/disaggregation/deepseek-v3-h200-afd-2to1-400gbe.json");
  REQUIRE(in.good());
  const nlohmann::json base = nlohmann::json::parse(in);
  const nlohmann::json mtp = {
      {"method", "mtp"}, {"draft_tokens", 2}, {"acceptance", {{"per_position", {0.87, 0.7}}}}};
  std::vector<nlohmann::json> docs;
  for (int clients : {256, 4096}) {
    nlohmann::json without = base;
    without["workload"]["concurrency"] = clients;
    without["simulation"]["duration_s"] = 60;
    without["simulation"]["warmup_s"] = 20;
    nlohmann::json with = without;
    with["speculative"] = mtp;
    // SGLang caps a speculating server at 48 running requests unless told otherwise.
    with["runtime"]["max_num_seqs"] = clients;
    docs.push_back(with);
    docs.push_back(without);
  }
  const auto r = testing::RunReports(docs);
  for (int i : {0, 2}) {
    const nlohmann::json& sp = r[i]["speculative"];
    CHECK(sp["measured_acceptance_length"].get<double>() == Approx(2.479).epsilon(0.03));
    CHECK(sp["draft_time_share"].get<double>() > 0.0);
    // The hops carry the verified positions: more bytes per step than without speculation.
    CHECK(r[i]["attention_ffn"]["bytes_per_step"]["dispatch"].get<double>() >
          2.0 * r[i + 1]["attention_ffn"]["bytes_per_step"]["dispatch"].get<double>());
  }
  // Closed loops: output per GPU follows each user's pace (4,096 users finish no request in
  // the window, so per-user figures are not reported there).
  CHECK(PerGpu(r[0]) > 1.3 * PerGpu(r[1]));  // 256 users: pays
  CHECK(PerGpu(r[2]) < PerGpu(r[3]));        // 4,096 users: the fabric limits, it loses

  nlohmann::json moe_draft = docs[0];
  moe_draft["model"] = "Qwen3-235B-A22B";
  moe_draft["speculative"] = {{"method", "draft_model"},
                              {"draft_model", "Qwen3-30B-A3B"},
                              {"draft_tokens", 2},
                              {"acceptance", {{"per_position", {0.8, 0.6}}}}};
  auto bad = ParseScenario(moe_draft, "afd.json", testing::Presets());
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(std::string(bad.status().message()),
             Contains("afd.json: $.speculative.draft_model: got \"Qwen3-30B-A3B\", expected a "
                      "dense draft model with deployment.attention_ffn"));
}

}  // namespace
}  // namespace moesim
