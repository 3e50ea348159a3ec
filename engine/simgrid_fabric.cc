#include "engine/simgrid_fabric.h"

#include <algorithm>

#include <simgrid/s4u.hpp>

namespace sg4 = simgrid::s4u;

namespace moesim {

namespace {

struct SimgridTransfer : PendingTransfer {
  sg4::ActorPtr actor;
  CollectiveCost cost;
};

struct SimgridHostCopies : PendingTransfer {
  std::vector<sg4::CommPtr> comms;
  std::vector<sg4::IoPtr> ios;
  double end_s = 0;  // analytic
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

std::unique_ptr<PendingTransfer> SimgridFabric::StartHostCopies(const std::vector<HostCopy>& copies,
                                                                const std::vector<DiskIo>& disk_ios,
                                                                double analytic_s) {
  auto t = std::make_unique<SimgridHostCopies>();
  t->end_s = Now() + analytic_s;
  if (analytic_) return t;
  for (const HostCopy& c : copies) {
    if (c.wire_bytes <= 0) continue;
    sg4::Host* gpu = platform_.Gpu(c.gpu);
    sg4::Host* cpu = platform_.HostCpu(c.gpu);
    t->comms.push_back(c.to_host ? sg4::Comm::sendto_async(gpu, cpu, c.wire_bytes)
                                 : sg4::Comm::sendto_async(cpu, gpu, c.wire_bytes));
  }
  for (const DiskIo& io : disk_ios) {
    if (io.bytes <= 0) continue;
    const sg4::Disk* disk = platform_.Ssd(io.gpu);
    const auto size = static_cast<sg_size_t>(io.bytes);
    t->ios.push_back(io.write ? disk->write_async(size) : disk->read_async(size));
  }
  return t;
}

void SimgridFabric::FinishHostCopies(PendingTransfer& t) {
  auto& c = static_cast<SimgridHostCopies&>(t);
  if (analytic_) {
    SleepUntil(std::max(c.end_s, Now()));
    return;
  }
  for (auto& comm : c.comms) comm->wait();
  for (auto& io : c.ios) io->wait();
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
