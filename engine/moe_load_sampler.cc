#include "engine/moe_load_sampler.h"

#include <algorithm>

namespace moesim {

absl::StatusOr<std::unique_ptr<MoeLoadSampler>> MoeLoadSampler::Make(const PoolContext& s,
                                                                     uint64_t seed) {
  ExpertRouter router(*s.routing, s.model.moe, s.model.MoeLayerCount(), seed);
  if (absl::Status st = router.Validate(); !st.ok()) return st;
  auto placements = Placements(s, router);
  if (!placements.ok()) return placements.status();
  return std::unique_ptr<MoeLoadSampler>(
      new MoeLoadSampler(std::move(router), std::move(*placements), s.plan().ep, s.model.moe.top_k,
                         s.routing->sampler == RoutingSpec::Sampler::kPerToken));
}

absl::StatusOr<std::vector<ExpertPlacement>> MoeLoadSampler::Placements(const PoolContext& s,
                                                                        ExpertRouter& router) {
  std::vector<ExpertPlacement> placements;
  for (int l = 0; l < router.moe_layers(); ++l) {
    auto shares = router.ExpectedShares(l);
    if (!shares.ok()) return shares.status();
    auto p = Place(s.deployment().expert_placement, router.experts(), s.plan().ep, *shares);
    if (!p.ok()) return p.status();
    placements.push_back(std::move(*p));
  }
  return placements;
}

absl::StatusOr<std::vector<ExpertHitRates>> MoeLoadSampler::HitRates(
    const PoolContext& s, uint64_t seed, const std::vector<int>& node_of_rank, int64_t tokens) {
  ExpertRouter router(s.routing ? *s.routing : RoutingSpec(), s.model.moe, s.model.MoeLayerCount(),
                      seed);
  if (absl::Status st = router.Validate(); !st.ok()) return st;
  auto placements = Placements(s, router);
  if (!placements.ok()) return placements.status();
  std::vector<ExpertHitRates> out;
  for (int l = 0; l < router.moe_layers(); ++l) {
    auto hits = EstimateHitRates(&router, l, (*placements)[l], node_of_rank, tokens);
    if (!hits.ok()) return hits.status();
    out.push_back(std::move(*hits));
  }
  return out;
}

bool MoeLoadSampler::SetDeadGpus(const std::vector<char>& dead) {
  if (ep_ <= 1) return false;  // every GPU holds a slice of every expert
  if (healthy_.empty()) healthy_ = placements_;
  std::vector<ExpertPlacement> next = healthy_;
  for (ExpertPlacement& p : next) {
    for (std::vector<int>& replicas : p.replicas) {
      replicas.erase(std::remove_if(replicas.begin(), replicas.end(),
                                    [&](int g) { return size_t(g) < dead.size() && dead[g]; }),
                     replicas.end());
      if (replicas.empty()) return false;
    }
    for (size_t g = 0; g < p.gpu_experts.size(); ++g) {
      if (g < dead.size() && dead[g]) p.gpu_experts[g].clear();
    }
  }
  placements_ = std::move(next);
  dead_ = dead;
  return true;
}

absl::StatusOr<double> MoeLoadSampler::Sample(int64_t tokens, std::vector<MoeLayerLoad>* loads,
                                              std::vector<std::vector<MoeLayerLoad>>* per_gpu) {
  loads->assign(placements_.size(), MoeLayerLoad());
  if (per_gpu != nullptr) per_gpu->resize(placements_.size());
  double imbalance_sum = 0;
  for (size_t l = 0; l < placements_.size(); ++l) {
    const absl::Status st = per_token_
                                ? router_.Sample(static_cast<int>(l), tokens, &counts_)
                                : router_.SampleCounts(static_cast<int>(l), tokens, &counts_);
    if (!st.ok()) {
      return st;
    }
    MoeLayerLoad& load = (*loads)[l];
    if (ep_ <= 1) {
      load.assignments = double(tokens) * top_k_;
      load.active_experts =
          double(std::count_if(counts_.begin(), counts_.end(), [](int64_t c) { return c > 0; }));
      imbalance_sum += 1.0;
      if (per_gpu != nullptr) (*per_gpu)[l].assign(1, load);
      continue;
    }
    const ExpertPlacement& p = placements_[l];
    const std::vector<double> gpu = GpuLoad(p, counts_);
    const size_t busiest = std::max_element(gpu.begin(), gpu.end()) - gpu.begin();
    load.assignments = gpu[busiest];
    for (int e : p.gpu_experts[busiest]) load.active_experts += counts_[e] > 0 ? 1.0 : 0.0;
    if (dead_.empty()) {
      imbalance_sum += Imbalance(gpu);
    } else {  // the busiest over the mean of the GPUs still in service
      std::vector<double> live;
      for (size_t g = 0; g < gpu.size(); ++g) {
        if (!dead_[g]) live.push_back(gpu[g]);
      }
      imbalance_sum += Imbalance(live);
    }
    if (per_gpu != nullptr) {
      std::vector<MoeLayerLoad>& out = (*per_gpu)[l];
      out.assign(gpu.size(), MoeLayerLoad());
      for (size_t g = 0; g < gpu.size(); ++g) {
        out[g].assignments = gpu[g];
        for (int e : p.gpu_experts[g]) out[g].active_experts += counts_[e] > 0 ? 1.0 : 0.0;
      }
    }
  }
  return placements_.empty() ? 1.0 : imbalance_sum / double(placements_.size());
}

}  // namespace moesim
