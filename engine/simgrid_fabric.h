// The fabric on SimGrid (engine/fabric.h): SimGrid's clock, collectives through the
// CollectiveRunner (analytic sleeps, parallel tasks or per-pair flows on the routed links),
// transfers in helper actors so that several are in flight, group mutexes, kernel Execs.
// Must be used from SimGrid actors. One per simulation.
#pragma once

#include <vector>

#include <simgrid/forward.h>

#include "engine/collective_runner.h"
#include "engine/fabric.h"
#include "topology/simgrid_platform.h"

namespace moesim {

class SimgridFabric : public Fabric {
 public:
  // `analytic`: communication in closed form (step fidelity, or "collectives": "analytic"),
  // `kernel_activities`: every kernel a SimGrid Exec (kernel fidelity).
  SimgridFabric(const SimgridPlatform& platform, CollectiveFidelity collectives, bool analytic,
                bool kernel_activities);
  ~SimgridFabric() override;

  // A new group mutex (pipeline stages shared by an instance's lanes).
  int NewResource();

  double Now() const override;
  void SleepUntil(double t) override;
  bool Analytic() const override { return analytic_; }
  CollectiveCost RunCollective(const CollectivePattern& pattern, double message_bytes,
                               double launch_us) override;
  std::unique_ptr<PendingTransfer> StartTransfer(const std::vector<int>* gpus,
                                                 const CollectiveCost& cost,
                                                 std::vector<Transfer> wire,
                                                 double start_s) override;
  CollectiveCost Finish(PendingTransfer& t) override;
  // Each copy a SimGrid communication between the GPU's host and its server's CPU host over
  // the GPU's host link (sharing it with every other copy in flight); analytic: a sleep.
  std::unique_ptr<PendingTransfer> StartHostCopies(const std::vector<HostCopy>& copies,
                                                   const std::vector<DiskIo>& disk_ios,
                                                   double analytic_s) override;
  void FinishHostCopies(PendingTransfer& t) override;
  void Acquire(int resource) override;
  void Release(int resource) override;
  void RunKernel(const std::vector<int>& gpus, double start_s, double end_s) override;
  bool KernelActivities() const override { return kernel_activities_; }

 private:
  const SimgridPlatform& platform_;
  CollectiveRunner runner_;
  bool analytic_;
  bool kernel_activities_;
  std::vector<simgrid::s4u::MutexPtr> mutexes_;
};

}  // namespace moesim
