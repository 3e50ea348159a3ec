// ClusterGraph::Route reads routes off the cluster's structure; SearchRoute is their definition
// (a breadth-first search). They must agree on every pair of endpoints of every cluster shape,
// hop by hop and direction by direction, and fail on the same pairs.
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "../support/cluster_fixtures.h"
#include "topology/cluster_graph.h"

namespace moesim {
namespace {

struct Shape {
  std::string name;
  ClusterSpec spec;
};

std::vector<Shape> Shapes() {
  auto make = [](int gpus, int servers, int racks, int nics, ScaleUpDomain domain) {
    ClusterSpec s = testing::IdealCluster(gpus, servers, racks);
    s.nics_per_server = nics;
    s.scaleup_domain = domain;
    return s;
  };
  const auto server = ScaleUpDomain::kServer;
  const auto rack = ScaleUpDomain::kRack;
  return {
      {"one GPU", make(1, 1, 1, 1, server)},
      {"one 8-GPU server", make(8, 1, 1, 8, server)},
      {"one rack of 8-GPU servers", make(8, 3, 1, 8, server)},
      {"two racks, rail-optimised", make(8, 2, 2, 8, server)},
      {"three racks, 4 GPUs per NIC", make(8, 2, 3, 2, server)},
      {"one NIC per server", make(4, 2, 2, 1, server)},
      {"one GPU per server", make(1, 3, 2, 1, server)},
      {"NVL72-like racks", make(4, 18, 2, 4, rack)},
      {"rack domain, one rack", make(4, 3, 1, 2, rack)},
      {"rack domain, one GPU per rack", make(1, 1, 3, 1, rack)},
  };
}

TEST_CASE("Route equals the breadth-first search for every pair of GPUs and CPUs",
          "[topology][routes]") {
  for (const Shape& shape : Shapes()) {
    INFO(shape.name);
    auto g = ClusterGraph::Build(shape.spec);
    REQUIRE(g.ok());
    std::vector<int> endpoints;
    for (int i = 0; i < g->gpu_count(); ++i) endpoints.push_back(g->Gpu(i));
    for (int s = 0; s < shape.spec.servers(); ++s) endpoints.push_back(g->Cpu(s));
    int routed = 0, refused = 0;
    for (int a : endpoints) {
      for (int b : endpoints) {
        auto fast = g->Route(a, b);
        auto searched = g->SearchRoute(a, b);
        INFO(g->devices()[a].name << " -> " << g->devices()[b].name);
        REQUIRE(fast.ok() == searched.ok());
        if (!fast.ok()) {
          CHECK(fast.status() == searched.status());
          ++refused;
          continue;
        }
        REQUIRE(fast->size() == searched->size());
        for (size_t h = 0; h < fast->size(); ++h) {
          CHECK((*fast)[h].link == (*searched)[h].link);
          CHECK((*fast)[h].up == (*searched)[h].up);
        }
        ++routed;
      }
    }
    CHECK(routed > 0);
    // CPUs reach only their own GPUs.
    if (shape.spec.servers() > 1) CHECK(refused > 0);
  }
}

TEST_CASE("Route of a 100,000-GPU cluster keeps no per-source state", "[topology][routes]") {
  // 625 racks × 20 servers × 8 GPUs. A search tree per source would hold ~170,000 entries for
  // each GPU asked about; Route walks the structure instead.
  auto g = ClusterGraph::Build(testing::IdealCluster(8, 20, 625));
  REQUIRE(g.ok());
  REQUIRE(g->gpu_count() == 100000);
  auto far = g->Route(g->Gpu(0), g->Gpu(99999));
  REQUIRE(far.ok());
  CHECK(far->size() == 6);  // gpu -> nic -> leaf -> spine -> leaf -> nic -> gpu
  auto searched = g->SearchRoute(g->Gpu(0), g->Gpu(99999));
  REQUIRE(searched.ok());
  REQUIRE(searched->size() == 6);
  for (size_t h = 0; h < 6; ++h) CHECK((*far)[h].link == (*searched)[h].link);
  long hops = 0;
  for (int a = 0; a < g->gpu_count(); a += 7) {
    auto r = g->Route(g->Gpu(a), g->Gpu((a * 7919 + 13) % g->gpu_count()));
    REQUIRE(r.ok());
    hops += static_cast<long>(r->size());
  }
  CHECK(hops > 0);
}

}  // namespace
}  // namespace moesim
