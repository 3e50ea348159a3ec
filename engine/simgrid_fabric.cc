#include "engine/simgrid_fabric.h"

#include <simgrid/s4u.hpp>

namespace sg4 = simgrid::s4u;

namespace moesim {

namespace {

struct SimgridTransfer : PendingTransfer {
  sg4::ActorPtr actor;
  CollectiveCost cost;
};

}  // namespace

SimgridFabric::SimgridFabric(const SimgridPlatform& platform, CollectiveFidelity collectives,
                             bool analytic, bool kernel_activities)
    : platform_(platform),
      runner_(platform, collectives),
      analytic_(analytic),
      kernel_activities_(kernel_activities) {}

SimgridFabric::~SimgridFabric() = default;

int SimgridFabric::NewResource() {
  mutexes_.push_back(sg4::Mutex::create());
  return static_cast<int>(mutexes_.size()) - 1;
}

double SimgridFabric::Now() const { return sg4::Engine::get_clock(); }

void SimgridFabric::SleepUntil(double t) { sg4::this_actor::sleep_until(t); }

CollectiveCost SimgridFabric::RunCollective(const CollectivePattern& pattern, double message_bytes,
                                            double launch_us) {
  return runner_.Run(pattern, message_bytes, launch_us);
}

std::unique_ptr<PendingTransfer> SimgridFabric::StartTransfer(const std::vector<int>* gpus,
                                                              const CollectiveCost& cost,
                                                              std::vector<Transfer> wire,
                                                              double start_s) {
  auto t = std::make_unique<SimgridTransfer>();
  t->actor = runner_.StartPlanned(platform_.Gpu((*gpus)[0]), gpus, cost, std::move(wire),
                                  std::max(start_s, Now()), &t->cost);
  return t;
}

CollectiveCost SimgridFabric::Finish(PendingTransfer& t) {
  auto& s = static_cast<SimgridTransfer&>(t);
  s.actor->join();
  return s.cost;
}

void SimgridFabric::Acquire(int resource) { mutexes_[resource]->lock(); }

void SimgridFabric::Release(int resource) { mutexes_[resource]->unlock(); }

void SimgridFabric::RunKernel(const std::vector<int>& gpus, double start_s, double end_s) {
  sg4::this_actor::sleep_until(start_s);
  const double work = (end_s - start_s) * kGpuHostWorkPerSecond;
  if (work <= 0) return;
  std::vector<sg4::ExecPtr> execs;
  execs.reserve(gpus.size());
  for (int g : gpus) {
    execs.push_back(sg4::Exec::init()->set_flops_amount(work)->set_host(platform_.Gpu(g)));
    execs.back()->start();
  }
  for (auto& e : execs) e->wait();
}

}  // namespace moesim
