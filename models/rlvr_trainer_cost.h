// What the RLVR trainer's work costs (an analytic shortcut, labelled as such in the report; the
// rollout is simulated, the trainer is costed from its model FLOP utilisation):
//  * forward + backward of the policy over a sample's prompt + response tokens:
//    6 × active parameters per token (2 forward, 4 backward) plus causal attention,
//    3 × 2 × heads × (qk_dim + v_dim) per attended (query, key) pair per full-attention layer
//    (the window caps sliding-window layers' pairs; linear-attention layers have none beyond
//    their projections) — the accounting of Narayanan et al., "Efficient Large-Scale Language
//    Model Training on GPU Clusters Using Megatron-LM" (SC'21), §5.1;
//  * a forward of the reference model, when asked: a third of the above;
//  * the optimizer step, bound by HBM: mixed-precision Adam reads 14 and writes 14 bytes per
//    parameter (ZeRO, Rajbhandari et al., SC'20, §3.1: 2 bytes of bf16 weights, 2 of gradients
//    and 12 of fp32 master weights, momentum and variance; the update reads the gradient and
//    the 12, writes the 12 and the bf16 copy), sharded over every trainer GPU (ZeRO-3 / FSDP).
// Every state byte is 16 per parameter (the same source); a trainer whose share does not fit in
// its GPUs' HBM is an error at set-up.
#pragma once

#include <cstdint>

#include "models/gpu_spec.h"
#include "models/model_spec.h"

namespace moesim {

// Bytes per parameter of mixed-precision Adam training state (ZeRO §3.1).
inline constexpr double kAdamStateBytesPerParam = 16;
// HBM bytes the optimizer step moves per parameter (reads 2 + 12, writes 12 + 2; ZeRO §3.1).
inline constexpr double kAdamStepBytesPerParam = 28;

// FLOPs of forward + backward over one sample (prompt + response tokens), and with
// `reference_model` the reference model's forward on top.
double TrainSampleFlops(const ModelSpec& model, int64_t prompt_tokens, int64_t response_tokens,
                        bool reference_model);

// Seconds of the optimizer step on `gpus` GPUs sharing the states evenly.
double OptimizerStepSeconds(const ModelSpec& model, const GpuSpec& gpu, int gpus);

// Training-state bytes per GPU when `gpus` GPUs share them evenly.
double TrainerStateBytesPerGpu(const ModelSpec& model, int gpus);

}  // namespace moesim
