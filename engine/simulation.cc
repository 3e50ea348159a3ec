#include "engine/simulation.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <xbt/log.h>
#include <nlohmann/json.hpp>
#include <simgrid/s4u.hpp>

#include "engine/collective_runner.h"
#include "engine/ep_group_executor.h"
#include "engine/instance_fabric.h"
#include "engine/instance_scheduler.h"
#include "engine/metrics.h"
#include "engine/moe_load_sampler.h"
#include "engine/report.h"
#include "engine/step_executor.h"
#include "engine/step_model.h"
#include "models/workload.h"
#include "topology/cluster_graph.h"
#include "topology/simgrid_platform.h"

namespace sg4 = simgrid::s4u;

namespace moesim {

namespace {

// Tokens routed per MoE layer to estimate DeepEP normal-kernel hit rates (models/expert_hits.h):
// a standard error of at most 0.5 / sqrt(4096) ≈ 0.008 per rate, ~1 ms per layer.
constexpr int64_t kHitRateTokens = 4096;

// Everything the actors share. Actors run one at a time (SimGrid contexts), so plain C++
// containers are safe; condition variables carry the wake-ups.
struct World {
  const Scenario& scenario;
  const SimgridPlatform& platform;
  KvFootprint footprint;
  MetricsCollector metrics;
  WorkloadGenerator generator;
  std::deque<Request> requests;  // stable addresses
  int64_t next_id = 0;

  // One serving instance: pp pipeline stages of tp GPUs, and pp virtual engines (schedulers)
  // that keep pp micro-batches in flight, sharing the instance's KV blocks.
  struct Instance {
    InstanceFabric fabric;
    std::unique_ptr<PagedKvPool> pool;
    std::vector<std::unique_ptr<InstanceScheduler>> engines;
    std::vector<sg4::ConditionVariablePtr> engine_wake;
    std::vector<std::unique_ptr<StepExecutor>> stages;
    std::vector<sg4::MutexPtr> stage_busy;        // one micro-batch per stage at a time (FIFO)
    std::unique_ptr<MoeLoadSampler> moe_sampler;  // sampled routing (nullptr: expected load)
    // DP-attention EP group: one scheduler and KV pool per GPU, stepped in lockstep.
    std::vector<std::unique_ptr<PagedKvPool>> rank_pools;
    std::unique_ptr<EpGroupExecutor> group;
    sg4::MutexPtr mutex = sg4::Mutex::create();
  };
  std::vector<Instance> instances;

  // Finished requests waiting for the workload source (closed loop).
  absl::Status error;  // first failure inside an actor (ends the run)
  std::deque<Request*> finished;
  sg4::MutexPtr source_mutex = sg4::Mutex::create();
  sg4::ConditionVariablePtr source_wake = sg4::ConditionVariable::create();

  World(const Scenario& s, const SimgridPlatform& p)
      : scenario(s),
        platform(p),
        footprint(s.Footprint()),
        metrics(s.deployment.instances, s.simulation.warmup_s, s.simulation.duration_s),
        generator(s.workload, s.simulation.seed) {}

  static int64_t Load(const InstanceScheduler& e) { return e.running() + e.waiting(); }

  // Router: the instance, then the virtual engine, with the fewest running + waiting sequences
  // (lowest index on ties).
  void Route(Request* r) {
    size_t best = 0;
    int64_t best_load = -1;
    for (size_t i = 0; i < instances.size(); ++i) {
      int64_t load = 0;
      for (const auto& e : instances[i].engines) load += Load(*e);
      if (best_load < 0 || load < best_load) {
        best = i;
        best_load = load;
      }
    }
    Instance& inst = instances[best];
    size_t engine = 0;
    for (size_t e = 1; e < inst.engines.size(); ++e) {
      if (Load(*inst.engines[e]) < Load(*inst.engines[engine])) engine = e;
    }
    inst.engines[engine]->Enqueue(r);
    inst.engine_wake[engine]->notify_all();
  }

