#include "engine/simulation.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <xbt/log.h>
#include <nlohmann/json.hpp>
#include <simgrid/s4u.hpp>

#include "engine/instance.h"
#include "engine/instance_fabric.h"
#include "engine/metrics.h"
#include "engine/report.h"
#include "engine/simgrid_fabric.h"
#include "models/workload.h"
#include "topology/cluster_graph.h"
#include "topology/simgrid_platform.h"

namespace sg4 = simgrid::s4u;

namespace moesim {

namespace {

// Metrics as an observer of the instances' steps and finished requests.
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

// What the actors share. Actors run one at a time (SimGrid contexts), so plain C++ containers
// are safe; condition variables carry the wake-ups.
struct Run {
  const Scenario& scenario;
  SimgridFabric& fabric;
  WorkloadGenerator generator;
  std::deque<Request> requests;  // stable addresses
  int64_t next_id = 0;
  std::vector<std::unique_ptr<Instance>> instances;
  std::vector<sg4::MutexPtr> instance_mutex;
  std::vector<std::vector<sg4::ConditionVariablePtr>> lane_wake;  // [instance][lane]
  absl::Status error;                                             // first failure (ends the run)
  std::deque<Request*> finished;  // finished requests waiting for the workload source
  sg4::MutexPtr source_mutex = sg4::Mutex::create();
  sg4::ConditionVariablePtr source_wake = sg4::ConditionVariable::create();

  Run(const Scenario& s, SimgridFabric& f)
      : scenario(s), fabric(f), generator(s.workload, s.simulation.seed) {}

  // Router: the instance with the fewest running + waiting sequences (lowest index on ties);
  // the instance picks its lane.
  void Route(Request* r) {
    size_t best = 0;
    for (size_t i = 1; i < instances.size(); ++i) {
      if (instances[i]->Load() < instances[best]->Load()) best = i;
    }
    const int lane = instances[best]->Admit(r);
    lane_wake[best][lane]->notify_all();
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

// The one actor loop: drives lane `lane` of instance `index`, whatever its kind. Runs until the
// end of the simulated period; a step in flight at the end completes (it falls outside the
// measurement window) so that no SimGrid activity is abandoned mid-flight.
void LaneActor(Run* run, int index, int lane) {
  Instance& inst = *run->instances[index];
  const double end_s = run->scenario.simulation.duration_s;
  sg4::ConditionVariablePtr wake = run->lane_wake[index][lane];
  while (sg4::Engine::get_clock() < end_s) {
    {
      std::unique_lock<sg4::Mutex> lock(*run->instance_mutex[index]);
      while (!inst.HasWork(lane) && sg4::Engine::get_clock() < end_s) wake->wait_until(lock, end_s);
    }
    if (!inst.HasWork(lane)) break;
    auto out = inst.RunStep(lane, run->fabric);
    if (!out.ok()) {
      run->error = out.status();
      break;
    }
    if (!out->ran) {
      // Nothing fits now (other lanes hold the KV cache): wait for work or for the end.
      std::unique_lock<sg4::Mutex> lock(*run->instance_mutex[index]);
      wake->wait_until(lock, end_s);
      continue;
    }
    if (!out->finished.empty()) {
      for (Request* r : out->finished) run->finished.push_back(r);
      run->source_wake->notify_all();
      // Freed KV blocks may let another lane admit work.
      for (auto& w : run->lane_wake[index]) w->notify_all();
    }
  }
}

void WorkloadSourceActor(Run* run) {
  const Scenario& s = run->scenario;
  const double end = s.simulation.duration_s;
  if (s.workload.arrival == WorkloadSpec::Arrival::kClosedLoop) {
    for (int64_t c = 0; c < s.workload.concurrency; ++c) run->Route(run->NewRequest(c));
    while (sg4::Engine::get_clock() < end) {
      std::unique_lock<sg4::Mutex> lock(*run->source_mutex);
      run->source_wake->wait_until(lock, end);
      while (!run->finished.empty()) {
        Request* done = run->finished.front();
        run->finished.pop_front();
        if (sg4::Engine::get_clock() < end) run->Route(run->NewRequest(done->client));
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

// What the report needs of the fabric: instance 0's steady decode estimate and, per tier, the
// bandwidth of the link directions the instances' collectives use.
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

}  // namespace

absl::StatusOr<nlohmann::json> RunSimulation(const Scenario& s) {
  auto setup = SetUpServePool(s);
  if (!setup.ok()) return setup.status();
  const PoolContext& pool = *(*setup)->pool;
  const auto engine = StartSimgridEngine("moesim", pool.collectives == CollectiveFidelity::kPtask);

  auto graph = ClusterGraph::Build(s.cluster());
  if (!graph.ok()) return graph.status();
  std::vector<InstanceFabric> fabrics;
  std::vector<std::pair<int, int>> pairs;
  const int instances = pool.deployment().instances;
  for (int i = 0; i < instances; ++i) {
    auto f = BuildInstanceFabric(pool, *graph, i);
    if (!f.ok()) return f.status();
    for (const auto& p : f->Pairs()) pairs.push_back(p);
    fabrics.push_back(std::move(*f));
  }
  auto platform = BuildSimgridPlatform(*graph, pairs);
  if (!platform.ok()) return platform.status();

  SimgridFabric fabric(
      *platform, pool.collectives,
      s.simulation.fidelity == Fidelity::kStep || pool.collectives == CollectiveFidelity::kAnalytic,
      s.simulation.fidelity == Fidelity::kKernel);
  MetricsCollector metrics(instances, s.simulation.warmup_s, s.simulation.duration_s);
  MetricsObserver metrics_observer(metrics);
  Run run(s, fabric);
  const std::string kind = InstanceKindFor(pool.plan());
  const InstanceRegistry::Kind* factory = InstanceRegistry::Builtin().Find(kind);
  if (factory == nullptr) return absl::InternalError("no instance kind " + kind);
  for (int i = 0; i < instances; ++i) {
    InstanceContext context{pool, fabrics[i], pool.InstanceGpus(i)};
    context.index = i;
    // One routing stream per instance, derived from the scenario seed.
    context.routing_seed = s.simulation.seed * 1000003ULL + i;
    context.observers = {&metrics_observer};
    context.new_resource = [&fabric] { return fabric.NewResource(); };
    auto inst = factory->factory(context);
    if (!inst.ok()) return inst.status();
    run.instances.push_back(std::move(*inst));
    run.instance_mutex.push_back(sg4::Mutex::create());
    run.lane_wake.emplace_back();
    for (int lane = 0; lane < run.instances.back()->lanes(); ++lane) {
      run.lane_wake.back().push_back(sg4::ConditionVariable::create());
    }
  }
  for (int i = 0; i < instances; ++i) {
    sg4::Host* host = platform->gpus[pool.InstanceGpus(i)[0]];
    const int lanes = run.instances[i]->lanes();
    for (int lane = 0; lane < lanes; ++lane) {
      const std::string name =
          kind == "ep_group" ? "ep-group-" + std::to_string(i)
                             : "instance-" + std::to_string(i) + "-engine-" + std::to_string(lane);
      sg4::Actor::create(name, host, LaneActor, &run, i, lane);
    }
  }
  sg4::Actor::create("workload-source", platform->frontend, WorkloadSourceActor, &run);
  engine->run();
  if (!run.error.ok()) return run.error;

  const FabricContext context = ReportFabricContext(*run.instances[0], fabrics, *graph);
  return BuildReport(s, pool, metrics, context);
}

}  // namespace moesim
