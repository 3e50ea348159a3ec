#include "engine/step_model.h"

#include <algorithm>

#include <string>

#include "engine/step_costs.h"
#include "models/kernel_cost.h"
#include "models/routing.h"

namespace moesim {

double StageActivationBytes(const Scenario& s, const StepBatch& batch) {
  return double(batch.tokens()) * s.model.hidden * 2.0;
}

double AllToAllFloorUs(const Scenario& s, const Op& op) {
  return std::string(op.name).find("dispatch") != std::string::npos
             ? s.hardware.gpu.moe_dispatch_floor_us
             : s.hardware.gpu.moe_combine_floor_us;
}

std::vector<MoeLayerLoad> ExpectedGroupLoads(const Scenario& s, double group_tokens) {
  const MoeSpec& e = s.model.moe;
  const double ep = s.deployment.plan.ep;
  MoeLayerLoad load;
  load.assignments = group_tokens * e.top_k / ep;
  load.active_experts = ExpectedDistinctExperts(e.routed_experts, e.top_k, group_tokens) / ep;
  return std::vector<MoeLayerLoad>(s.model.MoeLayerCount(), load);
}

std::vector<std::vector<MoeLayerLoad>> ExpectedGpuLoads(const Scenario& s, double group_tokens) {
  const std::vector<MoeLayerLoad> layers = ExpectedGroupLoads(s, group_tokens);
  std::vector<std::vector<MoeLayerLoad>> out;
  for (const MoeLayerLoad& l : layers) out.emplace_back(s.deployment.plan.ep, l);
  return out;
}

double EstimateStage(const Scenario& s, const InstanceFabric& fabric, const StepBatch& batch,
                     int64_t running_seqs, int stage, LaunchPipeline& pipe, double now_s) {
  const CollectivePattern* all_to_all = fabric.all_to_all.get();
  std::vector<MoeLayerLoad> loads;
  if (s.deployment.plan.dp_attention) {
    loads = ExpectedGroupLoads(s, double(batch.tokens()) * s.deployment.plan.ep);
  }
  const StepProgram program = BuildStepProgram(s.model, s.runtime, s.deployment.plan, batch, stage,
                                               loads.empty() ? nullptr : &loads);

  const KernelCostModel cost(s.hardware.gpu, s.runtime);
  StepCosts costs(program, cost);
  pipe.BeginStep(now_s, running_seqs, /*host_work=*/stage == 0, ChooseLaunch(s.runtime, batch));
  for (int b : program.order) {
    const std::vector<Op>& ops = program.blocks[b];
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      if (op.cls == OpClass::kAllReduce) {
        const double start = pipe.NextStart();
        const CollectivePattern* ring = fabric.AllReduceFor(stage, op.message_bytes);
        if (ring == nullptr) {
          pipe.CollectiveDone(start);
          continue;
        }
        const CollectiveCost& c =
            costs.Collective(*ring, op.message_bytes, s.runtime.allreduce_latency_us);
        pipe.CollectiveDone(start + c.seconds, static_cast<int>(c.bottleneck_tier), c.tier_bytes);
      } else if (op.cls == OpClass::kAllToAll) {
        const double start = pipe.NextStart();
        if (all_to_all == nullptr) {
          pipe.CollectiveDone(start);
          continue;
        }
        const CollectiveCost c = all_to_all->Estimate(op.message_bytes, AllToAllFloorUs(s, op));
        pipe.CollectiveDone(start + c.seconds, static_cast<int>(c.bottleneck_tier), c.tier_bytes);
      } else {
        pipe.Kernel(costs.Kernel(b, i), op);
      }
    }
  }
  return pipe.gpu_free_s();
}

StepEstimate EstimateStep(const Scenario& s, const InstanceFabric& fabric, const StepBatch& batch,
                          int64_t running_seqs) {
  StepEstimate e;
  const int pp = s.deployment.plan.pp;
  double t = 0;
  for (int stage = 0; stage < pp; ++stage) {
    // Steady state: an overlapping host hid this step's host work behind an identical previous
    // step, whose free CPU window a first pass measures.
    double previous_idle_cpu_s = 0;
    if (stage == 0 && s.runtime.host_overlap) {
      RuntimeSpec no_host = s.runtime;
      no_host.host_overlap = false;
      no_host.eager_host_step_us = no_host.eager_host_per_seq_us = 0;
      no_host.graph_host_step_us = no_host.graph_host_per_seq_us = 0;
      Scenario probe = s;
      probe.runtime = no_host;
      LaunchPipeline first(no_host, s.hardware.gpu);
      EstimateStage(probe, fabric, batch, running_seqs, stage, first, 0.0);
      previous_idle_cpu_s = first.IdleCpuSeconds();
    }
    LaunchPipeline pipe(s.runtime, s.hardware.gpu);
    pipe.AssumePreviousStep(previous_idle_cpu_s);
    const double end = EstimateStage(s, fabric, batch, running_seqs, stage, pipe, t);

    e.max_stage_s = std::max(e.max_stage_s, end - t);
    t = end;
    TimeBreakdown b = pipe.breakdown();
    if (stage + 1 < pp) {
      const CollectiveCost c =
          fabric.Send(stage)->Estimate(StageActivationBytes(s, batch), s.runtime.p2p_latency_us);
      t += c.seconds;
      b.comm_s += c.seconds;
      b.comm_tier_s[static_cast<int>(c.bottleneck_tier)] += c.seconds;
      for (int i = 0; i < kLinkTierCount; ++i) b.tier_bytes[i] += c.tier_bytes[i];
    }
    e.breakdown.Add(b);
  }
  const std::array<double, 4> tier_bytes = e.breakdown.tier_bytes;
  e.breakdown.Scale(1.0 / pp);
  e.breakdown.tier_bytes = tier_bytes;
  e.seconds = t;
  return e;
}

StepBatch DecodeBatch(const Scenario& s, int64_t seqs, double context_tokens) {
  StepBatch b;
  b.decode_seqs = seqs;
  b.sampled_seqs = seqs;
  b.full_pairs = double(seqs) * (context_tokens + 1);
  b.full_kv_tokens = b.full_pairs;
  const double w = s.model.sliding_window_tokens;
  if (w > 0) {
    b.sliding_pairs = double(seqs) * std::min(context_tokens + 1, w);
    b.sliding_kv_tokens = b.sliding_pairs;
  }
  return b;
}

}  // namespace moesim
