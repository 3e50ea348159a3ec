// The "tp_pp" instance kind: one tensor/pipeline-parallel replica (engine/instance.h).
//
// pp pipeline stages of tp GPUs each hold a contiguous slice of the layers; pp lanes (virtual
// engines, vLLM's pipeline-parallel schedulers) each form micro-batches from their own queue
// over the instance's shared KV blocks, so pp micro-batches are in flight. A lane's step is a
// graph of, per stage, the stage's kernels split at its TP all-reduces (collective nodes on the
// stage's stream) and a blocking send of the activations to the next stage. A stage runs one
// micro-batch at a time (its group mutex, FIFO). The per-GPU time of a step is the average
// over its stages.
#pragma once

#include <memory>
#include <vector>

#include "engine/instance.h"
#include "engine/instance_scheduler.h"
#include "engine/kv_host_io.h"
#include "engine/moe_load_sampler.h"

namespace moesim {

class TpPpInstance : public Instance {
 public:
  static absl::StatusOr<std::unique_ptr<Instance>> Make(InstanceContext& context);

  const char* kind() const override { return "tp_pp"; }
  int lanes() const override { return static_cast<int>(engines_.size()); }
  int64_t Load() const override;
  int Admit(Request* request) override;
  bool HasWork(int lane) const override { return engines_[lane]->HasWork(); }
  absl::StatusOr<StepOutcome> RunStep(int lane, Fabric& fabric) override;
  StepTiming EstimateDecode(int64_t seqs, double context_tokens) const override;
  StepTiming EstimateBatch(const StepBatch& batch, int ranks,
                           const StepBatch& others) const override;
  StepTiming RunDecode(int64_t seqs, double context_tokens, Fabric& fabric) override;
  std::vector<KvShard> KvShards(int rank) const override;
  bool ReserveKv(Request* request) override;
  int AdmitTransferred(Request* request) override;
  void ReleaseHandedOff(Request* request) override;
  void DiscardHandedOff(Request* request) override;
  void CancelReservation(Request* request) override;
  // Blocks the sequences hold privately (cached prefix blocks belong to the cache).
  int64_t KvBlocksInUse() const override {
    return pool_->used() - (tiers_ ? tiers_->hbm_blocks() : 0);
  }
  // Host DRAM blocks of swapped-out or offloaded sequences.
  int64_t KvBlocksSwapped() const override { return tiers_ ? tiers_->host_swap_blocks() : 0; }
  void CheckKvTiers() const override;
  std::vector<Request*> Evict(int lane) override;
  SpeculationCounts Speculation() const override;

  // The step graph of `batch` (the sampled per-layer loads when given): verification, then
  // (speculative decoding, unless `drafts` is false) the MTP drafts for the next step.
  StepGraph BuildGraph(const StepBatch& batch, int64_t running_seqs,
                       const std::vector<MoeLayerLoad>* loads, bool drafts = true) const;
  double EstimateDraftShare(int64_t seqs, double context_tokens) const override;

 private:
  explicit TpPpInstance(const InstanceContext& context);
  // A steady decode batch of `seqs` sequences (verifying k + 1 positions each when
  // speculative).
  StepBatch SteadyDecodeBatch(int64_t seqs, double context_tokens) const;
  // Adds a program's kernels to a group's stream, split at its all-reduces; returns the last
  // node (the first waits for `previous`, -1: none).
  // A blocking send of `bytes` of token ids over `pattern` after node `previous` (a draft model
  // on GPUs of its own); returns its node.
  int AddTokenSend(StepGraph& g, const CollectivePattern* pattern, const char* name, double bytes,
                   int previous) const;
  int EmitProgram(StepGraph& g, int prog, int group, int previous) const;
  // The virtual engine with the fewest running + waiting sequences (lowest index on ties).
  int LeastLoadedEngine() const;

  const PoolContext& s_;
  const InstanceFabric& fabric_;
  int index_;
  std::vector<StepObserver*> observers_;
  std::function<void(Request*)> on_prompt_completing_;
  std::vector<int> gpus_;  // stage-major
  std::vector<std::vector<int>> stage_gpus_;
  std::vector<int> stage_resources_;
  KvFootprint footprint_;
  std::unique_ptr<PagedKvPool> pool_;
  // KV hierarchy (nullptr without): the pool's prefix cache and host tier, and the copies.
  std::unique_ptr<PrefixCache> tiers_;
  std::unique_ptr<KvHostIo> host_io_;
  StepActivitySink* activity_sink_ = nullptr;  // traces (nullptr: none)
  std::vector<std::unique_ptr<InstanceScheduler>> engines_;
  std::unique_ptr<MoeLoadSampler> sampler_;  // sampled routing (nullptr: expected load)
  // Speculative decoding (nullptr without): acceptance draws and the MTP draft layer.
  std::unique_ptr<AcceptanceSampler> acceptance_;
  std::unique_ptr<ModelSpec> draft_model_;
  StepRunner runner_;
};

}  // namespace moesim
