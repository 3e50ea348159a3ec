#include "engine/simulation.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <simgrid/s4u.hpp>

#include "absl/strings/str_cat.h"
#include "engine/handoff_metrics.h"
#include "engine/instance.h"
#include "engine/instance_fabric.h"
#include "engine/kv_transfer.h"
#include "engine/metrics.h"
#include "engine/plan_report.h"
#include "engine/report.h"
#include "engine/rlvr_controller.h"
#include "engine/rlvr_plan.h"
#include "engine/rlvr_report.h"
#include "engine/serving_run.h"
#include "engine/simgrid_fabric.h"
#include "engine/time_series.h"
#include "engine/trace_recorder.h"
#include "models/invariant.h"
#include "models/status_macros.h"
#include "models/workload.h"
#include "topology/cluster_graph.h"
#include "topology/simgrid_platform.h"

namespace moesim {

namespace {

// The whole plan's finished requests (whatever pool they finish in) and their hand-off stages.
class RequestObserver : public StepObserver {
 public:
  RequestObserver(MetricsCollector& m, HandoffMetrics& h) : m_(m), h_(h) {}
  void OnStep(int, const StepRecord&, const TimeBreakdown&) override {}
  void OnRequestFinished(const Request& r) override {
    m_.OnRequestFinished(r);
    h_.OnRequestFinished(r);
  }

