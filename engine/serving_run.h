// What the actors of one simulation share (engine/simulation.cc sets it up and runs it; the
// RLVR controller, engine/rlvr_controller.h, drives its requests). Internal to the engine: it
// holds SimGrid handles, so only the files that run actors include it.
#pragma once

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include <simgrid/s4u.hpp>

#include "absl/status/status.h"
#include "engine/fault_injection.h"
#include "engine/handoff_metrics.h"
#include "engine/instance.h"
#include "engine/instance_fabric.h"
#include "engine/kv_transfer.h"
#include "engine/metrics.h"
#include "engine/scenario.h"
#include "engine/simgrid_fabric.h"
#include "engine/step_activity.h"
#include "models/workload.h"
#include "topology/simgrid_platform.h"

namespace moesim {

namespace sg4 = simgrid::s4u;

// A pool's metrics as an observer of its instances' steps and finished requests.
class MetricsObserver : public StepObserver {
 public:
  explicit MetricsObserver(MetricsCollector& m) : m_(m) {}
  void OnStep(int instance, const StepRecord& step, const TimeBreakdown& gpu_time) override {
    m_.OnStep(instance, step, gpu_time);
  }
  void OnRequestFinished(const Request& r) override { m_.OnRequestFinished(r); }

 private:
  MetricsCollector& m_;
};

struct PoolRun {
  explicit PoolRun(PoolContext c) : context(std::move(c)) {}
  PoolContext context;
  std::vector<InstanceFabric> fabrics;
  std::unique_ptr<SimgridFabric> fabric;
  std::unique_ptr<MetricsCollector> metrics;
  std::unique_ptr<MetricsObserver> observer;
  std::vector<int> instances;  // global instance indices
};

struct InstanceRun {
  std::unique_ptr<Instance> instance;
  int pool = 0;
  sg4::MutexPtr mutex = sg4::Mutex::create();
  std::vector<sg4::ConditionVariablePtr> lane_wake;
  // Fault injection: the instance's hardware is down (it takes no request) while at least one
  // fault that stops it is active; the first of them (its record counts the re-routed
  // requests), and per lane whether it has handed back its requests since.
  bool failed = false;
  int active_faults = 0;
  int failure = -1;
  // Times it has failed, and the fault that last stopped it (kept after recovery): a KV
  // transfer that started before a failure of either end is lost (disaggregation).
  int64_t failures = 0;
  int last_failure = -1;
  std::vector<char> lane_evicted;
  // "ep_group": "continue": a fault (index) dropped some ranks, whose requests leave at the
  // next step boundary.
  bool evict_dropped = false;
  int drop_fault = -1;
  void WakeAll() {
    for (auto& w : lane_wake) w->notify_all();
  }
};

// What the actors share. Actors run one at a time (SimGrid contexts), so plain C++ containers
// are safe; condition variables carry the wake-ups.
struct Run {
  const Scenario& scenario;
  WorkloadGenerator generator;
  std::deque<Request> requests;  // stable addresses
  int64_t next_id = 0;
  std::vector<std::unique_ptr<PoolRun>> pools;
  std::vector<InstanceRun> instances;
  std::vector<int> entry;   // instances new requests go to (serve or prefill pools)
  std::vector<int> decode;  // decode pools' instances
  size_t round_robin_next = 0;
  // Multi-turn sessions: each closed-loop client's current one, and (cache-aware routing) the
  // entry instance that holds each session's context.
  struct ClientSession {
    int64_t session = -1;
    int64_t turn = 0;     // turns sent so far
    int64_t context = 0;  // tokens of the history the next turn's prompt starts with
    int64_t group = 0;    // the shared prefix it started with
  };
  std::vector<ClientSession> client_sessions;
  int64_t next_session = 0;
  // Cache-aware routing: the entry instance of each session or prefix group
  // (Request::CacheAffinity()).
  std::map<int64_t, size_t> affinity_instance;
  // Block owners of requests outside sessions and of groups' shared prefixes
  // (models/prefix_cache.h): distinct from sessions' and from each other.
  static constexpr uint64_t kOwnRequestBlocks = uint64_t{1} << 63;
  static constexpr uint64_t kPrefixGroupBlocks = uint64_t{1} << 62;
  // Fault injection (engine/fault_injection.h): one record per scenario fault, and requests
  // with no live entry instance to go to.
  std::vector<FaultRecord> faults;
  std::deque<Request*> stranded;
  ClusterGraph* graph = nullptr;             // link faults change its links' up shares
  std::vector<double> uplink_ports_down;     // by rack: ports of its uplink that partial link
                                             // and spine-switch faults have taken down now
  std::map<int, double> scaleup_ports_down;  // by GPU scale-up link: its links down now
  // RLVR: faults on the trainer's GPUs (FaultRecord::trainer). While any is active the trainer
  // is down; each failure loses the step's training in progress (engine/rlvr_controller.h).
  int trainer_active_faults = 0;
  int64_t trainer_failures = 0;
  int trainer_last_failure = -1;  // the fault that last stopped it
  sg4::MutexPtr trainer_mutex = sg4::Mutex::create();
  sg4::ConditionVariablePtr trainer_wake = sg4::ConditionVariable::create();
  bool trainer_down() const { return trainer_active_faults > 0; }
  absl::Status error;             // first failure (ends the run)
  std::deque<Request*> finished;  // finished requests waiting for the workload source
  sg4::MutexPtr source_mutex = sg4::Mutex::create();
  sg4::ConditionVariablePtr source_wake = sg4::ConditionVariable::create();

