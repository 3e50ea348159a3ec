#include "engine/fault_injection.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <simgrid/s4u/Link.hpp>

#include "engine/serving_run.h"
#include "models/invariant.h"
#include "models/json_reader.h"

namespace moesim {

std::vector<FaultRecord> FaultTargets(const Scenario& s, const ClusterGraph& graph,
                                      const std::vector<std::vector<int>>& instance_gpus,
                                      const std::vector<PoolRole>& roles) {
  const auto& devices = graph.devices();
  const int domain_gpus = s.cluster().scaleup_domain_gpus();
  auto server_of = [&](int g) { return devices[graph.Gpu(g)].server; };
  auto rack_of = [&](int g) { return devices[graph.Gpu(g)].rack; };
  // Disaggregation: whether an instance's KV transfers (to or from any instance of the other
  // role) leave its scale-up domain or its rack, judged from its first GPU as its collectives
  // are.
  std::vector<char> kv_spans_domains(instance_gpus.size(), 0);
  std::vector<char> kv_spans_racks(instance_gpus.size(), 0);
  for (size_t k = 0; k < instance_gpus.size() && !roles.empty(); ++k) {
    if (roles[k] == PoolRole::kServe) continue;
    const int first = instance_gpus[k][0];
    for (size_t j = 0; j < instance_gpus.size(); ++j) {
      if (roles[j] == roles[k] || roles[j] == PoolRole::kServe) continue;
      for (int g : instance_gpus[j]) {
        kv_spans_domains[k] |= g / domain_gpus != first / domain_gpus;
        kv_spans_racks[k] |= rack_of(g) != rack_of(first);
      }
    }
  }
  std::vector<FaultRecord> targets;
  for (const FaultSpec& f : s.faults) {
    FaultRecord record;
    for (size_t k = 0; k < instance_gpus.size(); ++k) {
      const std::vector<int>& gpus = instance_gpus[k];
      // Whether the instance's collectives or KV transfers leave its scale-up domain (NVLink)
      // or its rack.
      bool spans_domains = kv_spans_domains[k], spans_racks = kv_spans_racks[k], in_rack = false;
      for (int g : gpus) {
        spans_domains |= g / domain_gpus != gpus[0] / domain_gpus;
        spans_racks |= rack_of(g) != rack_of(gpus[0]);
        in_rack |= rack_of(g) == f.target;
      }
      bool hit = false;
      switch (f.kind) {
        case FaultKind::kGpu:
          hit = std::find(gpus.begin(), gpus.end(), f.target) != gpus.end();
          break;
        case FaultKind::kServer:
          for (int g : gpus) hit |= server_of(g) == f.target;
          break;
        case FaultKind::kNic:
          hit = spans_domains && std::find(gpus.begin(), gpus.end(), f.target) != gpus.end();
          break;
        case FaultKind::kScaleUpLink:
          break;  // slows the GPU's NVLink traffic, stops nothing
        case FaultKind::kLink:
          // Only a fault that takes every uplink port cuts the rack off; fewer ports slow it.
          hit = IsolatesRack(s.cluster(), f) && in_rack && spans_racks;
          break;
        case FaultKind::kLeafSwitch:
          hit = in_rack && spans_domains;
          break;
        case FaultKind::kSpineSwitch:
          // The only spine switch: every rack is cut off from the others.
          hit = s.cluster().spine_switches == 1 && spans_racks;
          break;
      }
      if (!hit) continue;
      record.instances.push_back(static_cast<int>(k));
      std::vector<int>& at = record.positions.emplace_back();
      for (size_t p = 0; p < gpus.size(); ++p) {
        // A GPU, NIC or server: the GPUs there; a rack's leaf or uplink: the rack's GPUs; the
        // only spine switch: every GPU (the instance spans the racks it cuts apart).
        bool failed = f.kind == FaultKind::kSpineSwitch;
        if (f.kind == FaultKind::kServer) {
          failed = server_of(gpus[p]) == f.target;
        } else if (f.kind == FaultKind::kGpu || f.kind == FaultKind::kNic) {
          failed = gpus[p] == f.target;
        } else if (f.kind == FaultKind::kLink || f.kind == FaultKind::kLeafSwitch) {
          failed = rack_of(gpus[p]) == f.target;
        }
        if (failed) at.push_back(static_cast<int>(p));
      }
    }
    targets.push_back(std::move(record));
  }
  return targets;
}

absl::Status MarkTrainerFaults(const Scenario& s, const ClusterGraph& graph,
                               const std::vector<int>& trainer_gpus,
                               std::vector<FaultRecord>* records) {
  if (trainer_gpus.empty()) return absl::OkStatus();
  const int domain_gpus = s.cluster().scaleup_domain_gpus();
  bool spans_domains = false;
  for (int g : trainer_gpus) spans_domains |= g / domain_gpus != trainer_gpus[0] / domain_gpus;
  for (size_t i = 0; i < s.faults.size(); ++i) {
    const FaultSpec& f = s.faults[i];
    bool hit = false;
    for (int g : trainer_gpus) {
      switch (f.kind) {
        case FaultKind::kGpu:
          hit |= g == f.target;
          break;
        case FaultKind::kServer:
          hit |= graph.devices()[graph.Gpu(g)].server == f.target;
          break;
        case FaultKind::kNic:
          hit |= spans_domains && g == f.target;
          break;
        default:
          break;
      }
    }
    if (!hit) continue;
    if (!f.recover_after_s) {
      return BadInput(JsonLocation{s.file, "$"}.Key("faults").Index(i),
                      "stops the RLVR trainer's GPUs for good, so no step could finish: give "
                      "recover_after_s (the trainer then trains the step again)");
    }
    (*records)[i].trainer = true;
  }
  return absl::OkStatus();
}

bool IsolatesRack(const ClusterSpec& c, const FaultSpec& f) {
  return (f.kind == FaultKind::kLink && c.UplinkCutOff(double(f.ports))) ||
         (f.kind == FaultKind::kSpineSwitch && c.spine_switches == 1);
}

namespace {

// A fault that thins rack uplinks without cutting any off: a link fault on part of one rack's
// ports, or one spine switch of several (its ports on every rack). The racks and the ports each
// loses.
struct UplinkLoss {
  std::vector<int> racks;
  double ports = 0;
};
std::optional<UplinkLoss> ThinsUplinks(const ClusterSpec& c, const FaultSpec& f) {
  if (IsolatesRack(c, f)) return std::nullopt;
  if (f.kind == FaultKind::kLink) return UplinkLoss{{static_cast<int>(f.target)}, double(f.ports)};
  if (f.kind != FaultKind::kSpineSwitch) return std::nullopt;
  UplinkLoss loss;
  for (int r = 0; r < c.racks; ++r) loss.racks.push_back(r);
  loss.ports = c.uplink_ports_per_spine();
  return loss;
}

// Graph link `link` carries `share` of its capacity, in the analytic estimates (the graph's up
// share) and in SimGrid (both directions' bandwidth).
void SetLinkShare(Run* run, int link, double share) {
  run->graph->SetUpShare(link, share);
  if (sg4::Link* l = run->platform->links[link]) {
    const double bytes_per_s = run->graph->links()[link].UpGbPerS() * 1e9;
    auto* duplex = static_cast<sg4::SplitDuplexLink*>(l);
    duplex->get_link_up()->set_bandwidth(bytes_per_s);
    duplex->get_link_down()->set_bandwidth(bytes_per_s);
  }
}

// A partial link fault: rack `rack`'s uplink runs on the ports left.
void ApplyUplinkPorts(Run* run, int rack) {
  const ClusterSpec& c = run->scenario.cluster();
  const int link = run->graph->RackUplink(rack);
  MOESIM_CHECK(link >= 0, "rack ", rack, " has no uplink");
  const double share = 1.0 - run->uplink_ports_down[rack] / c.uplink_ports();
  MOESIM_CHECK(share > 0 && share <= 1, "rack ", rack, " uplink share ", share);
  SetLinkShare(run, link, share);
}

// A scale-up link fault: the GPU's NVLink port (graph link `link`) runs on the links left.
void ApplyScaleUpPorts(Run* run, int link) {
  const int links = run->scenario.cluster().scaleup.links_per_gpu;
  const double share = 1.0 - run->scaleup_ports_down[link] / links;
  MOESIM_CHECK(share > 0 && share <= 1, "scale-up link ", link, " share ", share);
  SetLinkShare(run, link, share);
}

void FaultActor(Run* run, size_t index) {
  const FaultSpec& spec = run->scenario.faults[index];
  FaultRecord& record = run->faults[index];
  const std::optional<UplinkLoss> thins = ThinsUplinks(run->scenario.cluster(), spec);
  const int scaleup_link = spec.kind == FaultKind::kScaleUpLink
                               ? run->graph->GpuScaleUpLink(static_cast<int>(spec.target))
                               : -1;
  sg4::this_actor::sleep_until(spec.at_s);
  if (run->stopped) return;
  if (scaleup_link >= 0) {
    run->scaleup_ports_down[scaleup_link] += double(spec.ports);
    ApplyScaleUpPorts(run, scaleup_link);
    record.link_share = run->graph->links()[scaleup_link].up_share;
  }
  if (thins) {
    for (int rack : thins->racks) {
      run->uplink_ports_down[rack] += thins->ports;
      ApplyUplinkPorts(run, rack);
    }
    record.link_share = run->graph->links()[run->graph->RackUplink(thins->racks.front())].up_share;
  }
  if (spec.ep_group_continue) {
    // EP groups that can go on without the failed ranks drop them instead of stopping.
    std::vector<int> stopped;
    std::vector<std::vector<int>> stopped_positions;
    for (size_t i = 0; i < record.instances.size(); ++i) {
      const int k = record.instances[i];
      InstanceRun& ir = run->instances[k];
      if (ir.instance->DropRanks(record.positions[i])) {
        record.degraded.push_back(k);
        record.degraded_positions.push_back(record.positions[i]);
        record.ranks_dropped += static_cast<int64_t>(record.positions[i].size());
        ir.drop_fault = static_cast<int>(index);
        ir.evict_dropped = true;
        ir.WakeAll();
      } else {
        stopped.push_back(k);
        stopped_positions.push_back(record.positions[i]);
      }
    }
    record.instances = std::move(stopped);
    record.positions = std::move(stopped_positions);
  }
  if (record.trainer) {
    ++run->trainer_active_faults;
    ++run->trainer_failures;
    run->trainer_last_failure = static_cast<int>(index);
    run->trainer_wake->notify_all();
  }
  for (int k : record.instances) {
    InstanceRun& ir = run->instances[k];
    if (ir.active_faults++ > 0) continue;  // an earlier fault already stopped it
    ir.failed = true;
    ir.failure = static_cast<int>(index);
    ir.last_failure = static_cast<int>(index);
    ++ir.failures;
    ir.lane_evicted.assign(ir.lane_wake.size(), 0);
    ir.WakeAll();
  }
  if (!spec.recover_after_s) return;
  sg4::this_actor::sleep_until(spec.at_s + *spec.recover_after_s);
  if (run->stopped || sg4::Engine::get_clock() >= run->scenario.simulation.duration_s) return;
  if (scaleup_link >= 0) {
    run->scaleup_ports_down[scaleup_link] -= double(spec.ports);
    ApplyScaleUpPorts(run, scaleup_link);
    record.recovered_s = sg4::Engine::get_clock();
  }
  if (thins) {
    for (int rack : thins->racks) {
      run->uplink_ports_down[rack] -= thins->ports;
      ApplyUplinkPorts(run, rack);
    }
    record.recovered_s = sg4::Engine::get_clock();
  }
  for (size_t i = 0; i < record.degraded.size(); ++i) {
    InstanceRun& ir = run->instances[record.degraded[i]];
    ir.instance->RestoreRanks(record.degraded_positions[i]);
    ir.WakeAll();
    record.recovered_s = sg4::Engine::get_clock();
  }
  if (record.trainer) {
    --run->trainer_active_faults;
    run->trainer_wake->notify_all();
    record.recovered_s = sg4::Engine::get_clock();
  }
  // An instance comes back when the last active fault that stopped it has recovered.
  bool any = false;
  for (int k : record.instances) {
    InstanceRun& ir = run->instances[k];
    if (--ir.active_faults > 0) continue;
    ir.failed = false;
    ir.failure = -1;
    ir.WakeAll();
    any = true;
  }
  if (any) record.recovered_s = sg4::Engine::get_clock();
  std::deque<Request*> waiting;
  waiting.swap(run->stranded);
  for (Request* r : waiting) run->Route(r);
  // A decode instance back: prompts waiting for a reservation may take its blocks.
  if (any && run->disaggregated()) run->WakeDispatcher();
}

// A lost request starts over at the router, counted by `record`.
void Retry(Run* run, FaultRecord& record, Request* r) {
  r->StartOver();
  ++r->fault_retries;
  ++record.requests_retried;
  record.tokens_recomputed += r->prompt_tokens;
  run->Route(r);
}

// Disaggregation: the prompts that instance `index` (failed) prefilled and still holds the KV
// of lose it. Those waiting for a decode reservation start over now; those whose transfer is
// in flight keep their place until it lands (TransferLost). Their cache references go back
// before the instance drops its cache.
void DropHandoffs(Run* run, int index, FaultRecord& record) {
  InstanceRun& ir = run->instances[index];
  std::vector<Request*> lost;
  for (Request& r : run->requests) {
    const Request::Handoff& h = r.handoff;
    if (r.finish_s || h.prefill_instance != index || !h.prefill_end_s || h.transfer_end_s) {
      continue;
    }
    ir.instance->DiscardHandedOff(&r);
    if (h.decode_instance < 0) lost.push_back(&r);
  }
  if (lost.empty()) return;
  auto& queue = run->awaiting_decode;
  queue.erase(std::remove_if(queue.begin(), queue.end(),
                             [&lost](Request* r) {
                               return std::find(lost.begin(), lost.end(), r) != lost.end();
                             }),
              queue.end());
  run->handoff->OnWaiting(sg4::Engine::get_clock(), int64_t(queue.size()));
  for (Request* r : lost) Retry(run, record, r);
}

}  // namespace

void StartFaultActors(Run* run) {
  for (size_t i = 0; i < run->faults.size(); ++i) {
    sg4::Actor::create("fault-" + std::to_string(i), run->platform->frontend, FaultActor, run, i);
  }
}

void EvictFailedLane(Run* run, int index, int lane) {
  InstanceRun& ir = run->instances[index];
  MOESIM_CHECK(ir.failed && ir.failure >= 0, "instance ", index, " lane ", lane,
               " evicted while live");
  if (ir.lane_evicted[lane]) return;
  FaultRecord& record = run->faults[ir.failure];
  // Each lane, as it hands back, drops the prompts the instance handed off so far (another
  // lane's step in flight may still hand off more before that lane hands back; the last lane
  // drops them before the instance drops its prefix cache).
  if (run->disaggregated()) DropHandoffs(run, index, record);
  ir.lane_evicted[lane] = 1;
  const std::vector<Request*> evicted = ir.instance->Evict(lane);
  for (Request* r : evicted) {
    ++r->fault_retries;
    ++record.requests_retried;
    record.tokens_recomputed += r->prompt_tokens;
  }
  // Freed KV and queued work elsewhere: route them to the live instances.
  for (Request* r : evicted) run->Route(r);
}

bool TransferLost(Run* run, Request* r, int64_t from_failures, int64_t to_failures) {
  InstanceRun& from = run->instances[r->handoff.prefill_instance];
  InstanceRun& to = run->instances[r->handoff.decode_instance];
  const bool source_lost = from.failures != from_failures;
  const bool target_lost = to.failures != to_failures;
  if (!source_lost && !target_lost) return false;
  to.instance->CancelReservation(r);
  if (source_lost) {
    // The prompt's KV went with the prefill GPUs: prefill again.
    from.instance->DiscardHandedOff(r);
    FaultRecord& record = run->faults[from.last_failure];
    ++record.transfers_lost;
    Retry(run, record, r);
    return true;
  }
  // Only the decode side failed: the prefill instance still holds the KV; the prompt waits
  // for another reservation at the head of the queue (it had its turn).
  FaultRecord& record = run->faults[to.last_failure];
  ++record.transfers_redone;
  r->handoff.decode_instance = -1;
  r->handoff.decode_rank = 0;
  r->handoff.transfer_start_s.reset();
  r->handoff.transfer_end_s.reset();
  run->awaiting_decode.push_front(r);
  run->handoff->OnWaiting(sg4::Engine::get_clock(), int64_t(run->awaiting_decode.size()));
  run->WakeDispatcher();
  return true;
}

void EvictDroppedRanks(Run* run, int index) {
  InstanceRun& ir = run->instances[index];
  if (!ir.evict_dropped) return;
  ir.evict_dropped = false;
  FaultRecord& record = run->faults[ir.drop_fault];
  const std::vector<Request*> evicted = ir.instance->EvictDroppedRanks();
  for (Request* r : evicted) {
    ++r->fault_retries;
    ++record.requests_retried;
    record.tokens_recomputed += r->prompt_tokens;
  }
  for (Request* r : evicted) run->Route(r);
}

nlohmann::json FaultsReport(const Scenario& s, const std::vector<FaultRecord>& records,
                            const std::deque<Request>& requests, const nlohmann::json& timeseries) {
  // Requests that some fault re-routed: finished, or still queued or running at the end (the
  // run's conservation check has counted every one of them).
  int64_t retried = 0, retried_finished = 0;
  for (const Request& r : requests) {
    if (r.fault_retries == 0) continue;
    ++retried;
    retried_finished += r.finish_s.has_value();
  }
  nlohmann::json out = nlohmann::json::array();
  const std::vector<double> t = timeseries.value("t_s", std::vector<double>{});
  const std::vector<double> tps = timeseries.value("output_tok_per_s", std::vector<double>{});
  const double interval = timeseries.value("interval_s", 0.0);
  for (size_t i = 0; i < records.size(); ++i) {
    const FaultSpec& f = s.faults[i];
    const FaultRecord& r = records[i];
    nlohmann::json e = {{"at_s", f.at_s},
                        {"kind", FaultKindName(f.kind)},
                        {"instances_stopped", r.instances},
                        {"recovered_at_s", r.recovered_s >= 0 ? nlohmann::json(r.recovered_s)
                                                              : nlohmann::json(nullptr)},
                        {"requests_retried", r.requests_retried},
                        {"tokens_recomputed", r.tokens_recomputed},
                        {"max_requests_stranded", r.max_stranded}};
    e[FaultTargetKey(f.kind)] = f.target;
    if (f.ep_group_continue) {
      e["ep_group"] = "continue";
      e["instances_degraded"] = r.degraded;
      e["ranks_dropped"] = r.ranks_dropped;
    }
    if (f.kind == FaultKind::kLink) {
      e["ports"] = f.ports;
      e["uplink_ports"] = s.cluster().uplink_ports();
    }
    if (f.kind == FaultKind::kSpineSwitch) e["spine_switches"] = s.cluster().spine_switches;
    if (f.kind == FaultKind::kScaleUpLink) {
      // The GPU's scale-up bandwidth left while the fault lasts.
      e["ports"] = f.ports;
      e["links_per_gpu"] = s.cluster().scaleup.links_per_gpu;
      e["scaleup_share_during"] = r.link_share;
    }
    if (s.plan.pools.size() > 1) {
      // Several pools: the stopped instances by pool (global indices run over the pools in
      // declaration order), e.g. {"decode": [0]}.
      nlohmann::json by_pool = nlohmann::json::object();
      for (int k : r.instances) {
        int first = 0;
        for (const PoolSpec& p : s.plan.pools) {
          if (k < first + p.deployment.instances) {
            by_pool[p.name].push_back(k - first);
            break;
          }
          first += p.deployment.instances;
        }
      }
      e["instances_stopped_by_pool"] = by_pool;
    }
    if (r.trainer) {
      e["trainer_stopped"] = true;
      e["training_restarts"] = r.training_restarts;
    }
    // Disaggregation: KV transfers whose prefill instance failed under them (the request
    // prefilled again: counted in requests_retried), and those whose decode instance failed
    // under them, sent again from the prefill instance that still held the KV.
    if (s.plan.Disaggregated()) {
      e["kv_transfers_lost"] = r.transfers_lost;
      e["kv_transfers_redone"] = r.transfers_redone;
    }
    const bool uplinks = f.kind == FaultKind::kLink || f.kind == FaultKind::kSpineSwitch;
    const bool thins_links = uplinks || f.kind == FaultKind::kScaleUpLink;
    if (uplinks) {
      // The share of an uplink's capacity left while the fault lasts (0: the rack is cut off;
      // a spine switch thins every rack's uplink alike).
      e["uplink_share_during"] = IsolatesRack(s.cluster(), f) ? 0.0 : r.link_share;
    }
    // Throughput around the fault, from the time series: the mean of the intervals that end
    // after the warm-up and before the fault, the lowest interval from the fault on, and the
    // first interval start after the fault from which output is back within 5 % of before.
    double before = 0;
    int n = 0;
    for (size_t k = 0; k < t.size() && k < tps.size(); ++k) {
      if (t[k] >= s.simulation.warmup_s && t[k] + interval <= f.at_s) {
        before += tps[k];
        ++n;
      }
    }
    // A fault that stops nothing and slows nothing has no throughput to compare; nor has an
    // RLVR run, whose output comes in rollout phases (its steps' split shows what a fault cost).
    if (n > 0 && !s.rlvr && (!r.instances.empty() || !r.degraded.empty() || thins_links)) {
      before /= n;
      // Recovered: from the first interval after the fault that is within 5 % of before and
      // whose next kRecoveryIntervals (or what is left of the run) average within 5 % of before
      // too — one lucky interval of a bursty series does not count.
      constexpr size_t kRecoveryIntervals = 5;
      const size_t count = std::min(t.size(), tps.size());
      double lowest = -1;
      bool dipped = false;
      std::optional<double> back;
      for (size_t k = 0; k < count; ++k) {
        if (t[k] + interval <= f.at_s) continue;
        if (lowest < 0 || tps[k] < lowest) lowest = tps[k];
        dipped |= tps[k] < 0.95 * before;
        if (back || t[k] < f.at_s || !dipped) continue;
        const size_t end = std::min(count, k + kRecoveryIntervals);
        double sum = 0;
        for (size_t j = k; j < end; ++j) sum += tps[j];
        if (tps[k] >= 0.95 * before && sum / double(end - k) >= 0.95 * before) {
          back = t[k] - f.at_s;
        }
      }
      // No interval below 95 % of before: nothing to recover from.
      if (!dipped) back = 0.0;
      e["output_tok_per_s_before"] = before;
      e["output_tok_per_s_lowest_after"] = lowest;
      e["time_to_recover_s"] = back ? nlohmann::json(*back) : nlohmann::json(nullptr);
    }
    out.push_back(e);
  }
  return {{"events", out},
          {"requests_retried", retried},
          {"retried_requests_finished", retried_finished},
          {"retried_requests_unfinished", retried - retried_finished}};
}

}  // namespace moesim