 private:
  MetricsCollector& m_;
  HandoffMetrics& h_;
};

// Moves one request's KV from its prefill to its decode instance, then frees the prefill
// blocks and lets the request join the decode batch. Layer-wise (started with the step that
// completes the prompt): all layers but the last move while that step runs, the last layer's
// share once the prompt is complete.
void TransferActor(Run* run, Request* r, bool layerwise) {
  InstanceRun& from = run->instances[r->handoff.prefill_instance];
  InstanceRun& to = run->instances[r->handoff.decode_instance];
  const PoolContext& prefill = run->pools[from.pool]->context;
  r->handoff.transfer_start_s = sg4::Engine::get_clock();
  // Fault injection: a failure of either end while the KV moves loses the transfer.
  const int64_t from_failures = from.failures, to_failures = to.failures;
  const double bytes = run->scenario.model.SequenceKvBytes(r->prompt_tokens, 1,
                                                           prefill.runtime().linear_state_bytes);
  const std::vector<KvShard> source = from.instance->KvShards(r->handoff.prefill_rank);
  const std::vector<KvShard> target = to.instance->KvShards(r->handoff.decode_rank);
  // Nothing lost: the pairs deliver exactly what the decode shards hold.
  double sent = 0;
  for (const Transfer& t : KvTransferPairs(source, target, bytes)) sent += t.bytes;
  const double held = KvBytesHeld(target, bytes);
  MOESIM_CHECK(std::fabs(sent - held) <= 1e-9 * held, "request ", r->id, "'s KV transfer sends ",
               sent, " bytes, its decode shards hold ", held);
  std::vector<absl::StatusOr<KvTransferOutcome>> moved;
  if (layerwise) {
    const double layers = run->scenario.model.layers;
    moved.push_back(run->kv->Run(KvTransferPairs(source, target, bytes * (layers - 1) / layers),
                                 /*setup=*/true));
    {
      std::unique_lock<sg4::Mutex> lock(*run->prompt_mutex);
      while (!r->handoff.prefill_end_s && run->error.ok()) {
        run->prompt_done->wait_until(lock, sg4::Engine::get_clock() + 1.0);
      }
    }
    moved.push_back(run->kv->Run(KvTransferPairs(source, target, bytes / layers),
                                 /*setup=*/false));
  } else {
    moved.push_back(run->kv->Run(KvTransferPairs(source, target, bytes), /*setup=*/true));
  }
  r->handoff.transfer_end_s = sg4::Engine::get_clock();
  double moved_bytes = 0;
  std::array<double, kLinkTierCount> tiers{};
  int bottleneck_tier = -1;
  for (const auto& m : moved) {
    if (!m.ok()) {
      if (run->error.ok()) run->error = m.status();
      continue;
    }
    moved_bytes += m->bytes;
    for (int t = 0; t < kLinkTierCount; ++t) tiers[t] += m->tier_bytes[t];
    bottleneck_tier = m->bottleneck_tier;
  }
  if (run->kv_trace != nullptr && bottleneck_tier >= 0) {
    StepActivity a;
    a.kind = StepActivity::Kind::kTransfer;
    a.name = "kv transfer";
    a.first_gpu = source[0].gpu;
    a.tier = bottleneck_tier;
    a.start_s = *r->handoff.transfer_start_s;
    a.end_s = *r->handoff.transfer_end_s;
    for (double b : tiers) a.bytes += b;
    run->kv_trace->OnActivity(a);
  }
  run->handoff->OnTransfer(*r, *r->handoff.transfer_end_s - *r->handoff.transfer_start_s,
                           moved_bytes, tiers, bottleneck_tier);
  // The bytes crossed the fabric either way; a lost transfer admits nothing (shortcut: a
  // failure is seen when the transfer ends, not when it happens, so a lost transfer's flows
  // load the links until their natural end).
  if (TransferLost(run, r, from_failures, to_failures)) {
    from.WakeAll();
    return;
  }
  from.instance->ReleaseHandedOff(r);
  from.WakeAll();
  const int lane = to.instance->AdmitTransferred(r);
  to.lane_wake[lane]->notify_all();
}

// Reserves `r`'s KV on the live decode instance with the fewest sequences among those with
// room, and starts its transfer; false when no decode instance has room.
bool StartTransfer(Run* run, Request* r, bool layerwise) {
  std::vector<int> order;
  for (int d : run->decode) {
    if (!run->instances[d].failed) order.push_back(d);
  }
  std::stable_sort(order.begin(), order.end(), [run](int a, int b) {
    return run->instances[a].instance->Load() < run->instances[b].instance->Load();
  });
  for (int d : order) {
    if (!run->instances[d].instance->ReserveKv(r)) continue;
    r->handoff.decode_instance = d;
    const InstanceRun& from = run->instances[r->handoff.prefill_instance];
    const int src_gpu = from.instance->KvShards(r->handoff.prefill_rank)[0].gpu;
    sg4::Actor::create("kv-transfer", run->platform->Gpu(src_gpu), TransferActor, run, r,
                       layerwise);
    return true;
  }
  return false;
}

// Waiting prompts reserve decode KV in arrival order; a prompt that fits nowhere holds the
// queue until a decode instance frees blocks.
// Prompts of a failed prefill instance stay where they are until it hands them back
// (EvictFailedLane: their KV is lost).
void DispatchWaiting(Run* run) {
  auto& queue = run->awaiting_decode;
  for (auto it = queue.begin(); it != queue.end();) {
    if (run->instances[(*it)->handoff.prefill_instance].failed) {
      ++it;
      continue;
    }
    if (!StartTransfer(run, *it, /*layerwise=*/false)) return;
    it = queue.erase(it);
    run->handoff->OnWaiting(sg4::Engine::get_clock(), int64_t(queue.size()));
  }
}

// Layer-wise transfers: a prompt whose last chunk starts reserves its decode KV now, unless
// earlier prompts are waiting (they keep their turn); if it cannot, it waits after its prefill.
void OnPromptCompleting(Run* run, Request* r) {
  if (!run->awaiting_decode.empty()) return;
  r->handoff.prefill_rank = r->rank;
  StartTransfer(run, r, /*layerwise=*/true);
}

void DispatcherActor(Run* run) {
  const double end_s = run->scenario.simulation.duration_s;
  while (sg4::Engine::get_clock() < end_s && !run->stopped) {
    {
      std::unique_lock<sg4::Mutex> lock(*run->dispatch_mutex);
      while (!run->dispatch_dirty && sg4::Engine::get_clock() < end_s && !run->stopped) {
        run->dispatch_wake->wait_until(lock, end_s);
      }
      run->dispatch_dirty = false;
    }
    if (sg4::Engine::get_clock() >= end_s || !run->error.ok() || run->stopped) break;
    DispatchWaiting(run);
  }
}

// The one actor loop: drives lane `lane` of instance `index`, whatever its kind. Runs until the
// end of the simulated period; a step in flight at the end completes (it falls outside the
// measurement window) so that no SimGrid activity is abandoned mid-flight.
void LaneActor(Run* run, int index, int lane) {
  InstanceRun& ir = run->instances[index];
  Instance& inst = *ir.instance;
  Fabric& fabric = *run->pools[ir.pool]->fabric;
  const double end_s = run->scenario.simulation.duration_s;
  sg4::ConditionVariablePtr wake = ir.lane_wake[lane];
  while (sg4::Engine::get_clock() < end_s && !run->stopped) {
    // Fault injection: ranks a fault dropped hand their requests to the router.
    if (ir.evict_dropped) EvictDroppedRanks(run, index);
    if (ir.failed) {
      // Fault injection: hand the lane's requests to the router, then wait for a recovery.
      EvictFailedLane(run, index, lane);
      std::unique_lock<sg4::Mutex> lock(*ir.mutex);
      while (ir.failed && sg4::Engine::get_clock() < end_s && !run->stopped) {
        wake->wait_until(lock, end_s);
      }
      continue;
    }
    {
      std::unique_lock<sg4::Mutex> lock(*ir.mutex);
      while (!inst.HasWork(lane) && !ir.failed && sg4::Engine::get_clock() < end_s &&
             !run->stopped) {
        wake->wait_until(lock, end_s);
      }
    }
    if (ir.failed) continue;
    if (!inst.HasWork(lane) || run->stopped) break;
    auto out = inst.RunStep(lane, fabric);
    if (!out.ok()) {
      run->error = out.status();
      break;
    }
    if (!out->ran) {
      // Nothing fits now (other lanes, or prompts waiting for their transfer, hold the KV
      // cache): wait for work or for the end.
      std::unique_lock<sg4::Mutex> lock(*ir.mutex);
      wake->wait_until(lock, end_s);
      continue;
    }
    if (!out->handed_off.empty()) {
      bool queued = false;
      for (Request* r : out->handed_off) {
        if (r->handoff.decode_instance >= 0) continue;  // a layer-wise transfer is under way
        run->awaiting_decode.push_back(r);
        queued = true;
      }
      run->prompt_done->notify_all();
      if (queued) {
        run->handoff->OnWaiting(sg4::Engine::get_clock(), int64_t(run->awaiting_decode.size()));
        run->WakeDispatcher();
      }
    }
    if (!out->finished.empty()) {
      for (Request* r : out->finished) run->finished.push_back(r);
      run->source_wake->notify_all();
      // Freed KV blocks may let another lane admit work, or a waiting prompt reserve them.
      ir.WakeAll();
      if (run->disaggregated()) run->WakeDispatcher();
    }
  }
}

void WorkloadSourceActor(Run* run) {
  const Scenario& s = run->scenario;
  const double end = s.simulation.duration_s;
  if (s.workload.arrival == WorkloadSpec::Arrival::kClosedLoop) {
    for (int64_t c = 0; c < s.workload.concurrency; ++c) run->Route(run->NewRequest(c));
    // Clients thinking before their next request: (when it is due, client), due order, ties
    // in the order the replies came.
    std::multimap<double, int64_t> thinking;
    while (sg4::Engine::get_clock() < end) {
      // The lock is held while routing, as a mutex release is a simcall that would let other
      // actors of this instant run first.
      std::unique_lock<sg4::Mutex> lock(*run->source_mutex);
      const double next = thinking.empty() ? end : std::min(end, thinking.begin()->first);
      if (run->finished.empty() && next > sg4::Engine::get_clock()) {
        run->source_wake->wait_until(lock, next);
      }
      const double now = sg4::Engine::get_clock();
      while (!run->finished.empty()) {
        Request* done = run->finished.front();
        run->finished.pop_front();
        thinking.emplace(now + s.workload.think_time_s, done->client);
      }
      while (!thinking.empty() && thinking.begin()->first <= now && now < end) {
        run->Route(run->NewRequest(thinking.begin()->second));
        thinking.erase(thinking.begin());
      }
    }
  } else {
    while (true) {
      const double gap = run->generator.NextInterarrivalSeconds();
      if (sg4::Engine::get_clock() + gap >= end) break;
      sg4::this_actor::sleep_for(gap);
      run->Route(run->NewRequest(0));
    }
    sg4::this_actor::sleep_until(end);
  }
}

// What the report needs of a pool's fabric: its instance 0's steady decode estimate and, per
// tier, the bandwidth of the link directions its instances' collectives use.
FabricContext ReportFabricContext(const Instance& first, const std::vector<InstanceFabric>& fabrics,
                                  const ClusterGraph& graph) {
  FabricContext context;
  context.estimate_decode = [&first](int64_t seqs, double ctx) {
    return first.EstimateDecode(seqs, ctx);
  };
  std::vector<int> dirs;
  for (const auto& f : fabrics) {
    for (int d : f.LinkDirections()) dirs.push_back(d);
  }
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  for (int d : dirs) {
    const Link& l = graph.links()[d / 2];
    context.tier_capacity_bytes_per_s[static_cast<int>(l.tier)] += l.gb_per_s * 1e9;
  }
  return context;
}

// Nothing lost: every request that arrived is finished, queued or running on an instance,
// waiting for a decode reservation or moving; every KV block in use belongs to a request; every
// token the instances sampled is held by a request. Each a MOESIM_CHECK (a broken one stops the
// run naming this file and line with the numbers).
void CheckConservation(const Run& run) {
  int64_t unfinished = 0, held_blocks = 0, generated = 0, swapped_blocks = 0;
  for (const Request& r : run.requests) {
    if (!r.finish_s) ++unfinished;
    generated += r.generated;
    MOESIM_CHECK(r.generated <= r.output_tokens, "request ", r.id, " generated ", r.generated,
                 " tokens of ", r.output_tokens);
    held_blocks += r.kv_blocks + r.handoff.prefill_blocks + r.handoff.decode_blocks;
    swapped_blocks += r.swapped_blocks + r.offloaded_blocks;
  }
  // An instance's load counts the requests whose KV is moving to it; stranded requests wait
  // for a live instance (faults).
  int64_t accounted = int64_t(run.awaiting_decode.size() + run.stranded.size());
  int64_t used_blocks = 0, emitted = 0;
  int64_t host_swapped = 0;
  for (const InstanceRun& ir : run.instances) {
    accounted += ir.instance->Load();
    used_blocks += ir.instance->KvBlocksInUse();
    emitted += ir.instance->Speculation().tokens_emitted;
    host_swapped += ir.instance->KvBlocksSwapped();
    ir.instance->CheckKvTiers();
  }
  MOESIM_CHECK(host_swapped == swapped_blocks, host_swapped,
               " blocks swapped or offloaded to host DRAM, requests hold ", swapped_blocks,
               " there");
  MOESIM_CHECK(emitted == generated, "tokens not conserved: ", emitted,
               " sampled by the instances, ", generated, " held by the requests");
  MOESIM_CHECK(accounted == unfinished, "requests not conserved: ", run.requests.size(),
               " arrived, ", unfinished, " unfinished but ", accounted,
               " queued, running, moving or waiting for decode");
  MOESIM_CHECK(used_blocks == held_blocks, "KV blocks not conserved: ", used_blocks,
               " in use but requests hold ", held_blocks);
}

}  // namespace

absl::StatusOr<nlohmann::json> RunSimulation(const Scenario& s, const RunOptions& options) {
  const SimulationProgress& progress = options.progress;
  auto deployment = DeployScenario(s);
  if (!deployment.ok()) return deployment.status();
  bool parallel_tasks = false;
  for (const PoolDeployment& d : deployment->pools) {
    parallel_tasks |= CollectivesFor(s, d) == CollectiveFidelity::kPtask;
  }
  const auto engine = StartSimgridEngine("moesim", parallel_tasks);

  auto graph = ClusterGraph::Build(s.cluster());
  if (!graph.ok()) return graph.status();
  Run run(s);
  std::vector<std::pair<int, int>> pairs;
  std::vector<int> deployed_gpus, prefill_gpus, decode_gpus;
  for (const PoolDeployment& d : deployment->pools) {
    auto pool = std::make_unique<PoolRun>(ContextFor(s, d));
    const PoolContext& context = pool->context;
    for (int i = 0; i < d.deployment().instances; ++i) {
      auto f = BuildInstanceFabric(context, *graph, i);
      if (!f.ok()) return f.status();
      for (const auto& p : f->Pairs()) pairs.push_back(p);
      pool->fabrics.push_back(std::move(*f));
      for (int g : d.InstanceGpus(i)) {
        deployed_gpus.push_back(g);
        if (d.spec.role == PoolRole::kPrefill) prefill_gpus.push_back(g);
        if (d.spec.role == PoolRole::kDecode) decode_gpus.push_back(g);
      }
    }
    run.pools.push_back(std::move(pool));
  }
  // KV moves from any prefill GPU to any decode GPU.
  for (int p : prefill_gpus) {
    for (int d : decode_gpus) pairs.emplace_back(p, d);
  }
  // RLVR: the trainer's GPUs and the weight sync's routes.
  RlvrSetup rlvr;
  RlvrTimeline rlvr_timeline;
  if (s.rlvr) {
    auto planned = PlanRlvr(s, *deployment, deployed_gpus);
    if (!planned.ok()) return planned.status();
    rlvr = std::move(*planned);
    for (const Transfer& t : rlvr.sync) pairs.emplace_back(t.src_gpu, t.dst_gpu);
    if (s.rlvr->schedule != RlvrSchedule::kColocated) {
      for (int g : rlvr.trainer_gpus) deployed_gpus.push_back(g);
    }
  }
  // KV offload: every GPU of the serve pools copies to and from its server's host memory.
  std::vector<int> offloading_gpus;
  SsdBandwidth ssd;
  if (s.kv_hierarchy && s.kv_hierarchy->host_tier()) offloading_gpus = deployed_gpus;
  if (s.kv_hierarchy && s.kv_hierarchy->ssd) {
    ssd = {s.kv_hierarchy->ssd->ReadBytesPerSecond(), s.kv_hierarchy->ssd->WriteBytesPerSecond()};
  }
  auto platform = BuildSimgridPlatform(*graph, deployed_gpus, pairs, offloading_gpus, ssd);
  if (!platform.ok()) return platform.status();
  run.platform = &*platform;

  const bool analytic_step = s.simulation.fidelity == Fidelity::kStep;
  MetricsCollector plan_requests(0, s.simulation.warmup_s, s.simulation.duration_s);
  HandoffMetrics handoff(s.simulation.warmup_s, s.simulation.duration_s);
  RequestObserver request_observer(plan_requests, handoff);
  run.handoff = &handoff;
  // KV transfers land on the decode pool's link-tier tracks (the pool that receives them).
  if (options.trace != nullptr) {
    for (size_t p = 0; p < s.plan.pools.size(); ++p) {
      if (s.plan.pools[p].role == PoolRole::kDecode) {
        run.kv_trace = options.trace->ActivitySink(static_cast<int>(p), /*kernel_fidelity=*/false);
        break;
      }
    }
  }
  if (s.plan.Disaggregated()) {
    run.kv = std::make_unique<KvTransferRunner>(*platform, *graph, s.plan.kv_transfer.connector,
                                                analytic_step);
  }
  const bool one_pool = run.pools.size() == 1;
  int all_instances = 0;
  for (const PoolDeployment& d : deployment->pools) all_instances += d.deployment().instances;
  TimeSeriesObserver series(s.simulation.duration_s, s.simulation.timeseries_interval_s,
                            all_instances);
  for (size_t p = 0; p < run.pools.size(); ++p) {
    PoolRun& pool = *run.pools[p];
    const PoolContext& context = pool.context;
    pool.fabric = std::make_unique<SimgridFabric>(
        *platform, context.collectives,
        analytic_step || context.collectives == CollectiveFidelity::kAnalytic,
        s.simulation.fidelity == Fidelity::kKernel);
    const int instances = context.deployment().instances;
    pool.metrics = std::make_unique<MetricsCollector>(instances, s.simulation.warmup_s,
                                                      s.simulation.duration_s);
    pool.observer = std::make_unique<MetricsObserver>(*pool.metrics);
    const std::string kind = InstanceKindFor(context.deployment());
    const InstanceRegistry::Kind* factory = InstanceRegistry::Builtin().Find(kind);
    StepObserver* trace_observer = nullptr;
    if (options.trace != nullptr) {
      // One instance's link capacity per tier (its collectives' link directions), for the
      // trace's utilisation counters.
      std::array<double, kLinkTierCount> capacity{};
      for (int d : pool.fabrics[0].LinkDirections()) {
        const Link& l = graph->links()[d / 2];
        capacity[static_cast<int>(l.tier)] += l.gb_per_s * 1e9;
      }
      trace_observer =
          options.trace->PoolObserver(static_cast<int>(p), context.deployed.spec.name, capacity);
    }
    if (factory == nullptr) return absl::InternalError("no instance kind " + kind);
    for (int i = 0; i < instances; ++i) {
      const int global = static_cast<int>(run.instances.size());
      InstanceContext ic{context, pool.fabrics[i], context.InstanceGpus(i)};
      ic.index = i;
      // One routing stream per instance, derived from the scenario seed (and the pool).
      ic.routing_seed = s.simulation.seed * 1000003ULL + uint64_t(global);
      ic.observers = {pool.observer.get(), &series};
      if (options.trace != nullptr) {
        ic.observers.push_back(trace_observer);
        ic.activity_sink = options.trace->ActivitySink(static_cast<int>(p),
                                                       s.simulation.fidelity == Fidelity::kKernel);
      }
      if (!one_pool) ic.observers.push_back(&request_observer);
      if (context.deployed.spec.role == PoolRole::kPrefill && s.plan.kv_transfer.layerwise) {
        ic.on_prompt_completing = [&run](Request* r) { OnPromptCompleting(&run, r); };
      }
      SimgridFabric* fabric = pool.fabric.get();
      ic.new_resource = [fabric] { return fabric->NewResource(); };
      auto inst = factory->factory(ic);
      if (!inst.ok()) return inst.status();
      InstanceRun ir;
      ir.instance = std::move(*inst);
      ir.pool = static_cast<int>(p);
      for (int lane = 0; lane < ir.instance->lanes(); ++lane) {
        ir.lane_wake.push_back(sg4::ConditionVariable::create());
      }
      run.instances.push_back(std::move(ir));
      pool.instances.push_back(global);
      if (context.deployed.spec.role == PoolRole::kDecode) {
        run.decode.push_back(global);
      } else {
        run.entry.push_back(global);
      }
    }
  }
  for (size_t p = 0; p < run.pools.size(); ++p) {
    const PoolRun& pool = *run.pools[p];
    const std::string kind = InstanceKindFor(pool.context.deployment());
    const std::string prefix = one_pool ? "" : pool.context.deployed.spec.name + "-";
    for (size_t i = 0; i < pool.instances.size(); ++i) {
      const int global = pool.instances[i];
      sg4::Host* host = platform->Gpu(pool.context.InstanceGpus(static_cast<int>(i))[0]);
      const int lanes = run.instances[global].instance->lanes();
      for (int lane = 0; lane < lanes; ++lane) {
        const std::string name =
            prefix + (kind == "ep_group"
                          ? "ep-group-" + std::to_string(i)
                          : "instance-" + std::to_string(i) + "-engine-" + std::to_string(lane));
        sg4::Actor::create(name, host, LaneActor, &run, global, lane);
      }
    }
  }
  if (!s.faults.empty()) {
    std::vector<std::vector<int>> instance_gpus(run.instances.size());
    std::vector<PoolRole> roles(run.instances.size(), PoolRole::kServe);
    for (const auto& pool : run.pools) {
      for (size_t i = 0; i < pool->instances.size(); ++i) {
        instance_gpus[pool->instances[i]] = pool->context.InstanceGpus(static_cast<int>(i));
        roles[pool->instances[i]] = pool->context.deployed.spec.role;
      }
    }
    run.faults = FaultTargets(s, *graph, instance_gpus, roles);
    if (s.rlvr)
      MOESIM_RETURN_IF_ERROR(MarkTrainerFaults(s, *graph, rlvr.trainer_gpus, &run.faults));
    run.graph = &*graph;
    run.uplink_ports_down.assign(s.cluster().racks, 0.0);
    StartFaultActors(&run);
  }
  std::unique_ptr<KvTransferRunner> sync_runner;
  if (s.rlvr) {
    sync_runner =
        std::make_unique<KvTransferRunner>(*platform, *graph, RlvrSyncLink(s), analytic_step);
    rlvr.sync_runner = sync_runner.get();
    StartRlvrActors(&run, &rlvr, &rlvr_timeline);
  } else {
    sg4::Actor::create("workload-source", platform->frontend, WorkloadSourceActor, &run);
  }
  if (run.disaggregated()) {
    sg4::Actor::create("kv-dispatcher", platform->frontend, DispatcherActor, &run);
  }
  if (progress) {
    // A daemon: it ends with the last of the other actors and never extends the run.
    constexpr int kProgressTicks = 200;  // reports per simulated duration
    sg4::Actor::create("progress", platform->frontend, [&run, &progress, &s] {
      const double tick = s.simulation.duration_s / kProgressTicks;
      while (true) {
        sg4::this_actor::sleep_for(tick);
        progress(sg4::Engine::get_clock(), s.simulation.duration_s,
                 static_cast<int64_t>(run.requests.size()) - run.UnfinishedCount());
      }
    })->daemonize();
  }
  engine->run();
  if (!run.error.ok()) return run.error;
  CheckConservation(run);
  handoff.Finish();
  if (s.rlvr) {
    if (!run.stopped) {
      int done = 0;
      for (const RlvrStepRecord& r : rlvr_timeline.steps) done += r.sync_end_s > 0;
      return BadValue(JsonLocation{s.file, "$"}.Key("simulation").Key("duration_s"),
                      s.simulation.duration_s,
                      absl::StrCat("a cap long enough for the ", s.rlvr->steps, " RLVR steps (",
                                   done, " finished within it)"));
    }
    for (const auto& pool : run.pools)
      rlvr_timeline.rollout_preemptions += pool->metrics->preemptions();
    auto report = BuildRlvrReport(s, rlvr, rlvr_timeline);
    if (report.ok()) {
      (*report)["timeseries"] = series.ToJson();
      if (!run.faults.empty()) {
        (*report)["faults"] = FaultsReport(s, run.faults, run.requests, (*report)["timeseries"]);
      }
    }
    return report;
  }

  std::vector<PoolReportInputs> reports;
  for (const auto& pool : run.pools) {
    const Instance& first = *run.instances[pool->instances[0]].instance;
    PoolReportInputs in{&pool->context, pool->metrics.get(),
                        ReportFabricContext(first, pool->fabrics, *graph)};
    for (int i : pool->instances) {
      in.speculation.counts += run.instances[i].instance->Speculation();
    }
    if (s.speculative && pool->context.deployed.spec.role != PoolRole::kPrefill) {
      // The draft share of a steady step at the pool's mean running batch per instance.
      double running = 0;
      for (const InstanceTotals& t : pool->metrics->instances()) running += t.running_weighted;
      const double instance_time =
          pool->metrics->window_s() * double(pool->context.deployment().instances);
      const double mean_running = instance_time > 0 ? running / instance_time : 0.0;
      in.speculation.draft_share = first.EstimateDraftShare(
          std::max<int64_t>(1, std::llround(mean_running)),
          s.workload.input_tokens.Mean() + 0.5 * s.workload.output_tokens.Mean());
    }
    reports.push_back(std::move(in));
  }
  nlohmann::json report = one_pool ? BuildReport(s, run.pools[0]->context, *run.pools[0]->metrics,
                                                 reports[0].fabric, &reports[0].speculation)
                                   : BuildPlanReport(s, reports, plan_requests,
                                                     run.disaggregated() ? &handoff : nullptr);
  report["timeseries"] = series.ToJson();
  if (!run.faults.empty()) {
    report["faults"] = FaultsReport(s, run.faults, run.requests, report["timeseries"]);
  }
  return report;
}

}  // namespace moesim
