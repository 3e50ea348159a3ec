// A group of GPUs running one plan: the unit the router sends requests to and the simulation
// steps. Kinds are registered by name with a one-line description (as SimGrid registers its
// models); the simulation creates each pool's instances through the registry and drives every
// kind with one actor loop per lane (engine/simulation.cc):
//
//   while (the run lasts) { wait until HasWork(lane); RunStep(lane, fabric); }
//
// A kind admits requests, forms each lane's next step, turns it into a step graph
// (engine/step_graph.h) that its StepRunner runs on the fabric, applies the step's results, and
// reports them to the observers. Kinds today:
//   tp_pp     one tensor/pipeline-parallel replica: pp stages of tp GPUs, pp lanes (virtual
//             engines) keeping pp micro-batches in flight over the shared KV pool;
//   ep_group  a DP-attention expert-parallel group: every GPU schedules its own sequences, all
//             step in lockstep, MoE layers dispatch and combine over all-to-alls (one lane);
//   afd       attention/FFN disaggregation: DP-attention GPUs send every MoE layer's tokens to
//             separate expert GPUs and back, in ping-pong micro-batches (one lane).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/fabric.h"
#include "engine/instance_fabric.h"
#include "engine/instance_scheduler.h"
#include "engine/kv_transfer_plan.h"
#include "engine/metrics.h"
#include "engine/pool_context.h"
#include "engine/request.h"
#include "engine/step_runner.h"

namespace moesim {

// Subscribes to what instances do (metrics today; a trace writer later).
class StepObserver {
 public:
  virtual ~StepObserver() = default;
  virtual void OnStep(int instance, const StepRecord& step, const TimeBreakdown& gpu_time) = 0;
  virtual void OnRequestFinished(const Request& request) = 0;
};

// What one RunStep() did.
struct StepOutcome {
  bool ran = false;                // false: nothing could run now (wait for a wake-up)
  std::vector<Request*> finished;  // requests that completed with this step
  // A prefill pool's instance: requests whose prompt completed with this step; their KV stays
  // on the instance (blocks held) until ReleaseHandedOff().
  std::vector<Request*> handed_off;
};

class Instance {
 public:
  virtual ~Instance() = default;

  virtual const char* kind() const = 0;
  // Actors that drive the instance (each runs RunStep(lane) in a loop).
  virtual int lanes() const = 0;
  // Running and waiting sequences (the router's load).
  virtual int64_t Load() const = 0;
  // Takes a new request (sets request->rank); returns the lane that should wake up.
  virtual int Admit(Request* request) = 0;
  virtual bool HasWork(int lane) const = 0;
  // Forms and runs lane `lane`'s next step on `fabric` (which the lane blocks on), applies it
  // and tells the observers.
  virtual absl::StatusOr<StepOutcome> RunStep(int lane, Fabric& fabric) = 0;
  // The steady state of a decode step of `seqs` sequences holding `context_tokens` tokens each,
  // on an idle fabric (analytic; no SimGrid): for bounds, `moesim step` and sweeps.
  virtual StepTiming EstimateDecode(int64_t seqs, double context_tokens) const = 0;
  // The same for one step of any `batch` (e.g. prefill chunks, engine/step_model.h), on the
  // instance (tp_pp), or on the first `ranks` ranks of a DP-attention group (at least one, at
  // most all) while the others step `others` (an empty batch: they step empty).
  virtual StepTiming EstimateBatch(const StepBatch& batch, int ranks,
                                   const StepBatch& others) const = 0;
  // The same decode step run on `fabric` with the instance's own runner (its host-overlap
  // state carries over), without touching its schedulers: the other side of EstimateDecode.
  virtual StepTiming RunDecode(int64_t seqs, double context_tokens, Fabric& fabric) = 0;

