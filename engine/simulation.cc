#include "engine/simulation.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <xbt/log.h>
#include <nlohmann/json.hpp>
#include <simgrid/s4u.hpp>

#include "engine/instance_scheduler.h"
#include "engine/metrics.h"
#include "engine/report.h"
#include "engine/step_executor.h"
#include "models/workload.h"
#include "topology/cluster_graph.h"
#include "topology/collective_pattern.h"
#include "topology/simgrid_platform.h"

namespace sg4 = simgrid::s4u;

namespace moesim {

namespace {

// Everything the actors share. Actors run one at a time (SimGrid contexts), so plain C++
// containers are safe; condition variables carry the wake-ups.
struct World {
  const Scenario& scenario;
  KvFootprint footprint;
  MetricsCollector metrics;
  WorkloadGenerator generator;
  std::deque<Request> requests;  // stable addresses
  int64_t next_id = 0;

  const SimgridPlatform* platform = nullptr;

  struct Instance {
    std::unique_ptr<InstanceScheduler> scheduler;
    std::vector<int> gpus;                       // global GPU indices
    const CollectivePattern* tp_ring = nullptr;  // nullptr when tensor_parallel is 1
    sg4::MutexPtr mutex = sg4::Mutex::create();
    sg4::ConditionVariablePtr wake = sg4::ConditionVariable::create();
  };
  std::vector<Instance> instances;

  // Finished requests waiting for the workload source (closed loop).
  std::deque<Request*> finished;
  sg4::MutexPtr source_mutex = sg4::Mutex::create();
  sg4::ConditionVariablePtr source_wake = sg4::ConditionVariable::create();

  World(const Scenario& s)
      : scenario(s),
        footprint(s.Footprint()),
        metrics(s.deployment.instances, s.simulation.warmup_s, s.simulation.duration_s),
        generator(s.workload, s.simulation.seed) {}

  // Router: the instance with the fewest running + waiting sequences (lowest index on ties).
  void Route(Request* r) {
    size_t best = 0;
    int64_t best_load = -1;
    for (size_t i = 0; i < instances.size(); ++i) {
      const int64_t load = instances[i].scheduler->running() + instances[i].scheduler->waiting();
      if (best_load < 0 || load < best_load) {
        best = i;
        best_load = load;
      }
    }
    Instance& inst = instances[best];
    inst.scheduler->Enqueue(r);
    inst.wake->notify_all();
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

void InstanceActor(World* world, int index) {
  World::Instance& inst = world->instances[index];
  StepExecutor executor(world->scenario, *world->platform, inst.gpus, inst.tp_ring);
  InstanceScheduler& sched = *inst.scheduler;
  const double end_s = world->scenario.simulation.duration_s;
  // Runs until the end of the simulated period; a step in flight at the end completes (it falls
  // outside the measurement window) so that no SimGrid activity is abandoned mid-flight.
  while (sg4::Engine::get_clock() < end_s) {
    {
      std::unique_lock<sg4::Mutex> lock(*inst.mutex);
      while (!sched.HasWork() && sg4::Engine::get_clock() < end_s) {
        inst.wake->wait_until(lock, end_s);
      }
    }
    if (!sched.HasWork()) break;
    const double start = sg4::Engine::get_clock();
    const StepBatch batch = sched.Schedule();
    if (batch.tokens() == 0) {
      // Nothing fits now (only possible while other requests hold the KV cache): wait for work.
      std::unique_lock<sg4::Mutex> lock(*inst.mutex);
      inst.wake->wait_until(lock, end_s);
      continue;
    }
    const int64_t running = sched.running();
    const int64_t waiting = sched.waiting();
    const TimeBreakdown breakdown = executor.Run(batch, running);
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
    world->metrics.OnStep(index, rec, breakdown);
    if (!done.empty()) {
      for (Request* r : done) {
        world->metrics.OnRequestFinished(*r);
        world->finished.push_back(r);
      }
      world->source_wake->notify_all();
    }
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
  // One all-reduce ring per instance; its GPU pairs are the routes the platform needs.
  std::vector<CollectivePattern> rings;
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < s.deployment.instances; ++i) {
    const std::vector<int> gpus = s.deployment.InstanceGpus(i);
    if (gpus.size() > 1) {
      auto ring = CollectivePattern::RingAllReduce(*graph, gpus);
      if (!ring.ok()) return ring.status();
      rings.push_back(std::move(*ring));
      for (size_t k = 0; k < gpus.size(); ++k)
        pairs.emplace_back(gpus[k], gpus[(k + 1) % gpus.size()]);
    }
  }
  auto platform = BuildSimgridPlatform(*graph, pairs);
  if (!platform.ok()) return platform.status();

  World world(s);
  world.platform = &*platform;
  const SchedulerConfig config{s.runtime.max_num_seqs, s.runtime.max_num_batched_tokens,
                               s.model.sliding_window_tokens};
  world.instances.resize(s.deployment.instances);
  for (int i = 0; i < s.deployment.instances; ++i) {
    World::Instance& inst = world.instances[i];
    inst.scheduler =
        std::make_unique<InstanceScheduler>(config, world.footprint, s.memory.kv_blocks);
    inst.gpus = s.deployment.InstanceGpus(i);
    if (!rings.empty()) inst.tp_ring = &rings[i];
  }
  for (int i = 0; i < s.deployment.instances; ++i) {
    sg4::Actor::create("instance-" + std::to_string(i), platform->gpus[world.instances[i].gpus[0]],
                       InstanceActor, &world, i);
  }
  sg4::Actor::create("workload-source", platform->frontend, WorkloadSourceActor, &world);
  engine.run();

  FabricContext fabric;
  fabric.tp_ring = rings.empty() ? nullptr : &rings[0];
  std::vector<int> dirs;
  for (const CollectivePattern& r : rings) {
    for (int d : r.LinkDirections()) dirs.push_back(d);
  }
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  for (int d : dirs) {
    const Link& l = graph->links()[d / 2];
    fabric.tier_capacity_bytes_per_s[static_cast<int>(l.tier)] += l.gb_per_s * 1e9;
  }
  return BuildReport(s, world.metrics, fabric);
}

}  // namespace moesim
