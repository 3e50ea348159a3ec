#include "engine/step_executor.h"

#include <simgrid/s4u.hpp>

#include "engine/step_costs.h"
#include "engine/step_model.h"
#include "topology/simgrid_platform.h"

namespace sg4 = simgrid::s4u;

namespace moesim {

StepExecutor::StepExecutor(const Scenario& scenario, const SimgridPlatform& platform,
                           std::vector<int> gpus, const InstanceFabric& fabric, int stage)
    : scenario_(scenario),
      platform_(platform),
      gpus_(std::move(gpus)),
      fabric_(fabric),
      stage_(stage),
      collectives_(platform, scenario.simulation.collectives),
      cost_(scenario.hardware.gpu, scenario.runtime),
      pipe_(scenario.runtime, scenario.hardware.gpu) {}

void StepExecutor::RunKernel(double start_s, double end_s) {
  sg4::this_actor::sleep_until(start_s);
  const double work = (end_s - start_s) * kGpuHostWorkPerSecond;
  if (work <= 0) return;
  std::vector<sg4::ExecPtr> execs;
  execs.reserve(gpus_.size());
  for (int g : gpus_) {
    execs.push_back(sg4::Exec::init()->set_flops_amount(work)->set_host(platform_.gpus[g]));
    execs.back()->start();
  }
  for (auto& e : execs) e->wait();
}

TimeBreakdown StepExecutor::Run(const StepBatch& batch, int64_t running_seqs,
                                const std::vector<MoeLayerLoad>* moe_loads) {
  const Fidelity fidelity = scenario_.simulation.fidelity;
  const StepProgram program = BuildStepProgram(scenario_.model, scenario_.runtime,
                                               scenario_.deployment.plan, batch, stage_, moe_loads);

  const double now = sg4::Engine::get_clock();
  pipe_.ResetBreakdown();
  pipe_.BeginStep(now, running_seqs, /*host_work=*/stage_ == 0,
                  ChooseLaunch(scenario_.runtime, batch));
  const double launch_us = scenario_.runtime.allreduce_latency_us;
  StepCosts costs(program, cost_);
  for (int b : program.order) {
    const std::vector<Op>& ops = program.blocks[b];
    for (size_t i = 0; i < ops.size(); ++i) {
      const Op& op = ops[i];
      if (op.cls == OpClass::kAllReduce) {
        const double start = pipe_.NextStart();
        const CollectivePattern* ring = fabric_.AllReduceFor(stage_, op.message_bytes);
        if (ring == nullptr) {
          pipe_.CollectiveDone(start);
          continue;
        }
        CollectiveCost c;
        if (fidelity == Fidelity::kStep) {
          c = costs.Collective(*ring, op.message_bytes, launch_us);
          pipe_.CollectiveDone(start + c.seconds, static_cast<int>(c.bottleneck_tier),
                               c.tier_bytes);
        } else {
          sg4::this_actor::sleep_until(start);
          c = collectives_.Run(*ring, op.message_bytes, launch_us);
          pipe_.CollectiveDone(sg4::Engine::get_clock(), static_cast<int>(c.bottleneck_tier),
                               c.tier_bytes);
        }
        continue;
      }
      const KernelTime& t = costs.Kernel(b, i);
      const double end = pipe_.Kernel(t, op);
      if (fidelity == Fidelity::kKernel) RunKernel(end - t.seconds, end);
    }
  }
  sg4::this_actor::sleep_until(pipe_.gpu_free_s());
  pipe_.EndStep();
  return pipe_.breakdown();
}

}  // namespace moesim
