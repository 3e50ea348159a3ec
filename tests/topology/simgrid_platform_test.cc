// The SimGrid platform holds only what a deployment uses: hosts for its GPUs (and the
// frontend), links on its routes. A 100,000-GPU cluster with a small deployment builds in
// bounded memory; a deployment too large for SimGrid's route table is refused by name.
// (Each test case runs in its own process: one SimGrid engine per process.)
#include "topology/simgrid_platform.h"

#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <simgrid/s4u.hpp>

#include "../support/cluster_fixtures.h"

namespace moesim {
namespace {

using Catch::Matchers::Contains;

// 625 racks × 20 servers × 8 GPUs, rail-optimised NICs.
ClusterSpec HundredThousandGpus() { return testing::IdealCluster(8, 20, 625); }

TEST_CASE("platform: a 100,000-GPU cluster builds hosts and links only for the deployment",
          "[topology][platform]") {
  const auto engine = StartSimgridEngine("platform-test", /*parallel_tasks=*/false);
  auto g = ClusterGraph::Build(HundredThousandGpus());
  REQUIRE(g.ok());
  REQUIRE(g->gpu_count() == 100000);
  // Two TP8 servers far apart, plus one GPU that talks to nobody (a TP1 instance).
  std::vector<int> gpus;
  for (int i = 0; i < 8; ++i) gpus.push_back(i);
  for (int i = 0; i < 8; ++i) gpus.push_back(99992 + i);
  gpus.push_back(50000);
  std::vector<std::pair<int, int>> pairs;
  for (int i = 0; i < 8; ++i) {
    pairs.emplace_back(i, (i + 1) % 8);                  // NVLink ring
    pairs.emplace_back(99992 + i, 99992 + (i + 1) % 8);  // NVLink ring
    pairs.emplace_back(i, 99992 + i);                    // across the spine
    pairs.emplace_back(99992 + i, i);                    // duplicates are fine
  }
  auto p = BuildSimgridPlatform(*g, gpus, pairs);
  REQUIRE(p.ok());
  CHECK(p->host_count() == 17 + 1);  // 17 GPUs and the frontend
  CHECK(engine->get_host_count() == 18);
  REQUIRE(p->gpus.size() == 100000);
  CHECK(p->gpus[8] == nullptr);
  CHECK(p->Gpu(50000) != nullptr);
  // Links: exactly those the routes cross.
  std::set<int> crossed;
  for (const auto& [a, b] : pairs) {
    auto r = g->Route(g->Gpu(a), g->Gpu(b));
    REQUIRE(r.ok());
    for (const RouteHop& h : *r) crossed.insert(h.link);
  }
  CHECK(p->link_count() == static_cast<int>(crossed.size()));
  // 16 NVLink ports, 16 GPU-NIC links, 16 NIC ports, 2 rack uplinks (not the cluster's ~400,000).
  CHECK(p->link_count() == 50);
  // Each split-duplex link is an UP and a DOWN link, plus SimGrid's loopback.
  CHECK(engine->get_link_count() <= 2 * p->link_count() + 1);
  REQUIRE(p->links.size() == g->links().size());
  int mismatched = 0;
  for (size_t l = 0; l < p->links.size(); ++l) {
    mismatched += (p->links[l] != nullptr) != (crossed.count(static_cast<int>(l)) > 0);
  }
  CHECK(mismatched == 0);
  // SimGrid's route is the graph's, link for link.
  auto r = g->Route(g->Gpu(3), g->Gpu(99995));
  REQUIRE(r.ok());
  std::vector<simgrid::s4u::Link*> links;
  double latency = 0;
  p->Gpu(3)->route_to(p->Gpu(99995), links, &latency);
  REQUIRE(links.size() == r->size());
  for (size_t h = 0; h < links.size(); ++h) {
    const std::string name = g->links()[(*r)[h].link].name;
    CHECK(links[h]->get_name() == name + ((*r)[h].up ? "_UP" : "_DOWN"));
  }
  CHECK(latency == Approx(g->RouteLatencyUs(*r) * 1e-6));
}

TEST_CASE("platform: too many GPU hosts is a clear error, not an allocation failure",
          "[topology][platform][bad-input]") {
  const auto engine = StartSimgridEngine("platform-test", /*parallel_tasks=*/false);
  auto g = ClusterGraph::Build(HundredThousandGpus());
  REQUIRE(g.ok());
  std::vector<int> gpus;
  for (int i = 0; i <= kMaxSimgridGpuHosts; ++i) gpus.push_back(i);
  auto p = BuildSimgridPlatform(*g, gpus, {});
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(p.status().message()),
             Contains("16385 of the cluster's 100000 GPUs") && Contains("at most 16384 GPU hosts"));
  CHECK(engine->get_host_count() == 0);  // refused before building anything
}

TEST_CASE("platform: too many routed pairs is a clear error", "[topology][platform][bad-input]") {
  const auto engine = StartSimgridEngine("platform-test", /*parallel_tasks=*/false);
  auto g = ClusterGraph::Build(HundredThousandGpus());
  REQUIRE(g.ok());
  // An all-to-all over 5,794 GPUs: 5,794 × 5,793 / 2 = 16,782,321 distinct pairs, just over
  // kMaxSimgridRoutes (16,777,216).
  const int n = 5794;
  std::vector<std::pair<int, int>> pairs;
  pairs.reserve(static_cast<size_t>(n) * (n - 1) / 2);
  for (int a = 0; a < n; ++a) {
    for (int b = a + 1; b < n; ++b) pairs.emplace_back(a, b);
  }
  REQUIRE(static_cast<int64_t>(pairs.size()) > kMaxSimgridRoutes);
  auto p = BuildSimgridPlatform(*g, {}, pairs);
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(p.status().message()),
             Contains("16782321 distinct GPU pairs") && Contains("at most 16777216 routed pairs"));
}

TEST_CASE("platform: GPUs outside the cluster are refused", "[topology][platform][bad-input]") {
  const auto engine = StartSimgridEngine("platform-test", /*parallel_tasks=*/false);
  auto g = ClusterGraph::Build(testing::IdealCluster(8, 1, 1));
  REQUIRE(g.ok());
  auto p = BuildSimgridPlatform(*g, {8}, {});
  REQUIRE_FALSE(p.ok());
  CHECK_THAT(std::string(p.status().message()), Contains("GPU 8 is outside the cluster's 8 GPUs"));
  p = BuildSimgridPlatform(*g, {}, {{0, -1}});
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace moesim
