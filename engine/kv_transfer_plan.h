// Which GPU sends how many bytes to which when a sequence's KV cache moves from a prefill
// instance to a decode instance (prefill/decode disaggregation). Pure: no SimGrid.
//
// Each side describes where one sequence's KV lives as shards: a GPU and the share of the
// layers and of the KV heads it holds. Pipeline stages split the layers (evenly here: the share
// of layers, not the exact per-stage layer count), tensor parallelism splits the KV heads, or
// replicates them when there are fewer KV heads than ranks, and the MLA latent is whole on
// every rank. A DP-attention rank holds all of its sequences' KV.
//
// Moving the KV is many-to-many when the plans differ: every destination shard receives exactly
// what it holds, from the source shards that hold it. Where several source GPUs hold the same
// share (replicas), the destination on GPU g takes it from replica g mod replicas, so the load
// spreads over the sources' links (consecutive decode GPUs read from consecutive replicas).
//
//   auto from = TensorParallelKvShards(model, prefill_gpus, /*tp=*/8, /*pp=*/1);
//   auto to = TensorParallelKvShards(model, decode_gpus, /*tp=*/4, /*pp=*/2);
//   std::vector<Transfer> pairs = KvTransferPairs(from, to, sequence_bytes);
#pragma once

#include <vector>

#include "models/model_spec.h"
#include "topology/cluster_graph.h"

namespace moesim {

struct KvShard {
  int gpu = 0;                            // global GPU index
  double layer_begin = 0, layer_end = 1;  // share of the layers, [begin, end) within [0, 1)
  double head_begin = 0, head_end = 1;    // share of the KV heads
};

// An instance of `pp` stages of `tp` GPUs each (`gpus` stage-major) whose attention is sharded
// `tp` ways.
std::vector<KvShard> TensorParallelKvShards(const ModelSpec& model, const std::vector<int>& gpus,
                                            int tp, int pp);
// One GPU holding the whole KV of its sequences (a DP-attention rank).
std::vector<KvShard> WholeKvShard(int gpu);

// The bytes of a sequence whose whole KV is `bytes` that `shards` hold (every decode shard's
// share of layers × heads): what a transfer to them must deliver.
double KvBytesHeld(const std::vector<KvShard>& shards, double bytes);

// The transfers that move a sequence whose whole KV (every layer and head) is `bytes` from the
// shards `from` to the shards `to`. Pairs on the same GPU are dropped (nothing moves).
std::vector<Transfer> KvTransferPairs(const std::vector<KvShard>& from,
                                      const std::vector<KvShard>& to, double bytes);

}  // namespace moesim
