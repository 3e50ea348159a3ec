#include "models/expert_placement.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <queue>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim {

namespace {

absl::Status PlacementError(const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("expert placement: ", message));
}

// Per-GPU expert lists -> per-expert replica lists, both sorted.
ExpertPlacement Finish(int experts, int ep, std::vector<std::vector<int>> gpu_experts) {
  ExpertPlacement p;
  p.experts = experts;
  p.ep = ep;
  p.replicas.assign(size_t(experts), {});
  for (int g = 0; g < ep; ++g) {
    std::sort(gpu_experts[size_t(g)].begin(), gpu_experts[size_t(g)].end());
    for (int e : gpu_experts[size_t(g)]) p.replicas[size_t(e)].push_back(g);
  }
  p.gpu_experts = std::move(gpu_experts);
  return p;
}

// Number of replicas per expert: `min_replicas` each, then each extra slot left goes to the
// expert with the largest load per replica among those with fewer than `ep` replicas (ties:
// lowest expert id).
std::vector<int> ReplicaCounts(const std::vector<double>& load, int extra, int ep,
                               int min_replicas) {
  std::vector<int> count(load.size(), min_replicas);
  extra -= (min_replicas - 1) * int(load.size());
  using Entry = std::pair<double, int>;  // (load per replica, -expert)
  std::priority_queue<Entry> heap;
  for (size_t e = 0; e < load.size(); ++e) {
    if (ep > min_replicas) heap.push({load[e] / min_replicas, -int(e)});
  }
  for (int s = 0; s < extra && !heap.empty(); ++s) {
    const int e = -heap.top().second;
    heap.pop();
    ++count[size_t(e)];
    if (count[size_t(e)] < ep) heap.push({load[size_t(e)] / count[size_t(e)], -e});
  }
  return count;
}

// Longest-processing-time-first packing of the replicas onto GPUs with `slots` slots each, at
// most one replica of an expert per GPU. Returns false if it ran out of eligible GPUs.
bool PackLpt(const std::vector<double>& load, const std::vector<int>& count, int ep, int slots,
             std::vector<std::vector<int>>* gpu_experts) {
  const int E = int(load.size());
  std::vector<int> order(static_cast<size_t>(E));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    const double wa = load[size_t(a)] / count[size_t(a)], wb = load[size_t(b)] / count[size_t(b)];
    if (wa != wb) return wa > wb;
    return count[size_t(a)] > count[size_t(b)];
  });
  gpu_experts->assign(size_t(ep), {});
  std::vector<double> gpu_load(size_t(ep), 0.0);
  std::vector<int> last_expert(size_t(ep), -1);  // the expert being placed, to keep replicas apart
  for (int e : order) {
    const double w = load[size_t(e)] / count[size_t(e)];
    for (int r = 0; r < count[size_t(e)]; ++r) {
      int best = -1;
      for (int g = 0; g < ep; ++g) {
        if (int((*gpu_experts)[size_t(g)].size()) >= slots || last_expert[size_t(g)] == e) continue;
        if (best < 0 || gpu_load[size_t(g)] < gpu_load[size_t(best)]) best = g;
      }
      if (best < 0) return false;
      (*gpu_experts)[size_t(best)].push_back(e);
      gpu_load[size_t(best)] += w;
      last_expert[size_t(best)] = e;
    }
  }
  return true;
}

