#include "engine/step_probe.h"

#include <xbt/log.h>
#include <simgrid/s4u.hpp>

#include "engine/instance.h"
#include "engine/simgrid_fabric.h"
#include "topology/cluster_graph.h"
#include "topology/simgrid_platform.h"

namespace sg4 = simgrid::s4u;

namespace moesim {

absl::StatusOr<StepTiming> ProbeDecodeStep(const Scenario& s, int64_t seqs, double context_tokens) {
  auto setup = SetUpServePool(s);
  if (!setup.ok()) return setup.status();
  const PoolContext& pool = *(*setup)->pool;
  const auto engine =
      StartSimgridEngine("moesim-probe", pool.collectives == CollectiveFidelity::kPtask);
  auto graph = ClusterGraph::Build(s.cluster());
  if (!graph.ok()) return graph.status();
  auto fabric = BuildInstanceFabric(pool, *graph, 0);
  if (!fabric.ok()) return fabric.status();
  auto platform = BuildSimgridPlatform(*graph, pool.InstanceGpus(0), fabric->Pairs());
  if (!platform.ok()) return platform.status();
  SimgridFabric sg(
      *platform, pool.collectives,
      s.simulation.fidelity == Fidelity::kStep || pool.collectives == CollectiveFidelity::kAnalytic,
      s.simulation.fidelity == Fidelity::kKernel);
  InstanceContext context{pool, *fabric, pool.InstanceGpus(0)};
  context.new_resource = [&sg] { return sg.NewResource(); };
  auto instance =
      InstanceRegistry::Builtin().Find(InstanceKindFor(pool.deployment()))->factory(context);
  if (!instance.ok()) return instance.status();
  absl::StatusOr<StepTiming> result = absl::InternalError("the probe actor did not run");
  sg4::Actor::create("probe", platform->Gpu(pool.InstanceGpus(0)[0]), [&] {
    result = (*instance)->RunDecode(seqs, context_tokens, sg);
    result = (*instance)->RunDecode(seqs, context_tokens, sg);
  });
  engine->run();
  return result;
}

}  // namespace moesim
