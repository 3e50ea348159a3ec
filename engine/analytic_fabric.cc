#include "engine/analytic_fabric.h"

#include <algorithm>

namespace moesim {

namespace {

struct AnalyticTransfer : PendingTransfer {
  CollectiveCost cost;
  double end_s = 0;
};

}  // namespace

void AnalyticFabric::SleepUntil(double t) { now_ = std::max(now_, t); }

CollectiveCost AnalyticFabric::RunCollective(const CollectivePattern& pattern, double message_bytes,
                                             double launch_us) {
  const CollectiveCost c = pattern.Estimate(message_bytes, launch_us);
  now_ += c.seconds;
  return c;
}

std::unique_ptr<PendingTransfer> AnalyticFabric::StartTransfer(const std::vector<int>*,
                                                               const CollectiveCost& cost,
                                                               std::vector<Transfer>,
                                                               double start_s) {
  auto t = std::make_unique<AnalyticTransfer>();
  t->cost = cost;
  t->end_s = std::max(start_s, now_) + cost.seconds;
  return t;
}

CollectiveCost AnalyticFabric::Finish(PendingTransfer& t) {
  auto& a = static_cast<AnalyticTransfer&>(t);
  SleepUntil(a.end_s);
  return a.cost;
}

std::unique_ptr<PendingTransfer> AnalyticFabric::StartHostCopies(const std::vector<HostCopy>&,
                                                                 const std::vector<DiskIo>&,
                                                                 double analytic_s) {
  auto t = std::make_unique<AnalyticTransfer>();
  t->end_s = now_ + analytic_s;
  return t;
}

void AnalyticFabric::FinishHostCopies(PendingTransfer& t) {
  SleepUntil(static_cast<AnalyticTransfer&>(t).end_s);
}

}  // namespace moesim