// Fallback packing: experts with most replicas first, each replica on a distinct GPU among those
// with the most free slots (ties: least load, then lowest id). With equal slot counts and at most
// ep replicas per expert this never overfills a GPU (a Gale-Ryser style greedy); false if it would.
bool PackBySlots(const std::vector<double>& load, const std::vector<int>& count, int ep, int slots,
                 std::vector<std::vector<int>>* gpu_experts) {
  const int E = int(load.size());
  std::vector<int> order(static_cast<size_t>(E));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (count[size_t(a)] != count[size_t(b)]) return count[size_t(a)] > count[size_t(b)];
    return load[size_t(a)] > load[size_t(b)];
  });
  gpu_experts->assign(size_t(ep), {});
  std::vector<double> gpu_load(size_t(ep), 0.0);
  std::vector<int> gpus(static_cast<size_t>(ep));
  for (int e : order) {
    std::iota(gpus.begin(), gpus.end(), 0);
    std::stable_sort(gpus.begin(), gpus.end(), [&](int a, int b) {
      const size_t fa = (*gpu_experts)[size_t(a)].size(), fb = (*gpu_experts)[size_t(b)].size();
      if (fa != fb) return fa < fb;
      return gpu_load[size_t(a)] < gpu_load[size_t(b)];
    });
    for (int r = 0; r < count[size_t(e)]; ++r) {
      const int g = gpus[size_t(r)];
      if (int((*gpu_experts)[size_t(g)].size()) >= slots) return false;
      (*gpu_experts)[size_t(g)].push_back(e);
      gpu_load[size_t(g)] += load[size_t(e)] / count[size_t(e)];
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<PlacementSpec> ParsePlacementSpec(const nlohmann::json& value,
                                                 const JsonLocation& where) {
  PlacementSpec s;
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  MOESIM_ASSIGN_OR_RETURN(std::string kind,
                          r.Enum("kind", {"contiguous", "round_robin", "redundant"}));
  if (kind == "contiguous") {
    s.kind = PlacementSpec::Kind::kContiguous;
  } else if (kind == "round_robin") {
    s.kind = PlacementSpec::Kind::kRoundRobin;
  } else {
    s.kind = PlacementSpec::Kind::kRedundant;
    MOESIM_ASSIGN_OR_RETURN(const int64_t slots,
                            r.Integer("redundant_slots", NumberRule::Between(0, 1e6)));
    s.redundant_slots = int(slots);
    MOESIM_ASSIGN_OR_RETURN(const int64_t min_replicas,
                            r.IntegerOr("min_replicas", 1, NumberRule::Between(1, 1e6)));
    s.min_replicas = int(min_replicas);
  }
  MOESIM_RETURN_IF_ERROR(r.Finish());
  return s;
}

nlohmann::json PlacementSpecToJson(const PlacementSpec& s) {
  switch (s.kind) {
    case PlacementSpec::Kind::kContiguous:
      return {{"kind", "contiguous"}};
    case PlacementSpec::Kind::kRoundRobin:
      return {{"kind", "round_robin"}};
    case PlacementSpec::Kind::kRedundant:
      if (s.min_replicas > 1) {
        return {{"kind", "redundant"},
                {"redundant_slots", s.redundant_slots},
                {"min_replicas", s.min_replicas}};
      }
      return {{"kind", "redundant"}, {"redundant_slots", s.redundant_slots}};
  }
  return nullptr;
}

absl::StatusOr<ExpertPlacement> Place(const PlacementSpec& spec, int experts, int ep,
                                      const std::vector<double>& expected_load) {
  if (experts < 1) return PlacementError(absl::StrCat(experts, " experts, expected >= 1"));
  if (ep < 1) return PlacementError(absl::StrCat("ep ", ep, ", expected >= 1"));
  if (!expected_load.empty() || spec.kind == PlacementSpec::Kind::kRedundant) {
    if (expected_load.size() != size_t(experts)) {
      return PlacementError(absl::StrCat("the expected load has ", expected_load.size(),
                                         " entries, expected one per expert (", experts, ")"));
    }
    for (size_t e = 0; e < expected_load.size(); ++e) {
      if (!(expected_load[e] >= 0) || !std::isfinite(expected_load[e])) {
        return PlacementError(absl::StrCat("expected load of expert ", e, " is ", expected_load[e],
                                           ", expected a finite number >= 0"));
      }
    }
  }

  if (spec.kind != PlacementSpec::Kind::kRedundant) {
    if (experts % ep != 0) {
      return PlacementError(absl::StrCat(experts, " experts do not divide evenly over ep ", ep,
                                         " GPUs (expected ep to divide the expert count; a "
                                         "redundant placement can pad with extra slots)"));
    }
    const int per_gpu = experts / ep;
    std::vector<std::vector<int>> gpu_experts(static_cast<size_t>(ep));
    for (int e = 0; e < experts; ++e) {
      const int g = spec.kind == PlacementSpec::Kind::kContiguous ? e / per_gpu : e % ep;
      gpu_experts[size_t(g)].push_back(e);
    }
    return Finish(experts, ep, std::move(gpu_experts));
  }

  const int extra = spec.redundant_slots;
  if (extra < 0) return PlacementError(absl::StrCat("redundant_slots ", extra, ", expected >= 0"));
  const int64_t total = int64_t(experts) + extra;
  if (total % ep != 0) {
    return PlacementError(absl::StrCat(experts, " experts + ", extra, " redundant slots = ", total,
                                       " slots do not divide evenly over ep ", ep,
                                       " GPUs (expected a multiple of ep)"));
  }
  if (total > int64_t(experts) * ep) {
    return PlacementError(absl::StrCat(extra, " redundant slots exceed what ", experts,
                                       " experts can use with at most one replica per GPU (",
                                       int64_t(experts) * (ep - 1), ")"));
  }
  if (spec.min_replicas > ep) {
    return PlacementError(absl::StrCat("min_replicas ", spec.min_replicas, " exceeds ep ", ep,
                                       " (at most one replica of an expert per GPU)"));
  }
  if (int64_t(spec.min_replicas - 1) * experts > extra) {
    return PlacementError(absl::StrCat("min_replicas ", spec.min_replicas, " needs ",
                                       int64_t(spec.min_replicas - 1) * experts,
                                       " redundant slots for ", experts, " experts, got ", extra));
  }
  const int slots = int(total / ep);
  std::vector<double> load = expected_load;
  if (std::accumulate(load.begin(), load.end(), 0.0) <= 0) load.assign(size_t(experts), 1.0);
  const std::vector<int> count = ReplicaCounts(load, extra, ep, std::max(1, spec.min_replicas));
  std::vector<std::vector<int>> gpu_experts;
  if (!PackLpt(load, count, ep, slots, &gpu_experts) &&
      !PackBySlots(load, count, ep, slots, &gpu_experts)) {
    return absl::InternalError(absl::StrCat("expert placement: could not pack ", total,
                                            " replicas onto ", ep, " GPUs of ", slots, " slots"));
  }
  return Finish(experts, ep, std::move(gpu_experts));
}

std::vector<double> ExpectedGpuLoad(const ExpertPlacement& placement,
                                    const std::vector<double>& load) {
  std::vector<double> gpu(size_t(placement.ep), 0.0);
  const size_t n = std::min(load.size(), placement.replicas.size());
  for (size_t e = 0; e < n; ++e) {
    const std::vector<int>& reps = placement.replicas[e];
    if (reps.empty()) continue;
    const double share = load[e] / double(reps.size());
    for (int g : reps) gpu[size_t(g)] += share;
  }
  return gpu;
}

std::vector<double> GpuLoad(const ExpertPlacement& placement, const std::vector<int64_t>& counts) {
  return ExpectedGpuLoad(placement, std::vector<double>(counts.begin(), counts.end()));
}

double Imbalance(const std::vector<double>& load) {
  if (load.empty()) return 1.0;
  const double sum = std::accumulate(load.begin(), load.end(), 0.0);
  if (!(sum > 0)) return 1.0;
  return *std::max_element(load.begin(), load.end()) / (sum / double(load.size()));
}

}  // namespace moesim
