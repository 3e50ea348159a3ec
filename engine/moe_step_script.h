// The script every rank of a DP-attention step follows (expert-parallel groups and
// attention/FFN disaggregation): a program's blocks cut at the MoE layers' all-to-alls into
// compute items, the dispatch, the experts and the combine, and the chunks that micro-batches
// alternate (cut after every dispatch and combine).
#pragma once

#include <utility>
#include <vector>

#include "engine/step_graph.h"
#include "models/decode_step.h"
#include "models/model_spec.h"
#include "models/runtime_spec.h"

namespace moesim {

// One item of a micro-batch's step script: compute (order index oi, part) or an all-to-all.
struct ScriptItem {
  enum Kind { kCompute, kExperts, kDispatch, kCombine } kind = kCompute;
  int oi = 0;         // kCompute: position in the program's order
  int part = 0;       // kCompute: 0 before the dispatch, 2 after the combine
  int moe_layer = 0;  // kExperts / kDispatch / kCombine
};

// The step script of a program (every rank's is alike: same model and plan): its items, where
// each block's all-to-alls sit, and the chunks, cut after every all-to-all, that micro-batches
// alternate.
struct StepScript {
  std::vector<int> order;
  std::vector<int> block_size;
  std::vector<std::vector<int>> a2a;  // op indices of all-to-alls per block
  std::vector<ScriptItem> items;
  std::vector<std::pair<size_t, size_t>> chunks;
};

StepScript MakeScript(const StepProgram& p);

// The ops [begin, end) of a compute item: its block's ops before the dispatch (part 0) or after
// the combine (part 2); a block without all-to-alls whole.
void ScriptItemRange(const StepScript& script, const ScriptItem& item, OpPosition* begin,
                     OpPosition* end);

// How a step of DP-attention ranks launches: a full graph only if every rank's part of every
// micro-batch can be captured (batches[m][r]: micro-batch m of rank r).
StepLaunch GroupLaunch(const RuntimeSpec& runtime,
                       const std::vector<std::vector<StepBatch>>& batches);

// Each rank's program per micro-batch, one per distinct batch, added to `g` (every one has the
// same blocks: same model and plan), and the tokens each carries.
struct RankPrograms {
  std::vector<std::vector<int>> program;    // [m][r]: index in g->programs
  std::vector<std::vector<double>> tokens;  // [m][r]
};
RankPrograms AddRankPrograms(const ModelSpec& model, const RuntimeSpec& runtime,
                             const ParallelPlan& plan,
                             const std::vector<std::vector<StepBatch>>& batches, StepGraph* g);

}  // namespace moesim
