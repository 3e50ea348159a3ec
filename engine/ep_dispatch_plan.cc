#include "engine/ep_dispatch_plan.h"

#include <algorithm>

#include "models/dtype.h"
#include "models/invariant.h"
#include "models/moe_traffic.h"

namespace moesim {

double EpDispatchPlanner::FloorSeconds(bool dispatch) const {
  if (fabric_.dp_gather) return 0;  // NCCL's collectives: the launch is in their cost
  const GpuSpec& gpu = s_.gpu();
  return (dispatch ? gpu.moe_dispatch_floor_us : gpu.moe_combine_floor_us) * 1e-6;
}

CollectiveCost EpDispatchPlanner::Plan(bool dispatch, int layer, const std::vector<double>& tokens,
                                       const std::vector<MoeLayerLoad>& loads, bool extend,
                                       std::vector<Transfer>* wire) const {
  if (*std::max_element(tokens.begin(), tokens.end()) <= 0) return CollectiveCost();
  if (fabric_.dp_gather) return Gather(dispatch, tokens, extend, wire);
  const double floor_us = FloorSeconds(dispatch) * 1e6;
  const double copy_bytes =
      dispatch ? DispatchBytesPerCopy(s_.model) : CombineBytesPerCopy(s_.model);
  return fabric_.deepep_normal ? Normal(dispatch, layer, tokens, loads, copy_bytes, floor_us, wire)
                               : LowLatency(dispatch, tokens, loads, copy_bytes, floor_us, wire);
}

CollectiveCost EpDispatchPlanner::Gather(bool dispatch, const std::vector<double>& tokens,
                                         bool extend, std::vector<Transfer>* wire) const {
  const double bytes_per_token = s_.model.hidden * ElementBytes(DType::kBf16);
  if (s_.runtime().dp_gather == DpGather::kSizes) {
    double sum = 0;
    for (double t : tokens) sum += t;
    const double message = sum * (dispatch ? SizedGatherBytesPerToken(s_.model) : bytes_per_token);
    if (wire != nullptr) *wire = fabric_.dp_gather->WireTransfers(message);
    return fabric_.dp_gather->Estimate(message, s_.runtime().allreduce_latency_us);
  }
  if (extend) {
    // SUM_LEN: each rank writes its tokens into a zero buffer of the group's summed tokens and
    // the group all-reduces it (and all-reduces the experts' partial outputs back).
    double sum = 0;
    for (double t : tokens) sum += t;
    const double message = sum * bytes_per_token;
    // The parser guarantees a group of two GPUs or more under the gather (the patterns exist).
    MOESIM_CHECK(fabric_.group_all_reduce_stage >= 0, "a gather without the group's all-reduces");
    const CollectivePattern* ar = fabric_.AllReduceFor(fabric_.group_all_reduce_stage, message);
    MOESIM_CHECK(ar != nullptr, "a gather over a one-GPU group");
    if (wire != nullptr) *wire = ar->WireTransfers(message);
    return ar->Estimate(message, s_.runtime().allreduce_latency_us);
  }
  // MAX_LEN: every rank pads to the largest rank's tokens; the buffer holds the whole group's.
  const double max_tokens = *std::max_element(tokens.begin(), tokens.end());
  const double message = max_tokens * double(tokens.size()) * bytes_per_token;
  if (wire != nullptr) *wire = fabric_.dp_gather->WireTransfers(message);
  return fabric_.dp_gather->Estimate(message, s_.runtime().allreduce_latency_us);
}

CollectiveCost EpDispatchPlanner::Normal(bool dispatch, int layer,
                                         const std::vector<double>& tokens,
                                         const std::vector<MoeLayerLoad>& loads, double bytes,
                                         double floor_us, std::vector<Transfer>* wire) const {
  const DeepEpNormalPattern& pattern = *fabric_.deepep_normal;
  const ExpertHitRates& hits = hit_rates_[layer];
  const size_t ranks = tokens.size();
  double total_tokens = 0;
  for (double t : tokens) total_tokens += t;
  // Scale each GPU's (and server's) hit rate by its sampled over its expected load.
  DeepEpNormalPattern::Load load;
  load.tokens = tokens;
  load.rank_hit.assign(ranks, 0.0);
  load.node_hit.assign(pattern.servers(), 0.0);
  std::vector<double> node_load(pattern.servers(), 0.0), node_expected(pattern.servers(), 0.0);
  for (size_t r = 0; r < ranks; ++r) {
    const double expected = total_tokens * hits.rank_copies[r];
    const double ratio = expected > 0 ? loads[r].assignments / expected : 0.0;
    load.rank_hit[r] = std::min(1.0, hits.rank_hit[r] * ratio);
    node_load[pattern.node_of_rank()[r]] += loads[r].assignments;
    node_expected[pattern.node_of_rank()[r]] += expected;
  }
  for (int n = 0; n < pattern.servers(); ++n) {
    const double ratio = node_expected[n] > 0 ? node_load[n] / node_expected[n] : 0.0;
    load.node_hit[n] = std::min(1.0, hits.node_hit[n] * ratio);
  }
  if (wire != nullptr) *wire = pattern.WireTransfers(load, bytes, !dispatch);
  return pattern.Estimate(load, bytes, !dispatch, floor_us);
}

CollectiveCost EpDispatchPlanner::LowLatency(bool dispatch, const std::vector<double>& tokens,
                                             const std::vector<MoeLayerLoad>& loads,
                                             double copy_bytes, double floor_us,
                                             std::vector<Transfer>* wire) const {
  const size_t ranks = tokens.size();
  const double max_tokens = *std::max_element(tokens.begin(), tokens.end());
  const double message = max_tokens * s_.model.moe.top_k * copy_bytes;
  // Rank s's tokens send their copies to GPU d in proportion to d's routed load p_d: payload
  // s -> d = t_s k p_d × copy bytes = (1/n) × message × (t_s / t_max) × (n p_d). The combine
  // returns the same copies from d to s.
  double total = 0;
  for (const MoeLayerLoad& l : loads) total += l.assignments;
  std::vector<double> token_w(ranks), load_w(ranks);
  for (size_t r = 0; r < ranks; ++r) {
    token_w[r] = tokens[r] / max_tokens;
    load_w[r] = total > 0 ? double(ranks) * loads[r].assignments / total : 1.0;
  }
  CollectivePattern::Weights w;
  w.src = dispatch ? token_w : load_w;
  w.dst = dispatch ? load_w : token_w;
  if (wire != nullptr) *wire = fabric_.all_to_all->WireTransfers(message, w);
  return fabric_.all_to_all->Estimate(message, floor_us, w);
}

}  // namespace moesim
