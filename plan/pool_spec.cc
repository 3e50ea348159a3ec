#include "plan/pool_spec.h"

namespace moesim {

const char* PoolRoleName(PoolRole role) {
  switch (role) {
    case PoolRole::kServe:
      return "serve";
    case PoolRole::kPrefill:
      return "prefill";
    case PoolRole::kDecode:
      return "decode";
  }
  return "";
}

const char* RouterPolicyName(RouterPolicy policy) {
  switch (policy) {
    case RouterPolicy::kRoundRobin:
      return "round_robin";
    case RouterPolicy::kCacheAware:
      return "cache_aware";
    case RouterPolicy::kLeastLoaded:
      break;
  }
  return "least_loaded";
}

bool Plan::Disaggregated() const {
  for (const PoolSpec& p : pools) {
    if (p.role != PoolRole::kServe) return true;
  }
  return false;
}

const char* MoeDispatchName(DeploymentSpec::MoeDispatch d) {
  switch (d) {
    case DeploymentSpec::MoeDispatch::kNormal:
      return "normal";
    case DeploymentSpec::MoeDispatch::kGather:
      return "gather";
    case DeploymentSpec::MoeDispatch::kLowLatency:
      break;
  }
  return "low_latency";
}

}  // namespace moesim
