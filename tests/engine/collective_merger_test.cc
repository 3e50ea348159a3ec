// engine/collective_merger: one activity per (group, tier) per step, with the collectives'
// count, bytes and busy time; kernels and transfers untouched.
#include "engine/collective_merger.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

namespace moesim {
namespace {

struct Kept : StepActivitySink {
  std::vector<StepActivity> got;
  void OnActivity(const StepActivity& a) override { got.push_back(a); }
};

StepActivity Collective(const char* name, int gpu, int tier, double start, double end,
                        double bytes) {
  StepActivity a;
  a.kind = StepActivity::Kind::kCollective;
  a.name = name;
  a.first_gpu = gpu;
  a.tier = tier;
  a.start_s = start;
  a.end_s = end;
  a.bytes = bytes;
  return a;
}

TEST_CASE("collective merger: a step's collectives become one activity per group and tier",
          "[engine][trace]") {
  Kept out;
  CollectiveMerger m(&out);
  m.OnActivity(Collective("attn_allreduce", 0, 0, 1.0, 1.5, 100));
  m.OnActivity(Collective("attn_allreduce", 0, 0, 2.0, 2.25, 50));
  m.OnActivity(Collective("attn_allreduce", 8, 0, 1.0, 1.5, 7));  // another group
  m.OnActivity(Collective("moe_all_to_all", 0, 1, 3.0, 4.0, 9));  // another tier
  StepActivity transfer = Collective("kv transfer", 0, 1, 0.5, 0.75, 11);
  transfer.kind = StepActivity::Kind::kTransfer;
  m.OnActivity(transfer);
  // Transfers pass at once; collectives wait for the step's end.
  REQUIRE(out.got.size() == 1);
  CHECK(std::string(out.got[0].name) == "kv transfer");
  CHECK(out.got[0].count == 1);
  m.OnActivity(Collective("moe_allreduce", 0, 0, 2.5, 3.0, 25));  // a different op, same track
  m.Flush();
  REQUIRE(out.got.size() == 4);
  const StepActivity& tp = out.got[1];
  CHECK(std::string(tp.name) == "collectives");  // mixed ops
  CHECK(tp.first_gpu == 0);
  CHECK(tp.tier == 0);
  CHECK(tp.start_s == 1.0);
  CHECK(tp.end_s == 3.0);
  CHECK(tp.bytes == 175);
  CHECK(tp.count == 3);
  CHECK(tp.busy_s == Approx(0.5 + 0.25 + 0.5));
  CHECK(std::string(out.got[2].name) == "attn_allreduce");  // one op keeps its name
  CHECK(out.got[2].first_gpu == 8);
  CHECK(out.got[2].count == 1);
  CHECK(out.got[2].busy_s == Approx(0.5));
  CHECK(out.got[3].tier == 1);
  CHECK(out.got[3].bytes == 9);
  // The next step starts over.
  m.OnActivity(Collective("attn_allreduce", 0, 0, 5.0, 5.5, 1));
  m.Flush();
  REQUIRE(out.got.size() == 5);
  CHECK(out.got[4].start_s == 5.0);
  CHECK(out.got[4].count == 1);
}

}  // namespace
}  // namespace moesim
