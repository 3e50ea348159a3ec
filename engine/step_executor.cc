#include "engine/step_executor.h"

#include <simgrid/s4u.hpp>

#include "engine/step_model.h"
#include "topology/simgrid_platform.h"

namespace sg4 = simgrid::s4u;

namespace moesim {

StepExecutor::StepExecutor(const Scenario& scenario, std::vector<sg4::Host*> gpus)
    : scenario_(scenario),
      gpus_(std::move(gpus)),
      cost_(scenario.hardware.gpu, scenario.runtime),
      pipe_(scenario.runtime) {}

void StepExecutor::AllReduce(double message_bytes) {
  const int tp = static_cast<int>(gpus_.size());
  if (tp <= 1) return;
  sg4::this_actor::sleep_for(scenario_.runtime.allreduce_latency_us * 1e-6);
  const double bytes = RingAllReduceBytesPerGpu(message_bytes, tp);
  std::vector<sg4::CommPtr> comms;
  comms.reserve(tp);
  for (int i = 0; i < tp; ++i) {
    comms.push_back(
        sg4::Comm::sendto_async(gpus_[i], gpus_[(i + 1) % tp], static_cast<uint64_t>(bytes)));
  }
  for (auto& c : comms) c->wait();
}

void StepExecutor::RunKernel(double start_s, double end_s) {
  sg4::this_actor::sleep_until(start_s);
  const double work = (end_s - start_s) * kGpuHostWorkPerSecond;
  if (work <= 0) return;
  std::vector<sg4::ExecPtr> execs;
  execs.reserve(gpus_.size());
  for (sg4::Host* h : gpus_) {
    execs.push_back(sg4::Exec::init()->set_flops_amount(work)->set_host(h));
    execs.back()->start();
  }
  for (auto& e : execs) e->wait();
}

TimeBreakdown StepExecutor::Run(const StepBatch& batch, int64_t running_seqs) {
  const Fidelity fidelity = scenario_.simulation.fidelity;
  const StepProgram program =
      BuildStepProgram(scenario_.model, scenario_.runtime, scenario_.deployment.plan, batch);
  const double now = sg4::Engine::get_clock();
  pipe_.ResetBreakdown();
  pipe_.BeginStep(now, running_seqs);
  for (int b : program.order) {
    for (const Op& op : program.blocks[b]) {
      if (op.cls == OpClass::kAllReduce) {
        const double start = pipe_.NextStart();
        if (fidelity == Fidelity::kStep) {
          pipe_.CollectiveDone(start + AllReduceSeconds(scenario_, op.message_bytes));
        } else {
          sg4::this_actor::sleep_until(start);
          AllReduce(op.message_bytes);
          pipe_.CollectiveDone(sg4::Engine::get_clock());
        }
        continue;
      }
      const KernelTime t = cost_.Time(op);
      const double end = pipe_.Kernel(t, op);
      if (fidelity == Fidelity::kKernel) RunKernel(end - t.seconds, end);
    }
  }
  sg4::this_actor::sleep_until(pipe_.gpu_free_s());
  return pipe_.breakdown();
}

}  // namespace moesim
