// One lockstep step of a DP-attention expert-parallel group (SGLang / DeepSeek style): every GPU
// runs attention for its own batch, then each MoE layer dispatches tokens to the experts' GPUs
// with an all-to-all, runs the grouped GEMMs of ITS OWN experts (sized by its routed load), and
// combines the results with a second all-to-all. An all-to-all starts when the last rank reaches
// it, so a rank with more attention work, or the busiest expert GPU, holds the whole group back;
// the wait shows as communication time on the other ranks.
//
// Timing model. A rank's kernels are grouped into segments between all-to-alls; a segment's
// duration is its kernels timed by the cost model through a LaunchPipeline started with the
// segment (CUDA-graph nodes or eager launch gaps included; the graph launch and the host's
// per-step work are paid once, at the start of the step). Segments of one rank run one after
// another on its GPU; all-to-alls take no GPU time (DeepEP's RDMA path) and are costed over the
// group's routed links with the per-pair traffic of the step: rank s sends its tokens' expert
// copies to the GPUs holding the experts, in proportion to each GPU's sampled load, so a hot
// expert GPU's ingress link and the senders' NICs set the time.
//
// Two-batch overlap: each rank's batch is split into two micro-batches that alternate at every
// all-to-all (A: attention + dispatch, B: attention + dispatch, A: experts + combine, B: experts
// + combine, ...), so one micro-batch's all-to-all runs while the other computes; it pays off only
// when the all-to-alls are long enough to hide compute, and costs twice the kernels' fixed costs
// and, per all-to-all, the SM time of DeepEP's send / receive kernels (the kernel floor), which
// no compute overlaps. Micro-batches split the sequences evenly; the attention imbalance between
// them that real contexts cause is not modelled.
//
// Dispatch / combine follow DeepEP's low-latency kernels by default (every token copy goes
// straight to its expert's GPU). With "moe_dispatch": "normal" they follow DeepEP's normal
// kernels (topology/deepep_normal_pattern.h): each token crosses RDMA once per remote server
// it reaches and is forwarded over NVLink once per GPU. Their traffic uses per-layer hit rates
// (models/expert_hits.h) estimated once at set-up, scaled each step by each GPU's sampled load
// over its expected load (capped at 1): an analytic shortcut that keeps the step's stragglers
// but not the correlation between one step's hot GPUs and its server hits.
//
// All-to-alls are analytic at "step" fidelity or with "collectives": "analytic", else SimGrid
// activities (ptask / flows) started in helper actors so that two can be in flight. Must be
// called from a SimGrid actor.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "engine/collective_runner.h"
#include "engine/instance_fabric.h"
#include "engine/launch_pipeline.h"
#include "engine/scenario.h"
#include "models/expert_hits.h"
#include "models/kernel_cost.h"

namespace moesim {

// Every GPU's routed load per MoE layer: [layer][rank].
using GroupLayerLoads = std::vector<std::vector<MoeLayerLoad>>;

class EpGroupExecutor {
 public:
  // `hit_rates`: per MoE layer, for DeepEP normal kernels (fabric.deepep_normal set); else empty.
  EpGroupExecutor(const Scenario& scenario, const SimgridPlatform& platform,
                  const InstanceFabric& fabric, const std::vector<int>& gpus,
                  std::vector<ExpertHitRates> hit_rates = {});

  // Micro-batches per step (2 with two-batch overlap, else 1).
  int micro_batches() const { return micro_; }
  // Rank batch `b` split into micro_batches() parts (sequences split as evenly as possible;
  // attention work and prefill tokens in proportion).
  std::vector<StepBatch> Split(const StepBatch& b) const;

  // batches[m][r]: micro-batch m of rank r; running[r]: rank r's running sequences;
  // loads[m]: the routed loads of micro-batch m. Returns the per-GPU breakdown averaged over the
  // ranks (tier bytes are the group's totals).
  TimeBreakdown Run(const std::vector<std::vector<StepBatch>>& batches,
                    const std::vector<int64_t>& running, const std::vector<GroupLayerLoads>& loads);

 private:
  struct Segment {
    double seconds = 0;
    TimeBreakdown breakdown;
  };
  // One item of a micro-batch's step: compute (block b's part p) or an all-to-all.
  struct Item {
    enum Kind { kCompute, kExperts, kDispatch, kCombine } kind = kCompute;
    int block = 0;      // kCompute: block index
    int part = 0;       // kCompute: part of the block between all-to-alls
    int moe_layer = 0;  // kExperts / kDispatch / kCombine
  };
  Segment Time(const std::vector<Op>& ops) const;
  const Segment& Experts(double tokens, const MoeLayerLoad& load);
  // One all-to-all of a micro-batch at MoE layer item.moe_layer: its analytic cost and, when
  // `wire` is given, the transfers the SimGrid paths move.
  CollectiveCost Plan(const Item& item, const std::vector<double>& tokens,
                      const std::vector<MoeLayerLoad>& layer_loads,
                      std::vector<Transfer>* wire) const;
  // Low-latency kernels: rank s sends t_s k p_d copies to GPU d (p_d: d's share of the load).
  // `copy_bytes`: one token copy's payload; `floor_us`: the kernel's fixed cost.
  CollectiveCost PlanLowLatency(bool dispatch, const std::vector<double>& tokens,
                                const std::vector<MoeLayerLoad>& layer_loads, double copy_bytes,
                                double floor_us, std::vector<Transfer>* wire) const;
  // Normal kernels: the layer's hit rates scaled by the step's loads.
  CollectiveCost PlanNormal(bool dispatch, int layer, const std::vector<double>& tokens,
                            const std::vector<MoeLayerLoad>& layer_loads, double copy_bytes,
                            double floor_us, std::vector<Transfer>* wire) const;

  const Scenario& scenario_;
  const SimgridPlatform& platform_;
  const InstanceFabric& fabric_;
  std::vector<int> gpus_;
  std::vector<ExpertHitRates> hit_rates_;  // per MoE layer (normal kernels only)

  int micro_ = 1;
  bool analytic_ = true;
  CollectiveRunner runner_;
  KernelCostModel cost_;
  RuntimeSpec segment_runtime_;                 // the runtime without the per-step graph launch
  StepLaunch launch_ = StepLaunch::kFullGraph;  // this step's launch (every rank alike)
  double previous_step_s_ = 0;  // CPU time free in the previous step (overlapping host)
  double previous_end_s_ = -1;  // and its end (-1: none yet)
  std::map<std::tuple<double, double, double>, Segment> expert_cache_;  // per step
};

}  // namespace moesim
