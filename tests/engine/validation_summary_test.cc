// Tests for the validation summary in engine/validation.h: per-metric error statistics (median
// of an even count, worst row, signed bias, rows outside tolerance), grouping by stack, GPU and
// plan kind, the labels taken from a scenario, and the text and JSON forms; `moesim validate`
// with --summary-only and --json, and its exit code 3.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/validation.h"

namespace moesim {
namespace {

ValidationRow Row(const std::string& scenario, const std::string& metric, double error_pct,
                  double tolerance_pct = 30) {
  ValidationRow r;
  r.scenario = scenario;
  r.metric = metric;
  r.measured = 100;
  r.predicted = 100 + error_pct;
  r.error_pct = error_pct;
  r.tolerance_pct = tolerance_pct;
  r.pass = error_pct <= tolerance_pct && error_pct >= -tolerance_pct;
  return r;
}

ScenarioValidation Result(const std::string& scenario, const std::string& stack,
                          const std::string& gpu, const std::string& plan,
                          std::vector<ValidationRow> rows) {
  return {scenario, {stack, gpu, plan}, std::move(rows)};
}

TEST_CASE("summary: median of an even count, worst row, bias and rows outside tolerance",
          "[validation]") {
  const std::vector<ScenarioValidation> results = {
      Result("a", "sglang", "B200", "tp", {Row("a", "tpot", 10)}),
      Result("b", "sglang", "B200", "tp", {Row("b", "tpot", -20)}),
      Result("c", "sglang", "B200", "tp", {Row("c", "tpot", 5)}),
      Result("d", "sglang", "B200", "tp", {Row("d", "tpot", -40)}),
  };
  const ValidationSummary s = SummarizeValidation(results);
  REQUIRE(s.metrics.size() == 1);
  const ErrorStats& all = s.metrics[0].all;
  CHECK(all.count == 4);
  CHECK(all.median_abs_error_pct == Approx(15));  // |err| 5, 10, 20, 40: (10 + 20) / 2
  CHECK(all.median_error_pct == Approx(-7.5));    // -40, -20, 5, 10: (-20 + 5) / 2
  CHECK(all.worst_abs_error_pct == Approx(40));
  CHECK(all.worst_error_pct == Approx(-40));
  CHECK(all.worst_scenario == "d");
  CHECK(all.outside_tolerance == 1);
}

TEST_CASE("summary: odd count takes the middle value; ties for worst keep the first row",
          "[validation]") {
  const std::vector<ScenarioValidation> results = {
      Result("first", "vllm", "H200", "tp", {Row("first", "m", 12)}),
      Result("second", "vllm", "H200", "tp", {Row("second", "m", -12)}),
      Result("third", "vllm", "H200", "tp", {Row("third", "m", 3)}),
  };
  const ErrorStats& all = SummarizeValidation(results).metrics[0].all;
  CHECK(all.median_abs_error_pct == Approx(12));
  CHECK(all.median_error_pct == Approx(3));
  CHECK(all.worst_scenario == "first");
}

TEST_CASE("summary: metrics sorted by name, each split by stack, GPU and plan kind",
          "[validation]") {
  const std::vector<ScenarioValidation> results = {
      Result("s1", "sglang", "B200", "tp", {Row("s1", "tput", 10), Row("s1", "tpot", -5)}),
      Result("s2", "trtllm", "B200", "tp+ep", {Row("s2", "tput", -30), Row("s2", "tpot", 50)}),
      Result("s3", "sglang", "MI355X", "dp-attention+ep", {Row("s3", "tput", 20)}),
  };
  const ValidationSummary s = SummarizeValidation(results);
  REQUIRE(s.metrics.size() == 2);
  CHECK(s.metrics[0].metric == "tpot");
  CHECK(s.metrics[1].metric == "tput");

  const MetricSummary& tput = s.metrics[1];
  CHECK(tput.all.count == 3);
  CHECK(tput.all.median_abs_error_pct == Approx(20));
  REQUIRE(tput.by_stack.size() == 2);
  CHECK(tput.by_stack.at("sglang").count == 2);
  CHECK(tput.by_stack.at("sglang").median_abs_error_pct == Approx(15));
  CHECK(tput.by_stack.at("sglang").worst_scenario == "s3");
  CHECK(tput.by_stack.at("trtllm").worst_error_pct == Approx(-30));
  REQUIRE(tput.by_gpu.size() == 2);
  CHECK(tput.by_gpu.at("B200").count == 2);
  CHECK(tput.by_gpu.at("MI355X").count == 1);
  REQUIRE(tput.by_plan.size() == 3);
  CHECK(tput.by_plan.at("dp-attention+ep").median_abs_error_pct == Approx(20));

  const MetricSummary& tpot = s.metrics[0];
  CHECK(tpot.all.count == 2);
  CHECK(tpot.all.outside_tolerance == 1);
  CHECK(tpot.by_gpu.count("MI355X") == 0);  // s3 has no TPOT reference
}

TEST_CASE("summary: labels from a scenario (stack, GPU, plan kind)", "[validation]") {
  Scenario s;
  s.plan.pools.emplace_back();
  s.plan.pools[0].runtime.name = "sglang";
  s.plan.pools[0].gpu.name = "B200";
  ParallelPlan& plan = s.plan.pools[0].deployment.plan;
  plan.tp = 8;
  plan.ep = 1;
  CHECK(LabelsFor(s).stack == "sglang");
  CHECK(LabelsFor(s).gpu == "B200");
  CHECK(LabelsFor(s).plan == "tp");
  plan.ep = 8;
  CHECK(LabelsFor(s).plan == "tp+ep");
  plan.tp = 1;
  plan.dp_attention = true;
  CHECK(LabelsFor(s).plan == "dp-attention+ep");
}

TEST_CASE("summary: text and JSON forms", "[validation]") {
  const std::vector<ScenarioValidation> results = {
      Result("s1", "sglang", "B200", "tp", {Row("s1", "throughput.x", 10)}),
      Result("s2", "atom", "MI355X", "tp", {Row("s2", "throughput.x", -40)}),
  };
  const ValidationSummary s = SummarizeValidation(results);
  const std::string text = FormatValidationSummary(s);
  CHECK(text.find("throughput.x\n") != std::string::npos);
  CHECK(text.find("  all ") != std::string::npos);
  CHECK(text.find("  stack atom ") != std::string::npos);
  CHECK(text.find("  gpu MI355X ") != std::string::npos);
  CHECK(text.find("  plan tp ") != std::string::npos);
  CHECK(text.find(" s2\n") != std::string::npos);  // the worst scenario ends the "all" line

  const nlohmann::json j = ValidationSummaryToJson(s);
  CHECK(j["throughput.x"]["all"]["count"] == 2);
  CHECK(j["throughput.x"]["all"]["median_abs_error_pct"].get<double>() == Approx(25));
  CHECK(j["throughput.x"]["all"]["outside_tolerance"] == 1);
  CHECK(j["throughput.x"]["by_gpu"]["B200"]["worst_scenario"] == "s1");
  const nlohmann::json rows = ValidationRowsToJson(results);
  REQUIRE(rows.size() == 2);
  CHECK(rows[1]["stack"] == "atom");
  CHECK(rows[1]["plan"] == "tp");
  CHECK(rows[1]["pass"] == false);
}

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult RunMoesim(const std::string& args) {
  const std::string cmd = std::string(MOESIM_BINARY) + " " + args + " 2>&1";
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

TEST_CASE(
    "moesim validate --summary-only --json: summary without per-row lines, rows and "
    "summary in the file",
    "[validation][cli]") {
  const std::string json_path =
      "/tmp/moesim-validate-summary-" + std::to_string(getpid()) + ".json";
  const CommandResult r = RunMoesim(
      "validate " MOESIM_SOURCE_DIR "/scenarios/reference --summary-only --json " + json_path);
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("summary:") != std::string::npos);
  CHECK(r.output.find("throughput.output_tok_per_s\n") != std::string::npos);
  CHECK(r.output.find("  stack vllm ") != std::string::npos);
  CHECK(r.output.find("result") == std::string::npos);  // no per-row table header
  CHECK(r.output.find("all predictions within tolerance") != std::string::npos);
  const nlohmann::json doc = ReadJson(json_path);
  // Seed 000: five scenarios with 8 references (throughput x5, KV capacity, KV utilisation x2);
  // the lmsys gpt-oss batch-1 points (measurements README §2 P6): four, one reference each.
  CHECK(doc["rows"].size() == 12);
  int h200 = 0, per_user = 0;
  for (const auto& row : doc["rows"]) {
    h200 += row["gpu"] == "H200";
    per_user += row["metric"] == "throughput.per_user_output_tok_per_s";
  }
  CHECK(h200 == 8);
  CHECK(per_user == 4);
  CHECK(doc["summary"]["throughput.output_tok_per_s"]["all"]["count"] == 5);
  CHECK(doc["summary"]["throughput.output_tok_per_s"]["by_plan"]["tp"]["count"] == 5);
  std::filesystem::remove(json_path);
}

TEST_CASE("moesim validate exits 3 and counts the row when a prediction is outside tolerance",
          "[validation][cli]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("moesim-validate-" + std::to_string(getpid()));
  fs::create_directories(dir);
  nlohmann::json scenario = ReadJson(MOESIM_SOURCE_DIR "/scenarios/reference/seed000_c0001.json");
  scenario["reference"] = nlohmann::json::array({scenario["reference"][0]});
  scenario["reference"][0]["value"] = 2.5;  // a tenth of the measured 25 tok/s
  std::ofstream(dir / "far_off.json") << scenario.dump(2);
  const CommandResult r = RunMoesim("validate " + dir.string());
  INFO(r.output);
  CHECK(r.exit_code == 3);
  CHECK(r.output.find("FAIL") != std::string::npos);
  CHECK(r.output.find("some predictions are outside their tolerance") != std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace moesim
