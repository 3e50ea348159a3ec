// A fabric without SimGrid: a virtual clock, closed-form collective costs on an idle fabric
// (CollectivePattern::Estimate), no contention between lanes. The step runner's Estimate() and
// unit tests of runners and instance kinds run on it.
#pragma once

#include "engine/fabric.h"

namespace moesim {

class AnalyticFabric : public Fabric {
 public:
  explicit AnalyticFabric(double now_s = 0) : now_(now_s) {}

  double Now() const override { return now_; }
  void SleepUntil(double t) override;
  bool Analytic() const override { return true; }
  CollectiveCost RunCollective(const CollectivePattern& pattern, double message_bytes,
                               double launch_us) override;
  std::unique_ptr<PendingTransfer> StartTransfer(const std::vector<int>* gpus,
                                                 const CollectiveCost& cost,
                                                 std::vector<Transfer> wire,
                                                 double start_s) override;
  CollectiveCost Finish(PendingTransfer& t) override;
  std::unique_ptr<PendingTransfer> StartHostCopies(const std::vector<HostCopy>& copies,
                                                   const std::vector<DiskIo>& disk_ios,
                                                   double analytic_s) override;
  void FinishHostCopies(PendingTransfer& t) override;
  void Acquire(int) override {}
  void Release(int) override {}
  void RunKernel(const std::vector<int>&, double, double end_s) override { SleepUntil(end_s); }
  bool KernelActivities() const override { return false; }

 private:
  double now_;
};

}  // namespace moesim
