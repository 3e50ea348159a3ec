#include "engine/ep_group_executor.h"

#include <algorithm>
#include <cmath>

#include <simgrid/s4u.hpp>

#include "engine/step_model.h"
#include "models/moe_traffic.h"

namespace sg4 = simgrid::s4u;

namespace moesim {

EpGroupExecutor::EpGroupExecutor(const Scenario& scenario, const SimgridPlatform& platform,
                                 const InstanceFabric& fabric, const std::vector<int>& gpus,
                                 std::vector<ExpertHitRates> hit_rates)
    : scenario_(scenario),
      platform_(platform),
      fabric_(fabric),
      gpus_(gpus),
      hit_rates_(std::move(hit_rates)),
      micro_(scenario.deployment.two_batch_overlap ? 2 : 1),
      analytic_(scenario.simulation.fidelity == Fidelity::kStep ||
                scenario.simulation.collectives == CollectiveFidelity::kAnalytic),
      runner_(platform, scenario.simulation.collectives),
      cost_(scenario.hardware.gpu, scenario.runtime),
      segment_runtime_(scenario.runtime) {
  segment_runtime_.graph_launch_us = 0;
}

std::vector<StepBatch> EpGroupExecutor::Split(const StepBatch& b) const {
  std::vector<StepBatch> out(micro_);
  const int64_t seqs = b.seqs();
  for (int m = 0; m < micro_; ++m) {
    StepBatch& x = out[m];
    auto part = [&](int64_t total) { return total / micro_ + (m < total % micro_ ? 1 : 0); };
    x.decode_seqs = part(b.decode_seqs);
    x.prefill_seqs = part(b.prefill_seqs);
    x.prefill_tokens = part(b.prefill_tokens);
    x.sampled_seqs = part(b.sampled_seqs);
    const double f = seqs > 0 ? double(x.seqs()) / double(seqs) : 0.0;
    x.full_pairs = b.full_pairs * f;
    x.full_kv_tokens = b.full_kv_tokens * f;
    x.sliding_pairs = b.sliding_pairs * f;
    x.sliding_kv_tokens = b.sliding_kv_tokens * f;
  }
  return out;
}

EpGroupExecutor::Segment EpGroupExecutor::Time(const std::vector<Op>& ops) const {
  LaunchPipeline pipe(segment_runtime_, scenario_.hardware.gpu);
  pipe.BeginStep(0.0, 0, /*host_work=*/false, launch_);
  for (const Op& op : ops) pipe.Kernel(cost_.Time(op), op);
  return {pipe.gpu_free_s(), pipe.breakdown()};
}

const EpGroupExecutor::Segment& EpGroupExecutor::Experts(double tokens, const MoeLayerLoad& load) {
  const auto key = std::make_tuple(tokens, load.assignments, load.active_experts);
  auto it = expert_cache_.find(key);
  if (it != expert_cache_.end()) return it->second;
  const std::vector<Op> ops =
      MoeExpertOps(scenario_.model, scenario_.runtime, scenario_.deployment.plan, tokens, &load);
  return expert_cache_.emplace(key, Time(ops)).first->second;
}

CollectiveCost EpGroupExecutor::Plan(const Item& item, const std::vector<double>& tokens,
                                     const std::vector<MoeLayerLoad>& layer_loads,
                                     std::vector<Transfer>* wire) const {
  if (*std::max_element(tokens.begin(), tokens.end()) <= 0) return CollectiveCost();
  const bool dispatch = item.kind == Item::kDispatch;
  // DeepEP fp8 dispatch / bf16 combine; the kernel floors are the low-latency kernels' (§3.2:
  // DeepEP publishes none for its normal kernels).
  const GpuSpec& gpu = scenario_.hardware.gpu;
  const double floor_us = dispatch ? gpu.moe_dispatch_floor_us : gpu.moe_combine_floor_us;
  const double copy_bytes =
      dispatch ? DispatchBytesPerCopy(scenario_.model) : CombineBytesPerCopy(scenario_.model);
  return fabric_.deepep_normal
             ? PlanNormal(dispatch, item.moe_layer, tokens, layer_loads, copy_bytes, floor_us, wire)
             : PlanLowLatency(dispatch, tokens, layer_loads, copy_bytes, floor_us, wire);
}

CollectiveCost EpGroupExecutor::PlanNormal(bool dispatch, int layer,
                                           const std::vector<double>& tokens,
                                           const std::vector<MoeLayerLoad>& layer_loads,
                                           double bytes, double floor_us,
                                           std::vector<Transfer>* wire) const {
  const DeepEpNormalPattern& pattern = *fabric_.deepep_normal;
  const ExpertHitRates& hits = hit_rates_[layer];
  const size_t ranks = gpus_.size();
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
    const double ratio = expected > 0 ? layer_loads[r].assignments / expected : 0.0;
    load.rank_hit[r] = std::min(1.0, hits.rank_hit[r] * ratio);
    node_load[pattern.node_of_rank()[r]] += layer_loads[r].assignments;
    node_expected[pattern.node_of_rank()[r]] += expected;
  }
  for (int n = 0; n < pattern.servers(); ++n) {
    const double ratio = node_expected[n] > 0 ? node_load[n] / node_expected[n] : 0.0;
    load.node_hit[n] = std::min(1.0, hits.node_hit[n] * ratio);
  }
  if (wire != nullptr) *wire = pattern.WireTransfers(load, bytes, !dispatch);
  return pattern.Estimate(load, bytes, !dispatch, floor_us);
}

