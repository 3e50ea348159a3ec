#include "engine/plan_report.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"

namespace moesim {

namespace {

struct PoolFigures {
  std::string name;
  PoolRole role = PoolRole::kServe;
  int gpus = 0;
  double busy = 0;  // GPU busy share
  double output_tps = 0;
  double total_tps = 0;
  double usd_per_hour = 0;
  double watts = 0;
  nlohmann::json limit;
};

nlohmann::json StagesSection(const HandoffMetrics& h) {
  std::vector<double> queue, prefill, reservation, transfer, admission;
  for (const TtftStages& s : h.stages()) {
    queue.push_back(s.prefill_queue);
    prefill.push_back(s.prefill);
    reservation.push_back(s.decode_reservation);
    transfer.push_back(s.kv_transfer);
    admission.push_back(s.decode_admission);
  }
  return {{"prefill_queue", Distribution(queue)},
          {"prefill", Distribution(prefill)},
          {"decode_reservation", Distribution(reservation)},
          {"kv_transfer", Distribution(transfer)},
          {"decode_admission", Distribution(admission)}};
}

nlohmann::json HandoffSection(const Scenario& s, const HandoffMetrics& h, double window) {
  nlohmann::json tiers = nlohmann::json::object();
  for (int t = 0; t < kLinkTierCount; ++t) {
    // bottleneck_seconds: Σ time of the transfers whose busiest link is in this tier.
    tiers[LinkTierName(static_cast<LinkTier>(t))] = {{"bytes", h.tier_bytes()[t]},
                                                     {"gb_per_s", h.tier_bytes()[t] / window / 1e9},
                                                     {"bottleneck_seconds", h.tier_seconds()[t]}};
  }
  const size_t transfers = h.transfer_seconds().size();
  const size_t finished = h.stages().size();
  return {{"connector", s.plan.kv_transfer.connector.name},
          {"layerwise", s.plan.kv_transfer.layerwise},
          {"kv_transfer",
           {{"transfers", transfers},
            {"bytes", h.transfer_bytes()},
            {"mean_bytes", transfers > 0 ? h.transfer_bytes() / double(transfers) : 0.0},
            {"gb_per_s", h.transfer_bytes() / window / 1e9},
            {"seconds", Distribution(h.transfer_seconds())},
            {"tiers", tiers}}},
          {"decode_back_pressure",
           {{"mean_waiting_requests", h.mean_waiting()},
            {"max_waiting_requests", h.max_waiting()},
            {"finished_requests_that_waited", h.requests_that_waited()},
            {"share_of_finished",
             finished > 0 ? double(h.requests_that_waited()) / double(finished) : 0.0}}}};
}

// The pool that holds the deployment back. Decode back-pressure (prompts wait for decode KV)
// points at the decode pools; otherwise the pool whose GPUs are busiest.
nlohmann::json LimitingPool(const std::vector<PoolFigures>& pools, const HandoffMetrics* h) {
  if (h != nullptr && !h->stages().empty()) {
    double reservation = 0, prefill = 0;
    for (const TtftStages& s : h->stages()) {
      reservation += s.decode_reservation;
      prefill += s.prefill;
    }
    if (reservation > prefill) {
      for (const PoolFigures& p : pools) {
        if (p.role != PoolRole::kDecode) continue;
        return {{"pool", p.name},
                {"subsystem", p.limit["subsystem"]},
                {"evidence",
                 absl::StrFormat("prompts wait %.3f s on average for decode KV blocks (longer than "
                                 "their prefill, %.3f s); %s",
                                 reservation / double(h->stages().size()),
                                 prefill / double(h->stages().size()),
                                 p.limit["evidence"].get<std::string>())}};
      }
    }
  }
  const PoolFigures* best = &pools[0];
  for (const PoolFigures& p : pools) {
    if (p.busy > best->busy) best = &p;
  }
  std::string others;
  for (const PoolFigures& p : pools) {
    others += absl::StrFormat("%s%s %.0f%%", others.empty() ? "" : ", ", p.name, 100 * p.busy);
  }
  return {{"pool", best->name},
          {"subsystem", best->limit["subsystem"]},
          {"evidence", absl::StrFormat("its GPUs are the busiest (GPU busy: %s); %s", others,
                                       best->limit["evidence"].get<std::string>())}};
}

}  // namespace

nlohmann::json BuildPlanReport(const Scenario& s, const std::vector<PoolReportInputs>& pools,
                               const MetricsCollector& requests, const HandoffMetrics* handoff) {
  const double window = requests.window_s();
  nlohmann::json r = nlohmann::json::object();
  r["scenario"] = s.name;
  r["window_s"] = window;
  nlohmann::json sections = nlohmann::json::object();
  std::vector<PoolFigures> figures;
  int gpus = 0, decode_gpus = 0;
  double output_tps = 0, input_tps = 0, total_tps = 0, processed_tps = 0, usd_per_hour = 0,
         watts = 0;
  for (const PoolReportInputs& p : pools) {
    nlohmann::json section = BuildPoolSection(s, *p.pool, *p.metrics, p.fabric, &p.speculation);
    PoolFigures f;
    f.name = p.pool->deployed.spec.name;
    f.role = p.pool->deployed.spec.role;
    f.gpus = p.pool->total_gpus();
    f.busy = section["utilisation"]["gpu_busy"].get<double>();
    f.output_tps = section["throughput"]["output_tok_per_s"].get<double>();
    f.total_tps = section["throughput"]["total_tok_per_s"].get<double>();
    const double pool_input_tps = section["throughput"]["input_tok_per_s"].get<double>();
    const double pool_processed_tps = section["throughput"]["processed_tok_per_s"].get<double>();
    f.usd_per_hour = section["cost"]["usd_per_hour"].get<double>();
    f.watts = section["power"]["total_w"].get<double>();
    f.limit = section["limit"];
    section["role"] = PoolRoleName(f.role);
    // A prefill pool's work is its prompts; its sampled first tokens travel on to decode.
    if (f.role == PoolRole::kPrefill) {
      section["throughput"]["input_tok_per_s_per_gpu"] = pool_input_tps / f.gpus;
    }
    sections[f.name] = std::move(section);
    gpus += f.gpus;
    if (f.role != PoolRole::kPrefill) decode_gpus += f.gpus;
    output_tps += f.output_tps;
    total_tps += f.total_tps;
    input_tps += pool_input_tps;
    processed_tps += pool_processed_tps;
    usd_per_hour += f.usd_per_hour;
    watts += f.watts;
    figures.push_back(std::move(f));
  }
  r["pools"] = std::move(sections);
  r["plan"] = {{"pools", pools.size()},
               {"gpus", gpus},
               {"disaggregated", s.plan.Disaggregated()},
               {"router", RouterPolicyName(s.plan.router)},
               {"model", s.model.name},
               {"fidelity", FidelityName(s.simulation.fidelity)}};
  r["throughput"] = {
      {"output_tok_per_s", output_tps},
      {"input_tok_per_s", input_tps},
      {"total_tok_per_s", total_tps},
      {"processed_tok_per_s", processed_tps},
      {"output_tok_per_s_per_gpu", output_tps / gpus},
      {"total_tok_per_s_per_gpu", total_tps / gpus},
      {"output_tok_per_s_per_decode_gpu", output_tps / decode_gpus},
      {"requests_per_s", double(requests.requests().size()) / window},
      {"per_user_output_tok_per_s", PerUserJson(MeanPerUserTokPerS(requests.requests()))}};
  std::vector<double> e2e;
  r["latency_s"] = LatencySection(requests.requests(), &e2e);
  if (handoff != nullptr) {
    r["latency_s"]["ttft_stages"] = StagesSection(*handoff);
    r["disaggregation"] = HandoffSection(s, *handoff, window);
  }
  r["limit"] = LimitingPool(figures, handoff);
  r["power"] = {{"total_w", watts},
                {"joules_per_output_token", output_tps > 0 ? watts / output_tps : 0.0}};
  r["cost"] = {{"usd_per_hour", usd_per_hour},
               {"usd_per_million_output_tokens",
                output_tps > 0 ? nlohmann::json(usd_per_hour / (output_tps * 3600.0) * 1e6)
                               : nlohmann::json(nullptr)}};
  r["warnings"] = WindowWarnings(requests.requests().size(), std::move(e2e), window, s.workload);
  return r;
}

}  // namespace moesim
