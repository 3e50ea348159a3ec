// The cluster graph: devices, tiers, routes and link-load bounds.
#include "topology/cluster_graph.h"

#include <catch2/catch.hpp>

#include "../support/cluster_fixtures.h"
#include "topology/collective_pattern.h"

namespace moesim {
namespace {

ClusterSpec Spec(int gpus_per_server, int servers_per_rack, int racks) {
  return testing::IdealCluster(gpus_per_server, servers_per_rack, racks);
}

std::vector<LinkTier> Tiers(const ClusterGraph& g, int a, int b) {
  auto r = g.Route(g.Gpu(a), g.Gpu(b));
  REQUIRE(r.ok());
  std::vector<LinkTier> tiers;
  for (const RouteHop& h : *r) tiers.push_back(g.links()[h.link].tier);
  return tiers;
}

TEST_CASE("routes use NVLink inside a server, NICs across servers, the spine across racks",
          "[topology]") {
  auto g = ClusterGraph::Build(Spec(8, 2, 2));
  REQUIRE(g.ok());
  CHECK(g->gpu_count() == 32);
  using T = LinkTier;
  CHECK(Tiers(*g, 0, 7) == std::vector<T>{T::kScaleUp, T::kScaleUp});
  // gpu -(pcie, host tier)-> nic -> leaf -> nic -(pcie)-> gpu
  CHECK(Tiers(*g, 0, 8) == std::vector<T>{T::kHost, T::kScaleOut, T::kScaleOut, T::kHost});
  // ... -> leaf -> spine -> leaf -> ...
  CHECK(Tiers(*g, 0, 16) == std::vector<T>{T::kHost, T::kScaleOut, T::kInterRack, T::kInterRack,
                                           T::kScaleOut, T::kHost});
  // GPUs and CPUs never forward traffic: the host CPU is a leaf of the graph.
  auto host = g->Route(g->Gpu(3), g->Cpu(0));
  REQUIRE(host.ok());
  CHECK(host->size() == 1);
  CHECK(g->links()[(*host)[0].link].tier == T::kHost);
}

TEST_CASE("an NVL72 rack is one scale-up domain across its servers", "[topology]") {
  ClusterSpec s = Spec(4, 18, 2);
  s.scaleup_domain = ScaleUpDomain::kRack;
  auto g = ClusterGraph::Build(s);
  REQUIRE(g.ok());
  CHECK(g->gpu_count() == 144);
  CHECK(Tiers(*g, 0, 71) == std::vector<LinkTier>{LinkTier::kScaleUp, LinkTier::kScaleUp});
  CHECK(Tiers(*g, 0, 72).size() == 6);  // other rack: through the spine
}

TEST_CASE("shared NICs: two GPUs behind one NIC share its port", "[topology]") {
  ClusterSpec s = Spec(8, 2, 1);
  s.nics_per_server = 4;
  auto g = ClusterGraph::Build(s);
  REQUIRE(g.ok());
  auto a = g->Route(g->Gpu(0), g->Gpu(8));
  auto b = g->Route(g->Gpu(1), g->Gpu(9));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK((*a)[1].link == (*b)[1].link);  // same NIC port
}

TEST_CASE("link-load bound of an all-to-all matches the bottleneck analysis", "[topology]") {
  // simgrid-notes.md §5.1: 16 GPUs / 2 servers, 1 MB per pair: each GPU's NIC carries
  // 8 remote peers × 1 MB = 8 MB at 50 GB/s = 160 us (+ route latency).
  auto g = ClusterGraph::Build(Spec(8, 2, 1));
  REQUIRE(g.ok());
  std::vector<Transfer> t;
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j)
      if (i != j) t.push_back({i, j, 1e6});
  auto loads = RouteTraffic(*g, t);
  REQUIRE(loads.ok());
  const double route_latency = 4 * 1.0e-6;  // pcie, nic, nic, pcie hops
  CHECK(loads->bound_s == Approx(8e6 / 50e9 + route_latency).epsilon(1e-9));
  CHECK(g->links()[loads->bottleneck_link].tier == LinkTier::kScaleOut);
  CHECK(loads->tier_bytes[static_cast<int>(LinkTier::kScaleUp)] == Approx(16 * 7 * 2 * 1e6));
}

TEST_CASE("the inter-rack fabric sets the uplink bandwidth", "[topology]") {
  ClusterSpec s = Spec(8, 2, 2);
  s.interrack = testing::IdealFabric("800g", 100, 1.0);
  auto g = ClusterGraph::Build(s);
  REQUIRE(g.ok());
  bool found = false;
  for (const Link& l : g->links()) {
    if (l.tier != LinkTier::kInterRack) continue;
    CHECK(l.gb_per_s == Approx(16 * 100.0));  // 16 NICs below the leaf x 100 GB/s ports
    found = true;
  }
  CHECK(found);
}

// A link fault (engine/fault_injection.h) takes ports off a rack's uplink: the bound of traffic
// over it, in RouteTraffic and in a pattern's estimate, grows by 1 / the share left, and the
// capacity version tells memoised estimates to recompute.
TEST_CASE("an uplink with ports down carries its traffic on the rest", "[topology]") {
  ClusterSpec s = Spec(8, 2, 2);
  s.leaf_oversubscription = 2.0;
  auto g = ClusterGraph::Build(s);
  REQUIRE(g.ok());
  const int uplink = g->RackUplink(0);
  REQUIRE(uplink >= 0);
  CHECK(g->links()[uplink].tier == LinkTier::kInterRack);
  CHECK(g->RackUplink(1) != uplink);
  CHECK(g->RackUplink(2) == -1);
  std::vector<int> gpus(32);
  for (int i = 0; i < 32; ++i) gpus[i] = i;
  auto a2a = CollectivePattern::AllToAll(*g, gpus);
  REQUIRE(a2a.ok());
  std::vector<Transfer> t;
  for (int i = 0; i < 32; ++i)
    for (int j = 0; j < 32; ++j)
      if (i != j) t.push_back({i, j, 1e6});
  const auto before = RouteTraffic(*g, t);
  const CollectiveCost est_before = a2a->Estimate(32e6, 0);
  REQUIRE(before.ok());
  const uint64_t version = g->capacity_version();
  g->SetUpShare(uplink, 0.25);  // 6 of the 8 ports of 16 NICs / 2 down
  CHECK(g->capacity_version() != version);
  CHECK(a2a->capacity_version() == g->capacity_version());
  CHECK(g->links()[uplink].gb_per_s == Approx(400.0));  // rated, for the reports
  CHECK(g->links()[uplink].UpGbPerS() == Approx(100.0));
  const auto after = RouteTraffic(*g, t);
  REQUIRE(after.ok());
  CHECK(after->bottleneck_link == uplink);
  CHECK(after->bound_s - after->max_route_latency_s ==
        Approx(4 * (before->bound_s - before->max_route_latency_s)).epsilon(1e-9));
  const CollectiveCost est_after = a2a->Estimate(32e6, 0);
  CHECK(est_after.transfer_s - a2a->max_route_latency_s() ==
        Approx(4 * (est_before.transfer_s - a2a->max_route_latency_s())).epsilon(1e-9));
  g->SetUpShare(uplink, 1.0);
  CHECK(a2a->Estimate(32e6, 0).transfer_s == Approx(est_before.transfer_s).epsilon(1e-12));
}

TEST_CASE("an oversubscribed spine becomes the bottleneck", "[topology]") {
  // 32 GPUs / 4 servers / 2 racks, oversubscription 2: each rack uplink carries 16 GPUs × 16
  // remote GPUs × 1 MB = 256 MB at 16 × 50 / 2 = 400 GB/s = 640 us > NIC's 24 MB / 50 GB/s.
  ClusterSpec s = Spec(8, 2, 2);
  s.leaf_oversubscription = 2.0;
  auto g = ClusterGraph::Build(s);
  REQUIRE(g.ok());
  std::vector<Transfer> t;
  for (int i = 0; i < 32; ++i)
    for (int j = 0; j < 32; ++j)
      if (i != j) t.push_back({i, j, 1e6});
  auto loads = RouteTraffic(*g, t);
  REQUIRE(loads.ok());
  CHECK(g->links()[loads->bottleneck_link].tier == LinkTier::kInterRack);
  CHECK(loads->bound_s - loads->max_route_latency_s == Approx(256e6 / 400e9).epsilon(1e-9));
}

TEST_CASE("ring all-reduce pattern: ring bytes, steps, and protocol efficiency", "[topology]") {
  ClusterSpec s = Spec(8, 1, 1);
  s.scaleup.protocol_efficiency = EfficiencyCurve({{1e6, 0.5}});
  s.scaleup.step_latency_us = 1.0;
  auto g = ClusterGraph::Build(s);
  REQUIRE(g.ok());
  auto ring = CollectivePattern::RingAllReduce(*g, {0, 1, 2, 3, 4, 5, 6, 7});
  REQUIRE(ring.ok());
  CHECK(ring->steps() == 14);
  const CollectiveCost c = ring->Estimate(8e6, /*launch_us=*/3.0);
  // Each port: 2·7/8 × 8 MB = 14 MB payload, ÷ 0.5 efficiency = 28 MB at 450 GB/s.
  CHECK(c.transfer_s == Approx(28e6 / 450e9 + 1.0e-6).epsilon(1e-9));
  CHECK(c.latency_s == Approx(3e-6 + 14e-6));
  CHECK(c.bottleneck_tier == LinkTier::kScaleUp);
}

TEST_CASE("ring all-gather: half a ring all-reduce's bytes and steps", "[topology]") {
  ClusterSpec s = Spec(8, 2, 1);
  auto g = ClusterGraph::Build(s);
  REQUIRE(g.ok());
  std::vector<int> gpus(16);
  for (int i = 0; i < 16; ++i) gpus[i] = i;
  auto ar = CollectivePattern::RingAllReduce(*g, gpus);
  auto ag = CollectivePattern::RingAllGather(*g, gpus);
  REQUIRE(ar.ok());
  REQUIRE(ag.ok());
  // Hierarchical over two servers: 2(8-1) + 2(2-1) steps for the all-reduce, half for a gather.
  CHECK(ar->steps() == 16);
  CHECK(ag->steps() == 8);
  CHECK(ag->kind() == CollectivePattern::Kind::kRingAllGather);
  const CollectiveCost r = ar->Estimate(64e6, 0.0), a = ag->Estimate(64e6, 0.0);
  for (size_t t = 0; t < r.tier_bytes.size(); ++t) {
    CHECK(a.tier_bytes[t] == Approx(r.tier_bytes[t] / 2));
  }
}

TEST_CASE("bad cluster shapes are rejected", "[topology]") {
  ClusterSpec s = Spec(8, 1, 1);
  s.nics_per_server = 3;
  CHECK_FALSE(ClusterGraph::Build(s).ok());
  s = Spec(8, 1, 1);
  s.scaleout.gb_per_s = 0;
  CHECK_FALSE(ClusterGraph::Build(s).ok());
  s = Spec(0, 1, 1);
  CHECK_FALSE(ClusterGraph::Build(s).ok());
}

}  // namespace
}  // namespace moesim