  Request* NewRequest(int64_t client) {
    Request& r = requests.emplace_back();
    r.id = next_id++;
    r.client = client;
    r.input_tokens = generator.NextInputTokens();
    r.output_tokens = generator.NextOutputTokens();
    r.arrival_s = sg4::Engine::get_clock();
    return &r;
  }
};

// Drives one virtual engine: forms a micro-batch, runs it through every pipeline stage (waiting
// for each stage to be free), sends activations between stages, applies the results.
void VirtualEngineActor(World* world, int index, int engine_index) {
  World::Instance& inst = world->instances[index];
  InstanceScheduler& sched = *inst.engines[engine_index];
  const Scenario& s = world->scenario;
  const int pp = s.deployment.plan.pp;
  CollectiveRunner sends(world->platform, s.simulation.collectives);
  const double end_s = s.simulation.duration_s;
  // Runs until the end of the simulated period; a step in flight at the end completes (it falls
  // outside the measurement window) so that no SimGrid activity is abandoned mid-flight.
  while (sg4::Engine::get_clock() < end_s) {
    {
      std::unique_lock<sg4::Mutex> lock(*inst.mutex);
      while (!sched.HasWork() && sg4::Engine::get_clock() < end_s) {
        inst.engine_wake[engine_index]->wait_until(lock, end_s);
      }
    }
    if (!sched.HasWork()) break;
    const double start = sg4::Engine::get_clock();
    const StepBatch batch = sched.Schedule();
    if (batch.tokens() == 0) {
      // Nothing fits now (other engines hold the KV cache): wait for work or for the end.
      std::unique_lock<sg4::Mutex> lock(*inst.mutex);
      inst.engine_wake[engine_index]->wait_until(lock, end_s);
      continue;
    }
    const int64_t running = sched.running();
    const int64_t waiting = sched.waiting();
    std::vector<MoeLayerLoad> moe_loads;
    double moe_imbalance = 0;
    if (inst.moe_sampler) {
      auto imbalance = inst.moe_sampler->Sample(batch.tokens(), &moe_loads);
      if (!imbalance.ok()) {
        world->error = imbalance.status();
        break;
      }
      moe_imbalance = *imbalance;
    }
    const std::vector<MoeLayerLoad>* loads = inst.moe_sampler ? &moe_loads : nullptr;
    TimeBreakdown breakdown;
    for (int stage = 0; stage < pp; ++stage) {
      {
        std::unique_lock<sg4::Mutex> busy(*inst.stage_busy[stage]);
        breakdown.Add(inst.stages[stage]->Run(batch, running, loads));
      }
      if (stage + 1 < pp) {
        const double t0 = sg4::Engine::get_clock();
        const CollectiveCost c = sends.Run(*inst.fabric.Send(stage), StageActivationBytes(s, batch),
                                           s.runtime.p2p_latency_us);
        breakdown.comm_s += sg4::Engine::get_clock() - t0;
        breakdown.comm_tier_s[static_cast<int>(c.bottleneck_tier)] += sg4::Engine::get_clock() - t0;
        for (int i = 0; i < kLinkTierCount; ++i) breakdown.tier_bytes[i] += c.tier_bytes[i];
      }
    }
    // Per GPU: average over the stages (each stage is tp of the instance's GPUs).
    const std::array<double, 4> tier_bytes = breakdown.tier_bytes;
    breakdown.Scale(1.0 / pp);
    breakdown.tier_bytes = tier_bytes;
    const double end = sg4::Engine::get_clock();
    std::vector<Request*> done = sched.Complete(end);
    StepRecord rec;
    rec.start_s = start;
    rec.end_s = end;
    rec.tokens = batch.tokens();
    rec.output_tokens = batch.sampled_seqs;
    rec.running = running;
    rec.waiting = waiting;
    rec.kv_used_blocks = sched.pool().used();
    rec.kv_total_blocks = sched.pool().total();
    rec.share = 1.0 / pp;
    rec.moe_imbalance = moe_imbalance;
    world->metrics.OnStep(index, rec, breakdown);
    if (!done.empty()) {
      for (Request* r : done) {
        world->metrics.OnRequestFinished(*r);
        world->finished.push_back(r);
      }
      world->source_wake->notify_all();
      // Freed KV blocks may let another virtual engine admit work.
      for (auto& wake : inst.engine_wake) wake->notify_all();
    }
  }
}

// Drives a DP-attention expert-parallel group: every rank forms its own batch, all ranks run the
// step together (MoE all-to-alls synchronise them), each applies its results.
void EpGroupActor(World* world, int index) {
  World::Instance& inst = world->instances[index];
  const Scenario& s = world->scenario;
  const size_t ranks = inst.engines.size();
  const double end_s = s.simulation.duration_s;
  auto has_work = [&inst]() {
    for (const auto& e : inst.engines) {
      if (e->HasWork()) return true;
    }
    return false;
  };
  std::vector<StepBatch> batches(ranks);
  std::vector<int64_t> running(ranks);
  while (sg4::Engine::get_clock() < end_s) {
    {
      std::unique_lock<sg4::Mutex> lock(*inst.mutex);
      while (!has_work() && sg4::Engine::get_clock() < end_s) {
        inst.engine_wake[0]->wait_until(lock, end_s);
      }
    }
    if (!has_work()) break;
    const double start = sg4::Engine::get_clock();
    int64_t tokens = 0, sampled = 0, run_total = 0, wait_total = 0;
    for (size_t r = 0; r < ranks; ++r) {
      batches[r] = inst.engines[r]->Schedule();
      running[r] = inst.engines[r]->running();
      tokens += batches[r].tokens();
      sampled += batches[r].sampled_seqs;
      run_total += running[r];
      wait_total += inst.engines[r]->waiting();
    }
    if (tokens == 0) {
      std::unique_lock<sg4::Mutex> lock(*inst.mutex);
      inst.engine_wake[0]->wait_until(lock, end_s);
      continue;
    }
    // Micro-batches (two-batch overlap) and each one's routed load per layer and GPU.
    const int micro = inst.group->micro_batches();
    std::vector<std::vector<StepBatch>> micro_batches(micro, std::vector<StepBatch>(ranks));
    std::vector<int64_t> micro_tokens(micro, 0);
    for (size_t r = 0; r < ranks; ++r) {
      const std::vector<StepBatch> split = inst.group->Split(batches[r]);
      for (int m = 0; m < micro; ++m) {
        micro_batches[m][r] = split[m];
        micro_tokens[m] += split[m].tokens();
      }
    }
    std::vector<GroupLayerLoads> loads(micro);
    double moe_imbalance = 0;
    bool failed = false;
    for (int m = 0; m < micro; ++m) {
      if (!inst.moe_sampler) {
        loads[m] = ExpectedGpuLoads(s, double(micro_tokens[m]));
        continue;
      }
      std::vector<MoeLayerLoad> busiest;
      auto imbalance = inst.moe_sampler->Sample(micro_tokens[m], &busiest, &loads[m]);
      if (!imbalance.ok()) {
        world->error = imbalance.status();
        failed = true;
        break;
      }
      moe_imbalance += *imbalance / micro;
    }
    if (failed) break;
    const TimeBreakdown breakdown = inst.group->Run(micro_batches, running, loads);
    const double end = sg4::Engine::get_clock();
    StepRecord rec;
    rec.start_s = start;
    rec.end_s = end;
    rec.tokens = tokens;
    rec.output_tokens = sampled;
    rec.running = run_total;
    rec.waiting = wait_total;
    for (size_t r = 0; r < ranks; ++r) {
      rec.kv_used_blocks += inst.engines[r]->pool().used();
      rec.kv_total_blocks += inst.engines[r]->pool().total();
    }
    rec.moe_imbalance = moe_imbalance;
    bool any_done = false;
    for (size_t r = 0; r < ranks; ++r) {
      for (Request* q : inst.engines[r]->Complete(end)) {
        world->metrics.OnRequestFinished(*q);
        world->finished.push_back(q);
        any_done = true;
      }
    }
    world->metrics.OnStep(index, rec, breakdown);
    if (any_done) world->source_wake->notify_all();
  }
}

void WorkloadSourceActor(World* world) {
  const Scenario& s = world->scenario;
  const double end = s.simulation.duration_s;
  if (s.workload.arrival == WorkloadSpec::Arrival::kClosedLoop) {
    for (int64_t c = 0; c < s.workload.concurrency; ++c) world->Route(world->NewRequest(c));
    while (sg4::Engine::get_clock() < end) {
      std::unique_lock<sg4::Mutex> lock(*world->source_mutex);
      world->source_wake->wait_until(lock, end);
      while (!world->finished.empty()) {
        Request* done = world->finished.front();
        world->finished.pop_front();
        if (sg4::Engine::get_clock() < end) world->Route(world->NewRequest(done->client));
      }
    }
  } else {
    while (true) {
      const double gap = world->generator.NextInterarrivalSeconds();
      if (sg4::Engine::get_clock() + gap >= end) break;
      sg4::this_actor::sleep_for(gap);
      world->Route(world->NewRequest(0));
    }
    sg4::this_actor::sleep_until(end);
  }
}

}  // namespace

absl::StatusOr<nlohmann::json> RunSimulation(const Scenario& s) {
  xbt_log_control_set("root.thres:critical");
  int argc = 1;
  char arg0[] = "moesim";
  char* argv[] = {arg0, nullptr};
  sg4::Engine engine(&argc, argv);
  ConfigureSimgridModels(s.simulation.collectives == CollectiveFidelity::kPtask);

  auto graph = ClusterGraph::Build(s.cluster());
  if (!graph.ok()) return graph.status();
  std::vector<InstanceFabric> fabrics;
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < s.deployment.instances; ++i) {
    auto f = BuildInstanceFabric(s, *graph, i);
    if (!f.ok()) return f.status();
    for (const auto& p : f->Pairs()) pairs.push_back(p);
    fabrics.push_back(std::move(*f));
  }
  auto platform = BuildSimgridPlatform(*graph, pairs);
  if (!platform.ok()) return platform.status();

