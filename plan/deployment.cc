#include "plan/deployment.h"

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "models/serving_stack_rules.h"
#include "models/speculative.h"
#include "plan/pool_checks.h"

namespace moesim {

std::vector<int> PoolDeployment::InstanceGpus(int i) const {
  std::vector<int> gpus;
  const int n = gpus_per_instance();
  for (int g = 0; g < n; ++g) gpus.push_back(slots[i * n + g]);
  return gpus;
}

std::vector<int> PoolDeployment::StageGpus(int i, int stage) const {
  std::vector<int> gpus;
  const int tp = plan().tp;
  for (int g = 0; g < tp; ++g) gpus.push_back(slots[i * gpus_per_instance() + stage * tp + g]);
  return gpus;
}

std::vector<int> PoolDeployment::DraftGpus(int i) const {
  std::vector<int> gpus;
  const int n = gpus_per_instance(), draft = deployment().draft_gpus;
  for (int g = n - draft; g < n; ++g) gpus.push_back(slots[i * n + g]);
  return gpus;
}

KvFootprint PoolDeployment::Footprint(const ModelSpec& model) const {
  KvFootprint footprint(draft_layers > 0 ? WithAppendedLayers(model, draft_layers) : model,
                        plan().tp, spec.runtime.kv_block_tokens, plan().pp,
                        StateLayoutOf(spec.runtime));
  if (draft_model && deployment().draft_gpus == 0) footprint.AddDraftKv(*draft_model, plan().tp);
  return footprint;
}

std::vector<int> OrderServers(const std::vector<int>& free, DeploymentSpec::Placement placement,
                              const ClusterSpec& cluster) {
  std::vector<int> order = free;
  if (placement == DeploymentSpec::Placement::kSpread) {
    // Server k of every rack, then k + 1: sort by (position in rack, rack).
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      const int pa = a % cluster.servers_per_rack, pb = b % cluster.servers_per_rack;
      if (pa != pb) return pa < pb;
      return a / cluster.servers_per_rack < b / cluster.servers_per_rack;
    });
  }
  return order;
}

