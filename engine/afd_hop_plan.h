// The traffic and analytic cost of one attention/FFN hop (engine/afd_instance.h): at every MoE
// layer each attention GPU sends its tokens' hidden states to the expert GPUs that hold their
// routed experts (dispatch, A -> E) and receives their outputs back (combine, E -> A).
//
// A token goes once to each expert GPU that holds at least one of its top-k experts (the
// receiver scatters it to its local experts and sums their outputs before returning one vector),
// as StepMesh and MegaScale-Infer's M2N send per destination GPU. With E routed experts spread
// evenly over N GPUs, a token reaches D = N (1 − Π_{i<k} (E − E/N − i) / (E − i)) GPUs on
// average (uniform routing); GPU e gets the share p_e of the copies that its sampled load has
// of the layer's (token, expert) pairs:
//
//   payload a -> e = t_a × D × p_e × dispatch bytes per token (+ t_a / N with shared experts
//   on the expert side: each token's shared-expert copy goes round-robin)
//
// and the combine returns the same copies at combine bytes. Dispatch bytes per token: hidden ×
// the dtype's bytes (+ one fp32 scale per 128 values for fp8, as DeepEP's fp8 dispatch); combine
// likewise. The hops are point-to-point RDMA writes driven by a CPU proxy (StepMesh: no SMs held),
// so no send/receive kernel floor is charged; the route's latency is.
#pragma once

#include <vector>

#include "engine/instance_fabric.h"
#include "engine/pool_context.h"
#include "models/decode_step.h"
#include "topology/collective_pattern.h"

namespace moesim {

struct AfdHop {
  CollectiveCost cost;
  double payload_bytes = 0;  // sum over all pairs
};

class AfdHopPlanner {
 public:
  AfdHopPlanner(const PoolContext& s, const InstanceFabric& fabric);

  // The expected number of expert GPUs one token reaches (D above).
  double GpusPerToken() const { return gpus_per_token_; }
  double DispatchBytesPerToken() const { return dispatch_bytes_; }
  double CombineBytesPerToken() const { return combine_bytes_; }

  // Tokens each expert GPU receives (copies) for attention tokens `tokens` ([attention GPU])
  // and the layer's per-expert-GPU `loads`.
  std::vector<double> Received(const std::vector<double>& tokens,
                               const std::vector<MoeLayerLoad>& loads) const;
  // One hop's analytic cost and payload; `wire`, when given, receives its transfers.
  AfdHop Plan(bool dispatch, const std::vector<double>& tokens,
              const std::vector<MoeLayerLoad>& loads, std::vector<Transfer>* wire) const;

 private:
  // Per expert GPU: its share of the copies (p_e N + shared-expert share), summing to N(1 + s/D).
  std::vector<double> DestinationWeights(const std::vector<MoeLayerLoad>& loads) const;

  const InstanceFabric& fabric_;
  int experts_side_ = 1;  // N
  bool shared_on_experts_ = false;
  double gpus_per_token_ = 1;
  double dispatch_bytes_ = 0;
  double combine_bytes_ = 0;
};

// D above: expert GPUs a token reaches when `experts` experts lie evenly on `gpus` GPUs and a
// token picks `top_k` distinct experts uniformly.
double ExpectedGpusPerToken(int experts, int top_k, int gpus);

}  // namespace moesim
