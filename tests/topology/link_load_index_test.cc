// topology/link_load_index: grouped per-link loads equal the flow-by-flow sums.
#include "topology/link_load_index.h"

#include <cstdint>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

namespace moesim {
namespace {

// A two-level tree: 4 "servers" of 4 GPUs. Flow s -> d crosses s's uplink (dir s), d's downlink
// (dir 16 + d) and, between servers, the servers' uplinks/downlinks (dirs 32 + server, 36 +
// server). Fabric class 0 inside a server, 1 across. All ordered pairs: an all-to-all.
std::vector<IndexedFlow> TreeAllToAll() {
  std::vector<IndexedFlow> flows;
  for (int s = 0; s < 16; ++s) {
    for (int d = 0; d < 16; ++d) {
      if (s == d) continue;
      IndexedFlow f;
      f.src = s;
      f.dst = d;
      f.share = 1.0 / 16;
      f.dirs = {s, 16 + d};
      f.fabric_class = s / 4 == d / 4 ? 0 : 1;
      if (f.fabric_class == 1) {
        f.dirs.push_back(32 + s / 4);
        f.dirs.push_back(36 + d / 4);
      }
      flows.push_back(f);
    }
  }
  return flows;
}

TEST_CASE("Grouped link loads equal flow-by-flow sums for arbitrary weights", "[link_load]") {
  const std::vector<IndexedFlow> flows = TreeAllToAll();
  const LinkLoadIndex index(16, 40, flows);
  // Far fewer groups than (flow, link) pairs.
  CHECK(index.group_count() < 200);
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0.0, 3.0);
  const std::vector<double> inv_eff = {1.25, 2.0};
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> a(16), b(16);
    for (double& x : a) x = u(rng);
    for (double& x : b) x = u(rng);
    if (trial == 0) a.clear(), b.clear();  // empty weights mean ones
    std::vector<double> payload, wire;
    index.Loads(a, b, inv_eff, &payload, &wire);
    std::vector<double> want_payload(40, 0.0), want_wire(40, 0.0);
    for (const IndexedFlow& f : flows) {
      const double p = f.share * (a.empty() ? 1.0 : a[f.src]) * (b.empty() ? 1.0 : b[f.dst]);
      for (int d : f.dirs) {
        want_payload[d] += p;
        want_wire[d] += p * inv_eff[f.fabric_class];
      }
    }
    for (int d = 0; d < 40; ++d) {
      INFO("trial " << trial << " dir " << d);
      CHECK(payload[d] == Approx(want_payload[d]).epsilon(1e-12).margin(1e-12));
      CHECK(wire[d] == Approx(want_wire[d]).epsilon(1e-12).margin(1e-12));
    }
  }
}

}  // namespace
}  // namespace moesim