namespace {

// Applies the stack's rules to the pool's runtime and plans its memory.
absl::Status PlanPool(const DeployInputs& in, PoolDeployment& d) {
  const ParallelPlan& p = d.plan();
  const DeploymentSpec::AttentionFfn& afd = d.deployment().attention_ffn;
  StackPlanShape shape;
  shape.tp_size = afd.enabled() ? afd.attention_gpus
                                : (d.gpus_per_instance() - d.deployment().draft_gpus) / p.pp;
  shape.pp = p.pp;
  shape.dp_attention = afd.enabled() ? afd.attention_gpus : p.dp_attention ? p.ep : 1;
  if (d.spec.role != PoolRole::kPrefill) shape.speculative = in.speculative_method;
  const RuntimeSpec as_given = d.spec.runtime;
  RuntimeSpec& runtime = d.spec.runtime;
  ResolveRuntimeDefaults(runtime, d.spec.gpu, shape);
  const ModelSpec held = WithAppendedLayers(in.model, in.draft_layers);
  ParallelPlan attention_plan = p;
  if (afd.enabled()) attention_plan.holds = ParallelPlan::Holds::kAttentionSide;
  double draft_weights = 0;
  const bool own_draft_gpus = d.deployment().draft_gpus > 0;
  if (in.draft_model && !own_draft_gpus) {
    const ModelSpec& draft = *in.draft_model;
    if (!draft.IsDense() && draft.moe.routed_experts % p.ep != 0) {
      return BadValue(d.spec.where.Key("expert_parallel"), p.ep,
                      absl::StrCat("an expert-parallel size that divides the draft model's ",
                                   draft.moe.routed_experts, " routed experts (", draft.name, ")"));
    }
    draft_weights = WeightBytesPerGpu(draft, SeparateDraftModelPlan(p));
  }
  auto mem = PlanMemory(held, d.spec.gpu, runtime, attention_plan, d.Footprint(in.model),
                        in.longest_sequence_tokens, draft_weights);
  if (!mem.ok()) {
    if (afd.enabled()) {
      return BadValue(d.spec.where.Key("attention_ffn").Key("attention_gpus"), afd.attention_gpus,
                      absl::StrCat("attention GPUs whose HBM holds the attention side's weights "
                                   "and one sequence's KV: ",
                                   mem.status().message()));
    }
    if (in.draft_model && !own_draft_gpus) {
      return BadInput(
          d.spec.where,
          absl::StrFormat("%s (the weights include the draft model %s's %.2f GB "
                          "per GPU, and the KV its own cache)",
                          mem.status().message(), in.draft_model->name, draft_weights / 1e9));
    }
    return BadInput(d.spec.where, std::string(mem.status().message()));
  }
  // Attention/FFN disaggregation: the KV lives on the attention side; the expert side holds the
  // routed experts and must fit them with its workspaces (one KV block of room suffices).
  if (afd.enabled()) {
    ParallelPlan expert_plan = p;
    expert_plan.holds = ParallelPlan::Holds::kExpertSide;
    // The expert side runs no attention: the stack's memory rule as for an EP group of its own.
    RuntimeSpec expert_runtime = as_given;
    StackPlanShape expert_shape;
    expert_shape.tp_size = afd.expert_gpus;
    const GpuSpec& expert_gpu = afd.ExpertGpu(d.spec.gpu);
    ResolveRuntimeDefaults(expert_runtime, expert_gpu, expert_shape);
    auto experts =
        PlanMemory(held, expert_gpu, expert_runtime, expert_plan, d.Footprint(in.model), 1);
    if (!experts.ok()) {
      return BadValue(d.spec.where.Key("attention_ffn").Key("expert_gpus"), afd.expert_gpus,
                      absl::StrCat("enough expert GPUs to hold the routed experts: on each of ",
                                   afd.expert_gpus, ", ", experts.status().message()));
    }
    d.expert_memory = *experts;
  }
  d.memory = *mem;
  if (own_draft_gpus) {
    // The draft model's GPUs hold its weights (tensor parallel over them) and its KV of every
    // running sequence: the instance holds as many tokens as the smaller of the two caches.
    const ParallelPlan draft_plan = OwnDraftGpusPlan(d.deployment().draft_gpus);
    const KvFootprint draft_kv(*in.draft_model, draft_plan.tp, runtime.kv_block_tokens, 1,
                               StateLayoutOf(runtime));
    auto draft_mem = PlanMemory(*in.draft_model, d.spec.gpu, runtime, draft_plan, draft_kv,
                                in.longest_sequence_tokens);
    if (!draft_mem.ok()) {
      return BadInput(
          d.spec.where,
          absl::StrCat("speculative.draft_gpus = ", d.deployment().draft_gpus,
                       ": expected enough GPUs for the draft model ", in.draft_model->name,
                       " and its KV of one sequence: ", draft_mem.status().message()));
    }
    d.draft_memory = *draft_mem;
    if (draft_mem->kv_capacity_tokens < d.memory.kv_capacity_tokens) {
      d.memory.kv_capacity_tokens = draft_mem->kv_capacity_tokens;
      d.memory.kv_blocks = d.memory.kv_capacity_tokens / std::max(1, runtime.kv_block_tokens);
    }
  }
  ResolveRunningCap(runtime, d.memory.kv_capacity_tokens, in.model.max_context_tokens);
  if (d.memory.running_cap_by_state > 0 && runtime.MaxNumSeqs() > d.memory.running_cap_by_state) {
    // SGLang caps running requests at the linear-state pool's slots / 3.
    runtime.max_num_seqs = static_cast<int>(d.memory.running_cap_by_state);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Deployment> Deploy(const Plan& plan, const DeployInputs& in) {
  const ClusterSpec& cl = in.cluster;
  std::vector<int> free(cl.servers());
  for (int k = 0; k < cl.servers(); ++k) free[k] = k;
  Deployment out;
  for (const PoolSpec& spec : plan.pools) {
    if (absl::Status s = CheckPoolShape(spec, in.model, cl); !s.ok()) return s;
    PoolDeployment d;
    d.spec = spec;
    d.draft_layers = in.draft_layers;
    if (in.draft_model) d.draft_model = std::make_shared<const ModelSpec>(*in.draft_model);
    if (in.draft_gpus > 0 && spec.role != PoolRole::kPrefill) {
      if (spec.deployment.attention_ffn.enabled() || spec.deployment.plan.dp_attention) {
        const bool afd = spec.deployment.attention_ffn.enabled();
        return BadValue(spec.where.Key(afd ? "attention_ffn" : "attention"),
                        afd ? nlohmann::json("attention_ffn") : nlohmann::json("data_parallel"),
                        "a tensor/pipeline-parallel pool: a draft model on GPUs of its own "
                        "(speculative.draft_gpus) drafts for TP/PP instances only");
      }
      d.spec.deployment.draft_gpus = in.draft_gpus;
    }
    const int needed = (d.total_gpus() + cl.gpus_per_server - 1) / cl.gpus_per_server;
    const int first_rack = spec.deployment.first_rack;
    if (first_rack >= cl.racks) {
      return BadValue(spec.where.Key("first_rack"), first_rack,
                      absl::StrCat("a rack index below the cluster's ", cl.racks, " racks"));
    }
    std::vector<int> usable;
    for (int server : free) {
      if (server / cl.servers_per_rack >= first_rack) usable.push_back(server);
    }
    if (needed > static_cast<int>(usable.size())) {
      return BadValue(
          spec.where.Key("instances"), spec.deployment.instances,
          absl::StrCat("at most ", usable.size() * cl.gpus_per_server / d.gpus_per_instance(),
                       " instances of ", d.gpus_per_instance(), " GPUs on the ", usable.size(),
                       " servers the pools before it left free",
                       first_rack > 0 ? absl::StrCat(" from rack ", first_rack, " on") : ""));
    }
    const std::vector<int> order = OrderServers(usable, spec.deployment.placement, cl);
    d.servers.assign(order.begin(), order.begin() + needed);
    for (int server : d.servers) {
      for (int g = 0; g < cl.gpus_per_server; ++g)
        d.slots.push_back(server * cl.gpus_per_server + g);
      free.erase(std::find(free.begin(), free.end(), server));
    }
    if (absl::Status s = PlanPool(in, d); !s.ok()) return s;
    out.pools.push_back(std::move(d));
  }
  return out;
}

}  // namespace moesim
