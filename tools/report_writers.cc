#include "tools/report_writers.h"

#include <map>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace moesim {

namespace {

// The draft network of a report's speculative section, in words.
std::string DraftNetworkText(const nlohmann::json& sp) {
  if (sp["method"] == "eagle") return "EAGLE-3 head";
  if (sp["method"] == "draft_model") return "draft model " + sp["draft_model"].get<std::string>();
  return "MTP";
}

double Num(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : 0.0; }

std::string BoundText(const nlohmann::json& j) {
  return j.is_number() ? absl::StrFormat("%.1f", j.get<double>()) : std::string("unbounded");
}

}  // namespace

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string ReportToJson(const nlohmann::json& report) { return report.dump(2) + "\n"; }

std::string TimeSeriesToCsv(const nlohmann::json& report) {
  const nlohmann::json& ts = report.at("timeseries");
  const char* series[] = {"output_tok_per_s", "running",    "queued",    "kv_utilisation",
                          "finished",         "ttft_p50_s", "tpot_p50_s"};
  std::vector<std::string> header = {"t_s"};
  for (const char* k : series) header.push_back(k);
  std::vector<std::string> tiers;
  for (const auto& [tier, values] : ts["tier_gb_per_s"].items()) {
    tiers.push_back(tier);
    header.push_back(tier + "_gb_per_s");
  }
  std::string out = absl::StrJoin(header, ",") + "\n";
  auto cell = [](const nlohmann::json& v) { return v.is_null() ? std::string() : v.dump(); };
  for (size_t i = 0; i < ts["t_s"].size(); ++i) {
    std::vector<std::string> row = {cell(ts["t_s"][i])};
    for (const char* k : series) row.push_back(cell(ts[k][i]));
    for (const std::string& tier : tiers) row.push_back(cell(ts["tier_gb_per_s"][tier][i]));
    absl::StrAppend(&out, absl::StrJoin(row, ","), "\n");
  }
  return out;
}

const std::vector<std::string>& CsvColumns() {
  static const std::vector<std::string> columns = {
      "scenario",
      "meta.moesim_version",
      "meta.scenario_file",
      "meta.resolved_scenario_fnv1a64",
      "meta.seed",
      "meta.warmup_s",
      "meta.duration_s",
      "plan.gpus",
      "plan.fidelity",
      "throughput.output_tok_per_s",
      "throughput.total_tok_per_s",
      "throughput.output_tok_per_s_per_gpu",
      "throughput.total_tok_per_s_per_gpu",
      "throughput.per_user_output_tok_per_s",
      "throughput.requests_per_s",
      "latency_s.ttft.p50",
      "latency_s.ttft.p90",
      "latency_s.ttft.p99",
      "latency_s.tpot.p50",
      "latency_s.tpot.p90",
      "latency_s.tpot.p99",
      "latency_s.e2e.p50",
      "latency_s.e2e.count",
      "batch.mean_running",
      "batch.mean_queued",
      "batch.mean_step_ms",
      "kv.capacity_tokens",
      "kv.mean_utilisation",
      "kv.preemptions",
      "utilisation.gpu_busy",
      "limit.subsystem",
      "limit.pool",
      "fabric.tiers.scale_up.bytes",
      "fabric.tiers.scale_out.bytes",
      "fabric.tiers.inter_rack.bytes",
      "power.total_w",
      "cost.usd_per_hour",
      "cost.usd_per_million_output_tokens",
      "speculative.measured_acceptance_length",
      "disaggregation.kv_transfer.bytes",
      "rlvr.step_time_s",
      "rlvr.split_s.rollout",
      "rlvr.split_s.rollout_slowest_10pct",
      "rlvr.split_s.training",
      "rlvr.split_s.weight_sync",
      "rlvr.split_s.switch",
      "rlvr.usd_per_step",
      "rlvr.steps_per_quarter",
      "rlvr.rollout_usd_per_million_tokens",
  };
  return columns;
}

const nlohmann::json* JsonAtPath(const nlohmann::json& report, const std::string& path) {
  const nlohmann::json* node = &report;
  size_t begin = 0;
  while (node != nullptr && begin <= path.size()) {
    const size_t end = std::min(path.find('.', begin), path.size());
    const std::string key = path.substr(begin, end - begin);
    node = node->is_object() && node->contains(key) ? &(*node)[key] : nullptr;
    begin = end + 1;
  }
  return node;
}

