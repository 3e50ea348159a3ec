#include "engine/afd_hop_plan.h"

#include <algorithm>

#include "models/moe_traffic.h"

namespace moesim {

namespace {

// Bytes one token's hidden state takes on the wire in `dtype` (fp8 with DeepEP-style 1×128
// fp32 block scales, models/moe_traffic.h).
double HiddenBytes(const ModelSpec& m, DType dtype) {
  const double scales = dtype == DType::kBf16 ? 0.0 : m.hidden / kDispatchScaleBlock * 4.0;
  return m.hidden * ElementBytes(dtype) + scales;
}

}  // namespace

double ExpectedGpusPerToken(int experts, int top_k, int gpus) {
  if (gpus <= 1) return 1.0;
  const double per_gpu = double(experts) / gpus;
  double miss = 1.0;  // the chance that none of the token's experts lies on a given GPU
  for (int i = 0; i < top_k; ++i) miss *= std::max(0.0, (experts - per_gpu - i) / (experts - i));
  return gpus * (1.0 - miss);
}

AfdHopPlanner::AfdHopPlanner(const PoolContext& s, const InstanceFabric& fabric) : fabric_(fabric) {
  const DeploymentSpec::AttentionFfn& a = s.deployment().attention_ffn;
  experts_side_ = a.expert_gpus;
  shared_on_experts_ = a.shared_experts_on_expert_side && s.model.moe.shared_experts > 0;
  gpus_per_token_ =
      ExpectedGpusPerToken(s.model.moe.routed_experts, s.model.moe.top_k, a.expert_gpus);
  dispatch_bytes_ = HiddenBytes(s.model, a.dispatch_dtype);
  combine_bytes_ = HiddenBytes(s.model, a.combine_dtype);
}

std::vector<double> AfdHopPlanner::DestinationWeights(
    const std::vector<MoeLayerLoad>& loads) const {
  double total = 0;
  for (const MoeLayerLoad& l : loads) total += l.assignments;
  std::vector<double> w(loads.size());
  const double n = experts_side_;
  for (size_t e = 0; e < loads.size(); ++e) {
    w[e] = total > 0 ? n * loads[e].assignments / total : 1.0;
    if (shared_on_experts_) w[e] += 1.0 / gpus_per_token_;
  }
  return w;
}

std::vector<double> AfdHopPlanner::Received(const std::vector<double>& tokens,
                                            const std::vector<MoeLayerLoad>& loads) const {
  double sent = 0;
  for (double t : tokens) sent += t;
  const std::vector<double> w = DestinationWeights(loads);
  std::vector<double> out(w.size());
  for (size_t e = 0; e < w.size(); ++e) out[e] = sent * gpus_per_token_ * w[e] / experts_side_;
  return out;
}

AfdHop AfdHopPlanner::Plan(bool dispatch, const std::vector<double>& tokens,
                           const std::vector<MoeLayerLoad>& loads,
                           std::vector<Transfer>* wire) const {
  AfdHop hop;
  const double max_tokens = *std::max_element(tokens.begin(), tokens.end());
  if (max_tokens <= 0) return hop;
  const size_t m = tokens.size();
  const double bytes = dispatch ? dispatch_bytes_ : combine_bytes_;
  // The pattern's shares are 1/N per pair: payload a -> e = (1/N) × message × src × dst with
  // message = t_max D bytes, src = t_a / t_max and dst = N p_e (+ N s / (N D)).
  const double message = max_tokens * gpus_per_token_ * bytes;
  const std::vector<double> dest = DestinationWeights(loads);
  std::vector<double> token_w(m + dest.size(), 0.0), load_w(m + dest.size(), 0.0);
  for (size_t a = 0; a < m; ++a) {
    token_w[a] = tokens[a] / max_tokens;
    hop.payload_bytes += tokens[a] * gpus_per_token_ * bytes;
  }
  double dest_sum = 0;
  for (size_t e = 0; e < dest.size(); ++e) {
    load_w[m + e] = dest[e];
    dest_sum += dest[e];
  }
  hop.payload_bytes *= dest_sum / experts_side_;
  CollectivePattern::Weights w;
  w.src = dispatch ? token_w : load_w;
  w.dst = dispatch ? load_w : token_w;
  const CollectivePattern& pattern = dispatch ? *fabric_.afd_dispatch : *fabric_.afd_combine;
  if (wire != nullptr) *wire = pattern.WireTransfers(message, w);
  hop.cost = pattern.Estimate(message, 0.0, w);
  return hop;
}

}  // namespace moesim
