// The RLVR step on SimGrid's clock (models/rlvr_spec.h): the controller actor submits each
// step's prompts × samples to the rollout deployment's router at once (a closed batch: the
// batch shrinks as short samples finish, the tail is simulated), waits for every sample, hands
// the finished samples to the trainer actor, which trains (a sleep of the analytic trainer cost,
// models/rlvr_trainer_cost.h) and pushes the new weights to every rollout GPU as SimGrid flows on
// the routed links (or, colocated, switches the GPUs between inference and training through
// their host links). Schedules:
//  * synchronous: rollout k starts when the weights of step k - 1 have arrived;
//  * one_step_off_policy: rollout k starts when rollout k - 1 has ended and the weights of step
//    k - 2 have arrived, so rollout k overlaps training k - 1;
//  * colocated: synchronous on shared GPUs, plus the switch each way.
// Faults (engine/fault_injection.h): a rollout instance that fails hands its samples to the
// others like any serving instance; a fault on a trainer GPU (FaultRecord::trainer) loses the
// step's training and weight sync in progress, and the trainer does them again once its GPUs
// are back.
// With partial rollouts a sample stops at the step's token budget and continues in the next
// step's rollout (its prompt and generated tokens prefilled again); training takes the samples
// that finished.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "engine/serving_run.h"
#include "models/rlvr_spec.h"
#include "topology/cluster_graph.h"

namespace moesim {

// What the controller and trainer are handed (engine/simulation.cc builds it).
struct RlvrSetup {
  const RlvrSpec* spec = nullptr;
  std::vector<int> trainer_gpus;  // the rollout's GPUs when colocated
  std::vector<int> rollout_gpus;
  std::vector<Transfer> sync;               // one per rollout GPU (empty when colocated)
  double trainer_flops_per_s = 0;           // trainer GPUs × dense bf16 peak × MFU
  double optimizer_s = 0;                   // per step
  double switch_to_train_s = 0;             // colocated: offload inference, load trainer states
  double switch_to_rollout_s = 0;           // colocated: offload trainer states, reload weights
  double sync_bytes_per_instance = 0;       // the weights (or delta) one rollout instance receives
  KvTransferRunner* sync_runner = nullptr;  // moves `sync` on the platform (not colocated)
};

struct RlvrStepRecord {
  int step = 0;
  double rollout_start_s = 0, rollout_end_s = 0;
  double tail_start_s = 0;  // when 90 % of the step's samples had finished (or carried)
  double train_start_s = 0, train_end_s = 0;
  double sync_start_s = 0, sync_end_s = 0;
  double switch_in_s = 0;        // colocated: inference -> training, inside the training window
  double switch_out_s = 0;       // colocated: training -> inference, inside the sync window
  int64_t samples_run = 0;       // samples that ran in this rollout (new and carried over)
  int64_t samples_finished = 0;  // generated to their full length in this rollout
  int64_t samples_carried = 0;   // stopped at the budget, continued in the next step
  int64_t response_tokens = 0;   // generated in this rollout
  int64_t prompt_tokens = 0;     // prefilled in this rollout (carried samples: again)
  int64_t train_tokens = 0;      // prompt + response tokens of the samples trained on
  double train_flops = 0;
  double sync_bytes = 0;
  std::array<double, kLinkTierCount> sync_tier_bytes{};
  // Fault injection: times a trainer fault made the step train (and sync) again, the trainer
  // time those attempts took, and the weight-sync bytes they sent for nothing.
  int64_t training_restarts = 0;
  double train_lost_s = 0;
  double sync_bytes_lost = 0;
};

struct RlvrTimeline {
  std::vector<RlvrStepRecord> steps;
  int64_t samples_unfinished = 0;   // carried past the last step (partial rollouts)
  int64_t rollout_preemptions = 0;  // sequences the rollout preempted (KV full), every step
};

// Spawns the controller and trainer actors on `run`'s platform frontend; they fill `out` and
// stop the run when the last step's weights are synced.
void StartRlvrActors(Run* run, const RlvrSetup* setup, RlvrTimeline* out);

}  // namespace moesim