std::string ReportToCsv(const nlohmann::json& report) {
  std::vector<std::string> keys, values;
  for (const std::string& path : CsvColumns()) {
    const nlohmann::json* node = JsonAtPath(report, path);
    keys.push_back(CsvField(path));
    values.push_back(node == nullptr || node->is_null() ? std::string()
                     : node->is_string()                ? CsvField(node->get<std::string>())
                                                        : CsvField(node->dump()));
  }
  return absl::StrCat(absl::StrJoin(keys, ","), "\n", absl::StrJoin(values, ","), "\n");
}

namespace {

// A number with `precision` decimals (scaled), or "n/a" for null (an empty sample).
std::string NumOrNa(const nlohmann::json& j, int precision, double scale = 1) {
  return j.is_number() ? absl::StrFormat("%.*f", precision, j.get<double>() * scale)
                       : std::string("n/a");
}

void AppendLatency(const nlohmann::json& l, std::string& s) {
  absl::StrAppendFormat(&s, "%-34s %10s %10s %10s\n", "latency (ms)", "p50", "p90", "p99");
  for (const char* k : {"ttft", "tpot", "e2e"}) {
    const auto& d = l[k];
    absl::StrAppendFormat(&s, "  %-32s %10s %10s %10s%s\n", k, NumOrNa(d["p50"], 1, 1e3),
                          NumOrNa(d["p90"], 1, 1e3), NumOrNa(d["p99"], 1, 1e3),
                          d["count"] == 0 ? "  (no request finished in the window)" : "");
  }
}

void AppendWarnings(const nlohmann::json& r, std::string& s) {
  for (const auto& w : r["warnings"]) {
    absl::StrAppendFormat(&s, "warning: %s\n", w.get<std::string>());
  }
}

// A report of several pools (engine/plan_report.h).
// The KV hierarchy's two lines (engine/kv_tier_report.h); `pool`: " (pool NAME)" or "".
// Fault injection (engine/fault_injection.h): one line per fault, then the retried requests.
void AppendFaults(const nlohmann::json& f, std::string& s) {
  for (const auto& e : f["events"]) {
    const std::string kind = e["kind"].get<std::string>();
    const bool spine = kind == "switch" && e.contains("spine");
    const bool scaleup = kind == "link" && e.contains("links_per_gpu");
    const std::string what =
        scaleup ? absl::StrFormat(
                      "gpu %d scale-up links (%d of %d; %.0f %% of its capacity "
                      "left)",
                      e["gpu"].get<int64_t>(), e["ports"].get<int64_t>(),
                      e["links_per_gpu"].get<int64_t>(), 100 * Num(e["scaleup_share_during"]))
        : kind == "link" ? "rack " + e["rack"].dump() + " uplink"
        : spine          ? absl::StrFormat(
                               "spine switch %d of %d (every rack's uplink at "
                                        "%.0f %% of its capacity)",
                               e["spine"].get<int64_t>(), e["spine_switches"].get<int64_t>(),
                               100 * Num(e["uplink_share_during"]))
        : kind == "switch" ? "rack " + e["leaf"].dump() + " leaf switch"
        : kind == "server" ? "server " + e["server"].dump()
                           : kind + " " + e["gpu"].dump();
    std::string stopped;
    if (e.contains("instances_stopped_by_pool")) {
      for (const auto& [pool, ks] : e["instances_stopped_by_pool"].items()) {
        for (const auto& k : ks) {
          absl::StrAppend(&stopped, stopped.empty() ? "" : ", ", pool, " ", k.get<int>());
        }
      }
    } else {
      for (const auto& k : e["instances_stopped"]) {
        absl::StrAppend(&stopped, stopped.empty() ? "" : ", ", k.get<int>());
      }
    }
    absl::StrAppendFormat(
        &s,
        "fault at %.1f s: %s down%s; instances stopped: %s; %s; %d requests re-routed, "
        "%d KV tokens to recompute, at most %d waiting for a live instance\n",
        Num(e["at_s"]), what,
        kind == "link" && !scaleup
            ? absl::StrFormat(" (%d of %.4g ports; %.0f %% of its capacity left)",
                              e["ports"].get<int64_t>(), Num(e["uplink_ports"]),
                              100 * Num(e["uplink_share_during"]))
            : std::string(),
        stopped.empty() ? "none" : stopped,
        e["recovered_at_s"].is_null() ? std::string("not back within the run")
                                      : absl::StrFormat("back at %.1f s", Num(e["recovered_at_s"])),
        e["requests_retried"].get<int64_t>(), e["tokens_recomputed"].get<int64_t>(),
        e["max_requests_stranded"].get<int64_t>());
    if (e.contains("instances_degraded") && !e["instances_degraded"].empty()) {
      std::string went_on;
      for (const auto& k : e["instances_degraded"]) {
        absl::StrAppend(&went_on, went_on.empty() ? "" : ", ", k.get<int>());
      }
      absl::StrAppendFormat(&s,
                            "  EP groups that went on without the failed GPUs (their experts' "
                            "replicas elsewhere): %s; %d ranks dropped\n",
                            went_on, e["ranks_dropped"].get<int64_t>());
    }
    if (e.value("trainer_stopped", false)) {
      absl::StrAppendFormat(&s, "  stopped the RLVR trainer: %d steps trained again\n",
                            e["training_restarts"].get<int64_t>());
    }
    if (e.contains("kv_transfers_lost")) {
      absl::StrAppendFormat(&s,
                            "  KV transfers: %d lost with their prefill GPUs (prefilled again), "
                            "%d sent again after their decode instance failed\n",
                            e["kv_transfers_lost"].get<int64_t>(),
                            e["kv_transfers_redone"].get<int64_t>());
    }
    if (e.contains("output_tok_per_s_before")) {
      absl::StrAppendFormat(
          &s, "  output %.0f tok/s before, %.0f at the lowest after; %s\n",
          Num(e["output_tok_per_s_before"]), Num(e["output_tok_per_s_lowest_after"]),
          e["time_to_recover_s"].is_null()
              ? std::string("not within 5 % of before again in the run")
              : absl::StrFormat("back within 5 %% after %.1f s", Num(e["time_to_recover_s"])));
    }
  }
  absl::StrAppendFormat(&s,
                        "faults: %d requests re-routed, %d of them finished, %d still in the "
                        "system at the end, none lost\n",
                        f["requests_retried"].get<int64_t>(),
                        f["retried_requests_finished"].get<int64_t>(),
                        f["retried_requests_unfinished"].get<int64_t>());
}

// `pool`: "" for a one-pool report, else " (pool NAME)".
void AppendSpeculative(const nlohmann::json& sp, const std::string& pool, std::string& s) {
  absl::StrAppendFormat(
      &s,
      "speculative%s: %s, %d draft tokens, acceptance length %.2f measured "
      "(%.2f configured, %s); drafting %.1f%% of a step, %.1f%% of verified "
      "positions rejected\n",
      pool, DraftNetworkText(sp), sp["draft_tokens"].get<int>(),
      Num(sp["measured_acceptance_length"]), Num(sp["configured_acceptance_length"]),
      sp["acceptance_source"].get<std::string>(), 100 * Num(sp["draft_time_share"]),
      100 * Num(sp["rejected_position_share"]));
}

void AppendKvHierarchy(const nlohmann::json& k, const std::string& pool, std::string& s) {
  const auto& hit = k["prefix_cache"]["hit_ratio"];
  const auto& link = k["host_link"];
  absl::StrAppendFormat(
      &s,
      "KV hierarchy%s: prefix caching %s, preemption %s, capacity offload %s; prompt tokens hit "
      "%.1f%% in HBM, %.1f%% in host DRAM; host tier %.1f GB per GPU, peak %.1f%% used\n",
      pool, k["prefix_caching"].get<bool>() ? "on" : "off", k["preemption"].get<std::string>(),
      k["capacity_offload"].get<bool>() ? "on" : "off", 100 * Num(hit["hbm"]),
      100 * Num(hit["host"]), Num(k["host_tier"]["gb_per_gpu"]),
      100 * Num(k["host_tier"]["peak_utilisation"]));
  absl::StrAppendFormat(
      &s,
      "  host links (%s): %.2f GB/s to host, %.2f GB/s from host (%.1f%% / %.1f%% of the "
      "links); steps waited %.1f%% of their time on KV copies; preemptions %d swap, %d "
      "recompute; limit %s (%s)\n",
      link["fabric"].get<std::string>(), Num(link["to_host_gb_per_s"]),
      Num(link["from_host_gb_per_s"]), 100 * Num(link["utilisation"]["to_host"]),
      100 * Num(link["utilisation"]["from_host"]), 100 * Num(k["io_wait_share_of_step_time"]),
      k["preemptions"]["swap"].get<int64_t>(), k["preemptions"]["recompute"].get<int64_t>(),
      k["limit"]["subsystem"].get<std::string>(), k["limit"]["evidence"].get<std::string>());
  if (k.contains("ssd_tier")) {
    const auto& ssd = k["ssd_tier"];
    absl::StrAppendFormat(
        &s,
        "  SSD tier (%s): %.1f GB per GPU, peak %.1f%% used; prompt tokens hit %.1f%% on SSD; "
        "%.2f GB/s read, %.2f GB/s written (%.1f%% / %.1f%% of the drives)\n",
        ssd["drives"].get<std::string>(), Num(ssd["gb_per_gpu"]),
        100 * Num(ssd["peak_utilisation"]), 100 * Num(hit["ssd"]), Num(ssd["read_gb_per_s"]),
        Num(ssd["write_gb_per_s"]), 100 * Num(ssd["utilisation"]["read"]),
        100 * Num(ssd["utilisation"]["write"]));
  }
}

std::string PlanReportToText(const nlohmann::json& r) {
  const auto& p = r["plan"];
  const auto& t = r["throughput"];
  std::string s;
  absl::StrAppendFormat(&s, "moesim report: %s\n", r["scenario"].get<std::string>());
  absl::StrAppendFormat(&s, "plan: %s on %d GPUs in %d pools%s, router %s, fidelity %s\n",
                        p["model"].get<std::string>(), p["gpus"].get<int>(), p["pools"].get<int>(),
                        p["disaggregated"].get<bool>() ? " (prefill/decode disaggregated)" : "",
                        p["router"].get<std::string>(), p["fidelity"].get<std::string>());
  absl::StrAppendFormat(&s, "measured over %.1f s of simulated time\n\n", Num(r["window_s"]));
  absl::StrAppendFormat(&s, "%-34s %14s\n", "throughput (all pools)", "");
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "output tok/s", Num(t["output_tok_per_s"]));
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "input tok/s", Num(t["input_tok_per_s"]));
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "total tok/s (input + output)",
                        Num(t["total_tok_per_s"]));
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "tokens processed/s",
                        Num(t["processed_tok_per_s"]));
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "total tok/s per GPU",
                        Num(t["total_tok_per_s_per_gpu"]));
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "output tok/s per GPU",
                        Num(t["output_tok_per_s_per_gpu"]));
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "output tok/s per decode GPU",
                        Num(t["output_tok_per_s_per_decode_gpu"]));
  absl::StrAppendFormat(&s, "  %-32s %14s\n", "output tok/s per user",
                        NumOrNa(t["per_user_output_tok_per_s"], 1));
  absl::StrAppendFormat(&s, "  %-32s %14.2f\n", "requests/s", Num(t["requests_per_s"]));
  const auto& l = r["latency_s"];
  AppendLatency(l, s);
  if (l.contains("ttft_stages")) {
    absl::StrAppendFormat(&s, "  %-32s %10s\n", "time to first token by stage", "mean");
    for (const char* k :
         {"prefill_queue", "prefill", "decode_reservation", "kv_transfer", "decode_admission"}) {
      absl::StrAppendFormat(&s, "    %-30s %10.1f\n", k, Num(l["ttft_stages"][k]["mean"]) * 1e3);
    }
  }
  if (r.contains("disaggregation")) {
    const auto& d = r["disaggregation"];
    const auto& kv = d["kv_transfer"];
    absl::StrAppendFormat(
        &s,
        "KV transfers (%s%s): %d, %.1f MB each, %.2f ms mean / %.2f ms p90, "
        "%.2f GB/s\n",
        d["connector"].get<std::string>(), d["layerwise"].get<bool>() ? ", layer-wise" : "",
        kv["transfers"].get<int64_t>(), Num(kv["mean_bytes"]) / 1e6,
        Num(kv["seconds"]["mean"]) * 1e3, Num(kv["seconds"]["p90"]) * 1e3, Num(kv["gb_per_s"]));
    for (const char* tier : {"scale_up", "scale_out", "inter_rack", "host"}) {
      absl::StrAppendFormat(&s, "  %-32s %10.2f GB/s %10.2f s as bottleneck\n", tier,
                            Num(kv["tiers"][tier]["gb_per_s"]),
                            Num(kv["tiers"][tier]["bottleneck_seconds"]));
    }
    const auto& bp = d["decode_back_pressure"];
    absl::StrAppendFormat(&s,
                          "decode back-pressure: %.1f prompts waiting for decode KV on average "
                          "(max %d); %.1f%% of finished requests waited\n",
                          Num(bp["mean_waiting_requests"]),
                          bp["max_waiting_requests"].get<int64_t>(),
                          100 * Num(bp["share_of_finished"]));
  }
  absl::StrAppendFormat(&s, "\n%-14s %-8s %-6s %5s %-26s %9s %11s %7s  %s\n", "pool", "role", "gpu",
                        "GPUs", "plan", "tok/s/GPU", "out tok/s", "busy%", "limit");
  for (auto it = r["pools"].begin(); it != r["pools"].end(); ++it) {
    const auto& q = *it;
    const auto& qp = q["plan"];
    const std::string plan = absl::StrFormat(
        "%s TP%d PP%d EP%d%s%s x%d", qp["runtime"].get<std::string>(),
        qp["tensor_parallel"].get<int>(), qp["pipeline_parallel"].get<int>(),
        qp["expert_parallel"].get<int>(), qp["attention"] == "data_parallel" ? " DPA" : "",
        qp.contains("draft_gpus_per_instance")
            ? absl::StrFormat("+%dD", qp["draft_gpus_per_instance"].get<int>())
            : "",
        qp["instances"].get<int>());
    absl::StrAppendFormat(
        &s, "%-14s %-8s %-6s %5d %-26s %9.1f %11.1f %7.1f  %s\n", it.key(),
        q["role"].get<std::string>(), qp["gpu"].get<std::string>(), qp["gpus"].get<int>(), plan,
        Num(q["throughput"]["total_tok_per_s_per_gpu"]), Num(q["throughput"]["output_tok_per_s"]),
        100 * Num(q["utilisation"]["gpu_busy"]), q["limit"]["subsystem"].get<std::string>());
  }
  for (auto it = r["pools"].begin(); it != r["pools"].end(); ++it) {
    if (it->contains("kv_hierarchy")) {
      AppendKvHierarchy((*it)["kv_hierarchy"], " (pool " + it.key() + ")", s);
    }
    if (it->contains("speculative")) {
      AppendSpeculative((*it)["speculative"], " (pool " + it.key() + ")", s);
    }
  }
  absl::StrAppendFormat(&s, "\nlimit: pool %s, %s (%s)\n", r["limit"]["pool"].get<std::string>(),
                        r["limit"]["subsystem"].get<std::string>(),
                        r["limit"]["evidence"].get<std::string>());
  if (r.contains("faults")) AppendFaults(r["faults"], s);
  AppendWarnings(r, s);
  absl::StrAppendFormat(&s, "power: %.0f W in all, %.2f J per output token\n",
                        Num(r["power"]["total_w"]), Num(r["power"]["joules_per_output_token"]));
  const auto& c = r["cost"];
  absl::StrAppendFormat(&s, "cost: $%.2f/hour, $%s per million output tokens\n",
                        Num(c["usd_per_hour"]),
                        c["usd_per_million_output_tokens"].is_number()
                            ? absl::StrFormat("%.3f", Num(c["usd_per_million_output_tokens"]))
                            : std::string("n/a"));
  return s;
}

}  // namespace

