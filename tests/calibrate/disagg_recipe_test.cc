// Tests for tools/calibrate/disagg_recipe_book.h and the disaggregated path of
// tools/calibrate/inferencex_scenario.h under a per-worker recipe, on hand-made entries shaped
// like docs/research/inferencex_disagg_recipes.json.
#include "tools/calibrate/disagg_recipe_book.h"

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tools/calibrate/inferencex_scenario.h"

namespace moesim::calibrate {
namespace {

using nlohmann::json;

// Dynamo + TensorRT-LLM on H100: prefill 2 x DP-attention EP16, decode 1 x DP-attention EP16
// (CSV line 205 of the training set, shortened).
InferencexRow H100Row(const std::string& spec) {
  InferencexRow r;
  r.line = 205;
  r.hardware = "h100";
  r.framework = "dynamo-trt";
  r.precision = "fp8";
  r.spec = spec;
  r.disagg = true;
  r.tp = r.ep = 16;
  r.dp_attention = true;
  r.decode_workers = 1;
  r.prefill_tp = r.prefill_ep = 16;
  r.prefill_dp_attention = true;
  r.prefill_workers = 2;
  r.prefill_gpus = 32;
  r.decode_gpus = 16;
  r.total_gpus = 48;
  r.isl = r.osl = 1024;
  r.conc = 4916;
  r.median_tpot_ms_text = "119.48";
  r.median_tpot_ms = 119.48;
  r.median_ttft_s = 20.176;
  r.tput_per_gpu_total_text = "1375.9";
  r.tput_per_gpu_total = 1375.9;
  r.output_tput_per_gpu_text = "2062.8";
  r.output_tput_per_gpu = 2062.8;
  r.date = "2026-02-08";
  r.run_url = "https://example.org/run/2";
  return r;
}

json Entry(const std::string& spec, json decode_extra = json::object()) {
  json decode = {{"tp_size", 16},
                 {"ep_size", 16},
                 {"enable_attention_dp", true},
                 {"max_batch_size", 256},
                 {"max_num_tokens", 256},
                 {"free_gpu_memory_fraction", 0.9},
                 {"kv_cache_dtype", "fp8"},
                 {"cuda_graph_max_bs", 256},
                 {"moe_backend", "WIDEEP"}};
  decode.update(decode_extra);
  return {{"hardware", "h100"},
          {"framework", "dynamo-trt"},
          {"precision", "fp8"},
          {"spec", spec},
          {"isl", "1024"},
          {"osl", "1024"},
          {"conc", "4916"},
          {"date", "2026-02-08"},
          {"csv_line", 205},
          {"prefill_workers", 2},
          {"decode_workers", 1},
          {"recipe_id", "ctx2_gen1"},
          {"config_file", "recipes/x.yaml"},
          {"master_config", "InferenceX master@abc"},
          {"source", "NVIDIA/srt-slurm recipes/x.yaml@def"},
          {"prefill",
           {{"tp_size", 16},
            {"ep_size", 16},
            {"enable_attention_dp", true},
            {"max_batch_size", 2},
            {"max_num_tokens", 2048},
            {"free_gpu_memory_fraction", 0.6},
            {"kv_cache_dtype", "fp8"},
            {"disable_overlap_scheduler", true},
            {"cuda_graph", false}}},
          {"decode", decode},
          {"prefill_env", json::object()},
          {"decode_env", {{"TRTLLM_FORCE_ALLTOALL_METHOD", "DeepEP"}}}};
}

absl::StatusOr<DisaggRecipeBook> Book(json entry) {
  return DisaggRecipeBook::FromJson(json{{"rows", json::array({std::move(entry)})}}, "d.json");
}

TEST_CASE("disagg recipes: a row finds its entry by identity and worker counts", "[calibrate]") {
  auto book = Book(Entry("none"));
  REQUIRE(book.ok());
  InferencexRow row = H100Row("none");
  auto m = book->Find(row);
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  CHECK((*m)->recipe_id() == "ctx2_gen1");
  auto kv = (*m)->decode().Flag("kv_cache_dtype");
  REQUIRE(kv.ok());
  CHECK(*kv == "fp8");
  auto seqs = (*m)->prefill().Flag("max_batch_size");
  REQUIRE(seqs.ok());
  CHECK(*seqs == 2);
  CHECK((*m)->decode().env().at("TRTLLM_FORCE_ALLTOALL_METHOD") == "DeepEP");

  row.decode_workers = 3;  // another configuration at the same concurrency
  m = book->Find(row);
  REQUIRE(m.ok());
  CHECK_FALSE(m->has_value());
  row = H100Row("none");
  row.disagg = false;  // aggregated rows never match
  m = book->Find(row);
  REQUIRE(m.ok());
  CHECK_FALSE(m->has_value());
}

TEST_CASE("disagg recipes: malformed files and duplicate entries are errors", "[calibrate]") {
  CHECK_FALSE(DisaggRecipeBook::FromJson(json::array(), "d.json").ok());
  json e = Entry("none");
  e["conc"] = "many";
  auto bad = Book(e);
  REQUIRE_FALSE(bad.ok());
  CHECK(std::string(bad.status().message()).find("d.json: $.rows[0].conc") != std::string::npos);
  e = Entry("none");
  e.erase("decode");
  CHECK_FALSE(Book(e).ok());
  auto twice =
      DisaggRecipeBook::FromJson(json{{"rows", json::array({Entry("none"), Entry("none")})}}, "d");
  REQUIRE(twice.ok());
  auto m = twice->Find(H100Row("none"));
  REQUIRE_FALSE(m.ok());
  CHECK(std::string(m.status().message()).find("2 recipes match CSV line 205") !=
        std::string::npos);
}

TEST_CASE(
    "disagg recipes: each pool gets its side's flags, the model the recipe's KV dtype, the "
    "description the sources and what is not modelled",
    "[calibrate]") {
  auto book = Book(Entry("none"));
  REQUIRE(book.ok());
  const InferencexRow row = H100Row("none");
  auto m = book->Find(row);
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  auto s = BuildDisaggregatedScenario(row, {}, &**m);
  if (!s.ok()) FAIL(s.status().message());
  const nlohmann::ordered_json& d = s->doc;
  CHECK(d["model"]["kv_dtype"] == "fp8");
  const nlohmann::ordered_json& prefill = d["deployment"]["pools"][0];
  const nlohmann::ordered_json& decode = d["deployment"]["pools"][1];
  CHECK(prefill["runtime"] == nlohmann::ordered_json{{"preset", "trtllm"},
                                                     {"memory_fraction", 0.6},
                                                     {"max_num_seqs", 2},
                                                     {"max_num_batched_tokens", 2048},
                                                     {"host_overlap", false},
                                                     {"execution_mode", "eager"}});
  CHECK(decode["runtime"] == nlohmann::ordered_json{{"preset", "trtllm"},
                                                    {"memory_fraction", 0.9},
                                                    {"cuda_graph_max_batch", 256},
                                                    {"max_num_seqs", 256},
                                                    {"max_num_batched_tokens", 256}});
  const std::string description = d["description"];
  CHECK(description.find("Recipe ctx2_gen1 (docs/research/inferencex_disagg_recipes.json): "
                         "NVIDIA/srt-slurm recipes/x.yaml@def, named by InferenceX "
                         "master@abc; KV cache fp8.") != std::string::npos);
  CHECK(description.find("Decode also passes, not modelled: moe_backend=WIDEEP.") !=
        std::string::npos);
  CHECK(description.find("Decode env: TRTLLM_FORCE_ALLTOALL_METHOD=DeepEP.") != std::string::npos);
  CHECK(description.find("No server recipe") == std::string::npos);
  CHECK(description.find("side passes") == std::string::npos);  // the plans agree
}

TEST_CASE(
    "disagg recipes: an MTP row takes k from the decode side, SGLang spec v2 keeps the overlap; a "
    "plan that disagrees with the CSV is stated",
    "[calibrate]") {
  json e = Entry("mtp", {{"mtp_nextn_layers", 2}, {"spec_algorithm", "MTP"}, {"ep_size", 8}});
  auto book = Book(e);
  REQUIRE(book.ok());
  const InferencexRow row = H100Row("mtp");
  auto m = book->Find(row);
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  auto s = BuildDisaggregatedScenario(row, {}, &**m);
  if (!s.ok()) FAIL(s.status().message());
  CHECK(s->draft_tokens == 2);
  const std::string description = s->doc["description"];
  CHECK(description.find("num_nextn_predict_layers=2") != std::string::npos);
  CHECK(description.find("The recipe's decode side passes TP 16 EP 8 DP attention on but the CSV "
                         "row says TP 16 EP 16 DP attention on; the pool follows the CSV.") !=
        std::string::npos);

  // SGLang: k from speculative_num_steps, SGLANG_ENABLE_SPEC_V2 keeps the overlap on.
  InferencexRow sglang = row;
  sglang.framework = "dynamo-sglang";
  e = Entry("mtp");
  e["framework"] = "dynamo-sglang";
  e["decode"] = {{"speculative_num_steps", 2},
                 {"speculative_eagle_topk", 1},
                 {"speculative_num_draft_tokens", 3},
                 {"max_running_requests", 128},
                 {"spec_v2", true}};
  e["prefill"] = json::object();
  book = Book(e);
  REQUIRE(book.ok());
  m = book->Find(sglang);
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  s = BuildDisaggregatedScenario(sglang, {}, &**m);
  if (!s.ok()) FAIL(s.status().message());
  CHECK(s->draft_tokens == 2);
  CHECK(s->doc["model"]["kv_dtype"] == "bf16");  // no kv_cache_dtype: the stack's auto
  const nlohmann::ordered_json& decode = s->doc["deployment"]["pools"][1];
  CHECK(decode["runtime"] == nlohmann::ordered_json{{"preset", "sglang"},
                                                    {"max_num_seqs", 128},
                                                    {"speculative_host_overlap", "mtp"}});
  CHECK_FALSE(s->doc["deployment"]["pools"][0].contains("runtime"));
  // The recipe gives the cap: no assumed one.
  CHECK(std::string(s->doc["description"]).find("assumed to have been given") == std::string::npos);
}

// SGLang's EP48 and EP24 decode groups ran 256 + 32 slots (ep_num_redundant_experts, CSV lines
// 139-145 and 155): without the recipe the row is skipped, with it the pool places the experts
// with 32 redundant slots (6 or 12 per GPU), and the flag is no longer listed as unmodelled.
TEST_CASE("disagg recipes: redundant expert slots let EP24 divide the experts", "[calibrate]") {
  InferencexRow row = H100Row("none");
  row.tp = row.ep = 24;
  row.decode_gpus = 24;
  row.total_gpus = 56;
  CHECK(SkipReason(row).find("decode: EP does not divide") != std::string::npos);
  json e = Entry("none", {{"tp_size", 24}, {"ep_size", 24}, {"ep_num_redundant_experts", 32}});
  auto book = Book(e);
  REQUIRE(book.ok());
  auto m = book->Find(row);
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  CHECK(SkipReason(row, &**m).empty());
  auto s = BuildDisaggregatedScenario(row, {}, &**m);
  if (!s.ok()) FAIL(s.status().message());
  const nlohmann::ordered_json& pools = s->doc["deployment"]["pools"];
  CHECK(pools[1]["expert_placement"] ==
        nlohmann::ordered_json{{"kind", "redundant"}, {"redundant_slots", 32}});
  CHECK_FALSE(pools[0].contains("expert_placement"));  // the prefill side gives none
  CHECK(std::string(s->doc["description"]).find("ep_num_redundant_experts") == std::string::npos);
  // 31 more slots would not divide: still skipped.
  e["decode"]["ep_num_redundant_experts"] = 31;
  book = Book(e);
  REQUIRE(book.ok());
  m = book->Find(row);
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  CHECK(SkipReason(row, &**m).find("decode: EP does not divide") != std::string::npos);
}

TEST_CASE("disagg recipes: prefill and decode KV dtypes must agree", "[calibrate]") {
  json e = Entry("none");
  e["prefill"]["kv_cache_dtype"] = "auto";
  auto book = Book(e);
  REQUIRE(book.ok());
  auto m = book->Find(H100Row("none"));
  REQUIRE(m.ok());
  REQUIRE(m->has_value());
  auto s = BuildDisaggregatedScenario(H100Row("none"), {}, &**m);
  REQUIRE_FALSE(s.ok());
  CHECK(std::string(s.status().message()).find("prefill KV bf16 but decode KV fp8") !=
        std::string::npos);
}

}  // namespace
}  // namespace moesim::calibrate
