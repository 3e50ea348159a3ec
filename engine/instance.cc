#include "engine/instance.h"

#include "engine/afd_instance.h"
#include "engine/ep_group_instance.h"
#include "engine/tp_pp_instance.h"

namespace moesim {

const InstanceRegistry& InstanceRegistry::Builtin() {
  static const InstanceRegistry* registry = [] {
    auto* r = new InstanceRegistry();
    r->Register("tp_pp",
                "one tensor/pipeline-parallel replica: pp stages of tp GPUs, pp virtual engines "
                "over a shared KV pool, TP all-reduces and stage sends on the fabric",
                &TpPpInstance::Make);
    r->Register("ep_group",
                "a DP-attention expert-parallel group: per-GPU schedulers in lockstep, MoE "
                "dispatch / combine all-to-alls, each GPU's own experts (two-batch overlap "
                "optional)",
                &EpGroupInstance::Make);
    r->Register("afd",
                "attention/FFN disaggregation: DP-attention GPUs with the KV, separate expert "
                "GPUs; every MoE layer's tokens hop A -> E and back in ping-pong micro-batches",
                &AfdInstance::Make);
    return r;
  }();
  return *registry;
}

void InstanceRegistry::Register(const std::string& name, std::string description,
                                InstanceFactory factory) {
  kinds_[name] = Kind{std::move(description), std::move(factory)};
}

const InstanceRegistry::Kind* InstanceRegistry::Find(const std::string& name) const {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::string InstanceKindFor(const DeploymentSpec& deployment) {
  if (deployment.attention_ffn.enabled()) return "afd";
  return deployment.plan.dp_attention ? "ep_group" : "tp_pp";
}

}  // namespace moesim