  World world(s, *platform);
  const ParallelPlan& plan = s.deployment.plan;
  // The runtime's caps are per instance: its pp virtual engines share them.
  const SchedulerConfig config{(s.runtime.MaxNumSeqs() + plan.pp - 1) / plan.pp,
                               (s.runtime.MaxNumBatchedTokens() + plan.pp - 1) / plan.pp,
                               s.model.sliding_window_tokens,
                               s.runtime.batching == Batching::kPrefillFirst};
  world.instances.resize(s.deployment.instances);
  for (int i = 0; i < s.deployment.instances; ++i) {
    World::Instance& inst = world.instances[i];
    inst.fabric = std::move(fabrics[i]);
    // One routing stream per instance, derived from the scenario seed.
    const uint64_t routing_seed = s.simulation.seed * 1000003ULL + i;

    if (plan.dp_attention) {
      const sg4::ConditionVariablePtr wake = sg4::ConditionVariable::create();
      for (int r = 0; r < plan.ep; ++r) {
        inst.rank_pools.push_back(std::make_unique<PagedKvPool>(s.memory.kv_blocks));
        inst.engines.push_back(std::make_unique<InstanceScheduler>(config, world.footprint,
                                                                   inst.rank_pools.back().get()));
        inst.engine_wake.push_back(wake);  // one wake-up for the whole group
      }
      std::vector<ExpertHitRates> hits;
      if (inst.fabric.deepep_normal) {
        auto h = MoeLoadSampler::HitRates(
            s, routing_seed, inst.fabric.deepep_normal->node_of_rank(), kHitRateTokens);
        if (!h.ok()) return h.status();
        hits = std::move(*h);
      }
      inst.group = std::make_unique<EpGroupExecutor>(s, *platform, inst.fabric,
                                                     s.deployment.InstanceGpus(i), std::move(hits));
    }
    inst.pool = std::make_unique<PagedKvPool>(s.memory.kv_blocks);

    if (s.routing) {
      auto sampler = MoeLoadSampler::Make(s, routing_seed);

      if (!sampler.ok()) return sampler.status();
      inst.moe_sampler = std::move(*sampler);
    }
    if (plan.dp_attention) continue;
    for (int e = 0; e < plan.pp; ++e) {
      inst.engines.push_back(
          std::make_unique<InstanceScheduler>(config, world.footprint, inst.pool.get()));
      inst.engine_wake.push_back(sg4::ConditionVariable::create());
    }
    for (int stage = 0; stage < plan.pp; ++stage) {
      inst.stages.push_back(std::make_unique<StepExecutor>(
          s, *platform, s.deployment.StageGpus(i, stage), inst.fabric, stage));
      inst.stage_busy.push_back(sg4::Mutex::create());
    }
  }
  for (int i = 0; i < s.deployment.instances; ++i) {
    if (plan.dp_attention) {
      sg4::Actor::create("ep-group-" + std::to_string(i),
                         platform->gpus[s.deployment.InstanceGpus(i)[0]], EpGroupActor, &world, i);
      continue;
    }
    for (int e = 0; e < plan.pp; ++e) {
      sg4::Actor::create("instance-" + std::to_string(i) + "-engine-" + std::to_string(e),
                         platform->gpus[s.deployment.StageGpus(i, 0)[0]], VirtualEngineActor,
                         &world, i, e);
    }
  }
  sg4::Actor::create("workload-source", platform->frontend, WorkloadSourceActor, &world);
  engine.run();
  if (!world.error.ok()) return world.error;

  FabricContext context;
  context.instance = &world.instances[0].fabric;
  std::vector<int> dirs;
  for (const auto& inst : world.instances) {
    for (int d : inst.fabric.LinkDirections()) dirs.push_back(d);
  }
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  for (int d : dirs) {
    const Link& l = graph->links()[d / 2];
    context.tier_capacity_bytes_per_s[static_cast<int>(l.tier)] += l.gb_per_s * 1e9;
  }
  return BuildReport(s, world.metrics, context);
}

}  // namespace moesim
