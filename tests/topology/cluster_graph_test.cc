#include "topology/cluster_graph.h"

#include <catch2/catch.hpp>

namespace moesim {
namespace {

TEST_CASE("a server of 8 GPUs routes every pair through its NVSwitch", "[topology]") {
  ServerLayout layout;
  layout.servers = 2;
  layout.gpus_per_server = 8;
  layout.scaleup.gb_per_s = 450;
  layout.scaleup.latency_us = 1.0;
  auto g = ClusterGraph::Servers(layout);
  REQUIRE(g.ok());
  CHECK(g->gpu_count() == 16);
  CHECK(g->links().size() == 16);
  auto r = g->Route(g->Gpu(0), g->Gpu(3));
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].up);         // gpu0 -> switch
  CHECK_FALSE((*r)[1].up);   // switch -> gpu3
  CHECK(g->links()[(*r)[0].link].latency_us + g->links()[(*r)[1].link].latency_us ==
        Approx(1.0));
  // Servers are not connected to each other yet (no scale-out fabric).
  CHECK_FALSE(g->Route(g->Gpu(0), g->Gpu(8)).ok());
  CHECK(g->Route(g->Gpu(5), g->Gpu(5))->empty());
}

TEST_CASE("bad server layouts are rejected", "[topology]") {
  ServerLayout layout;
  layout.gpus_per_server = 0;
  layout.scaleup.gb_per_s = 450;
  CHECK_FALSE(ClusterGraph::Servers(layout).ok());
  layout.gpus_per_server = 8;
  layout.scaleup.gb_per_s = 0;
  CHECK_FALSE(ClusterGraph::Servers(layout).ok());
}

}  // namespace
}  // namespace moesim