// An RLVR run (engine/rlvr_report.h): the step, its split, cost and cadence, then each step.
std::string RlvrReportToText(const nlohmann::json& r) {
  const auto& p = r["plan"];
  const auto& x = r["rlvr"];
  const auto& sp = x["split_s"];
  std::string s;
  absl::StrAppendFormat(&s, "moesim RLVR report: %s\n", r["scenario"].get<std::string>());
  absl::StrAppendFormat(
      &s, "plan: %s, %d GPUs (rollout %d, trainer %d%s), schedule %s, fidelity %s\n\n",
      p["model"].get<std::string>(), p["gpus"].get<int>(), p["rollout_gpus"].get<int>(),
      p["trainer_gpus"].get<int>(), p["schedule"] == "colocated" ? ", shared" : "",
      p["schedule"].get<std::string>(), p["fidelity"].get<std::string>());
  absl::StrAppendFormat(&s, "%-44s %12.1f s (%.2f h)\n", "step time",
                        x["step_time_s"].get<double>(), x["step_time_s"].get<double>() / 3600);
  absl::StrAppendFormat(&s, "  %-42s %12.1f s\n", "rollout (makespan)",
                        sp["rollout"].get<double>());
  absl::StrAppendFormat(&s, "    %-40s %12.1f s (%.0f%% of the rollout)\n",
                        "its slowest 10% of samples", sp["rollout_slowest_10pct"].get<double>(),
                        100 * x["rollout_tail_share"].get<double>());
  absl::StrAppendFormat(&s, "  %-42s %12.1f s\n", "training (analytic, MFU)",
                        sp["training"].get<double>());
  absl::StrAppendFormat(&s, "  %-42s %12.1f s\n", "weight sync", sp["weight_sync"].get<double>());
  absl::StrAppendFormat(&s, "  %-42s %12.1f s\n", "colocated switch", sp["switch"].get<double>());
  const auto& g = x["gpu_seconds"];
  absl::StrAppendFormat(&s,
                        "GPU time over the run: rollout %.0f busy / %.0f idle, trainer %.0f busy / "
                        "%.0f idle GPU-s (of %.0f)\n",
                        g["rollout_busy"].get<double>(), g["rollout_idle"].get<double>(),
                        g["trainer_busy"].get<double>(), g["trainer_idle"].get<double>(),
                        g["wall_times_gpus"].get<double>());
  absl::StrAppendFormat(
      &s, "per step: %.3g response tokens, %.1f GPU-hours, $%.2f; rollout $%s per million tokens\n",
      x["response_tokens_per_step"].get<double>(), x["gpu_hours_per_step"].get<double>(),
      x["usd_per_step"].get<double>(),
      x["rollout_usd_per_million_tokens"].is_null()
          ? std::string("n/a")
          : absl::StrFormat("%.2f", x["rollout_usd_per_million_tokens"].get<double>()));
  absl::StrAppendFormat(&s,
                        "cadence: %.1f steps per day, %.0f per quarter (90 days); optimizer steps "
                        "%.4f per s\n",
                        x["steps_per_day"].get<double>(), x["steps_per_quarter"].get<double>(),
                        x["trainer"]["optimizer_steps_per_s"].get<double>());
  const auto& w = x["weight_sync"];
  absl::StrAppendFormat(&s, "weight sync: %.3g GB per step (%s, delta %.2f; expected %.3g GB)\n",
                        w["bytes_per_step"].get<double>() / 1e9, w["dtype"].get<std::string>(),
                        w["delta_fraction"].get<double>(), w["expected_bytes"].get<double>() / 1e9);
  const auto& lim = x["limits"];
  absl::StrAppendFormat(&s, "limit: %s; rollout: %s; training: %s; sync: %s\n",
                        lim["step"].get<std::string>(), lim["rollout"].get<std::string>(),
                        lim["training"].get<std::string>(), lim["weight_sync"].get<std::string>());
  if (x["samples_unfinished_at_end"].get<int64_t>() > 0) {
    absl::StrAppendFormat(&s, "partial rollouts: %d samples still unfinished after the last step\n",
                          x["samples_unfinished_at_end"].get<int64_t>());
  }
  absl::StrAppendFormat(&s, "\n%5s %10s %10s %10s %9s %9s %8s %9s %9s %11s\n", "step", "start s",
                        "rollout s", "slowest10%", "train s", "sync s", "switch", "finished",
                        "carried", "resp. tok");
  for (const auto& st : x["steps"]) {
    absl::StrAppendFormat(&s, "%5d %10.1f %10.1f %10.1f %9.1f %9.1f %8.1f %9d %9d %11d\n",
                          st["step"].get<int>(), st["rollout_start_s"].get<double>(),
                          st["rollout_s"].get<double>(), st["slowest_10pct_s"].get<double>(),
                          st["train_s"].get<double>(), st["sync_s"].get<double>(),
                          st["switch_s"].get<double>(), st["samples_finished"].get<int64_t>(),
                          st["samples_carried"].get<int64_t>(),
                          st["response_tokens"].get<int64_t>());
    if (st.value("training_restarts", int64_t{0}) > 0) {
      absl::StrAppendFormat(&s,
                            "      trained again %d times after trainer faults: %.1f s lost "
                            "(in train s and sync s), %.3g GB of weight sync lost\n",
                            st["training_restarts"].get<int64_t>(),
                            st["train_lost_s"].get<double>(),
                            st["sync_bytes_lost"].get<double>() / 1e9);
    }
  }
  if (r.contains("faults")) {
    s += "\n";
    AppendFaults(r["faults"], s);
  }
  return s;
}

