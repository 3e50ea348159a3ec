// Speculative decoding: each step a draft proposes k tokens per decoding sequence (k chained
// passes of a one-layer draft network), the target verifies the k + 1 positions in one pass, and
// the sequence keeps the accepted prefix plus one token of the target's own (the bonus token).
// Draft networks ("method"):
//  * "mtp": the model's own multi-token-prediction layer, DeepSeek-V3 style (one decoder layer of
//    the target's shape, MoE where the target's layers are; when k exceeds the checkpoint's MTP
//    layers the last one is reused, as SGLang's NextN and TensorRT-LLM's MTP do);
//  * "eagle": an EAGLE-3 head, one dense decoder layer at the target's hidden size with the
//    target's attention and a dense FFN of "draft_intermediate_size" (default: the target's
//    dense-layer width), sharing the target's embedding and LM head. (The head's input fusion,
//    a 3·hidden → hidden projection, is not costed; its weights count as one appended target
//    layer in memory, which over-counts an MoE target by the difference.)
//  * "draft_model": a separate, smaller model ("draft_model": a model preset or object, dense
//    or MoE, with the target's vocabulary) on the same GPUs: k chained passes of its every
//    layer, sharded like the target (tensor parallel over the stage's GPUs, its experts over the
//    target's EP ranks), its weights and its own KV cache in every GPU's memory. (vLLM's
//    "draft_model" method and SGLang's STANDALONE speculative algorithm.) With "draft_gpus": N
//    it runs on N GPUs of its own instead, added to each drafting instance (tensor parallel
//    over them, its weights and KV there): the verified tokens go to them and the drafts come
//    back every step (engine/tp_pp_instance.h; TP/PP pools only).
//
// Acceptance is stochastic per sequence and step: draft i is accepted with probability p_i given
// that drafts 1..i-1 were, so the acceptance length (tokens emitted per verification) is
// 1 + Σ_{i<=k} Π_{j<=i} p_j. The scenario gives the p_i directly ("per_position"), or the
// measured acceptance length for k = 1, 2, ... ("lengths": AL(k) - AL(k-1) = Π_{j<=k} p_j), or
// a named curve of such lengths from models/presets/acceptance_curves.json ("curve"), or a mean
// acceptance length with a geometric decay of the per-position probabilities ("mean_length" and
// "decay": p_i = p_1 · decay^(i-1), p_1 solved for the mean).
//
//   SpeculativeSpec spec = *ParseSpeculativeSpec(json, where, presets);
//   AcceptanceSampler sampler(spec.accept_probability, seed);
//   int accepted = sampler.Sample();   // 0..k drafts accepted
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/decode_step.h"
#include "models/json_reader.h"
#include "models/model_spec.h"
#include "models/preset_library.h"

namespace moesim {

enum class DraftMethod { kMtp, kEagle, kDraftModel };
const char* DraftMethodName(DraftMethod m);

struct SpeculativeSpec {
  DraftMethod method = DraftMethod::kMtp;
  int draft_intermediate = 0;  // "eagle": the head's FFN width
  ModelSpec draft_model;       // "draft_model": the separate draft network
  int draft_gpus = 0;          // "draft_model": GPUs of its own per instance (0: the target's)
  int draft_tokens = 0;        // k, per sequence and step
  // p_1 .. p_k: probability that draft i is accepted given that drafts 1..i-1 were.
  std::vector<double> accept_probability;
  std::string acceptance_source;  // what the probabilities came from (report)

  // Expected tokens emitted per verification: 1 + Σ_i Π_{j<=i} p_j.
  double ExpectedAcceptanceLength() const;
};

// `model`: the target (method "mtp" needs its MTP layers).
absl::StatusOr<SpeculativeSpec> ParseSpeculativeSpec(const nlohmann::json& value,
                                                     const JsonLocation& where,
                                                     const ModelSpec& model,
                                                     const PresetLibrary& presets);
nlohmann::json SpeculativeSpecToJson(const SpeculativeSpec& spec);

// The draft network of method "mtp": one decoder layer of the target's shape (MoE when the
// target's layers are), its own KV cache, sharing the embedding and LM head.
ModelSpec MtpDraftModel(const ModelSpec& target);
// The draft network of method "eagle": one dense decoder layer with the target's attention and
// an FFN of `intermediate`.
ModelSpec EagleDraftModel(const ModelSpec& target, int intermediate);
// The draft network `spec` runs for `target`.
ModelSpec DraftModelFor(const ModelSpec& target, const SpeculativeSpec& spec);
// The plan the draft network runs under on the target's GPUs: one pipeline stage (the target's
// last), the stage's tensor and expert parallelism; a separate draft model has no redundant
// expert slots (those are the target's). (A pool whose draft model has GPUs of its own runs it
// under OwnDraftGpusPlan instead; pools without them, e.g. a prefill pool, under this one.)
ParallelPlan DraftParallelPlan(const ParallelPlan& target, const SpeculativeSpec& spec);
// A separate draft model on `gpus` GPUs of its own: tensor parallel over them.
ParallelPlan OwnDraftGpusPlan(int gpus);
// The same for a separate draft model (method "draft_model"), which memory planning needs
// before the speculative section is at hand.
ParallelPlan SeparateDraftModelPlan(const ParallelPlan& target);

// Draws accepted-draft counts, deterministically from its seed.
class AcceptanceSampler {
 public:
  AcceptanceSampler(std::vector<double> accept_probability, uint64_t seed)
      : p_(std::move(accept_probability)), rng_(seed) {}
  int Sample();  // 0 .. k

 private:
  std::vector<double> p_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> uniform_{0.0, 1.0};
};

}  // namespace moesim
