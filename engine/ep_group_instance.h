// The "ep_group" instance kind (engine/instance.h): a DP-attention expert-parallel group in the
// style of SGLang / DeepSeek. Every GPU schedules its own sequences (its own KV blocks); all
// ranks step together. A step's graph, per rank: the rank's kernels split at the MoE layers'
// all-to-alls; between each dispatch and its combine the rank runs its OWN experts' fused-MoE
// block sized by its sampled load (the busiest expert GPU becomes the straggler); dispatch and
// combine are transfers that start when the last rank reaches them (a barrier) and carry the
// per-pair traffic of the step (engine/ep_dispatch_plan.h).
//
// Two-batch overlap: each rank's batch splits into two micro-batches (sequences split as evenly
// as possible; attention work and prefill tokens in proportion) whose items alternate at every
// all-to-all (A: attention + dispatch, B: attention + dispatch, A: experts + combine, ...), so
// one micro-batch's all-to-all runs while the other computes; every all-to-all holds the SMs for
// DeepEP's send / receive kernels (the kernel floor), which no compute overlaps. The attention
// imbalance between micro-batches that real contexts cause is not modelled.
#pragma once

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "engine/ep_dispatch_plan.h"
#include "engine/instance.h"
#include "engine/instance_scheduler.h"
#include "engine/kv_host_io.h"
#include "engine/moe_load_sampler.h"
#include "engine/moe_step_script.h"
#include "engine/step_model.h"
#include "models/speculative.h"

namespace moesim {

class EpGraphEmitter;  // engine/ep_group_instance.cc

// Every GPU's routed load per MoE layer: [layer][rank].
using GroupLayerLoads = std::vector<std::vector<MoeLayerLoad>>;

class EpGroupInstance : public Instance {
 public:
  static absl::StatusOr<std::unique_ptr<Instance>> Make(InstanceContext& context);

  const char* kind() const override { return "ep_group"; }
  int lanes() const override { return 1; }
  int64_t Load() const override;
  int Admit(Request* request) override;
  bool HasWork(int lane) const override;
  absl::StatusOr<StepOutcome> RunStep(int lane, Fabric& fabric) override;
  StepTiming EstimateDecode(int64_t seqs, double context_tokens) const override;
  StepTiming EstimateBatch(const StepBatch& batch, int ranks,
                           const StepBatch& others) const override;
  StepTiming RunDecode(int64_t seqs, double context_tokens, Fabric& fabric) override;
  std::vector<KvShard> KvShards(int rank) const override { return WholeKvShard(gpus_[rank]); }
  bool ReserveKv(Request* request) override;
  int AdmitTransferred(Request* request) override;
  void ReleaseHandedOff(Request* request) override;
  void DiscardHandedOff(Request* request) override;
  void CancelReservation(Request* request) override;
  int64_t KvBlocksInUse() const override;
  int64_t KvBlocksSwapped() const override;
  void CheckKvTiers() const override;
  std::vector<Request*> Evict(int lane) override;
  // A rank whose GPU failed leaves the group (its KV and requests handed back); the group goes
  // on with the others if every expert keeps a replica on them (redundant slots, EPLB): the
  // lost replicas' tokens go to the ones left, its all-to-all traffic stops. Needs sampled
  // routing (a placement to take replicas from); otherwise false.
  bool DropRanks(const std::vector<int>& positions) override;
  std::vector<Request*> EvictDroppedRanks() override;
  void RestoreRanks(const std::vector<int>& positions) override;
  SpeculationCounts Speculation() const override;
  double EstimateDraftShare(int64_t seqs, double context_tokens) const override;

  // Rank batch `b` split into micro-batches.
  std::vector<StepBatch> Split(const StepBatch& b) const;
  // The step graph: batches[m][r] is micro-batch m of rank r, loads[m] its routed loads.
  // `wire`: whether transfers carry their wire traffic (SimGrid paths).
  virtual StepGraph BuildGraph(const std::vector<std::vector<StepBatch>>& batches,
                               const std::vector<int64_t>& running,
                               const std::vector<GroupLayerLoads>& loads, bool wire) const;
  // A decode step of `seqs` sequences per rank at uniform routing's expected load.
  StepGraph DecodeGraph(int64_t seqs, double context_tokens, bool wire) const;

