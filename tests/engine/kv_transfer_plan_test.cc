// Who sends which share of a sequence's KV to whom when prefill and decode plans differ
// (engine/kv_transfer_plan.h).
#include "engine/kv_transfer_plan.h"

#include <map>
#include <numeric>

#include <catch2/catch.hpp>

namespace moesim {
namespace {

ModelSpec Gqa(int kv_heads) {
  ModelSpec m;
  m.layers = 36;
  m.attention.kind = AttentionKind::kGqa;
  m.attention.kv_heads = kv_heads;
  return m;
}

ModelSpec Mla() {
  ModelSpec m;
  m.layers = 61;
  m.attention.kind = AttentionKind::kMla;
  return m;
}

std::vector<int> Gpus(int first, int n) {
  std::vector<int> g(n);
  std::iota(g.begin(), g.end(), first);
  return g;
}

double Total(const std::vector<Transfer>& pairs) {
  double sum = 0;
  for (const Transfer& t : pairs) sum += t.bytes;
  return sum;
}

std::map<int, double> Received(const std::vector<Transfer>& pairs) {
  std::map<int, double> in;
  for (const Transfer& t : pairs) in[t.dst_gpu] += t.bytes;
  return in;
}

TEST_CASE("kv transfer: TP8 to TP8 with 8 KV heads is one pair per rank", "[kv-transfer]") {
  const ModelSpec m = Gqa(8);
  const auto pairs = KvTransferPairs(TensorParallelKvShards(m, Gpus(0, 8), 8, 1),
                                     TensorParallelKvShards(m, Gpus(8, 8), 8, 1), 800.0);
  REQUIRE(pairs.size() == 8);
  for (int r = 0; r < 8; ++r) {
    CHECK(pairs[r].src_gpu == r);
    CHECK(pairs[r].dst_gpu == 8 + r);
    CHECK(pairs[r].bytes == Approx(100.0));
  }
}

TEST_CASE("kv transfer: TP8 to TP4 sends each decode rank the two prefill ranks' heads",
          "[kv-transfer]") {
  const ModelSpec m = Gqa(8);
  const auto pairs = KvTransferPairs(TensorParallelKvShards(m, Gpus(0, 8), 8, 1),
                                     TensorParallelKvShards(m, Gpus(8, 4), 4, 1), 800.0);
  REQUIRE(pairs.size() == 8);
  CHECK(Total(pairs) == Approx(800.0));
  for (const auto& [gpu, bytes] : Received(pairs)) CHECK(bytes == Approx(200.0));
  CHECK(pairs[0].src_gpu == 0);
  CHECK(pairs[1].src_gpu == 1);
  CHECK(pairs[1].dst_gpu == 8);
}

TEST_CASE("kv transfer: TP4 PP2 to TP8 splits by stage and by heads", "[kv-transfer]") {
  const ModelSpec m = Gqa(8);
  // Prefill: stage 0 = GPUs 0-3, stage 1 = GPUs 4-7, each rank two heads of half the layers.
  const auto pairs = KvTransferPairs(TensorParallelKvShards(m, Gpus(0, 8), 4, 2),
                                     TensorParallelKvShards(m, Gpus(8, 8), 8, 1), 1600.0);
  REQUIRE(pairs.size() == 16);
  CHECK(Total(pairs) == Approx(1600.0));
  for (const auto& [gpu, bytes] : Received(pairs)) CHECK(bytes == Approx(200.0));
  // Decode rank 3 (GPU 11) holds head 3: prefill rank 1 of each stage (GPUs 1 and 5).
  std::map<int, double> into_11;
  for (const Transfer& t : pairs) {
    if (t.dst_gpu == 11) into_11[t.src_gpu] += t.bytes;
  }
  CHECK(into_11 == std::map<int, double>{{1, 100.0}, {5, 100.0}});
}

TEST_CASE("kv transfer: the MLA latent goes whole to every decode rank from spread replicas",
          "[kv-transfer]") {
  const ModelSpec m = Mla();
  const auto pairs = KvTransferPairs(TensorParallelKvShards(m, Gpus(0, 8), 8, 1),
                                     TensorParallelKvShards(m, Gpus(8, 4), 4, 1), 500.0);
  REQUIRE(pairs.size() == 4);
  for (int r = 0; r < 4; ++r) {
    CHECK(pairs[r].src_gpu == r);  // replica r mod 8
    CHECK(pairs[r].dst_gpu == 8 + r);
    CHECK(pairs[r].bytes == Approx(500.0));
  }
}

TEST_CASE(
    "kv transfer: a DP-attention rank sends its whole KV; fewer KV heads than ranks "
    "replicate",
    "[kv-transfer]") {
  // Prefill DP rank on GPU 3 -> decode TP8 with 4 KV heads: ranks 2k and 2k+1 hold head k.
  const ModelSpec m = Gqa(4);
  const auto pairs =
      KvTransferPairs(WholeKvShard(3), TensorParallelKvShards(m, Gpus(8, 8), 8, 1), 400.0);
  REQUIRE(pairs.size() == 8);
  for (const Transfer& t : pairs) {
    CHECK(t.src_gpu == 3);
    CHECK(t.bytes == Approx(100.0));
  }
  // And back: decode DP rank on GPU 20 from TP8 with 4 heads takes each head once.
  const auto back =
      KvTransferPairs(TensorParallelKvShards(m, Gpus(8, 8), 8, 1), WholeKvShard(20), 400.0);
  REQUIRE(back.size() == 4);
  CHECK(Total(back) == Approx(400.0));
}

TEST_CASE("kv transfer: every plan pair delivers exactly what the decode shards hold",
          "[kv-transfer]") {
  const ModelSpec gqa = Gqa(8), mla = Mla();
  struct Case {
    const ModelSpec* m;
    std::vector<KvShard> from, to;
  };
  const Case cases[] = {
      {&gqa, TensorParallelKvShards(gqa, Gpus(0, 8), 4, 2),
       TensorParallelKvShards(gqa, Gpus(8, 8), 8, 1)},
      {&gqa, TensorParallelKvShards(gqa, Gpus(0, 8), 8, 1),
       TensorParallelKvShards(gqa, Gpus(8, 4), 2, 2)},
      {&mla, TensorParallelKvShards(mla, Gpus(0, 8), 8, 1),
       TensorParallelKvShards(mla, Gpus(8, 4), 4, 1)},
      {&mla, WholeKvShard(3), TensorParallelKvShards(mla, Gpus(8, 8), 4, 2)},
  };
  for (const Case& c : cases) {
    CHECK(Total(KvTransferPairs(c.from, c.to, 1000.0)) ==
          Approx(KvBytesHeld(c.to, 1000.0)).epsilon(1e-12));
  }
  // TP8 MLA decode holds eight copies of the latent; TP4 PP2 GQA one copy in all.
  CHECK(KvBytesHeld(TensorParallelKvShards(mla, Gpus(0, 8), 8, 1), 10.0) == Approx(80.0));
  CHECK(KvBytesHeld(TensorParallelKvShards(gqa, Gpus(0, 8), 4, 2), 10.0) == Approx(10.0));
}

}  // namespace
}  // namespace moesim
