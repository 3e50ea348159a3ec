// Reference test: DeepEP low-latency dispatch and combine (calibration.md §3.1, DeepEP V1
// low-latency kernels, pure RDMA: H800 + ConnectX-7 400G IB, 128 tokens per rank, hidden 7168,
// top-8, fp8 dispatch, bf16 combine; the Feb-2025 README column, whose every peer — intra-node
// ones included — goes over RDMA). Tolerance 25% (issue: expert parallelism at scale).
//
// Model: an all-to-all over EP ranks, each rank one GPU behind its own 400G NIC (pure RDMA),
// message per rank = 128 × 8 copies × bytes per copy, uniform routing (1/EP of it to each rank),
// on the ib-ndr-400 fabric preset (link-load bound with its protocol efficiency), plus the
// H100-class kernel floor from the GPU preset (H800 = H100 compute).
#include <catch2/catch.hpp>

#include "../support/preset_fixtures.h"
#include "models/moe_traffic.h"
#include "topology/cluster_graph.h"
#include "topology/collective_pattern.h"

namespace moesim {
namespace {

TEST_CASE("DeepEP low-latency dispatch and combine, EP 8-256, within 25%",
          "[reference][deepep][calibration]") {
  const ModelSpec model = testing::ModelPreset("DeepSeek-V3");
  const GpuSpec gpu = testing::GpuPreset("H100");
  const FabricSpec ib = testing::FabricPreset("ib-ndr-400");
  const FabricSpec pcie = testing::FabricPreset("pcie5-x16");
  const double tokens = 128;
  const double dispatch = DispatchBytesPerRank(model, tokens);
  const double combine = CombineBytesPerRank(model, tokens);
  // calibration.md §3.1: "Dispatch (Feb-2025 README)" / "Combine (Feb-2025 README)", us.
  const struct {
    int ep;
    double dispatch_us, combine_us;
  } table[] = {{8, 163, 318},  {16, 173, 329},  {32, 182, 350},
               {64, 186, 353}, {128, 192, 369}, {256, 194, 360}};
  for (const auto& row : table) {
    ClusterSpec c;
    c.gpus_per_server = 1;
    c.servers_per_rack = std::min(row.ep, 32);
    c.racks = row.ep / c.servers_per_rack;
    c.nics_per_server = 1;
    c.scaleup = ib;  // unused: one GPU per server
    c.scaleout = ib;
    c.interrack = ib;
    c.host = pcie;
    auto g = ClusterGraph::Build(c);
    REQUIRE(g.ok());
    std::vector<int> ranks(row.ep);
    for (int i = 0; i < row.ep; ++i) ranks[i] = i;
    auto a2a = CollectivePattern::AllToAll(*g, ranks);
    REQUIRE(a2a.ok());
    const double d_us = a2a->Estimate(dispatch, gpu.moe_dispatch_floor_us).seconds * 1e6;
    const double c_us = a2a->Estimate(combine, gpu.moe_combine_floor_us).seconds * 1e6;
    INFO("EP " << row.ep << ": dispatch " << d_us << " us, combine " << c_us << " us");
    CHECK(d_us == Approx(row.dispatch_us).epsilon(0.25));
    CHECK(c_us == Approx(row.combine_us).epsilon(0.25));
  }
}

}  // namespace
}  // namespace moesim