CollectiveCost EpGroupExecutor::PlanLowLatency(bool dispatch, const std::vector<double>& tokens,
                                               const std::vector<MoeLayerLoad>& layer_loads,
                                               double copy_bytes, double floor_us,
                                               std::vector<Transfer>* wire) const {
  const size_t ranks = gpus_.size();
  const double max_tokens = *std::max_element(tokens.begin(), tokens.end());
  const double message = max_tokens * scenario_.model.moe.top_k * copy_bytes;
  // Rank s's tokens send their copies to GPU d in proportion to d's routed load p_d: payload
  // s -> d = t_s k p_d × copy bytes = (1/n) × message × (t_s / t_max) × (n p_d). The combine
  // returns the same copies from d to s.
  double total = 0;
  for (const MoeLayerLoad& l : layer_loads) total += l.assignments;
  std::vector<double> token_w(ranks), load_w(ranks);
  for (size_t r = 0; r < ranks; ++r) {
    token_w[r] = tokens[r] / max_tokens;
    load_w[r] = total > 0 ? double(ranks) * layer_loads[r].assignments / total : 1.0;
  }
  CollectivePattern::Weights w;
  w.src = dispatch ? token_w : load_w;
  w.dst = dispatch ? load_w : token_w;
  if (wire != nullptr) *wire = fabric_.all_to_all->WireTransfers(message, w);
  return fabric_.all_to_all->Estimate(message, floor_us, w);
}

