// Analytic cost of one step of one instance (no SimGrid): the kernel list of every pipeline
// stage, each kernel timed by the cost model and launched through the LaunchPipeline, every
// all-reduce and stage send timed by its CollectivePattern's link-load bound on an idle fabric
// (the same wire traffic the SimGrid paths send, so the two agree on an isolated instance).
//
// Used by the "step" fidelity and by the analytic bounds.
#pragma once

#include <cstdint>

#include "engine/instance_fabric.h"
#include "engine/launch_pipeline.h"
#include "engine/scenario.h"

namespace moesim {

struct StepEstimate {
  double seconds = 0;       // one micro-batch through every stage (stages run one after another)
  double max_stage_s = 0;   // the slowest stage (sets the pipelined period)
  TimeBreakdown breakdown;  // per GPU, averaged over stages
};

// One pipeline stage's kernels for `batch` starting at `now_s`: all-reduces as the fabric picks
// them per message (InstanceFabric::AllReduceFor); a DP-attention EP group's dispatch/combine
// over fabric.all_to_all, assuming every rank of the group runs the same batch.
double EstimateStage(const Scenario& s, const InstanceFabric& fabric, const StepBatch& batch,
                     int64_t running_seqs, int stage, LaunchPipeline& pipe, double now_s);

// Floor of the MoE all-to-all `op` (dispatch or combine) on the scenario's GPU.
double AllToAllFloorUs(const Scenario& s, const Op& op);

// Expected (uniform routing) load of every MoE layer's GPU in a DP-attention EP group that
// processes `group_tokens` tokens in all.
std::vector<MoeLayerLoad> ExpectedGroupLoads(const Scenario& s, double group_tokens);
// The same load for every GPU of the group: [MoE layer][rank].
std::vector<std::vector<MoeLayerLoad>> ExpectedGpuLoads(const Scenario& s, double group_tokens);

StepEstimate EstimateStep(const Scenario& s, const InstanceFabric& fabric, const StepBatch& batch,
                          int64_t running_seqs);

// A steady decode batch of `seqs` sequences that each hold `context_tokens` tokens.
StepBatch DecodeBatch(const Scenario& s, int64_t seqs, double context_tokens);

// Bytes of activations one stage hands to the next for `batch` (bf16 hidden states).
double StageActivationBytes(const Scenario& s, const StepBatch& batch);

}  // namespace moesim