 protected:
  // Kinds built on this one (engine/afd_instance.h) schedule sequences on the first `ranks`
  // GPUs of the context (each with its own KV pool) and run `micro` micro-batches per step.
  EpGroupInstance(const InstanceContext& context, std::vector<ExpertHitRates> hits, int micro);
  static absl::Status Init(InstanceContext& context, int ranks, EpGroupInstance* instance);
  // KV hierarchy: every rank's saves to host DRAM (waited for before the step's GPU work, and
  // traced), then its loads started alongside it; sums what moved into `rec`.
  struct HostLoads {
    std::vector<std::unique_ptr<PendingTransfer>> pending;
    std::vector<double> load_bytes, ssd_bytes;  // per rank: host loads, SSD reads and writes
  };
  HostLoads StartHostCopies(Fabric& fabric, StepRecord* rec);
  // Waits for `loads`, started with the GPU work at `gpu_start`, and traces them per rank.
  void FinishHostLoads(HostLoads& loads, double gpu_start, Fabric& fabric) const;
  // Adds what a kind records beside the common fields, before the observers see the step.
  virtual void RecordStep(const StepTiming& timing, StepRecord* rec) const {}
  int ranks() const { return static_cast<int>(ranks_.size()); }
  int micro() const { return micro_; }
  const PoolContext& pool() const { return s_; }
  const std::vector<int>& gpus() const { return gpus_; }

  // Speculative decoding: the k chained draft passes after a step's verification of `batches`
  // ([m][r]), their programs added to `g`; each pass is for the caller's emitter to lay out
  // (Script(script, prog_set, tokens, loads)): an MoE draft layer's tokens go to the experts at
  // uniform routing's expected load. Empty when the step drafts nothing.
  struct DraftPass {
    StepScript script;
    std::vector<int> prog_set;                // [m]
    std::vector<std::vector<double>> tokens;  // [m][r]
    std::vector<GroupLayerLoads> loads;       // [m]
  };
  std::vector<DraftPass> AddDraftPrograms(const std::vector<std::vector<StepBatch>>& batches,
                                          StepGraph* g) const;

 private:
  // Each micro-batch's routed load per layer and GPU (sampled, or uniform routing's expected
  // load); returns the mean busiest / mean GPU load over micro-batches (0 when expected).
  absl::StatusOr<double> SampleLoads(const std::vector<std::vector<StepBatch>>& micro,
                                     std::vector<GroupLayerLoads>* loads);
  // Records the step that ran: KV use, finished requests, observers.
  void EndStep(const StepTiming& timing, StepRecord* rec, StepOutcome* out);
  // The runner of the instance's groups (an attention/FFN plan's expert groups on their own GPU
  // type) and the steady state of a graph on an idle fabric with the same GPUs.
  static StepRunner MakeRunner(const PoolContext& pool, int groups);
  StepTiming EstimateGraph(const StepGraph& graph) const;

  const PoolContext& s_;
  const InstanceFabric& fabric_;
  int index_;
  std::vector<StepObserver*> observers_;
  std::function<void(Request*)> on_prompt_completing_;
  std::vector<int> gpus_;
  int micro_ = 1;
  // DeepEP normal kernels: the host polls each dispatch's received-token count (a CPU-GPU sync,
  // the reason they cannot be graph-captured), so it cannot launch past a dispatch early.
  bool host_syncs_at_dispatch_ = false;
  StepActivitySink* activity_sink_ = nullptr;  // traces (nullptr: none)
  KvFootprint footprint_;
  std::vector<std::unique_ptr<PagedKvPool>> pools_;
  std::vector<std::unique_ptr<InstanceScheduler>> ranks_;
  // KV hierarchy (empty without): each rank's prefix cache and host tier, and its copies over
  // its own GPU's host link.
  std::vector<std::unique_ptr<PrefixCache>> tiers_;
  std::vector<std::unique_ptr<KvHostIo>> host_io_;
  // Cache-aware: each session's or prefix group's rank (Request::CacheAffinity()).
  std::map<int64_t, size_t> affinity_ranks_;
  std::unique_ptr<MoeLoadSampler> sampler_;           // sampled routing (nullptr: expected load)
  ExpectedLoadMemo expected_;                         // uniform routing's expected loads, by tokens
  std::unique_ptr<ExpectedLoadMemo> draft_expected_;  // the draft network's (with drafts)
  std::vector<int> dropped_;  // per rank: faults that hold it out of service
  // TensorRT-LLM's attention-DP balancing (RuntimeSpec::attention_dp_balance): iterations
  // context has waited for every rank to have some, and iterations it has waited to batch more.
  int balance_waiting_iters_ = 0;
  int balance_batching_iters_ = 0;
  // Whether this step may run context work under that balancing (true without it).
  bool BalanceAllowsContext();
  // Speculative decoding: the draft layer, each rank's acceptance stream, and whether graphs
  // include the draft passes (off only while EstimateDraftShare times a step without them).
  std::unique_ptr<ModelSpec> draft_model_;
  std::vector<std::unique_ptr<AcceptanceSampler>> acceptance_;
  mutable bool drafts_ = true;
  EpDispatchPlanner planner_;
  StepRunner runner_;
};

}  // namespace moesim
