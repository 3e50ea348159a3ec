#include "engine/kv_transfer_plan.h"

#include <algorithm>

namespace moesim {

namespace {

double Overlap(double a0, double a1, double b0, double b1) {
  return std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
}

bool SameShare(const KvShard& a, const KvShard& b) {
  return a.layer_begin == b.layer_begin && a.layer_end == b.layer_end &&
         a.head_begin == b.head_begin && a.head_end == b.head_end;
}

}  // namespace

std::vector<KvShard> TensorParallelKvShards(const ModelSpec& model, const std::vector<int>& gpus,
                                            int tp, int pp) {
  // KV head groups: the MLA latent is one group held by every rank; GQA kv heads are sharded,
  // or replicated across tp / kv_heads ranks when there are fewer than tp.
  const int heads =
      model.attention.kind == AttentionKind::kMla ? 1 : std::max(1, model.attention.kv_heads);
  std::vector<KvShard> shards;
  shards.reserve(gpus.size());
  for (int stage = 0; stage < pp; ++stage) {
    for (int rank = 0; rank < tp; ++rank) {
      KvShard s;
      s.gpu = gpus[static_cast<size_t>(stage * tp + rank)];
      s.layer_begin = double(stage) / pp;
      s.layer_end = double(stage + 1) / pp;
      if (heads >= tp) {
        s.head_begin = double(rank) / tp;
        s.head_end = double(rank + 1) / tp;
      } else {
        const int group = rank * heads / tp;
        s.head_begin = double(group) / heads;
        s.head_end = double(group + 1) / heads;
      }
      shards.push_back(s);
    }
  }
  return shards;
}

std::vector<KvShard> WholeKvShard(int gpu) {
  KvShard s;
  s.gpu = gpu;
  return {s};
}

double KvBytesHeld(const std::vector<KvShard>& shards, double bytes) {
  double held = 0;
  for (const KvShard& s : shards) {
    held += bytes * (s.layer_end - s.layer_begin) * (s.head_end - s.head_begin);
  }
  return held;
}

std::vector<Transfer> KvTransferPairs(const std::vector<KvShard>& from,
                                      const std::vector<KvShard>& to, double bytes) {
  // Source replicas: shards holding the same share, in order of first appearance.
  std::vector<std::vector<const KvShard*>> replicas;
  for (const KvShard& s : from) {
    auto it = std::find_if(replicas.begin(), replicas.end(),
                           [&](const auto& group) { return SameShare(*group[0], s); });
    if (it == replicas.end()) {
      replicas.push_back({&s});
    } else {
      it->push_back(&s);
    }
  }
  std::vector<Transfer> pairs;
  for (const KvShard& dst : to) {
    for (const auto& group : replicas) {
      const KvShard& src = *group[static_cast<size_t>(dst.gpu) % group.size()];
      const double share = Overlap(src.layer_begin, src.layer_end, dst.layer_begin, dst.layer_end) *
                           Overlap(src.head_begin, src.head_end, dst.head_begin, dst.head_end);
      if (share <= 0 || src.gpu == dst.gpu) continue;
      pairs.push_back({src.gpu, dst.gpu, bytes * share});
    }
  }
  return pairs;
}

}  // namespace moesim