std::string ReportToText(const nlohmann::json& r) {
  if (r.contains("kind") && r["kind"] == "rlvr") return RlvrReportToText(r);
  if (r.contains("pools")) return PlanReportToText(r);
  const auto& p = r["plan"];
  const auto& t = r["throughput"];
  const auto& l = r["latency_s"];
  const auto& b = r["batch"];
  const auto& kv = r["kv"];
  const auto& u = r["utilisation"];
  const auto& sh = r["time_share"];
  const auto& bd = r["bounds_tok_per_s_per_gpu"];
  std::string s;
  absl::StrAppendFormat(&s, "moesim report: %s\n", r["scenario"].get<std::string>());
  absl::StrAppendFormat(
      &s,
      "plan: %s x%d, %s via %s (%s), TP=%d PP=%d EP=%d%s%s%s%s, %d instance(s), fidelity %s, "
      "collectives %s\n",
      p["gpu"].get<std::string>(), p["gpus"].get<int>(), p["model"].get<std::string>(),
      p["runtime"].get<std::string>(), p["execution_mode"].get<std::string>(),
      p["tensor_parallel"].get<int>(), p["pipeline_parallel"].get<int>(),
      p["expert_parallel"].get<int>(), p["attention"] == "data_parallel" ? " (DP attention)" : "",
      p.value("two_batch_overlap", false) ? " with two-batch overlap" : "",
      p.value("moe_dispatch", "low_latency") == "normal" ? ", DeepEP normal kernels" : "",
      p.contains("draft_gpus_per_instance")
          ? absl::StrFormat(", draft model on %d GPU(s) of its own",
                            p["draft_gpus_per_instance"].get<int>())
          : "",
      p["instances"].get<int>(), p["fidelity"].get<std::string>(),
      p["collectives"].get<std::string>());
  absl::StrAppendFormat(&s, "measured over %.1f s of simulated time\n\n", Num(r["window_s"]));
  absl::StrAppendFormat(&s, "%-34s %14s\n", "throughput", "");
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "output tok/s", Num(t["output_tok_per_s"]));
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "input tok/s", Num(t["input_tok_per_s"]));
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "total tok/s (input + output)",
                        Num(t["total_tok_per_s"]));
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "tokens processed/s",
                        Num(t["processed_tok_per_s"]));
  absl::StrAppendFormat(&s, "  %-32s %14.1f\n", "output tok/s per GPU",
                        Num(t["output_tok_per_s_per_gpu"]));
  absl::StrAppendFormat(&s, "  %-32s %14s\n", "output tok/s per user",
                        NumOrNa(t["per_user_output_tok_per_s"], 1));
  absl::StrAppendFormat(&s, "  %-32s %14.2f\n", "requests/s", Num(t["requests_per_s"]));
  AppendLatency(l, s);
  absl::StrAppendFormat(
      &s,
      "batch per instance: %.1f running (max %d per micro-batch), %.1f queued; %d steps of "
      "%.2f ms\n",

      Num(b["mean_running"]), b["max_running_per_micro_batch"].get<int>(), Num(b["mean_queued"]),
      b["steps"].get<int>(), Num(b["mean_step_ms"]));
  absl::StrAppendFormat(
      &s, "KV cache: %d tokens capacity, %.1f%% mean / %.1f%% peak used, %d preemptions\n",
      kv["capacity_tokens"].get<int64_t>(), 100 * Num(kv["mean_utilisation"]),
      100 * Num(kv["peak_utilisation"]), kv["preemptions"].get<int64_t>());
  absl::StrAppendFormat(
      &s, "utilisation: GPU busy %.1f%%, HBM bandwidth %.1f%%, compute %.1f%% (%s peak)\n",
      100 * Num(u["gpu_busy"]), 100 * Num(u["hbm_bandwidth"]), 100 * Num(u["compute"]),
      u["compute_dtype"].get<std::string>());
  absl::StrAppendFormat(&s,
                        "time share: compute %.1f%%, memory %.1f%%, launch %.1f%%, host %.1f%%, "
                        "comm %.1f%%, idle %.1f%%\n",
                        100 * Num(sh["compute"]), 100 * Num(sh["memory"]),
                        100 * Num(sh["launch_overhead"]), 100 * Num(sh["host_overhead"]),
                        100 * Num(sh["communication"]), 100 * Num(sh["idle"]));
  absl::StrAppendFormat(&s, "limit: %s (%s)\n", r["limit"]["subsystem"].get<std::string>(),
                        r["limit"]["evidence"].get<std::string>());
  absl::StrAppendFormat(
      &s, "bounds tok/s/GPU: compute %s, HBM %s, launch+host %s, comm %s, KV capacity %s\n",
      BoundText(bd["compute"]), BoundText(bd["hbm"]), BoundText(bd["launch_and_host"]),
      BoundText(bd["communication"]), BoundText(bd["kv_capacity"]));
  absl::StrAppendFormat(&s, "%-34s %12s %12s %8s %10s %14s\n", "fabric load per tier", "GB/s",
                        "capacity", "util%", "comm%", "bound tok/s/GPU");
  for (const char* tier : {"scale_up", "scale_out", "inter_rack", "host"}) {
    const auto& f = r["fabric"]["tiers"][tier];
    absl::StrAppendFormat(&s, "  %-32s %12.1f %12.1f %8.1f %10.1f %14s\n", tier, Num(f["gb_per_s"]),
                          Num(f["capacity_gb_per_s"]), 100 * Num(f["utilisation"]),
                          100 * Num(f["comm_time_share"]), BoundText(f["bound_tok_per_s_per_gpu"]));
  }
  const auto& moe = r["moe"];
  if (moe["routing"].is_object()) {
    absl::StrAppendFormat(
        &s, "experts: routing %s, placement %s, busiest-GPU load / mean: %.2f mean, %.2f max\n",
        moe["routing"]["kind"].get<std::string>(),
        moe["expert_placement"]["kind"].get<std::string>(), Num(moe["mean_gpu_imbalance"]),
        Num(moe["max_gpu_imbalance"]));
  } else {
    absl::StrAppendFormat(&s, "experts: uniform routing at its expected load (no sampling)\n");
  }
  if (r.contains("attention_ffn")) {
    const auto& a = r["attention_ffn"];
    absl::StrAppendFormat(
        &s,
        "attention/FFN: %d attention : %d expert GPUs, %d micro-batches; per hop %.1f MB "
        "dispatch, %.1f MB combine (%.1f + %.1f KB per token), %.3f ms each on an idle fabric; "
        "hops %.1f ms per step in series, at least %.0f%% hidden; attention waits %.0f%% of "
        "the step\n",
        a["attention_gpus"].get<int>(), a["expert_gpus"].get<int>(), a["micro_batches"].get<int>(),
        Num(a["bytes_per_hop"]["dispatch"]) / 1e6, Num(a["bytes_per_hop"]["combine"]) / 1e6,
        Num(a["bytes_per_token"]["dispatch"]) / 1e3, Num(a["bytes_per_token"]["combine"]) / 1e3,
        Num(a["mean_hop_ms_idle_fabric"]), Num(a["hop_ms_per_step_in_series"]),
        100 * Num(a["hop_share_hidden_at_least"]), 100 * Num(a["attention_wait_share"]));
    absl::StrAppendFormat(
        &s,
        "  utilisation: attention side %.0f%%, expert side %.0f%%; limit %s "
        "(%s)\n",
        100 * Num(a["attention_side"]["utilisation"]), 100 * Num(a["expert_side"]["utilisation"]),
        a["limit"]["side"].get<std::string>(), a["limit"]["evidence"].get<std::string>());
  }
  if (r.contains("kv_hierarchy")) AppendKvHierarchy(r["kv_hierarchy"], "", s);
  if (r.contains("faults")) AppendFaults(r["faults"], s);
  if (r.contains("speculative")) AppendSpeculative(r["speculative"], "", s);
  AppendWarnings(r, s);
  absl::StrAppendFormat(&s, "power: %.0f W per GPU, %.2f J per output token\n",
                        Num(r["power"]["mean_w_per_gpu"]),
                        Num(r["power"]["joules_per_output_token"]));
  const auto& c = r["cost"];
  absl::StrAppendFormat(&s, "cost: $%.2f/GPU-hour, $%.2f/hour, $%s per million output tokens\n",
                        Num(c["usd_per_gpu_hour"]), Num(c["usd_per_hour"]),
                        c["usd_per_million_output_tokens"].is_number()
                            ? absl::StrFormat("%.3f", Num(c["usd_per_million_output_tokens"]))
                            : std::string("n/a"));
  return s;
}

}  // namespace moesim
