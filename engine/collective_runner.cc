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
  CollectiveCost cost = pattern.Estimate(message_bytes, launch_us, weights);
  if (cost.seconds <= 0) return cost;
  const double start = sg4::Engine::get_clock();
  if (fidelity_ == CollectiveFidelity::kAnalytic) {
    sg4::this_actor::sleep_for(cost.seconds);
    return cost;
  }
  sg4::this_actor::sleep_for(cost.latency_s);
  const std::vector<Transfer> wire = pattern.WireTransfers(message_bytes, weights);
  if (fidelity_ == CollectiveFidelity::kFlows) {
    std::vector<sg4::CommPtr> comms;
    comms.reserve(wire.size());
    for (const Transfer& t : wire) {
      if (t.bytes <= 0) continue;
      comms.push_back(sg4::Comm::sendto_async(platform_.gpus[t.src_gpu], platform_.gpus[t.dst_gpu],
                                              static_cast<uint64_t>(t.bytes)));
    }
    for (auto& c : comms) c->wait();
  } else {
    std::map<int, int> index;  // global GPU -> position in the task
    std::vector<sg4::Host*> hosts;
    for (int g : pattern.gpus()) {
      if (index.emplace(g, static_cast<int>(hosts.size())).second) {
        hosts.push_back(platform_.gpus[g]);
      }
    }
    const size_t n = hosts.size();
    std::vector<double> flops(n, 0.0);
    std::vector<double> bytes(n * n, 0.0);
    for (const Transfer& t : wire) bytes[index[t.src_gpu] * n + index[t.dst_gpu]] += t.bytes;
    sg4::this_actor::parallel_execute(hosts, flops, bytes);
  }
  cost.seconds = sg4::Engine::get_clock() - start;
  cost.transfer_s = cost.seconds - cost.latency_s;
  return cost;
}

sg4::ActorPtr CollectiveRunner::Start(sg4::Host* host, const CollectivePattern& pattern,
                                      double message_bytes, double launch_us,
                                      const CollectivePattern::Weights* weights, double start_s,
                                      CollectiveCost* out) {
  return sg4::Actor::create(
      "collective", host, [this, &pattern, message_bytes, launch_us, weights, start_s, out]() {
        sg4::this_actor::sleep_until(start_s);
        *out = Run(pattern, message_bytes, launch_us,
                   weights != nullptr ? *weights : CollectivePattern::Weights());
      });
}

}  // namespace moesim