  // --- Prefill/decode disaggregation (engine/disaggregation.h) ---
  // Where the KV of a sequence held by lane/rank `rank` lives: GPUs and their shares.
  virtual std::vector<KvShard> KvShards(int rank) const = 0;
  // Decode side: takes the blocks of the request's prompt KV on the lane/rank with the fewest
  // sequences among those with room, and sets request->rank; false when none has room.
  virtual bool ReserveKv(Request* request) = 0;
  // Decode side: the request's KV has arrived on lane/rank request->rank; it joins a batch.
  // Returns the lane that should wake up.
  virtual int AdmitTransferred(Request* request) = 0;
  // Prefill side: frees the blocks the request held since its prompt completed.
  virtual void ReleaseHandedOff(Request* request) = 0;
  // Fault injection: the request's prompt KV is lost on the prefill side (its blocks go back
  // without joining the prefix cache; idempotent), or the transfer into its reservation on the
  // decode side was lost (the reserved blocks go back).
  virtual void DiscardHandedOff(Request* request) = 0;
  virtual void CancelReservation(Request* request) = 0;
  // KV blocks the instance's sequences hold over all of its pools (conservation checks).
  virtual int64_t KvBlocksInUse() const = 0;
  // KV hierarchy (models/prefix_cache.h): blocks of swapped-out (or offloaded) sequences in
  // host DRAM, and the caches' invariants (MOESIM_CHECK: a broken one stops the run naming
  // file and line).
  virtual int64_t KvBlocksSwapped() const { return 0; }
  virtual void CheckKvTiers() const {}

  // Fault injection (engine/fault_injection.h): lane `lane`'s GPUs failed; every request its
  // schedulers hold leaves (KV lost, progress kept: see InstanceScheduler::EvictAll), to be
  // routed elsewhere. Called by the lane itself between steps.
  virtual std::vector<Request*> Evict(int lane) = 0;
  // Fault injection, for kinds that can lose some GPUs and go on (a DP-attention EP group whose
  // experts have replicas elsewhere): takes the ranks at `positions` (in the instance's GPUs)
  // out of service, or returns false and changes nothing when it cannot go on without them
  // (the instance then stops). Dropping a rank twice (overlapping faults) needs two restores.
  virtual bool DropRanks(const std::vector<int>& positions) { return false; }
  // Between steps after DropRanks: every request the dropped ranks hold leaves (as Evict).
  virtual std::vector<Request*> EvictDroppedRanks() { return {}; }
  // The ranks' GPUs are back: they take requests again (their KV empty).
  virtual void RestoreRanks(const std::vector<int>& positions) {}

  // Tokens sampled so far and, with speculative decoding, verifications and accepted drafts.
  virtual SpeculationCounts Speculation() const = 0;
  // Speculative decoding: the share of a steady decode step spent drafting (analytic, on an
  // idle fabric); 0 for kinds or plans without drafts.
  virtual double EstimateDraftShare(int64_t seqs, double context_tokens) const { return 0.0; }
};

// What a kind's factory is handed.
struct InstanceContext {
  InstanceContext(const PoolContext& p, const InstanceFabric& f, std::vector<int> g)
      : pool(p), fabric(f), gpus(std::move(g)) {}
  const PoolContext& pool;       // the pool the instance belongs to
  const InstanceFabric& fabric;  // the instance's collective patterns (outlives the instance)
  std::vector<int> gpus;         // its GPUs, stage-major
  int index = 0;                 // instance index (metrics)
  uint64_t routing_seed = 0;     // its routing stream
  std::vector<StepObserver*> observers;
  StepActivitySink* activity_sink = nullptr;  // the runner's kernels and communication (traces)
  std::function<int()> new_resource;          // a group mutex shared by lanes
  // Prefill pools with layer-wise KV transfer: called at the start of a step with each request
  // whose prompt that step completes.
  std::function<void(Request*)> on_prompt_completing;
};

using InstanceFactory = std::function<absl::StatusOr<std::unique_ptr<Instance>>(InstanceContext&)>;

class InstanceRegistry {
 public:
  struct Kind {
    std::string description;
    InstanceFactory factory;
  };
  // The built-in kinds (tp_pp, ep_group).
  static const InstanceRegistry& Builtin();

  void Register(const std::string& name, std::string description, InstanceFactory factory);
  const Kind* Find(const std::string& name) const;
  const std::map<std::string, Kind>& kinds() const { return kinds_; }

 private:
  std::map<std::string, Kind> kinds_;
};

// The kind that runs a plan: "afd" with attention/FFN disaggregation, "ep_group" under DP
// attention, else "tp_pp".
std::string InstanceKindFor(const DeploymentSpec& deployment);

}  // namespace moesim
