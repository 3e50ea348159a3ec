// engine/collective_runner (through engine/collective_probe): the collective fidelity levels
// (analytic link-load bound, SimGrid parallel task, per-GPU SimGrid flows) agree exactly on
// isolated, balanced collectives; where two bottlenecks interact the per-flow max-min sharing
// is slower than the bound (../shared/reference/simgrid-notes.md §5.2
// measured 6-13 %; the case below, 25 %). Each simulation runs in its own process.
#include <catch2/catch.hpp>

#include "../support/cluster_fixtures.h"
#include "engine/collective_probe.h"
#include "engine/subprocess.h"
#include "test_scenarios.h"

namespace moesim {
namespace {

ClusterSpec Cluster(int gpus_per_server, int servers_per_rack, int racks, double oversub) {
  return testing::IdealCluster(gpus_per_server, servers_per_rack, racks, oversub,
                               /*pcie_latency_us=*/0.0);
}

using PatternFn = std::function<absl::StatusOr<CollectivePattern>(const ClusterGraph&)>;

// Runs the three fidelities, one process each; returns simulated seconds in fidelity order.
std::vector<double> RunAll(const ClusterSpec& c, PatternFn make, double bytes) {
  std::vector<SubprocessJob> jobs;
  for (CollectiveFidelity f :
       {CollectiveFidelity::kAnalytic, CollectiveFidelity::kPtask, CollectiveFidelity::kFlows}) {
    jobs.push_back([=]() -> absl::StatusOr<std::string> {
      auto r = ProbeCollective(c, make, bytes, 0.0, f);
      if (!r.ok()) return r.status();
      return std::to_string(r->simulated_s);
    });
  }
  std::vector<double> out;
  for (auto& r : RunInSubprocesses(jobs, 2)) {
    REQUIRE(r.ok());
    out.push_back(std::stod(*r));
  }
  return out;
}

std::vector<int> Range(int n) {
  std::vector<int> v(n);
  for (int i = 0; i < n; ++i) v[i] = i;
  return v;
}

TEST_CASE("balanced all-to-all over 2 servers: analytic = ptask = flows = NIC bound",
          "[collectives][fidelity]") {
  // 16 GPUs, 1 MB per pair: each NIC carries 8 MB at 50 GB/s = 160 us, + 4 x 1 us route latency
  // (simgrid-notes.md §5.1's 162 us case with our hop latencies).
  const auto t = RunAll(
      Cluster(8, 2, 1, 1.0),
      [](const ClusterGraph& g) { return CollectivePattern::AllToAll(g, Range(16)); }, 16e6);
  CHECK(t[0] == Approx(160e-6 + 2e-6).epsilon(1e-6));
  CHECK(t[1] == Approx(t[0]).epsilon(1e-6));
  CHECK(t[2] == Approx(t[0]).epsilon(1e-6));
}

// Hierarchical ring over two servers in two racks: analytic and ptask both charge the longest
// route latency (cross-rack, 4 us) once; the per-GPU flows on the NVLink bottleneck only pay
// their own 1 us route latency, so flows end up to 3 us earlier.
TEST_CASE("ring all-reduce across two racks: the three fidelities agree",
          "[collectives][fidelity]") {
  const auto t = RunAll(
      Cluster(8, 1, 2, 1.0),
      [](const ClusterGraph& g) { return CollectivePattern::RingAllReduce(g, Range(16)); }, 64e6);
  CHECK(t[1] == Approx(t[0]).epsilon(1e-6));
  CHECK(t[2] == Approx(t[0]).margin(3.0e-6));
}

TEST_CASE("skewed all-to-all through an oversubscribed spine: flows are slower than the bound",
          "[collectives][fidelity]") {
  // 32 GPUs in 2 racks, spine oversubscribed 8:1, GPU 0 receives 8x the traffic of the others:
  // the hot NIC and the spine are two interacting bottlenecks. The parallel task progresses all
  // flows at one rate and equals the link-load bound; per-flow max-min sharing leaves capacity
  // unused on one bottleneck while another limits, so it ends later (simgrid-notes.md §5.2).
  auto skewed = [](const ClusterGraph& g) {
    std::vector<Transfer> shares;
    for (int i = 0; i < 32; ++i)
      for (int j = 0; j < 32; ++j)
        if (i != j) shares.push_back({i, j, j == 0 ? 8.0 / 32 : 1.0 / 32});
    return CollectivePattern::Custom(g, Range(32), shares, 1);
  };
  const auto t = RunAll(Cluster(8, 2, 2, 8.0), skewed, 4e6);
  INFO("analytic " << t[0] << " s, ptask " << t[1] << " s, flows " << t[2] << " s");
  CHECK(t[1] == Approx(t[0]).epsilon(1e-6));
  // Here (hot NIC 480 us of load, spine 460 us) per-flow sharing ends 25% after the bound:
  // max-min fairness gives the hot GPU's inbound flows their fair share of the spine instead of
  // the share that would finish everything together.
  CHECK(t[2] > t[0] * 1.05);
  CHECK(t[2] < t[0] * 1.4);
}

// Reference: calibration/tables_comm.md, NCCL all_reduce (nccl-tests, no CUDA graph), 8 GPUs,
// latency in us per message size (bytes per rank). Tolerance 25% (issue: topology and fabrics).
// The nccl-tests launch floor (5.5 us) is the fit of the same table's small-message floors
// (7.2 / 10.9 / 17.3 us at 2 / 4 / 8 GPUs = 5.5 + 1 us route + 2(n-1) x 0.77 us step latency).
// Honest scope: the nvlink4 protocol-efficiency curve is fitted to the H200 8-GPU row, so that
// row checks the fit; the H100 row is a separate measurement of the same fabric. The 2- and
// 4-GPU rows are up to ~30% off at 512 MiB (their bus bandwidth is lower) and are not asserted.
// The SimGrid flows path must give the same time as the analytic one (checked at two sizes).

TEST_CASE("NCCL all-reduce on 8 NVLink4 GPUs within 25% of the measured table",
          "[collectives][reference][calibration]") {
  const PresetLibrary& lib = testing::Presets();
  auto fabric =
      ParseFabricSpec(*lib.Find(PresetKind::kFabric, "nvlink4"), {"fabrics.json", "$"}, "nvlink4");
  REQUIRE(fabric.ok());
  ClusterSpec c = Cluster(8, 1, 1, 1.0);
  c.scaleup = *fabric;
  auto g = ClusterGraph::Build(c);
  REQUIRE(g.ok());
  auto ring = CollectivePattern::RingAllReduce(*g, Range(8));
  REQUIRE(ring.ok());
  const double kib = 1024, mib = 1024 * 1024;
  const double sizes[] = {16 * kib, 128 * kib, 512 * kib, 2 * mib,
                          8 * mib,  32 * mib,  128 * mib, 512 * mib};
  const double h100[] = {16.6, 19.0, 19.6, 38.7, 79.3, 197.4, 580.0, 2111.4};
  const double h200[] = {17.3, 18.8, 20.5, 38.3, 78.6, 195.8, 564.3, 2040.0};
  for (int i = 0; i < 8; ++i) {
    const double us = ring->Estimate(sizes[i], 5.5).seconds * 1e6;
    INFO("message " << sizes[i] << " B: predicted " << us << " us");
    CHECK(us == Approx(h100[i]).epsilon(0.25));
    CHECK(us == Approx(h200[i]).epsilon(0.25));
  }
  for (double bytes : {2 * mib, 128 * mib}) {
    auto out = RunInSubprocesses(
        {[&]() -> absl::StatusOr<std::string> {
          auto r = ProbeCollective(
              c,
              [](const ClusterGraph& gr) { return CollectivePattern::RingAllReduce(gr, Range(8)); },
              bytes, 5.5, CollectiveFidelity::kFlows);
          if (!r.ok()) return r.status();
          return std::to_string(r->simulated_s / r->analytic_s);
        }},
        1);
    REQUIRE(out[0].ok());
    CHECK(std::stod(*out[0]) == Approx(1.0).epsilon(1e-5));
  }
}

}  // namespace
}  // namespace moesim
