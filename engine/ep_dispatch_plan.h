// The traffic and analytic cost of one MoE dispatch or combine of a DP-attention EP group, from
// the ranks' tokens and the experts' sampled load (engine/ep_group_instance.h uses it).
//
//  * DeepEP low-latency kernels: rank s sends each of its tokens' top-k copies to the GPU
//    holding the expert, in proportion to that GPU's share of the layer's load p_d: payload
//    s -> d = t_s k p_d × copy bytes; the combine returns the same copies (a hot expert GPU's
//    ingress and the senders' NICs set the time).
//  * DeepEP normal kernels (topology/deepep_normal_pattern.h): each token crosses RDMA once
//    per remote server it reaches and is forwarded over NVLink once per GPU; per-layer hit rates
//    (models/expert_hits.h) estimated once at set-up, scaled each step by each GPU's sampled load
//    over its expected load (capped at 1): an analytic shortcut that keeps the step's stragglers
//    but not the correlation between one step's hot GPUs and its server hits.
// Dispatch copies are fp8 with block scales, combine copies bf16 (models/moe_traffic.h); the
// kernels' floors are the low-latency kernels' (DeepEP publishes none for its normal ones).
//  * Gather (DP attention without an all-to-all kernel, plan/pool_spec.h), in the stack's form
//    (RuntimeSpec::dp_gather). SGLang's ("max_len", dp_attention.py DpPaddingMode): in a decode
//    step (MAX_LEN) an NCCL ring all-gather of every rank's hidden states padded to the largest
//    rank's tokens (bf16) and a reduce-scatter of the same size back; in a step with prompt
//    tokens (SUM_LEN) an all-reduce of the group's summed tokens each way (the stack's all-reduce
//    for that size: custom one- or two-shot inside an NVLink domain, else the ring).
//    TensorRT-LLM's ("sizes"): in every step a ring all-gather of each rank's own tokens as the
//    expert kernel takes them (nvfp4 values and their fp8 scale per 16 for fp4 experts, fp8 for
//    per-tensor fp8 experts, else bf16) with each token's top-k expert ids (int32) and weights
//    (fp32), and a reduce-scatter of the bf16 outputs back (unequal shares ride one ring: the
//    fluid equivalent of the per-rank broadcasts that carry them). Launched as the stack's
//    all-reduce is (runtime allreduce_latency_us); no DeepEP floor.
#pragma once

#include <vector>

#include "engine/instance_fabric.h"
#include "engine/scenario.h"
#include "models/decode_step.h"
#include "models/expert_hits.h"
#include "topology/collective_pattern.h"

namespace moesim {

class EpDispatchPlanner {
 public:
  // `hit_rates`: per MoE layer, for the normal kernels (fabric.deepep_normal set); else empty.
  EpDispatchPlanner(const PoolContext& s, const InstanceFabric& fabric,
                    std::vector<ExpertHitRates> hit_rates)
      : s_(s), fabric_(fabric), hit_rates_(std::move(hit_rates)) {}

  // Analytic cost of MoE layer `layer`'s dispatch (or combine) for `tokens` per rank and the
  // layer's per-GPU `loads`; `extend`: some rank's batch holds prompt tokens (the gather's
  // padding mode); `wire`, when given, receives the transfers the SimGrid paths move.
  CollectiveCost Plan(bool dispatch, int layer, const std::vector<double>& tokens,
                      const std::vector<MoeLayerLoad>& loads, bool extend,
                      std::vector<Transfer>* wire) const;
  // The kernel's fixed cost (its SM-holding part under two-batch overlap), seconds.
  double FloorSeconds(bool dispatch) const;

 private:
  CollectiveCost LowLatency(bool dispatch, const std::vector<double>& tokens,
                            const std::vector<MoeLayerLoad>& loads, double copy_bytes,
                            double floor_us, std::vector<Transfer>* wire) const;
  CollectiveCost Gather(bool dispatch, const std::vector<double>& tokens, bool extend,
                        std::vector<Transfer>* wire) const;
  CollectiveCost Normal(bool dispatch, int layer, const std::vector<double>& tokens,
                        const std::vector<MoeLayerLoad>& loads, double copy_bytes, double floor_us,
                        std::vector<Transfer>* wire) const;

  const PoolContext& s_;
  const InstanceFabric& fabric_;
  std::vector<ExpertHitRates> hit_rates_;
};

}  // namespace moesim
