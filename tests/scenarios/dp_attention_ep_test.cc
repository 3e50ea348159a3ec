// engine/ep_group_instance: DP attention + expert parallelism. Every GPU of the EP group serves
// its own sequences; MoE layers dispatch and combine with all-to-alls over the routed links.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"

namespace moesim {
namespace {

nlohmann::json DpEp(int gpus_per_server, int servers, const std::string& fidelity) {
  nlohmann::json doc = testing::SmallScenarioJson(1, 256, fidelity);
  doc["hardware"] = {
      {"gpu", "H200"}, {"gpus_per_server", gpus_per_server}, {"servers_per_rack", servers}};
  doc["deployment"] = {{"attention", "data_parallel"}, {"expert_parallel", 8}};
  return doc;
}

TEST_CASE("DP-attention EP8 in one server: all-to-alls on NVLink; fidelities agree",
          "[scenarios][dp-attention]") {
  nlohmann::json step = DpEp(8, 1, "step");
  nlohmann::json flows = DpEp(8, 1, "layer");
  flows["simulation"]["collectives"] = "flows";
  nlohmann::json ptask = DpEp(8, 1, "layer");
  ptask["simulation"]["collectives"] = "ptask";
  const auto r = testing::RunReports({step, flows, ptask});
  CHECK(r[0]["plan"]["gpus"] == 8);
  CHECK(r[0]["plan"]["attention"] == "data_parallel");
  CHECK(r[0]["time_share"]["communication"].get<double>() > 0.02);
  CHECK(r[0]["fabric"]["tiers"]["scale_up"]["bytes"].get<double>() > 0);
  CHECK(r[0]["fabric"]["tiers"]["scale_out"]["bytes"].get<double>() == 0);
  for (int i : {1, 2}) {
    CHECK(r[i]["batch"]["steps"] == r[0]["batch"]["steps"]);
    CHECK(r[i]["throughput"]["output_tok_per_s"].get<double>() ==
          Approx(r[0]["throughput"]["output_tok_per_s"].get<double>()).epsilon(1e-3));
  }
}

TEST_CASE("DP-attention EP8 across two servers: dispatch/combine cross the NICs and cost more",
          "[scenarios][dp-attention]") {
  const auto r = testing::RunReports({DpEp(8, 1, "layer"), DpEp(4, 2, "layer")});
  const auto &inside = r[0], &across = r[1];
  CHECK(across["fabric"]["tiers"]["scale_out"]["bytes"].get<double>() > 0);
  CHECK(across["time_share"]["communication"].get<double>() >
        1.3 * inside["time_share"]["communication"].get<double>());
  CHECK(across["throughput"]["output_tok_per_s"].get<double>() <
        inside["throughput"]["output_tok_per_s"].get<double>());
}

// The report's max_num_seqs limit under DP attention: the cap holds per GPU (each rank schedules
// its own sequences), while step records count the whole group's running sequences.
TEST_CASE("DP attention: the max_num_seqs limit compares per-GPU running sequences with the cap",
          "[scenarios][dp-attention][limit]") {
  auto group = [](int64_t concurrency, int64_t prompt) {
    nlohmann::json doc = {
        {"name", "dp-cap"},
        {"hardware", {{"gpu", "H200"}, {"gpus_per_server", 8}, {"servers_per_rack", 1}}},
        {"model", {{"preset", "Qwen3-30B-A3B"}, {"weight_dtype", "fp8"}}},
        {"runtime", {{"preset", "vllm"}, {"execution_mode", "cuda_graph"}, {"max_num_seqs", 128}}},
        {"deployment", {{"attention", "data_parallel"}, {"expert_parallel", 8}}},
        {"workload",
         {{"arrival", "closed_loop"},
          {"concurrency", concurrency},
          {"input_tokens", {{"kind", "fixed"}, {"tokens", prompt}}},
          {"output_tokens", {{"kind", "fixed"}, {"tokens", 30}}}}},
        {"simulation", {{"duration_s", 20}, {"warmup_s", 5}, {"seed", 1}, {"fidelity", "step"}}}};
    return doc;
  };
  // 400 clients with 6000-token prompts: sequences queue for the prefill token budget while the
  // group runs ~330 (~42 per GPU, far below 128): not the cap. 1600 clients with 100-token
  // prompts fill every GPU's 128 slots: the cap.
  const auto r = testing::RunReports({group(400, 6000), group(1600, 100)});
  INFO("prefill queue: " << r[0]["limit"] << "; full group: " << r[1]["limit"]);
  CHECK(r[0]["batch"]["mean_queued"].get<double>() > 10);
  CHECK(r[0]["batch"]["max_running_per_micro_batch"].get<double>() < 8 * 128);
  CHECK(r[0]["limit"]["subsystem"] != "max_num_seqs");
  CHECK(r[1]["limit"]["subsystem"] == "max_num_seqs");
  CHECK_THAT(r[1]["limit"]["evidence"].get<std::string>(),
             Catch::Contains("on each GPU of the DP-attention group"));
}

TEST_CASE("DP attention needs tensor_parallel 1 and an expert-parallel group", "[bad-input]") {
  nlohmann::json doc = DpEp(8, 1, "layer");
  doc["deployment"]["tensor_parallel"] = 2;
  auto s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("bad.json: $.deployment.tensor_parallel: got 2, expected 1 with"));
  doc = DpEp(8, 1, "layer");
  doc["deployment"]["expert_parallel"] = 1;
  s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("$.deployment.expert_parallel: got 1, expected an integer >= 2"));
}

