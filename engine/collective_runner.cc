#include "engine/collective_runner.h"

#include <map>

#include <simgrid/s4u.hpp>

namespace sg4 = simgrid::s4u;

namespace moesim {

const char* CollectiveFidelityName(CollectiveFidelity f) {
  switch (f) {
    case CollectiveFidelity::kAnalytic:
      return "analytic";
    case CollectiveFidelity::kPtask:
      return "ptask";
    case CollectiveFidelity::kFlows:
      return "flows";
  }
  return "";
}

CollectiveCost CollectiveRunner::Run(const CollectivePattern& pattern, double message_bytes,
                                     double launch_us, const CollectivePattern::Weights& weights) {
  const CollectiveCost cost = pattern.Estimate(message_bytes, launch_us, weights);
  if (cost.seconds <= 0 || fidelity_ == CollectiveFidelity::kAnalytic) {
    return RunPlanned(pattern.gpus(), cost, {});
  }
  return RunPlanned(pattern.gpus(), cost, pattern.WireTransfers(message_bytes, weights));
}

CollectiveCost CollectiveRunner::RunPlanned(const std::vector<int>& gpus, CollectiveCost cost,
                                            const std::vector<Transfer>& wire) {
  if (cost.seconds <= 0) return cost;
  const double start = sg4::Engine::get_clock();
  if (fidelity_ == CollectiveFidelity::kAnalytic) {
    sg4::this_actor::sleep_for(cost.seconds);
    return cost;
  }
  sg4::this_actor::sleep_for(cost.latency_s);
  MoveWire(gpus, wire);
  cost.seconds = sg4::Engine::get_clock() - start;
  cost.transfer_s = cost.seconds - cost.latency_s;
  return cost;
}

void CollectiveRunner::MoveWire(const std::vector<int>& gpus, const std::vector<Transfer>& wire) {
  if (fidelity_ == CollectiveFidelity::kFlows) {
    std::vector<sg4::CommPtr> comms;
    comms.reserve(wire.size());
    for (const Transfer& t : wire) {
      if (t.bytes <= 0) continue;
      comms.push_back(sg4::Comm::sendto_async(platform_.Gpu(t.src_gpu), platform_.Gpu(t.dst_gpu),
                                              static_cast<uint64_t>(t.bytes)));
    }
    for (auto& c : comms) c->wait();
    return;
  }
  std::map<int, int> index;  // global GPU -> position in the task
  std::vector<sg4::Host*> hosts;
  for (int g : gpus) {
    if (index.emplace(g, static_cast<int>(hosts.size())).second) {
      hosts.push_back(platform_.Gpu(g));
    }
  }
  const size_t n = hosts.size();
  std::vector<double> flops(n, 0.0);
  std::vector<double> bytes(n * n, 0.0);
  for (const Transfer& t : wire) bytes[index[t.src_gpu] * n + index[t.dst_gpu]] += t.bytes;
  sg4::this_actor::parallel_execute(hosts, flops, bytes);
}

sg4::ActorPtr CollectiveRunner::StartPlanned(sg4::Host* host, const std::vector<int>* gpus,
                                             CollectiveCost cost, std::vector<Transfer> wire,
                                             double start_s, CollectiveCost* out) {
  return sg4::Actor::create("collective", host,
                            [this, gpus, cost, wire = std::move(wire), start_s, out]() {
                              sg4::this_actor::sleep_until(start_s);
                              *out = RunPlanned(*gpus, cost, wire);
                            });
}

}  // namespace moesim
