// Tests for tools/calibrate/{recipe_book,inferencex_scenario}.h: a CSV row and its recipe as a
// reference scenario, on hand-made recipes shaped like docs/research/inferencex_recipes.json.
#include "tools/calibrate/inferencex_scenario.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tools/calibrate/recipe_book.h"

namespace moesim::calibrate {
namespace {

using nlohmann::json;

InferencexRow Row(const std::string& framework, int tp, int ep, bool dpa) {
  InferencexRow r;
  r.line = 7;
  r.hardware = "b200";
  r.framework = framework;
  r.precision = "fp4";
  r.spec = "none";
  r.tp = tp;
  r.ep = ep;
  r.dp_attention = dpa;
  r.isl = 1024;
  r.osl = 8192;
  r.conc = 64;
  r.median_tpot_ms_text = "8.89";
  r.median_tpot_ms = 8.89;
  r.median_ttft_s = 4.605;
  r.tput_per_gpu_total_text = "176.3";
  r.tput_per_gpu_total = 176.3;
  r.output_tput_per_gpu_text = "0";
  r.output_tput_per_gpu = 0;
  r.image = "lmsysorg/sglang:v0.5.9-cu130";
  r.date = "2026-03-25";
  r.run_url = "https://example.org/run/1";
  return r;
}

json Group(const std::string& framework, int tp, int ep, bool dpa, json flags, json row_extra) {
  json row = {{"isl", 1024},
              {"osl", 8192},
              {"conc", 64},
              {"date", "2026-03-25"},
              {"source", "benchmarks/x.sh@abc"},
              {"num_warmups", 128}};
  row.update(row_extra);
  return {{"hardware", "b200"},
          {"framework", framework},
          {"precision", "fp4"},
          {"spec", "none"},
          {"tp", tp},
          {"ep", ep},
          {"dp_attention", dpa},
          {"recipe_id", "test-recipe"},
          {"model", "ckpt"},
          {"source", "benchmarks/group.sh@def"},
          {"env", {{"A", "1"}}},
          {"flags", flags},
          {"rows", json::array({row})}};
}

TEST_CASE("scenario: SGLang row with an old ep=1 that ran EP=TP, trtllm_mla pages", "[calibrate]") {
  const json flags = {{"tp_size", 8},
                      {"ep_size", 8},
                      {"enable_dp_attention", false},
                      {"mem_fraction_static", 0.85},
                      {"cuda_graph_max_bs", 256},
                      {"max_running_requests", 256},
                      {"chunked_prefill_size", 16384},
                      {"page_size", nullptr},
                      {"attention_backend", "trtllm_mla"},
                      {"kv_cache_dtype", "fp8_e4m3"},
                      {"stream_interval", 10},
                      {"scheduler_recv_interval", "varies by conc/isl/osl (see rows)"}};
  auto book = RecipeBook::FromJson(
      json::array({Group("sglang", 8, 1, false, flags, {{"scheduler_recv_interval", 30}})}),
      "r.json");
  REQUIRE(book.ok());
  const InferencexRow row = Row("sglang", 8, 1, false);
  CHECK(SkipReason(row).empty());
  auto match = book->Find(row);
  REQUIRE(match.ok());
  REQUIRE(match->has_value());
  auto s = BuildReferenceScenario(row, **match);
  if (!s.ok()) FAIL(s.status().message());
  const nlohmann::ordered_json& d = s->doc;
  CHECK(s->stem == "b200-sglang-fp4-tp8-ep8-isl1024-osl8192-c64");
  CHECK(d["name"] == "inferencex-dsr1-" + s->stem);
  CHECK(d["hardware"]["gpu"]["preset"] == "B200");
  CHECK(d["model"]["expert_weight_dtype"] == "fp4");
  CHECK(d["model"]["kv_dtype"] == "fp8");
  CHECK(d["runtime"] == nlohmann::ordered_json{{"preset", "sglang"},
                                               {"memory_fraction", 0.85},
                                               {"cuda_graph_max_batch", 256},
                                               {"max_num_seqs", 256},
                                               {"max_num_batched_tokens", 16384},
                                               {"kv_block_tokens", 64}});
  CHECK(d["deployment"] == nlohmann::ordered_json{{"tensor_parallel", 8}, {"expert_parallel", 8}});
  CHECK(d["workload"]["input_tokens"]["min_tokens"] == 819);
  CHECK(d["workload"]["output_tokens"]["min_tokens"] == 6553);
  CHECK(d["simulation"]["fidelity"] == "step");
  // Output throughput 0 in the row: only TPOT and total throughput are references.
  REQUIRE(d["reference"].size() == 2);
  CHECK(d["reference"][0]["metric"] == "latency_s.tpot.p50");
  CHECK(d["reference"][0]["value"].dump() == "0.00889");
  CHECK(d["reference"][1]["metric"] == "throughput.total_tok_per_s_per_gpu");
  const std::string description = d["description"];
  CHECK(description.find("ran EP8") != std::string::npos);
  CHECK(description.find("scheduler_recv_interval=30") != std::string::npos);
  CHECK(description.find("stream_interval=10") != std::string::npos);
  CHECK(description.find("benchmarks/x.sh@abc") != std::string::npos);
  CHECK(description.find("Env: A=1") != std::string::npos);
}

TEST_CASE(
    "scenario: TRT with attention DP becomes DP attention over an EP group, bf16 KV "
    "when the recipe sets none",
    "[calibrate]") {
  const json flags = {{"tp_size", 8},
                      {"ep_size", 8},
                      {"enable_attention_dp", true},
                      {"free_gpu_memory_fraction", 0.8},
                      {"cuda_graph_max_bs", 32},
                      {"max_batch_size", nullptr},
                      {"max_num_tokens", "varies by conc/isl/osl (see rows)"},
                      {"kv_cache_dtype", nullptr}};
  auto book = RecipeBook::FromJson(
      json::array({Group("trt", 8, 8, true, flags, {{"max_num_tokens", 8384}})}), "r.json");
  REQUIRE(book.ok());
  const InferencexRow row = Row("trt", 8, 8, true);
  auto match = book->Find(row);
  REQUIRE(match.ok());
  REQUIRE(match->has_value());
  auto s = BuildReferenceScenario(row, **match);
  if (!s.ok()) FAIL(s.status().message());
  CHECK(s->stem == "b200-trt-fp4-dpa-ep8-isl1024-osl8192-c64");
  CHECK(s->doc["deployment"] == nlohmann::ordered_json{{"attention", "data_parallel"},
                                                       {"tensor_parallel", 1},
                                                       {"expert_parallel", 8}});
  CHECK(s->doc["runtime"] == nlohmann::ordered_json{{"preset", "trtllm"},
                                                    {"memory_fraction", 0.8},
                                                    {"cuda_graph_max_batch", 32},
                                                    {"max_num_batched_tokens", 8384}});
  CHECK(s->doc["model"]["kv_dtype"] == "bf16");
}

TEST_CASE(
    "scenario: a per-row flag missing from the row, or an EP that is neither 1 nor TP, is "
    "an error, and an unknown row has no recipe",
    "[calibrate]") {
  const json varies = {{"ep_size", 1},
                       {"free_gpu_memory_fraction", 0.8},
                       {"max_num_tokens", "varies by conc/isl/osl (see rows)"}};
  auto book = RecipeBook::FromJson(json::array({Group("trt", 8, 1, false, varies, json::object())}),
                                   "r.json");
  REQUIRE(book.ok());
  auto match = book->Find(Row("trt", 8, 1, false));
  REQUIRE(match.ok());
  REQUIRE(match->has_value());
  CHECK_FALSE(BuildReferenceScenario(Row("trt", 8, 1, false), **match).ok());

  const json bad_ep = {{"ep_size", 4}};
  auto book2 = RecipeBook::FromJson(
      json::array({Group("trt", 8, 1, false, bad_ep, json::object())}), "r.json");
  REQUIRE(book2.ok());
  auto match2 = book2->Find(Row("trt", 8, 1, false));
  REQUIRE(match2.ok());
  REQUIRE(match2->has_value());
  CHECK_FALSE(BuildReferenceScenario(Row("trt", 8, 1, false), **match2).ok());

  InferencexRow other = Row("trt", 8, 1, false);
  other.conc = 4;
  auto none = book->Find(other);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

TEST_CASE("scenario: disaggregated, MTP and unknown-stack rows are skipped with a reason",
          "[calibrate]") {
  InferencexRow r = Row("sglang", 8, 8, false);
  r.disagg = true;
  CHECK(SkipReason(r).find("disagg") != std::string::npos);
  r = Row("sglang", 8, 8, false);
  r.spec = "mtp";
  CHECK(SkipReason(r).find("spec=mtp") != std::string::npos);
  r = Row("mori-sglang", 8, 8, false);
  CHECK(SkipReason(r).find("mori-sglang") != std::string::npos);
}

}  // namespace
}  // namespace moesim::calibrate