// TensorRT-LLM's attention-DP balancing (runtime.attention_dp_balance; py_executor.py
// _balance_adp_requests): a rank's new prompt waits until every rank has one (or 60 iterations
// pass), so the group's context phases run in the same steps instead of one rank's prefill
// stalling every rank's decode in turn. Long prompts and short answers make that visible:
// decode steps get faster and more frequent, first tokens come later.
nlohmann::json TrtDpEp(bool balance) {
  nlohmann::json doc = nlohmann::json::parse(R"({
    "name": "trt-adp-balance",
    "hardware": {"gpu": "H200", "gpus_per_server": 8},
    "model": {"preset": "Qwen3-30B-A3B", "weight_dtype": "fp8"},
    "runtime": {"preset": "trtllm"},
    "deployment": {"attention": "data_parallel", "expert_parallel": 8},
    "workload": {"arrival": "closed_loop", "concurrency": 64,
                 "input_tokens": {"kind": "uniform", "min_tokens": 3000, "max_tokens": 4000},
                 "output_tokens": {"kind": "uniform", "min_tokens": 100, "max_tokens": 300}},
    "simulation": {"duration_s": 20, "warmup_s": 5, "seed": 3}
  })");
  if (balance) {
    doc["runtime"]["attention_dp_balance"] = {{"timeout_iters", 60}, {"batching_wait_iters", 0}};
  }
  return doc;
}

TEST_CASE("TensorRT-LLM attention-DP balancing: context phases aligned, decodes stall less",
          "[scenarios][dp-attention]") {
  const auto r = testing::RunReports({TrtDpEp(true), TrtDpEp(false), TrtDpEp(true)});
  const auto &on = r[0], &off = r[1];
  const auto p50 = [](const nlohmann::json& j, const char* m) {
    return j["latency_s"][m]["p50"].get<double>();
  };
  INFO("TPOT " << p50(on, "tpot") << " vs " << p50(off, "tpot") << ", TTFT " << p50(on, "ttft")
               << " vs " << p50(off, "ttft"));
  CHECK(p50(on, "tpot") < 0.7 * p50(off, "tpot"));  // measured 9.4 against 16.7 ms
  CHECK(p50(on, "ttft") > 2 * p50(off, "ttft"));    // prompts wait for the others' (0.33 / 0.05 s)
  CHECK(on["throughput"]["output_tok_per_s"].get<double>() >
        off["throughput"]["output_tok_per_s"].get<double>());
  CHECK(on["batch"]["steps"].get<int64_t>() > off["batch"]["steps"].get<int64_t>());
  CHECK(on["plan"]["attention_dp_balance"]["timeout_iters"] == 60);
  CHECK_FALSE(off["plan"].contains("attention_dp_balance"));
  CHECK(r[0].dump() == r[2].dump());  // deterministic
}

TEST_CASE("attention_dp_balance: TensorRT-LLM only, DP-attention pools only, known keys",
          "[bad-input]") {
  nlohmann::json doc = TrtDpEp(true);
  doc["runtime"]["preset"] = "sglang";
  auto s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("$.runtime.attention_dp_balance") &&
                 Catch::Contains("only with a trtllm-family runtime (this one is sglang)"));
  doc = TrtDpEp(true);
  doc["runtime"]["attention_dp_balance"]["timeout_iters"] = -1;
  s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("$.runtime.attention_dp_balance.timeout_iters: got -1"));
  doc = TrtDpEp(true);
  doc["runtime"]["attention_dp_balance"]["wait"] = 3;
  s = ParseScenario(doc, "bad.json", testing::Presets());
  REQUIRE_FALSE(s.ok());
  CHECK_THAT(std::string(s.status().message()),
             Catch::Contains("$.runtime.attention_dp_balance") && Catch::Contains("wait"));
  doc = TrtDpEp(true);
  doc["deployment"] = {{"tensor_parallel", 8}, {"expert_parallel", 8}};
  s = ParseScenario(doc, "bad.json", testing::Presets());
  std::string message = s.ok() ? "" : std::string(s.status().message());
  if (s.ok()) {
    const auto run = RunSimulation(*s);
    REQUIRE_FALSE(run.ok());
    message = std::string(run.status().message());
  }
  CHECK_THAT(message, Catch::Contains("$.deployment.attention: got \"tensor_parallel\"") &&
                          Catch::Contains("runtime.attention_dp_balance"));
}

}  // namespace
}  // namespace moesim
