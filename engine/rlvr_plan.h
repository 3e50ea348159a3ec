// Where an RLVR run's trainer sits and what its phases cost, before the simulation starts
// (engine/rlvr_controller.h runs them): the trainer's GPUs (the cluster's GPUs after the
// rollout's pools, in index order; the rollout's own GPUs when colocated), a check that the
// trainer's fully sharded state fits their HBM, the weight sync's transfers (every rollout GPU
// receives its instance's weights divided by the instance's GPUs, from trainer GPU
// i mod trainers), and the colocated switch through each GPU's host link.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "engine/rlvr_controller.h"
#include "engine/scenario.h"

namespace moesim {

// Whether `trainers` GPUs hold the trainer's fully sharded state (an error naming
// $.rlvr.trainer.gpus, or $.rlvr.trainer when colocated, otherwise). PlanRlvr checks it; a sweep
// checks it before simulating.
absl::Status CheckTrainerFits(const Scenario& s, int trainers);

// `deployed_gpus`: the rollout pools' GPUs (global indices).
absl::StatusOr<RlvrSetup> PlanRlvr(const Scenario& s, const Deployment& deployment,
                                   const std::vector<int>& deployed_gpus);

// How the weight sync's flows use the links: NCCL-style bulk transfers with no per-transfer
// cost beyond the links' latency, at the scale-out fabric's protocol efficiency for large
// messages (the fabric preset's curve at 1 GiB).
KvConnectorSpec RlvrSyncLink(const Scenario& s);

}  // namespace moesim
