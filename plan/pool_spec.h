// A pool of GPUs as the scenario declares it: a role, a GPU type, a serving stack and a parallel
// plan replicated over `instances` instances. Nothing here is derived (plan/deployment.h places
// pools and plans their memory). A scenario without `deployment.pools` is one "serve" pool made
// of its hardware.gpu, runtime and deployment keys.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "models/decode_step.h"
#include "models/expert_placement.h"
#include "models/gpu_spec.h"
#include "models/json_reader.h"
#include "models/kv_connector.h"
#include "models/runtime_spec.h"

namespace moesim {

// What a pool does. "serve": prefill and decode on the same instances (every scenario before
// disaggregation). "prefill" / "decode": the two halves of prefill/decode disaggregation.
enum class PoolRole { kServe, kPrefill, kDecode };
const char* PoolRoleName(PoolRole role);

struct DeploymentSpec {
  ParallelPlan plan;  // per instance
  int instances = 1;  // data-parallel replicas, each on its own GPUs
  // How instances take servers: "packed" fills racks in order (an instance spans as few racks
  // as possible); "spread" takes servers rack-interleaved (server k of every rack, then k+1),
  // so an instance larger than a server spans racks and instances share the rack uplinks.
  enum class Placement { kPacked, kSpread };
  Placement placement = Placement::kPacked;
  // The first rack whose servers the pool may take (it takes free servers of racks first_rack,
  // first_rack + 1, ...): puts pools in different racks, e.g. prefill and decode apart.
  int first_rack = 0;
  PlacementSpec expert_placement;       // where routed experts live on the ep GPUs of a stage
  bool expert_placement_given = false;  // set in the scenario (it then needs a routing model)
  // DP-attention EP groups only. Two-batch overlap (DeepSeek / SGLang): each rank splits its
  // batch into two micro-batches and interleaves them so that one's dispatch / combine runs
  // while the other computes.
  bool two_batch_overlap = false;
  // DP-attention EP groups only: what carries dispatch and combine. DeepEP's kernels:
  // low-latency (SGLang's decode default with DeepEP): every expert copy goes straight to its
  // GPU; normal (high-throughput): one RDMA send per (token, server) to the same local rank
  // there, then NVLink forwarding (topology/deepep_normal_pattern.h). Gather (DP attention
  // without an all-to-all kernel: SGLang with moe_a2a_backend unset, TensorRT-LLM with EP 1):
  // every rank's tokens are gathered to every GPU of the group, each GPU runs its local experts
  // (or slices) on them, and the partial outputs are reduce-scattered back, in the stack's form
  // (RuntimeSpec::dp_gather, engine/ep_dispatch_plan.h: SGLang pads to the largest rank's
  // tokens, TensorRT-LLM gathers each rank's own).
  enum class MoeDispatch { kLowLatency, kNormal, kGather };
  MoeDispatch moe_dispatch = MoeDispatch::kLowLatency;
  // DP-attention groups with the gather only: the routed experts are split tensor-parallel over
  // the group's GPUs (SGLang's DP attention with ep_size 1, its default; TensorRT-LLM's attention
  // DP with moe_expert_parallel_size 1: every GPU runs every expert's 1/N slice on all the
  // gathered tokens) instead of placed whole (expert parallel).
  bool moe_tensor_sharded = false;

  // Attention/FFN disaggregation (engine/afd_instance.h); off unless attention_gpus > 0.
  struct AttentionFfn {
    int attention_gpus = 0;              // M: DP-attention ranks, each holding its sequences' KV
    int expert_gpus = 0;                 // N: expert-parallel ranks holding the routed experts
    int micro_batches = 1;               // ping-pong micro-batches (MegaScale-Infer; Step-3 runs 3)
    DType dispatch_dtype = DType::kFp8;  // hidden states sent A -> E (with block scales if fp8)
    DType combine_dtype = DType::kBf16;  // expert outputs returned E -> A
    bool shared_experts_on_expert_side = false;  // else the attention side runs them
    // The expert side's GPU type when it differs from the pool's (the attention side's).
    std::optional<GpuSpec> expert_gpu;
    bool enabled() const { return attention_gpus > 0; }
    const GpuSpec& ExpertGpu(const GpuSpec& pool_gpu) const {
      return expert_gpu ? *expert_gpu : pool_gpu;
    }
  };
  AttentionFfn attention_ffn;

  // GPUs of each instance that run a separate speculative draft model (speculative.draft_gpus;
  // set on drafting TP/PP pools when deployed): the instance's last GPUs, after its stages.
  int draft_gpus = 0;

  int gpus_per_instance() const {
    if (attention_ffn.enabled()) return attention_ffn.attention_gpus + attention_ffn.expert_gpus;
    return plan.dp_attention ? plan.ep : plan.tp * plan.pp + draft_gpus;
  }
  int total_gpus() const { return instances * gpus_per_instance(); }
};

// "low_latency" / "normal" / "gather"
const char* MoeDispatchName(DeploymentSpec::MoeDispatch d);

struct PoolSpec {
  std::string name;
  PoolRole role = PoolRole::kServe;
  GpuSpec gpu;          // sets the pool's compute, memory and price; the fabric is the cluster's
  RuntimeSpec runtime;  // as given: the stack's rules fill what it leaves open when deployed
  DeploymentSpec deployment;
  JsonLocation where;  // the object that declared the pool's deployment (error messages)
};

// How new requests are spread over the instances of the pools that take them (the serve
// pools, or the prefill pools of a disaggregated plan).
enum class RouterPolicy {
  kLeastLoaded,  // the instance with the fewest running + waiting sequences (lowest index on ties)
  kRoundRobin,   // instances in turn
  // A multi-turn session's later turns go to the instance that served its first turn (whose
  // prefix cache holds its context, as SGLang's cache-aware router aims for); first turns and
  // requests outside sessions go to the least loaded instance.
  kCacheAware,
};
const char* RouterPolicyName(RouterPolicy policy);

// How a disaggregated plan moves each prompt's KV from its prefill to its decode instance.
struct KvTransferSpec {
  KvConnectorSpec connector;  // per-transfer setup and link efficiency (models/kv_connector.h)
  // Layer-wise streaming (Mooncake / NIXL connectors): the decode side is reserved when the
  // prompt's last prefill chunk starts, and every layer's KV leaves as soon as it is computed, so
  // the transfer overlaps the prefill step; only the last layer's share waits for its end.
  bool layerwise = false;
};

// A scenario's pools, in declaration order (which is also the order they take servers).
struct Plan {
  std::vector<PoolSpec> pools;
  RouterPolicy router = RouterPolicy::kLeastLoaded;
  KvTransferSpec kv_transfer;  // read only when Disaggregated()

  // Whether prefill and decode run in separate pools (the plan has prefill or decode pools).
  bool Disaggregated() const;
};

}  // namespace moesim