  const SimgridPlatform* platform = nullptr;
  // Disaggregation: prompts waiting for a decode reservation, and transfers in flight.
  std::unique_ptr<KvTransferRunner> kv;
  HandoffMetrics* handoff = nullptr;
  StepActivitySink* kv_trace = nullptr;  // disaggregation's KV transfers, for traces (or none)
  std::deque<Request*> awaiting_decode;
  bool dispatch_dirty = false;  // something changed since the dispatcher last looked
  sg4::MutexPtr dispatch_mutex = sg4::Mutex::create();
  sg4::ConditionVariablePtr dispatch_wake = sg4::ConditionVariable::create();
  // Layer-wise transfers wait here for their prompt's last prefill step to end.
  sg4::MutexPtr prompt_mutex = sg4::Mutex::create();
  sg4::ConditionVariablePtr prompt_done = sg4::ConditionVariable::create();

  // Set by Stop(): lanes and the dispatcher end before the scenario's duration (an RLVR run
  // ends when its last step does).
  bool stopped = false;

  Run(const Scenario& s) : scenario(s), generator(s.workload, s.simulation.seed) {}

  // Ends the run now: every lane and the dispatcher return at their next wake-up.
  void Stop() {
    stopped = true;
    for (InstanceRun& ir : instances) ir.WakeAll();
    dispatch_wake->notify_all();
  }

  bool disaggregated() const { return !decode.empty(); }

  // Requests not finished yet (progress reports).
  int64_t UnfinishedCount() const {
    int64_t n = 0;
    for (const Request& r : requests) n += r.finish_s ? 0 : 1;
    return n;
  }

  // Router: by the plan's policy over the live entry instances; the instance picks its lane.
  // With none live (faults), the request waits in `stranded` until one comes back.
  void Route(Request* r) {
    auto live = [this](size_t i) { return !instances[entry[i]].failed; };
    size_t best = entry.size();
    const bool sticky =
        scenario.plan.router == RouterPolicy::kCacheAware && r->CacheAffinity() != -1;
    auto affinity = sticky ? affinity_instance.find(r->CacheAffinity()) : affinity_instance.end();
    if (affinity != affinity_instance.end() && live(affinity->second)) {
      best = affinity->second;
    } else if (scenario.plan.router == RouterPolicy::kRoundRobin) {
      for (size_t tries = 0; tries < entry.size() && best == entry.size(); ++tries) {
        const size_t i = round_robin_next++ % entry.size();
        if (live(i)) best = i;
      }
    } else {
      for (size_t i = 0; i < entry.size(); ++i) {
        if (!live(i)) continue;
        if (best == entry.size() ||
            instances[entry[i]].instance->Load() < instances[entry[best]].instance->Load()) {
          best = i;
        }
      }
    }
    if (best == entry.size()) {
      stranded.push_back(r);
      for (FaultRecord& f : faults) {
        bool active = false;
        for (int k : f.instances) active |= instances[k].failed;
        if (active) f.max_stranded = std::max<int64_t>(f.max_stranded, int64_t(stranded.size()));
      }
      return;
    }
    if (sticky) {
      affinity_instance[r->CacheAffinity()] = best;
      // A session's last turn frees its entry.
      if (r->LastOfAffinity(scenario.workload.session_turns)) {
        affinity_instance.erase(r->CacheAffinity());
      }
    }
    InstanceRun& target = instances[entry[best]];
    if (disaggregated()) r->handoff.prefill_instance = entry[best];
    const int lane = target.instance->Admit(r);
    target.lane_wake[lane]->notify_all();
  }

  // A new request of closed-loop client `client` (0 for open-loop arrivals): its lengths, and
  // with multi-turn sessions its session, turn and whole context as its prompt
  // (models/workload.h).
  Request* NewRequest(int64_t client) {
    Request& r = requests.emplace_back();
    r.id = next_id++;
    r.client = client;
    const WorkloadSpec& w = scenario.workload;
    const int64_t new_tokens = generator.NextInputTokens();
    r.output_tokens = generator.NextOutputTokens();
    r.arrival_s = sg4::Engine::get_clock();
    r.shared_prefix_tokens = w.shared_prefix_tokens;
    if (w.session_turns > 0) {
      if (client_sessions.size() <= size_t(client)) client_sessions.resize(client + 1);
      ClientSession& c = client_sessions[client];
      if (c.session < 0 || c.turn >= w.session_turns) {
        c = ClientSession{next_session++, 0, w.shared_prefix_tokens, generator.NextPrefixGroup()};
      }
      r.prefix_group = c.group;
      ++c.turn;
      r.session = c.session;
      r.turn = c.turn;
      r.input_tokens = c.context + new_tokens;
      c.context = r.input_tokens + r.output_tokens;  // the next turn's history
      r.prefix_owner = uint64_t(r.session) + 1;
    } else {
      r.input_tokens = w.shared_prefix_tokens + new_tokens;
      r.prefix_owner = kOwnRequestBlocks | uint64_t(r.id);
      r.prefix_group = generator.NextPrefixGroup();
    }
    if (w.shared_prefix_groups > 1) {
      r.shared_prefix_owner = kPrefixGroupBlocks | uint64_t(r.prefix_group);
    } else {
      r.prefix_group = -1;
    }
    return &r;
  }

  void WakeDispatcher() {
    dispatch_dirty = true;
    dispatch_wake->notify_all();
  }
};

}  // namespace moesim