TimeBreakdown EpGroupExecutor::Run(const std::vector<std::vector<StepBatch>>& batches,
                                   const std::vector<int64_t>& running,
                                   const std::vector<GroupLayerLoads>& loads) {
  const size_t ranks = gpus_.size();
  expert_cache_.clear();
  // The group launches one way: a full graph only if every rank's part can be captured.
  launch_ = StepLaunch::kFullGraph;
  for (const auto& micro : batches) {
    for (const StepBatch& b : micro) {
      const StepLaunch l = ChooseLaunch(scenario_.runtime, b);
      if (l != StepLaunch::kFullGraph) launch_ = l;
    }
  }
  // Per micro-batch and rank: the program's blocks split at the all-to-alls, timed once.
  // parts[m][r][block][part]; the item script comes from micro-batch 0, rank 0 (all share it).
  std::vector<std::vector<std::vector<std::vector<Segment>>>> parts(micro_);
  std::vector<Item> script;
  for (int m = 0; m < micro_; ++m) {
    parts[m].resize(ranks);
    for (size_t r = 0; r < ranks; ++r) {
      const StepProgram p = BuildStepProgram(scenario_.model, scenario_.runtime,
                                             scenario_.deployment.plan, batches[m][r]);
      auto& blocks = parts[m][r];
      blocks.resize(p.blocks.size());
      for (size_t b = 0; b < p.blocks.size(); ++b) {
        std::vector<Op> current;
        int a2a = 0;
        for (const Op& op : p.blocks[b]) {
          if (op.cls != OpClass::kAllToAll) {
            current.push_back(op);
            continue;
          }
          // Between a dispatch and its combine lie the experts: timed per layer and rank below.
          blocks[b].push_back(a2a++ % 2 == 0 ? Time(current) : Segment());
          current.clear();
        }
        blocks[b].push_back(Time(current));
      }
      if (m > 0 || r > 0) continue;
      int moe_layer = 0;
      for (int b : p.order) {
        const bool moe = blocks[b].size() > 1;
        for (size_t part = 0; part < blocks[b].size(); ++part) {
          if (part == 1) script.push_back({Item::kExperts, b, 0, moe_layer});
          if (part == 1) script.push_back({Item::kCombine, b, 0, moe_layer});
          if (part != 1) script.push_back({Item::kCompute, b, int(part), moe_layer});
          if (part == 0 && moe) script.push_back({Item::kDispatch, b, 0, moe_layer});
        }
        if (moe) ++moe_layer;
      }
    }
  }
  std::vector<std::vector<double>> tokens(micro_, std::vector<double>(ranks));
  for (int m = 0; m < micro_; ++m) {
    for (size_t r = 0; r < ranks; ++r) tokens[m][r] = double(batches[m][r].tokens());
  }

  // The interleaving: each micro-batch's script cut after every all-to-all; chunks alternate.
  std::vector<std::vector<std::pair<size_t, size_t>>> chunks(micro_);
  size_t begin = 0;
  for (size_t i = 0; i < script.size(); ++i) {
    const bool cut = script[i].kind == Item::kDispatch || script[i].kind == Item::kCombine;
    if (cut || i + 1 == script.size()) {
      for (int m = 0; m < micro_; ++m) chunks[m].push_back({begin, i + 1});
      begin = i + 1;
    }
  }

  const double now = sg4::Engine::get_clock();
  std::vector<TimeBreakdown> acc(ranks);
  std::vector<double> gpu_free(ranks);
  std::vector<std::vector<double>> ready(micro_, std::vector<double>(ranks));
  const RuntimeSpec& rt = scenario_.runtime;
  // An overlapping host prepared this step during the previous one if the group went straight on.
  const bool back_to_back = previous_end_s_ >= 0 && now <= previous_end_s_ + 1e-12;
  for (size_t r = 0; r < ranks; ++r) {
    double host = rt.HostStepSeconds(running[r]);
    if (rt.host_overlap && back_to_back) host = std::max(0.0, host - previous_step_s_);
    if (launch_ == StepLaunch::kFullGraph) host += rt.graph_launch_us * 1e-6;
    acc[r].host_s += host;
    gpu_free[r] = now + host;
    for (int m = 0; m < micro_; ++m) ready[m][r] = gpu_free[r];
  }
  // In-flight SimGrid collectives per micro-batch (non-analytic fidelities).
  struct Pending {
    sg4::ActorPtr actor;
    CollectiveCost cost;
  };
  std::vector<std::unique_ptr<Pending>> pending(micro_);
  std::vector<int> last_tier(micro_, 0);
  std::array<double, 4> tier_bytes{};
  auto settle = [&](int m) {
    if (!pending[m]) return;
    pending[m]->actor->join();
    const double end = sg4::Engine::get_clock();
    for (size_t r = 0; r < ranks; ++r) ready[m][r] = end;
    last_tier[m] = static_cast<int>(pending[m]->cost.bottleneck_tier);
    for (int t = 0; t < 4; ++t) tier_bytes[t] += pending[m]->cost.tier_bytes[t];
    pending[m].reset();
  };
  const size_t rounds = chunks[0].size();
  for (size_t c = 0; c < rounds; ++c) {
    for (int m = 0; m < micro_; ++m) {
      for (size_t i = chunks[m][c].first; i < chunks[m][c].second; ++i) {
        const Item& item = script[i];
        if (item.kind == Item::kCompute || item.kind == Item::kExperts) {
          settle(m);
          for (size_t r = 0; r < ranks; ++r) {
            const Segment& seg = item.kind == Item::kCompute
                                     ? parts[m][r][item.block][item.part]
                                     : Experts(tokens[m][r], loads[m][item.moe_layer][r]);
            const double start = std::max(gpu_free[r], ready[m][r]);
            // Idle because this micro-batch waits for an all-to-all (or the other ranks).
            const double wait = start - gpu_free[r];
            acc[r].comm_s += wait;
            acc[r].comm_tier_s[last_tier[m]] += wait;
            acc[r].Add(seg.breakdown);
            gpu_free[r] = ready[m][r] = start + seg.seconds;
          }
          continue;
        }
        double start = 0;
        for (size_t r = 0; r < ranks; ++r) start = std::max(start, ready[m][r]);
        if (micro_ > 1) {
          // Under two-batch overlap the send / receive kernels of DeepEP's low-latency all-to-all
          // hold the SMs while they pack and unpack (only the network flight, behind the receive
          // hook, leaves them free: docs/research/hybrid_amd_overlap.md §C.1); that part, the
          // kernel's floor, cannot overlap the other micro-batch's compute.
          const GpuSpec& gpu = scenario_.hardware.gpu;
          const double sm_s = (item.kind == Item::kDispatch ? gpu.moe_dispatch_floor_us
                                                            : gpu.moe_combine_floor_us) *
                              1e-6;
          for (size_t r = 0; r < ranks; ++r) {
            const double busy_from = std::max(gpu_free[r], start);
            acc[r].comm_s += sm_s;
            acc[r].comm_tier_s[last_tier[m]] += sm_s;
            gpu_free[r] = busy_from + sm_s;
          }
        }
        std::vector<Transfer> wire;
        const CollectiveCost est =
            Plan(item, tokens[m], loads[m][item.moe_layer], analytic_ ? nullptr : &wire);
        if (analytic_ || est.seconds <= 0) {
          for (size_t r = 0; r < ranks; ++r) ready[m][r] = start + est.seconds;
          last_tier[m] = static_cast<int>(est.bottleneck_tier);
          for (int t = 0; t < 4; ++t) tier_bytes[t] += est.tier_bytes[t];
          continue;
        }
        start = std::max(start, sg4::Engine::get_clock());
        auto p = std::make_unique<Pending>();
        p->actor = runner_.StartPlanned(platform_.gpus[gpus_[0]], &gpus_, est, std::move(wire),
                                        start, &p->cost);
        pending[m] = std::move(p);
      }
    }
  }
  for (int m = 0; m < micro_; ++m) settle(m);
  double end = now;
  for (size_t r = 0; r < ranks; ++r) {
    for (int m = 0; m < micro_; ++m) end = std::max(end, ready[m][r]);
  }
  sg4::this_actor::sleep_until(end);
  // The CPU is free after a graph replay; eager launches keep it busy through the step.
  previous_step_s_ = launch_ == StepLaunch::kFullGraph ? end - now : 0.0;
  previous_end_s_ = end;
  TimeBreakdown total;
  // A rank that finishes early idles until the slowest one is done (reported as idle time).
  for (size_t r = 0; r < ranks; ++r) total.Add(acc[r]);
  total.Scale(1.0 / double(ranks));
  total.tier_bytes = tier_bytes;
  return total;
}

}  // namespace moesim
