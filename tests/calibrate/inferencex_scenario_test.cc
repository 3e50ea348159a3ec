// Tests for tools/calibrate/{recipe_book,inferencex_scenario}.h: a CSV row and its recipe as a
// reference scenario, on hand-made recipes shaped like docs/research/inferencex_recipes.json;
// a disaggregated row (no recipe) as prefill and decode pools.
#include "tools/calibrate/inferencex_scenario.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
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

// CSV line 2 of the training set: Dynamo + SGLang, prefill 1 x TP4 EP4 with DP attention (4 GPUs),
// decode 5 x TP8 EP8 (40 GPUs).
InferencexRow DisaggRow(const std::string& framework) {
  InferencexRow r = Row(framework, 8, 8, false);
  r.disagg = true;
  r.decode_workers = 5;
  r.prefill_tp = 4;
  r.prefill_ep = 4;
  r.prefill_dp_attention = true;
  r.prefill_workers = 1;
  r.prefill_gpus = 4;
  r.decode_gpus = 40;
  r.total_gpus = 44;
  r.output_tput_per_gpu_text = "95.5";
  r.output_tput_per_gpu = 95.5;
  return r;
}

json Group(const std::string& framework, int tp, int ep, bool dpa, json flags, json row_extra,
           const std::string& spec = "none") {
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
          {"spec", spec},
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

// Little's law: 64 clients, mean OSL 0.9 x 8192 = 7,373, TTFT 4.605 s, TPOT 8.89 ms deliver
// 64 x 7373 / (4.605 + 7373 x 0.00889) = 6,727 output tok/s, 840.8 per GPU of the TP8 worker.
TEST_CASE("scenario: a row whose throughput contradicts its own latencies keeps only its TPOT",
          "[calibrate]") {
  const json flags = {{"tp_size", 8}, {"ep_size", 8}, {"enable_dp_attention", false}};
  auto book = RecipeBook::FromJson(
      json::array({Group("sglang", 8, 1, false, flags, json::object())}), "r.json");
  REQUIRE(book.ok());
  InferencexRow row = Row("sglang", 8, 1, false);
  auto match = book->Find(row);
  REQUIRE(match.ok());
  REQUIRE(match->has_value());
  const auto metrics = [&](double output_per_gpu) {
    row.output_tput_per_gpu = output_per_gpu;
    row.output_tput_per_gpu_text = absl::StrCat(output_per_gpu);
    auto s = BuildReferenceScenario(row, **match);
    REQUIRE(s.ok());
    std::vector<std::string> names;
    for (const auto& r : s->doc["reference"]) names.push_back(r["metric"]);
    return std::make_pair(names, s->doc["description"].get<std::string>());
  };
  // Within [1/2, 2] of 841: all three references.
  for (double consistent : {430.0, 841.0, 1650.0}) {
    const auto [names, description] = metrics(consistent);
    CHECK(names.size() == 3);
    CHECK(description.find("Little's law") == std::string::npos);
  }
  // Outside (a run with failed requests: 25.3 of 1,028 in the training set's MI355X ATOM c512).
  for (double contradicting : {25.3, 410.0, 1700.0}) {
    const auto [names, description] = metrics(contradicting);
    CHECK(names == std::vector<std::string>{"latency_s.tpot.p50"});
    CHECK(description.find("Little's law (840.8)") != std::string::npos);
  }
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

TEST_CASE(
    "scenario: MTP rows convert with or without DP attention (aggregated, or on either "
    "disaggregated side); other speculative methods and unknown-stack rows are skipped with a "
    "reason",
    "[calibrate]") {
  InferencexRow r = Row("sglang", 8, 8, false);
  r.spec = "mtp";
  CHECK(SkipReason(r).empty());
  r = Row("trt", 8, 8, true);
  r.spec = "mtp";
  CHECK(SkipReason(r).empty());
  r = DisaggRow("dynamo-sglang");  // prefill with DP attention, decode TP8 EP8
  r.spec = "mtp";
  CHECK(SkipReason(r).empty());
  r.tp = r.ep = 8;
  r.dp_attention = true;  // decode with DP attention
  CHECK(SkipReason(r).empty());
  r = Row("sglang", 8, 8, false);
  r.spec = "eagle3";
  CHECK(SkipReason(r).find("spec=eagle3") != std::string::npos);
  r = Row("llm-d", 8, 8, false);
  CHECK(SkipReason(r).find("llm-d") != std::string::npos);
  for (const char* framework : {"dynamo-sglang", "dynamo-trt", "mori-sglang"}) {
    INFO(framework);
    CHECK(SkipReason(DisaggRow(framework)).empty());
  }
}

TEST_CASE(
    "scenario: a disaggregated row becomes a prefill pool then a decode pool, the cluster holds "
    "both, throughput references are per GPU of both pools",
    "[calibrate]") {
  const InferencexRow row = DisaggRow("dynamo-sglang");
  REQUIRE(SkipReason(row).empty());
  auto book = RecipeBook::FromJson(json::array(), "r.json");
  REQUIRE(book.ok());
  auto match = book->Find(row);
  REQUIRE(match.ok());
  CHECK_FALSE(match->has_value());
  auto s = BuildDisaggregatedScenario(row);
  if (!s.ok()) FAIL(s.status().message());
  const nlohmann::ordered_json& d = s->doc;
  CHECK(s->disaggregated);
  CHECK(s->stem == "b200-dynamo-sglang-fp4-1p-dpa-ep4-5d-tp8-ep8-isl1024-osl8192-c64");
  CHECK(d["name"] == "inferencex-dsr1-" + s->stem);
  CHECK(s->stack == "sglang");
  CHECK(s->prefill_plan == "DP-attention EP4");
  CHECK(s->plan == "TP8 EP8");
  // Pools take whole servers: 4 prefill GPUs on one server, 40 decode GPUs on five.
  CHECK(d["hardware"] == nlohmann::ordered_json{{"gpu", {{"preset", "B200"}}},
                                                {"gpus_per_server", 8},
                                                {"servers_per_rack", 6}});
  CHECK(d["runtime"] == nlohmann::ordered_json{{"preset", "sglang"}});
  CHECK(d["model"]["kv_dtype"] == "bf16");
  const nlohmann::ordered_json pools =
      nlohmann::ordered_json::array({{{"name", "prefill"},
                                      {"role", "prefill"},
                                      {"attention", "data_parallel"},
                                      {"tensor_parallel", 1},
                                      {"expert_parallel", 4},
                                      {"instances", 1}},
                                     {{"name", "decode"},
                                      {"role", "decode"},
                                      {"tensor_parallel", 8},
                                      {"expert_parallel", 8},
                                      {"instances", 5}}});
  CHECK(d["deployment"] == nlohmann::ordered_json{{"pools", pools}});
  CHECK(d["workload"]["concurrency"] == 64);
  REQUIRE(d["reference"].size() == 3);
  CHECK(d["reference"][0]["metric"] == "latency_s.tpot.p50");
  CHECK(d["reference"][0]["value"].dump() == "0.00889");
  // 95.5 output tok/s per decode GPU x 40 decode GPUs / 44 GPUs.
  CHECK(d["reference"][1]["metric"] == "throughput.output_tok_per_s_per_gpu");
  CHECK(d["reference"][1]["value"].get<double>() == Approx(95.5 * 40 / 44));
  CHECK(d["reference"][2]["metric"] == "throughput.total_tok_per_s_per_gpu");
  CHECK(d["reference"][2]["value"] == 176.3);
  const std::string description = d["description"];
  CHECK(description.find("No server recipe") != std::string::npos);
  CHECK(description.find("4 + 40 = 44 GPUs") != std::string::npos);
}

TEST_CASE("scenario: GB300 pools take NVL72 compute trays of 4 GPUs, dynamo-trt runs trtllm",
          "[calibrate]") {
  InferencexRow row = DisaggRow("dynamo-trt");
  row.hardware = "gb300";
  row.prefill_tp = row.prefill_ep = 2;
  row.prefill_workers = 11;
  row.prefill_gpus = 22;
  row.tp = row.ep = 4;
  row.dp_attention = true;
  row.decode_workers = 3;
  row.decode_gpus = 12;
  row.total_gpus = 34;
  REQUIRE(SkipReason(row).empty());
  auto s = BuildDisaggregatedScenario(row);
  if (!s.ok()) FAIL(s.status().message());
  const nlohmann::ordered_json& d = s->doc;
  CHECK(s->stem == "gb300-dynamo-trt-fp4-11p-dpa-ep2-3d-dpa-ep4-isl1024-osl8192-c64");
  CHECK(d["runtime"]["preset"] == "trtllm");
  // 22 prefill GPUs on 6 trays, 12 decode GPUs on 3.
  CHECK(d["hardware"]["gpus_per_server"] == 4);
  CHECK(d["hardware"]["servers_per_rack"] == 9);
  CHECK(d["deployment"]["pools"][0]["instances"] == 11);
  CHECK(d["deployment"]["pools"][1]["expert_parallel"] == 4);
  CHECK(d["deployment"]["pools"][1]["attention"] == "data_parallel");
  CHECK(d["deployment"]["pools"][1]["instances"] == 3);

  // More trays than one NVL72 rack holds: skipped.
  row.prefill_workers = 32;  // 16 trays + 3
  row.prefill_gpus = 64;
  row.total_gpus = 76;
  CHECK(SkipReason(row).find("NVL72 rack") != std::string::npos);
}

TEST_CASE("scenario: a disaggregated side moesim cannot express is skipped with a reason",
          "[calibrate]") {
  InferencexRow r = DisaggRow("mori-sglang");
  r.tp = 1;  // TP1 EP8: neither EP 1 nor EP = TP
  r.ep = 8;
  r.decode_workers = 1;
  r.decode_gpus = 8;
  r.total_gpus = 12;
  CHECK(SkipReason(r).find("decode: TP / EP / DP attention have no moesim plan") !=
        std::string::npos);

  r = DisaggRow("dynamo-sglang");
  r.tp = r.ep = 48;  // SGLang ran 256 + 32 redundant experts over 48 GPUs: in no recipe here
  r.dp_attention = true;
  r.decode_workers = 1;
  r.decode_gpus = 48;
  r.total_gpus = 52;
  CHECK(SkipReason(r).find("decode: EP does not divide") != std::string::npos);

  r = DisaggRow("mori-sglang");
  r.decode_gpus = 80;  // not 5 workers x TP8
  r.total_gpus = 84;
  CHECK(SkipReason(r).find("decode: GPUs are not workers x TP") != std::string::npos);

  r = DisaggRow("mori-sglang");
  r.total_gpus = 45;
  CHECK(SkipReason(r).find("total GPUs") != std::string::npos);
}

// TensorRT-LLM's attention DP with a tensor-parallel MoE (EP 1): each of the worker's GPUs is a
// DP-attention rank, the tokens gathered for experts tensor-sharded over the worker.
TEST_CASE("scenario: a DP-attention side with EP 1 gathers for tensor-sharded experts",
          "[calibrate]") {
  InferencexRow r = DisaggRow("dynamo-trt");
  r.prefill_tp = 8;
  r.prefill_ep = 1;
  r.prefill_gpus = 8;
  r.total_gpus = 48;
  REQUIRE(SkipReason(r).empty());
  auto s = BuildDisaggregatedScenario(r, {}, nullptr);
  if (!s.ok()) FAIL(s.status().message());
  const nlohmann::ordered_json& prefill = s->doc["deployment"]["pools"][0];
  CHECK(prefill["attention"] == "data_parallel");
  CHECK(prefill["tensor_parallel"] == 1);
  CHECK(prefill["expert_parallel"] == 8);
  CHECK(prefill["moe_dispatch"] == "gather");
  CHECK(prefill["moe_sharding"] == "tensor");
  CHECK(s->prefill_plan == "DP-attention MoE-TP8");
  CHECK(s->stem.find("-1p-dpa8-ep1-") != std::string::npos);
}

// An aggregated MTP row of `framework` under a recipe with `flags` (spec mtp).
absl::StatusOr<ReferenceScenario> MtpScenario(const std::string& framework, const json& flags) {
  auto book = RecipeBook::FromJson(
      json::array({Group(framework, 8, 1, false, flags, json::object(), "mtp")}), "r.json");
  if (!book.ok()) return book.status();
  InferencexRow row = Row(framework, 8, 1, false);
  row.spec = "mtp";
  if (!SkipReason(row).empty()) return absl::InternalError(SkipReason(row));
  auto match = book->Find(row);
  if (!match.ok()) return match.status();
  if (!match->has_value()) return absl::NotFoundError("no recipe");
  return BuildReferenceScenario(row, **match);
}

TEST_CASE(
    "scenario: an aggregated MTP row gets a speculative section with the recipe's draft tokens "
    "and the assumed TensorRT-LLM B200 acceptance curve",
    "[calibrate]") {
  const json flags = {{"spec_algorithm", "EAGLE"},
                      {"speculative_num_steps", 2},
                      {"speculative_num_draft_tokens", 3},
                      {"speculative_eagle_topk", 1},
                      {"spec_v2", true}};
  auto s = MtpScenario("sglang", flags);
  if (!s.ok()) FAIL(s.status().message());
  const nlohmann::ordered_json& d = s->doc;
  CHECK(s->stem == "b200-sglang-fp4-mtp-tp8-ep1-isl1024-osl8192-c64");
  CHECK(s->draft_tokens == 2);
  CHECK(d["speculative"] ==
        nlohmann::ordered_json{{"method", "mtp"},
                               {"draft_tokens", 2},
                               {"acceptance", {{"curve", "deepseek-r1-inferencex-random-chat"}}}});
  // Top-level order: the speculative section follows the deployment.
  std::vector<std::string> keys;
  for (const auto& [key, value] : d.items()) keys.push_back(key);
  CHECK(keys == std::vector<std::string>{"name", "description", "hardware", "model", "runtime",
                                         "deployment", "speculative", "workload", "simulation",
                                         "reference"});
  const std::string description = d["description"];
  CHECK(description.find("k = 2 draft tokens") != std::string::npos);
  CHECK(description.find("speculative_num_steps=2") != std::string::npos);
  CHECK(description.find("Acceptance is fitted, not measured on this row") != std::string::npos);
  CHECK(description.find("tech blog 1") != std::string::npos);
  CHECK(description.find("tools/calibrate/mtp_acceptance_fit.json") != std::string::npos);
  // Every speculative flag is modelled: spec_v2 keeps SGLang's overlap scheduler on for MTP.
  CHECK(description.find("spec_v2") == std::string::npos);
  CHECK(d["runtime"]["speculative_host_overlap"] == "mtp");
  json v1_flags = flags;
  v1_flags["spec_v2"] = false;
  auto v1 = MtpScenario("sglang", v1_flags);
  if (!v1.ok()) FAIL(v1.status().message());
  CHECK_FALSE(v1->doc["runtime"].contains("speculative_host_overlap"));

  // TensorRT-LLM: num_nextn_predict_layers; ATOM: num_speculative_tokens or its recorded default.
  auto trt = MtpScenario("trt", {{"spec_algorithm", "MTP"}, {"mtp_nextn_layers", 3}});
  if (!trt.ok()) FAIL(trt.status().message());
  CHECK(trt->doc["speculative"]["draft_tokens"] == 3);
  auto atom = MtpScenario("atom", {{"spec_algorithm", "mtp"},
                                   {"num_speculative_tokens", "default (1 in ATOM arg_utils)"}});
  if (!atom.ok()) FAIL(atom.status().message());
  CHECK(atom->doc["speculative"]["draft_tokens"] == 1);
  CHECK(atom->doc["description"].get<std::string>().find("ATOM's default") != std::string::npos);

  // More draft tokens than the curve covers: clamped to 5, said so.
  auto many = MtpScenario("trt", {{"mtp_nextn_layers", 7}});
  if (!many.ok()) FAIL(many.status().message());
  CHECK(many->doc["speculative"]["draft_tokens"] == 5);
  CHECK(many->doc["description"].get<std::string>().find("clamped from 7 to 5") !=
        std::string::npos);
  // No draft-token flag: the default 3, said to be assumed.
  auto none = MtpScenario("trt", {{"spec_algorithm", "MTP"}});
  if (!none.ok()) FAIL(none.status().message());
  CHECK(none->doc["speculative"]["draft_tokens"] == 3);
  CHECK(none->doc["description"].get<std::string>().find("assumed") != std::string::npos);

  // SGLang tree drafts (topk > 1) have no moesim equivalent.
  CHECK_FALSE(MtpScenario("sglang", {{"speculative_num_steps", 3},
                                     {"speculative_eagle_topk", 4},
                                     {"speculative_num_draft_tokens", 8}})
                  .ok());
}

TEST_CASE("scenario: a disaggregated MTP row assumes 3 draft tokens (no recipe)", "[calibrate]") {
  InferencexRow row = DisaggRow("mori-sglang");
  row.spec = "mtp";
  row.prefill_dp_attention = false;
  row.prefill_ep = 1;
  REQUIRE(SkipReason(row).empty());
  auto s = BuildDisaggregatedScenario(row);
  if (!s.ok()) FAIL(s.status().message());
  CHECK(s->stem == "b200-mori-sglang-fp4-mtp-1p-tp4-ep1-5d-tp8-ep8-isl1024-osl8192-c64");
  CHECK(s->draft_tokens == 3);
  CHECK(s->doc["speculative"] ==
        nlohmann::ordered_json{{"method", "mtp"},
                               {"draft_tokens", 3},
                               {"acceptance", {{"curve", "deepseek-r1-inferencex-random-chat"}}}});
  const std::string description = s->doc["description"];
  CHECK(description.find("assumed: the row has no recipe") != std::string::npos);
  CHECK(description.find("--speculative-num-steps 3 --speculative-eagle-topk 1") !=
        std::string::npos);
  CHECK(description.find("Acceptance is fitted") != std::string::npos);
}

}  // namespace
}  // namespace moesim::calibrate
