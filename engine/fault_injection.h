// Fault injection (issue 17): the scenario's `faults` (models/fault_spec.h) on SimGrid's clock.
//
// At a fault's time, every instance that runs on the failed hardware is marked failed. Each of
// its lanes, at its next step boundary (the step in flight when the hardware fails completes: a
// shortcut of at most one step, labelled here), hands back every request its schedulers hold —
// running ones with their KV lost and their progress kept (prompt = input + generated tokens,
// prefilled again elsewhere), waiting ones as they are — and the router sends them to the live
// entry instances (or holds them, "stranded", until one is live again); none is dropped. The
// instance takes no request while failed; with `recover_after_s` it comes back that long after
// the failure with an empty KV cache (once every fault that stopped it has recovered), and
// stranded requests are routed again.
//
// Which instances a fault stops: "gpu" — those running on that GPU; "server" — those running on
// any GPU of the server; "nic" — those running on that GPU and spanning more than one scale-up
// domain (their collectives cross the scale-out NIC; inside a domain they use NVLink only);
// "switch" (a rack's leaf) — those with a GPU in the rack that span scale-up domains; "link"
// with every uplink port of the rack down — those that span the rack and another. A "link"
// fault with fewer ports stops nothing: from its time the rack's uplink carries its traffic
// on the ports left (ECMP around the dead ports: the aggregated link's capacity × the share
// left), in the analytic collective estimates (ClusterGraph::SetUpShare) and in SimGrid (the
// link's bandwidth), until it recovers; every collective crossing it slows. A "switch" fault
// on one spine switch of several (hardware.spine_switches) does that to every rack at once, by
// the ports that reach that spine; the only spine switch cuts every rack off. A "link" fault
// on a GPU's scale-up links does the same to that GPU's NVLink port (its link to the NVSwitch):
// every collective or transfer it takes part in over NVLink slows; nothing stops.
//
// Prefill/decode pools: a failed prefill instance's prompts lose their KV — those running or
// waiting there as above, those waiting for a decode reservation at once, those whose KV is
// moving when the transfer lands — and start over at the router (prefilled again). A failed
// decode instance's sequences (running, or transferred and waiting for a slot) start over at
// the router the same way; a transfer into it that is in flight is sent again to another
// decode instance when it lands (the prefill side still holds the KV). No decode instance live:
// prompts wait for a reservation, holding their prefill KV, as when decode is full.
//
// The report's `faults` section: per fault, the instances it stopped, when they came back, the
// requests re-routed and the KV tokens to recompute, the most requests stranded at once, and
// from the time series the output tok/s before the fault, the lowest interval after it and the
// time until an interval is back within 5 % of the level before.
#pragma once

#include <deque>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "engine/request.h"
#include "engine/scenario.h"
#include "topology/cluster_graph.h"

namespace moesim {

struct Run;

struct FaultRecord {
  std::vector<int> instances;  // global instance indices it stops
  // Per entry of `instances` (as FaultTargets found them): the positions of the failed GPUs in
  // that instance's GPUs (for "ep_group": "continue").
  std::vector<std::vector<int>> positions;
  // "ep_group": "continue": the EP groups that went on without the failed ranks (taken out of
  // `instances`), and how many ranks they lost in all.
  std::vector<int> degraded;
  std::vector<std::vector<int>> degraded_positions;
  int64_t ranks_dropped = 0;
  double recovered_s = -1;  // when its instances came back (-1: not within the run)
  int64_t requests_retried = 0;
  int64_t tokens_recomputed = 0;  // KV tokens lost with the evicted requests (prefilled again)
  int64_t max_stranded = 0;       // requests waiting for a live instance at once, at most
  double link_share = 1;          // a partial link fault: the uplink's (or the GPU's scale-up
                                  // link's) share left during it
  int64_t transfers_lost = 0;     // KV transfers whose prefill instance failed (prefill redone)
  int64_t transfers_redone = 0;   // KV transfers whose decode instance failed, sent again
  // RLVR: it stops the trainer (a failed GPU, server or NIC of the trainer's GPUs), and the
  // steps whose training (and weight sync) it made start again.
  bool trainer = false;
  int64_t training_restarts = 0;
};

// Whether a fault cuts racks off the spine: a link fault with every uplink port of its rack, or
// the only spine switch.
bool IsolatesRack(const ClusterSpec& cluster, const FaultSpec& f);

// The global instances each fault stops, in the scenario's order, and the positions of the
// failed GPUs in each (FaultRecord::instances and ::positions). `instance_gpus[k]`: the GPUs of
// global instance k; `roles[k]`: its pool's role (empty: all serve). A prefill or decode
// instance whose KV transfers cross the failed NIC, leaf switch or rack uplink stops as one
// whose collectives do (it can no longer hand off or take prompts).
std::vector<FaultRecord> FaultTargets(const Scenario& s, const ClusterGraph& graph,
                                      const std::vector<std::vector<int>>& instance_gpus,
                                      const std::vector<PoolRole>& roles = {});

// RLVR: marks the faults that stop the trainer on `trainer_gpus` (a GPU or server fault on one
// of them, a NIC fault on one when the trainer spans scale-up domains; link and switch faults
// do not stop it: its collectives are not simulated, the trainer is costed from its MFU).
// Such a fault needs recover_after_s: an error naming it otherwise.
absl::Status MarkTrainerFaults(const Scenario& s, const ClusterGraph& graph,
                               const std::vector<int>& trainer_gpus,
                               std::vector<FaultRecord>* records);

// Starts one actor per fault on the frontend host (Run::faults must hold the records).
void StartFaultActors(Run* run);

// Called by lane `lane` of instance `index` between steps while the instance is failed: hands
// its requests to the router (once per failure).
void EvictFailedLane(Run* run, int index, int lane);
// Called by instance `index`'s lane between steps after a fault dropped some of its ranks
// ("ep_group": "continue"): hands their requests to the router.
void EvictDroppedRanks(Run* run, int index);

// Disaggregation: a KV transfer of `r` has landed; `from_failures` / `to_failures`: its
// prefill and decode instances' InstanceRun::failures when it started. When either failed
// since, the transfer is lost: the decode reservation goes back; if the prefill side failed
// the request starts over at the router (prefilled again), otherwise it waits at the head of
// the decode queue for another reservation (its KV still on the prefill GPUs). Returns
// whether it was lost (then the caller admits nothing).
bool TransferLost(Run* run, Request* r, int64_t from_failures, int64_t to_failures);

// Disaggregation: a KV transfer of `r` has landed; `from_failures` / `to_failures`: its
// prefill and decode instances' InstanceRun::failures when it started. When either failed
// since, the transfer is lost: the decode reservation goes back; if the prefill side failed
// the request starts over at the router (prefilled again), otherwise it waits at the head of
// the decode queue for another reservation (its KV still on the prefill GPUs). Returns
// whether it was lost (then the caller admits nothing).
bool TransferLost(Run* run, Request* r, int64_t from_failures, int64_t to_failures);

// The report's `faults` section, from the records, the run's requests and the report's time
// series: {"events": [...], "requests_retried", "retried_requests_finished",
// "retried_requests_unfinished"} (the last two add up to the first; none is lost).
nlohmann::json FaultsReport(const Scenario& s, const std::vector<FaultRecord>& records,
                            const std::deque<Request>& requests, const nlohmann::json& timeseries);

}  // namespace moesim
