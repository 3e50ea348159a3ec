#include "engine/rlvr_plan.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "models/rlvr_trainer_cost.h"
#include "models/status_macros.h"

namespace moesim {

namespace {

// The GPUs of an instance that hold the policy's weights: all but a separate draft model's own
// GPUs (the draft is not trained, so no sync reaches them).
int PolicyGpus(const PoolDeployment& p) {
  return p.gpus_per_instance() - p.deployment().draft_gpus;
}

// Message size at which the sync's efficiency is read off the fabric's curve: weight shards are
// hundreds of MB to GB, where NCCL runs its Simple protocol at its plateau.
constexpr double kSyncMessageBytes = double(1ull << 30);

}  // namespace

absl::Status CheckTrainerFits(const Scenario& s, int trainers) {
  const RlvrSpec& spec = *s.rlvr;
  const JsonLocation trainer_at = JsonLocation{s.file, "$"}.Key("rlvr").Key("trainer");
  const GpuSpec& gpu = s.hardware.gpu;
  const double state = TrainerStateBytesPerGpu(s.model, trainers);
  if (state <= gpu.HbmBytes()) return absl::OkStatus();
  return BadValue(
      spec.schedule == RlvrSchedule::kColocated ? trainer_at : trainer_at.Key("gpus"), trainers,
      absl::StrCat("enough GPUs to hold the fully sharded training state (",
                   kAdamStateBytesPerParam, " bytes per parameter: ",
                   s.model.TotalParams() * kAdamStateBytesPerParam / 1e9, " GB over ", trainers,
                   " GPUs is ", state / 1e9, " GB per GPU, above the ", gpu.hbm_gb, " GB of HBM)"));
}

KvConnectorSpec RlvrSyncLink(const Scenario& s) {
  KvConnectorSpec c;
  c.name = "rlvr-weight-sync";
  c.description = "trainer -> rollout weight broadcast as point-to-point bulk flows";
  c.setup_us = 0;
  c.link_efficiency = s.cluster().scaleout.protocol_efficiency.At(kSyncMessageBytes);
  return c;
}

absl::StatusOr<RlvrSetup> PlanRlvr(const Scenario& s, const Deployment& deployment,
                                   const std::vector<int>& deployed_gpus) {
  const RlvrSpec& spec = *s.rlvr;
  const JsonLocation trainer_at = JsonLocation{s.file, "$"}.Key("rlvr").Key("trainer");
  RlvrSetup setup;
  setup.spec = &spec;
  setup.rollout_gpus = deployed_gpus;
  const GpuSpec& gpu = s.hardware.gpu;
  if (spec.schedule == RlvrSchedule::kColocated) {
    setup.trainer_gpus = deployed_gpus;
  } else {
    const std::set<int> used(deployed_gpus.begin(), deployed_gpus.end());
    const int total = s.cluster().total_gpus();
    for (int g = 0; g < total && int(setup.trainer_gpus.size()) < spec.trainer.gpus; ++g) {
      if (!used.count(g)) setup.trainer_gpus.push_back(g);
    }
    if (int(setup.trainer_gpus.size()) < spec.trainer.gpus) {
      return BadValue(trainer_at.Key("gpus"), spec.trainer.gpus,
                      absl::StrCat("at most ", total - int(used.size()),
                                   " (the cluster's GPUs outside the rollout's pools; add racks "
                                   "or servers in $.hardware)"));
    }
  }
  const int trainers = static_cast<int>(setup.trainer_gpus.size());
  MOESIM_RETURN_IF_ERROR(CheckTrainerFits(s, trainers));
  const double state = TrainerStateBytesPerGpu(s.model, trainers);
  setup.trainer_flops_per_s = trainers * gpu.PeakFlops(DType::kBf16) * spec.trainer.mfu;
  setup.optimizer_s = OptimizerStepSeconds(s.model, gpu, trainers);
  setup.sync_bytes_per_instance =
      s.model.TotalParams() * spec.sync_bytes_per_param * spec.delta_fraction;
  if (spec.schedule == RlvrSchedule::kColocated) {
    // Each GPU moves its training state to host memory and back through its own host link
    // (no contention between GPUs: an analytic shortcut), and reloads its share of the weights
    // in the rollout's layout from HBM (the in-place sync).
    const double host = s.cluster().host.BytesPerSecond() *
                        s.cluster().host.protocol_efficiency.At(kSyncMessageBytes);
    double weights_per_gpu = 0;
    for (const PoolDeployment& p : deployment.pools) {
      weights_per_gpu =
          std::max(weights_per_gpu, setup.sync_bytes_per_instance / double(PolicyGpus(p)));
    }
    setup.switch_to_train_s = state / host;
    setup.switch_to_rollout_s = state / host + weights_per_gpu / gpu.HbmBytesPerSecond();
    return setup;
  }
  size_t next = 0;
  for (const PoolDeployment& p : deployment.pools) {
    const double per_gpu = setup.sync_bytes_per_instance / double(PolicyGpus(p));
    for (int i = 0; i < p.deployment().instances; ++i) {
      const std::vector<int> gpus = p.InstanceGpus(i);
      for (int k = 0; k < PolicyGpus(p); ++k) {
        setup.sync.push_back({setup.trainer_gpus[next++ % trainers], gpus[k], per_gpu});
      }
    }
  }
  return setup;
}

}  // namespace moesim
