#include "engine/scenario.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "engine/moe_load_sampler.h"
#include "models/serving_stack_rules.h"
#include "models/status_macros.h"

namespace moesim {

const char* FidelityName(Fidelity f) {
  switch (f) {
    case Fidelity::kStep:
      return "step";
    case Fidelity::kLayer:
      return "layer";
    case Fidelity::kKernel:
      return "kernel";
  }
  return "";
}

namespace {

// Largest number of requests one simulation may generate (memory stays under ~2 GB).
constexpr double kMaxRequests = 1e7;

// Resolves a preset-or-object value at `key` and hands the merged object to `parse`.
template <typename Spec, typename ParseFn>
absl::StatusOr<Spec> ResolveAndParse(JsonObjectReader& r, const std::string& key,
                                     const PresetLibrary& presets, PresetKind kind, ParseFn parse) {
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* raw, r.Value(key));
  const JsonLocation where = r.where().Key(key);
  MOESIM_ASSIGN_OR_RETURN(PresetLibrary::Resolved resolved, presets.Resolve(kind, *raw, where));
  return parse(*resolved.value, where, resolved.name);
}

absl::Status ParseHardware(JsonObjectReader r, const PresetLibrary& presets, HardwareSpec& hw) {
  MOESIM_ASSIGN_OR_RETURN(
      hw.gpu, ResolveAndParse<GpuSpec>(r, "gpu", presets, PresetKind::kGpu, ParseGpuSpec));
  MOESIM_ASSIGN_OR_RETURN(hw.cluster, ParseClusterSpec(r, hw.gpu, presets));
  return r.Finish();
}

absl::Status ParseModelSection(JsonObjectReader& r, const PresetLibrary& presets, ModelSpec& m) {
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* raw, r.Value("model"));
  if (raw->is_object() && raw->contains("mtp_layers")) {
    // A preset's mtp_layers records the checkpoint; a scenario setting it would expect an
    // effect, and no setting is silently ignored.
    return BadValue(r.where().Key("model").Key("mtp_layers"), (*raw)["mtp_layers"],
                    "no value: the model preset records its checkpoint's MTP layers; to "
                    "decode speculatively with them add a \"speculative\" section "
                    "({\"method\": \"mtp\", \"draft_tokens\": k, \"acceptance\": ...})");
  }
  MOESIM_ASSIGN_OR_RETURN(
      m, ResolveAndParse<ModelSpec>(r, "model", presets, PresetKind::kModel, ParseModelSpec));
  return absl::OkStatus();
}

// deployment.attention_ffn: attention/FFN disaggregation (engine/afd_instance.h).
absl::Status ParseAttentionFfn(JsonObjectReader r, const PresetLibrary& presets,
                               DeploymentSpec::AttentionFfn& a) {
  if (r.Has("expert_gpu")) {
    MOESIM_ASSIGN_OR_RETURN(a.expert_gpu, ResolveAndParse<GpuSpec>(r, "expert_gpu", presets,
                                                                   PresetKind::kGpu, ParseGpuSpec));
  }
  MOESIM_ASSIGN_OR_RETURN(int64_t m, r.Integer("attention_gpus", NumberRule::Between(1, 65536)));
  MOESIM_ASSIGN_OR_RETURN(int64_t n, r.Integer("expert_gpus", NumberRule::Between(1, 65536)));
  MOESIM_ASSIGN_OR_RETURN(int64_t micro,
                          r.IntegerOr("micro_batches", 1, NumberRule::Between(1, 8)));
  a.attention_gpus = static_cast<int>(m);
  a.expert_gpus = static_cast<int>(n);
  a.micro_batches = static_cast<int>(micro);
  MOESIM_ASSIGN_OR_RETURN(std::string dispatch, r.EnumOr("dispatch_dtype", "fp8", {"fp8", "bf16"}));
  MOESIM_ASSIGN_OR_RETURN(std::string combine, r.EnumOr("combine_dtype", "bf16", {"bf16", "fp8"}));
  a.dispatch_dtype = dispatch == "fp8" ? DType::kFp8 : DType::kBf16;
  a.combine_dtype = combine == "fp8" ? DType::kFp8 : DType::kBf16;
  MOESIM_ASSIGN_OR_RETURN(std::string shared,
                          r.EnumOr("shared_experts", "attention", {"attention", "experts"}));
  a.shared_experts_on_expert_side = shared == "experts";
  return r.Finish();
}

absl::Status ParseDeployment(JsonObjectReader r, const PresetLibrary& presets, DeploymentSpec& d) {
  MOESIM_ASSIGN_OR_RETURN(int64_t tp,
                          r.IntegerOr("tensor_parallel", 1, NumberRule::Between(1, 1024)));
  MOESIM_ASSIGN_OR_RETURN(int64_t ep,
                          r.IntegerOr("expert_parallel", 1, NumberRule::Between(1, 1024)));
  MOESIM_ASSIGN_OR_RETURN(int64_t pp,
                          r.IntegerOr("pipeline_parallel", 1, NumberRule::Between(1, 1024)));
  MOESIM_ASSIGN_OR_RETURN(int64_t inst, r.IntegerOr("instances", 1, NumberRule::Between(1, 1e5)));
  d.plan.pp = static_cast<int>(pp);
  MOESIM_ASSIGN_OR_RETURN(std::string placement,
                          r.EnumOr("placement", "packed", {"packed", "spread"}));
  d.placement = placement == "spread" ? DeploymentSpec::Placement::kSpread
                                      : DeploymentSpec::Placement::kPacked;
  MOESIM_ASSIGN_OR_RETURN(int64_t first_rack,
                          r.IntegerOr("first_rack", 0, NumberRule::Between(0, 4095)));
  d.first_rack = static_cast<int>(first_rack);
  d.expert_placement_given = r.Has("expert_placement");
  if (d.expert_placement_given) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* ep_json, r.Value("expert_placement"));
    MOESIM_ASSIGN_OR_RETURN(d.expert_placement,
                            ParsePlacementSpec(*ep_json, r.where().Key("expert_placement")));
  }
  d.plan.tp = static_cast<int>(tp);
  d.plan.ep = static_cast<int>(ep);
  d.instances = static_cast<int>(inst);
  MOESIM_ASSIGN_OR_RETURN(std::string attention, r.EnumOr("attention", "tensor_parallel",
                                                          {"tensor_parallel", "data_parallel"}));
  d.plan.dp_attention = attention == "data_parallel";
  if (r.Has("attention_ffn")) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader afd, r.Object("attention_ffn"));
    MOESIM_RETURN_IF_ERROR(ParseAttentionFfn(std::move(afd), presets, d.attention_ffn));
    const JsonLocation at = r.where().Key("attention_ffn");
    if (!d.plan.dp_attention) {
      return BadValue(r.where().Key("attention"), attention,
                      "\"data_parallel\" with attention_ffn (every attention GPU runs attention "
                      "for its own sequences)");
    }
    if (r.Has("expert_parallel") && ep != d.attention_ffn.expert_gpus) {
      return BadValue(
          r.where().Key("expert_parallel"), ep,
          absl::StrCat("absent or attention_ffn.expert_gpus (", d.attention_ffn.expert_gpus,
                       "): the expert side is the expert-parallel group"));
    }
    ep = d.attention_ffn.expert_gpus;
    d.plan.ep = static_cast<int>(ep);
    d.plan.shared_on_expert_side = d.attention_ffn.shared_experts_on_expert_side;
    for (const char* key : {"two_batch_overlap", "moe_dispatch", "dense_tensor_parallel"}) {
      if (r.Has(key)) {
        MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* v, r.Value(key));
        return BadValue(r.where().Key(key), *v,
                        absl::StrCat("no value with attention_ffn (", at.path,
                                     ".micro_batches sets the ping-pong; the hops are "
                                     "point-to-point sends, not DeepEP all-to-alls)"));
      }
    }
  }
  MOESIM_ASSIGN_OR_RETURN(d.two_batch_overlap, r.BoolOr("two_batch_overlap", false));
  if (!d.plan.dp_attention && d.two_batch_overlap) {
    return BadValue(r.where().Key("two_batch_overlap"), true,
                    "false unless \"attention\": \"data_parallel\" (it overlaps the MoE "
                    "all-to-alls of an expert-parallel group)");
  }
  MOESIM_ASSIGN_OR_RETURN(std::string dispatch, r.EnumOr("moe_dispatch", "low_latency",
                                                         {"low_latency", "normal", "gather"}));
  d.moe_dispatch = dispatch == "normal"   ? DeploymentSpec::MoeDispatch::kNormal
                   : dispatch == "gather" ? DeploymentSpec::MoeDispatch::kGather
                                          : DeploymentSpec::MoeDispatch::kLowLatency;
  if (!d.plan.dp_attention && d.moe_dispatch != DeploymentSpec::MoeDispatch::kLowLatency) {
    return BadValue(r.where().Key("moe_dispatch"), dispatch,
                    "\"low_latency\" unless \"attention\": \"data_parallel\" (it chooses what "
                    "carries an expert-parallel group's dispatch and combine)");
  }
  MOESIM_ASSIGN_OR_RETURN(std::string sharding,
                          r.EnumOr("moe_sharding", "expert", {"expert", "tensor"}));
  d.moe_tensor_sharded = sharding == "tensor";
  if (d.moe_tensor_sharded && d.moe_dispatch != DeploymentSpec::MoeDispatch::kGather) {
    return BadValue(r.where().Key("moe_sharding"), sharding,
                    "\"expert\" unless \"moe_dispatch\": \"gather\" (tensor-parallel experts run "
                    "on every rank's gathered tokens, SGLang's DP attention without expert "
                    "parallelism)");
  }
  if (d.moe_tensor_sharded && d.expert_placement_given) {
    return BadValue(r.where().Key("moe_sharding"), sharding,
                    "\"expert\" with an expert_placement (tensor-parallel experts are split over "
                    "every GPU, not placed)");
  }
  if (d.two_batch_overlap && d.moe_dispatch == DeploymentSpec::MoeDispatch::kGather) {
    // SGLang's two-batch overlap interleaves DeepEP's dispatch and combine with the other
    // micro-batch's compute (two_batch_overlap.py); moesim models it on those only.
    return BadValue(r.where().Key("moe_dispatch"), dispatch,
                    "\"low_latency\" or \"normal\" with two_batch_overlap (SGLang overlaps "
                    "DeepEP's all-to-alls, not the gather)");
  }
  if (d.plan.dp_attention) {
    if (d.plan.tp != 1 || d.plan.pp != 1) {
      return BadValue(r.where().Key(d.plan.tp != 1 ? "tensor_parallel" : "pipeline_parallel"),
                      d.plan.tp != 1 ? tp : pp,
                      "1 with \"attention\": \"data_parallel\" (every GPU of the expert-parallel "
                      "group runs attention for its own sequences)");
    }
    if (d.plan.ep < 2 && !d.attention_ffn.enabled()) {
      return BadValue(r.where().Key("expert_parallel"), ep,
                      "an integer >= 2 with \"attention\": \"data_parallel\" (the GPUs of the "
                      "group)");
    }
  } else if (d.plan.tp % d.plan.ep != 0) {
    return BadValue(r.where().Key("expert_parallel"), ep,
                    absl::StrCat("a divisor of tensor_parallel (", tp,
                                 "): the stage's GPUs form expert_parallel groups of "
                                 "tensor_parallel / expert_parallel GPUs, each expert split "
                                 "inside its group; or set \"attention\": \"data_parallel\" "
                                 "for an expert-parallel group"));
  }
  if (r.Has("dense_tensor_parallel")) {
    MOESIM_ASSIGN_OR_RETURN(int64_t dense,
                            r.Integer("dense_tensor_parallel", NumberRule::Between(1, 1024)));
    if (d.plan.dp_attention ? dense != 1 : d.plan.tp % dense != 0) {
      return BadValue(r.where().Key("dense_tensor_parallel"), dense,
                      d.plan.dp_attention
                          ? std::string("1 with \"attention\": \"data_parallel\" (every rank "
                                        "runs the dense layers for its own tokens)")
                          : absl::StrCat("a divisor of tensor_parallel (", tp,
                                         "): dense FFN layers and shared experts split that "
                                         "many ways (SGLang moe_dense_tp_size)"));
    }
    d.plan.dense_tp = static_cast<int>(dense);
  }
  if (d.expert_placement.kind == PlacementSpec::Kind::kRedundant) {
    d.plan.redundant_experts = d.expert_placement.redundant_slots;
  }
  return r.Finish();
}

absl::Status ParseSimulation(JsonObjectReader r, SimulationSpec& s) {
  // Bounded so that every run ends: a day of simulated serving is far beyond any steady state.
  MOESIM_ASSIGN_OR_RETURN(s.duration_s, r.Number("duration_s", NumberRule::PositiveAtMost(86400)));
  MOESIM_ASSIGN_OR_RETURN(s.warmup_s, r.NumberOr("warmup_s", 0.0, NumberRule::NonNegative()));
  MOESIM_ASSIGN_OR_RETURN(int64_t seed, r.IntegerOr("seed", 1, NumberRule::Between(0, 9e15)));
  s.seed = static_cast<uint64_t>(seed);
  MOESIM_ASSIGN_OR_RETURN(std::string f,
                          r.EnumOr("fidelity", "layer", {"step", "layer", "kernel"}));
  s.fidelity = f == "step" ? Fidelity::kStep : f == "kernel" ? Fidelity::kKernel : Fidelity::kLayer;
  s.collectives_given = r.Has("collectives");
  const std::string default_collectives = f == "step" ? "analytic" : "flows";
  MOESIM_ASSIGN_OR_RETURN(
      std::string c, r.EnumOr("collectives", default_collectives, {"analytic", "ptask", "flows"}));
  s.collectives = c == "analytic" ? CollectiveFidelity::kAnalytic
                  : c == "ptask"  ? CollectiveFidelity::kPtask
                                  : CollectiveFidelity::kFlows;
  if (s.fidelity == Fidelity::kStep && s.collectives != CollectiveFidelity::kAnalytic) {
    return BadValue(r.where().Key("collectives"), c,
                    "\"analytic\" with fidelity \"step\" (the step fidelity simulates nothing "
                    "below the step)");
  }
  MOESIM_ASSIGN_OR_RETURN(s.timeseries_interval_s,
                          r.NumberOr("timeseries_interval_s", s.duration_s / 100,
                                     NumberRule::PositiveAtMost(s.duration_s)));
  if (s.duration_s / s.timeseries_interval_s > 100000) {
    return BadValue(r.where().Key("timeseries_interval_s"), s.timeseries_interval_s,
                    absl::StrCat("at least duration_s / 100,000 = ", s.duration_s / 100000,
                                 " s (at most 100,000 intervals)"));
  }
  if (s.warmup_s >= s.duration_s) {
    return BadValue(r.where().Key("warmup_s"), s.warmup_s,
                    absl::StrCat("a number below duration_s (", s.duration_s, ")"));
  }
  return r.Finish();
}

absl::Status ParseReferences(const nlohmann::json& value, const JsonLocation& where,
                             std::vector<ReferenceMeasurement>& out) {
  if (!value.is_array()) return BadValue(where, value, "an array of measurements");
  for (size_t i = 0; i < value.size(); ++i) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value[i], where.Index(i)));
    ReferenceMeasurement m;
    MOESIM_ASSIGN_OR_RETURN(m.metric, r.String("metric"));
    MOESIM_ASSIGN_OR_RETURN(m.value, r.Number("value", NumberRule::Positive()));
    MOESIM_ASSIGN_OR_RETURN(m.unit, r.String("unit"));
    MOESIM_ASSIGN_OR_RETURN(m.source, r.String("source"));
    MOESIM_ASSIGN_OR_RETURN(m.tolerance_pct, r.Number("tolerance_pct", NumberRule::Positive()));
    MOESIM_RETURN_IF_ERROR(r.Finish());
    out.push_back(m);
  }
  return absl::OkStatus();
}

// One entry of deployment.pools: name, role, optional gpu and runtime (else the scenario's),
// and the deployment keys.
absl::StatusOr<PoolSpec> ParsePool(const nlohmann::json& value, const JsonLocation& where,
                                   const PresetLibrary& presets, const Scenario& s) {
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(value, where));
  PoolSpec pool;
  pool.where = where;
  MOESIM_ASSIGN_OR_RETURN(pool.name, r.String("name"));
  MOESIM_ASSIGN_OR_RETURN(std::string role, r.Enum("role", {"serve", "prefill", "decode"}));
  pool.role = role == "prefill"  ? PoolRole::kPrefill
              : role == "decode" ? PoolRole::kDecode
                                 : PoolRole::kServe;
  pool.gpu = s.hardware.gpu;
  if (r.Has("gpu")) {
    MOESIM_ASSIGN_OR_RETURN(
        pool.gpu, ResolveAndParse<GpuSpec>(r, "gpu", presets, PresetKind::kGpu, ParseGpuSpec));
  }
  pool.runtime = s.runtime;
  if (r.Has("runtime")) {
    MOESIM_ASSIGN_OR_RETURN(
        pool.runtime, ResolveAndParse<RuntimeSpec>(r, "runtime", presets, PresetKind::kRuntime,
                                                   ParseRuntimeSpec));
  }
  MOESIM_RETURN_IF_ERROR(ParseDeployment(r, presets, pool.deployment));
  return pool;
}

// The KV connector every disaggregated plan uses unless deployment.kv_transfer names one: the
// only preset fitted to measurements (models/presets/kv_connectors.json).
constexpr char kDefaultKvConnector[] = "mooncake";

absl::Status DefaultKvTransfer(const PresetLibrary& presets, const JsonLocation& where,
                               KvTransferSpec& kv) {
  const nlohmann::json* preset = presets.Find(PresetKind::kKvConnector, kDefaultKvConnector);
  if (preset == nullptr) {
    return BadInput(where.Key("kv_transfer"),
                    absl::StrCat("the default KV connector preset \"", kDefaultKvConnector,
                                 "\" is missing from ", PresetFileName(PresetKind::kKvConnector),
                                 ": name a connector in deployment.kv_transfer.connector"));
  }
  MOESIM_ASSIGN_OR_RETURN(
      kv.connector, ParseKvConnectorSpec(*preset, where.Key("kv_transfer"), kDefaultKvConnector));
  return absl::OkStatus();
}

// deployment.kv_transfer: {"connector": preset name or object, "layerwise": bool}.
absl::Status ParseKvTransfer(JsonObjectReader& r, const PresetLibrary& presets,
                             KvTransferSpec& kv) {
  if (r.Has("connector")) {
    MOESIM_ASSIGN_OR_RETURN(
        kv.connector, ResolveAndParse<KvConnectorSpec>(
                          r, "connector", presets, PresetKind::kKvConnector, ParseKvConnectorSpec));
  } else {
    MOESIM_RETURN_IF_ERROR(DefaultKvTransfer(presets, r.where(), kv));
  }
  MOESIM_ASSIGN_OR_RETURN(kv.layerwise, r.BoolOr("layerwise", false));
  return r.Finish();
}

// Roles: one or more "serve" pools, or prefill and decode pools (both roles present).
absl::Status CheckRoles(const Plan& plan, const JsonLocation& where, bool kv_transfer_given) {
  int serve = 0, prefill = 0, decode = 0;
  for (const PoolSpec& p : plan.pools) {
    serve += p.role == PoolRole::kServe;
    prefill += p.role == PoolRole::kPrefill;
    decode += p.role == PoolRole::kDecode;
  }
  if (serve > 0 && prefill + decode > 0) {
    for (const PoolSpec& p : plan.pools) {
      if (p.role == PoolRole::kServe) {
        return BadValue(p.where.Key("role"), "serve",
                        "\"prefill\" or \"decode\" in a disaggregated deployment (a colocated "
                        "pool beside prefill and decode pools is not modelled: compare the two "
                        "layouts as separate scenarios)");
      }
    }
  }
  if (prefill + decode > 0 && (prefill == 0 || decode == 0)) {
    return BadValue(where.Key("pools"), prefill == 0 ? "no prefill pool" : "no decode pool",
                    "at least one pool with \"role\": \"prefill\" and one with \"role\": "
                    "\"decode\" (a disaggregated deployment needs both)");
  }
  if (kv_transfer_given && prefill + decode == 0) {
    return BadInput(where.Key("kv_transfer"),
                    "is read only by a disaggregated deployment (prefill and decode pools); "
                    "with serve pools no KV moves between instances: remove it");
  }
  return absl::OkStatus();
}

// deployment: one "serve" pool of the top-level keys, or deployment.pools.
absl::Status ParseDeploymentSection(JsonObjectReader& r, const PresetLibrary& presets,
                                    Scenario& s) {
  const JsonLocation where = r.where().Key("deployment");
  PoolSpec serve{"serve", PoolRole::kServe, s.hardware.gpu, s.runtime, {}, where};
  if (!r.Has("deployment")) {
    s.plan.pools = {serve};
    return absl::OkStatus();
  }
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader dep, r.Object("deployment"));
  MOESIM_ASSIGN_OR_RETURN(
      std::string router,
      dep.EnumOr("router", "least_loaded", {"least_loaded", "round_robin", "cache_aware"}));
  s.plan.router = router == "round_robin"   ? RouterPolicy::kRoundRobin
                  : router == "cache_aware" ? RouterPolicy::kCacheAware
                                            : RouterPolicy::kLeastLoaded;
  if (!dep.Has("pools")) {
    MOESIM_RETURN_IF_ERROR(ParseDeployment(dep, presets, serve.deployment));
    s.plan.pools = {serve};
    return absl::OkStatus();
  }
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* pools, dep.Value("pools"));
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* raw, r.Value("deployment"));
  for (const auto& [key, value] : raw->items()) {
    if (key != "pools" && key != "router" && key != "kv_transfer") {
      return BadInput(where.Key(key),
                      "with \"pools\" every deployment key except \"router\" and "
                      "\"kv_transfer\" belongs to a pool: move it into each entry of "
                      "deployment.pools");
    }
  }
  const bool kv_transfer_given = dep.Has("kv_transfer");
  if (kv_transfer_given) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader kv, dep.Object("kv_transfer"));
    MOESIM_RETURN_IF_ERROR(ParseKvTransfer(kv, presets, s.plan.kv_transfer));
  } else {
    MOESIM_RETURN_IF_ERROR(DefaultKvTransfer(presets, where, s.plan.kv_transfer));
  }
  MOESIM_RETURN_IF_ERROR(dep.Finish());
  if (!pools->is_array() || pools->empty()) {
    return BadValue(where.Key("pools"), *pools, "a non-empty array of pools");
  }
  for (size_t i = 0; i < pools->size(); ++i) {
    MOESIM_ASSIGN_OR_RETURN(PoolSpec pool,
                            ParsePool((*pools)[i], where.Key("pools").Index(i), presets, s));
    for (const PoolSpec& other : s.plan.pools) {
      if (other.name == pool.name) {
        return BadValue(pool.where.Key("name"), pool.name, "a name no other pool has");
      }
    }
    s.plan.pools.push_back(std::move(pool));
  }
  return CheckRoles(s.plan, where, kv_transfer_given);
}

}  // namespace

int64_t Scenario::LongestSequenceTokens() const { return workload.LongestSequenceTokens(); }

namespace {

// Draft layers every GPU holds as layers of the model: its MTP layers, or the EAGLE head's
// one layer (a separate draft model is held as itself).
int DraftLayersOf(const Scenario& s) {
  if (!s.speculative) return 0;
  switch (s.speculative->method) {
    case DraftMethod::kEagle:
      return 1;
    case DraftMethod::kDraftModel:
      return 0;
    case DraftMethod::kMtp:
      break;
  }
  return s.model.mtp_layers;
}

}  // namespace

absl::StatusOr<Deployment> DeployScenario(const Scenario& s) {
  const bool separate = s.speculative && s.speculative->method == DraftMethod::kDraftModel;
  std::optional<DraftMethod> method;
  if (s.speculative) method = s.speculative->method;
  return Deploy(s.plan, {s.model, s.cluster(), s.LongestSequenceTokens(), DraftLayersOf(s),
                         separate ? &s.speculative->draft_model : nullptr,
                         separate ? s.speculative->draft_gpus : 0, method});
}

CollectiveFidelity CollectivesFor(const Scenario& s, const PoolDeployment& pool) {
  if (s.simulation.collectives_given || s.simulation.fidelity != Fidelity::kLayer) {
    return s.simulation.collectives;
  }
  if (pool.gpus_per_instance() <= s.cluster().gpus_per_server) {
    // Inside a server every GPU has its own scale-up links, so an instance's collectives share
    // no link with another's: the closed form is exact and ~30x cheaper than SimGrid flows. Only
    // a disaggregated plan's KV transfers can cross the same links; they keep flows.
    return s.plan.Disaggregated() ? CollectiveFidelity::kFlows : CollectiveFidelity::kAnalytic;
  }
  return pool.plan().dp_attention ? CollectiveFidelity::kAnalytic : CollectiveFidelity::kPtask;
}

double PoolUsdPerHour(const Scenario& s, const PoolDeployment& pool) {
  const DeploymentSpec::AttentionFfn& a = pool.deployment().attention_ffn;
  if (!a.enabled()) return pool.total_gpus() * s.economics.PriceFor(pool.spec.gpu);
  const double per_instance = a.attention_gpus * s.economics.PriceFor(pool.spec.gpu) +
                              a.expert_gpus * s.economics.PriceFor(a.ExpertGpu(pool.spec.gpu));
  return per_instance * pool.deployment().instances;
}

PoolContext ContextFor(const Scenario& s, const PoolDeployment& pool) {
  PoolContext c{s.model,      pool,      s.cluster(),   s.workload,
                s.simulation, s.routing, s.speculative, s.kv_hierarchy};
  c.collectives = CollectivesFor(s, pool);
  c.cache_aware_ranks = s.plan.router == RouterPolicy::kCacheAware;
  return c;
}

absl::StatusOr<const PoolDeployment*> ServePool(const Scenario& s, const Deployment& d) {
  const JsonLocation pools = JsonLocation{s.file, "$"}.Key("deployment").Key("pools");
  if (d.pools.size() != 1) {
    return BadInput(pools,
                    absl::StrCat(d.pools.size(),
                                 " pools: this command analyses a plan of one \"serve\" pool "
                                 "(`moesim run` simulates several pools; `moesim explain` shows "
                                 "each one's placement and memory)"));
  }
  const PoolSpec& pool = d.pools[0].spec;
  if (pool.role != PoolRole::kServe) {
    return BadValue(pool.where.Key("role"), PoolRoleName(pool.role),
                    "\"serve\" for a simulation: a lone prefill or decode pool has no partner "
                    "to hand its requests to");
  }
  return &d.pools[0];
}

absl::StatusOr<std::unique_ptr<ServeSetup>> SetUpServePool(const Scenario& s) {
  auto setup = std::make_unique<ServeSetup>();
  MOESIM_ASSIGN_OR_RETURN(setup->deployment, DeployScenario(s));
  MOESIM_ASSIGN_OR_RETURN(const PoolDeployment* serve, ServePool(s, setup->deployment));
  setup->pool = std::make_unique<PoolContext>(ContextFor(s, *serve));
  return setup;
}

namespace {

// Routing and expert placement need a plan: checked on the deployed serve-shaped pools.
absl::Status CheckRouting(const Scenario& s, const Deployment& d, const JsonLocation& root) {
  if (s.routing) {
    ExpertRouter router(*s.routing, s.model.moe, s.model.MoeLayerCount(), s.simulation.seed);
    if (absl::Status st = router.Validate(); !st.ok()) {
      return BadInput(root.Key("routing"), std::string(st.message()));
    }
    for (const PoolDeployment& pool : d.pools) {
      auto sampler = MoeLoadSampler::Make(ContextFor(s, pool), s.simulation.seed);
      if (!sampler.ok()) {
        return BadInput(pool.spec.where.Key("expert_placement"),
                        std::string(sampler.status().message()));
      }
    }
    return absl::OkStatus();
  }
  for (const PoolSpec& pool : s.plan.pools) {
    if (pool.deployment.expert_placement_given) {
      return BadInput(pool.where.Key("expert_placement"),
                      "needs a routing model: add \"routing\" (e.g. {\"kind\": \"zipf\", "
                      "\"exponent\": 1.0}); without it every expert gets its expected uniform "
                      "load");
    }
  }
  return absl::OkStatus();
}

// Settings the plan cannot honour are rejected, not ignored.
absl::Status CheckSimulationAgainstPlan(const Scenario& s, const JsonLocation& root) {
  for (const PoolSpec& pool : s.plan.pools) {
    if (s.speculative && pool.deployment.attention_ffn.enabled() &&
        s.speculative->method == DraftMethod::kDraftModel &&
        !s.speculative->draft_model.IsDense()) {
      // The expert side holds and runs the target's experts; an MoE draft model's experts would
      // need a place and kernels of their own there.
      return BadValue(
          root.Key("speculative").Key("draft_model"), s.speculative->draft_model.name,
          absl::StrCat("a dense draft model with deployment.attention_ffn (pool \"", pool.name,
                       "\"): the drafts run on the attention side; an MoE draft "
                       "model's experts are not placed on the expert side"));
    }
    if (s.simulation.fidelity == Fidelity::kKernel && pool.deployment.plan.dp_attention) {
      // The runner walks an EP group's ranks in one actor, their kernels interleaved in time;
      // kernel Execs (which only re-time what the layer fidelity computes, on dedicated GPU
      // hosts) are run for TP/PP instances, one stage at a time.
      return BadValue(root.Key("simulation").Key("fidelity"), "kernel",
                      "\"layer\" or \"step\" with \"attention\": \"data_parallel\" (kernel "
                      "Execs are simulated for tensor/pipeline-parallel instances only; on an "
                      "isolated GPU they take exactly the layer fidelity's kernel times)");
    }
  }
  return absl::OkStatus();
}

// What the KV hierarchy is simulated for, and what it needs; the rest is refused, not ignored.
// Faults: inside the cluster and the simulated period, on the plans they are simulated for.
absl::Status CheckFaults(const Scenario& s, const JsonLocation& root) {
  const JsonLocation where = root.Key("faults");
  if (s.faults.empty()) return absl::OkStatus();
  for (size_t i = 0; i < s.faults.size(); ++i) {
    const FaultSpec& f = s.faults[i];
    const JsonLocation at = where.Index(i);
    if (f.at_s >= s.simulation.duration_s) {
      return BadValue(at.Key("at_s"), f.at_s,
                      absl::StrCat("a time before the end of the run (simulation.duration_s = ",
                                   s.simulation.duration_s, ")"));
    }
    const ClusterSpec& c = s.cluster();
    const char* key = FaultTargetKey(f.kind);
    const bool rack = f.kind == FaultKind::kLink || f.kind == FaultKind::kLeafSwitch;
    const bool spine = f.kind == FaultKind::kSpineSwitch;
    const int64_t count = rack                           ? c.racks
                          : spine                        ? c.spine_switches
                          : f.kind == FaultKind::kServer ? c.servers()
                                                         : c.total_gpus();
    if (f.target >= count) {
      return BadValue(at.Key(key), f.target,
                      absl::StrCat("an index below the cluster's ", count,
                                   rack    ? " racks"
                                   : spine ? " spine switches (hardware.spine_switches)"
                                   : f.kind == FaultKind::kServer ? " servers"
                                                                  : " GPUs"));
    }
    if (f.ep_group_continue && s.plan.Disaggregated()) {
      return BadValue(at.Key("ep_group"), "continue",
                      "\"stop\" with prefill/decode pools (an EP group that drops ranks while "
                      "KV moves to or from them is not simulated)");
    }
    if (f.ep_group_continue) {
      bool redundant_group = false;
      for (const PoolSpec& p : s.plan.pools) {
        redundant_group |= p.deployment.plan.dp_attention &&
                           !p.deployment.attention_ffn.enabled() &&
                           p.deployment.expert_placement.kind == PlacementSpec::Kind::kRedundant;
      }
      if (!redundant_group || !s.routing) {
        return BadValue(
            at.Key("ep_group"), "continue",
            "\"stop\": an EP group goes on without a GPU only with DP attention, "
            "deployment.expert_placement kind \"redundant\" (a replica of each "
            "expert elsewhere) and a routing section (the placement to take them from)");
      }
    }
    if (f.kind == FaultKind::kLeafSwitch && c.servers() < 2) {
      return BadInput(at, "the cluster is one server: it has no leaf switch to fail");
    }
    if (spine && c.racks < 2) {
      return BadInput(at, "the cluster is one rack: it has no spine switch to fail");
    }
    if (f.kind == FaultKind::kScaleUpLink) {
      if (c.scaleup_domain_gpus() < 2) {
        return BadInput(at, "the scale-up domain is one GPU: it has no scale-up link to fail");
      }
      if (c.scaleup.links_per_gpu < 1) {
        return BadInput(at, absl::StrCat("the scale-up fabric \"", c.scaleup.name,
                                         "\" gives no links_per_gpu (how many links a GPU has "
                                         "on it): set it in hardware.fabrics.scaleup"));
      }
      int64_t down = 0;  // this and every other fault on the same GPU's links
      for (const FaultSpec& g : s.faults) {
        if (g.kind == FaultKind::kScaleUpLink && g.target == f.target) down += g.ports;
      }
      if (down >= c.scaleup.links_per_gpu) {
        return BadValue(
            at.Key("ports"), f.ports,
            absl::StrCat("fewer than the GPU's ", c.scaleup.links_per_gpu, " ", c.scaleup.name,
                         " links with every fault on GPU ", f.target, " counted (", down,
                         " in all); a GPU with no link left is a \"gpu\" fault"));
      }
    }
    if (f.kind == FaultKind::kLink) {
      if (c.racks < 2) {
        return BadInput(at, "the cluster is one rack: it has no uplink to the spine to fail");
      }
      // The last port may be a fraction of one (NICs per rack / oversubscription).
      if (c.UplinkCutOff(double(f.ports) - 1)) {
        return BadValue(at.Key("ports"), f.ports,
                        absl::StrCat("at most the rack's ", std::ceil(c.uplink_ports() - 1e-9),
                                     " uplink ports (NICs per rack / leaf_oversubscription)"));
      }
    }
  }
  // Faults that each take part of a rack's uplink could together take all of it, which would
  // cut the rack off with no single fault to restart its instances: refused (one fault with
  // every port down says it).
  for (int64_t r = 0; r < s.cluster().racks; ++r) {
    double partial = 0;
    for (const FaultSpec& f : s.faults) {
      if (f.kind == FaultKind::kLink && f.target == r &&
          !s.cluster().UplinkCutOff(double(f.ports))) {
        partial += double(f.ports);
      }
      // A spine switch of several takes its share of every rack's uplink.
      if (f.kind == FaultKind::kSpineSwitch && s.cluster().spine_switches > 1) {
        partial += s.cluster().uplink_ports_per_spine();
      }
    }
    if (partial > 0 && s.cluster().UplinkCutOff(partial)) {
      return BadInput(where, absl::StrCat("link and spine-switch faults take ", partial,
                                          " of rack ", r, "'s ", s.cluster().uplink_ports(),
                                          " uplink ports in all: overlapping faults that cut a "
                                          "rack off are not simulated; give one fault with "
                                          "every port down"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckKvHierarchy(const Scenario& s, const JsonLocation& root) {
  if (!s.kv_hierarchy) return absl::OkStatus();
  const KvHierarchySpec& tiers = *s.kv_hierarchy;
  const JsonLocation where = root.Key("kv_hierarchy");
  for (const PoolSpec& pool : s.plan.pools) {
    if (pool.deployment.attention_ffn.enabled()) {
      return BadInput(where,
                      absl::StrCat("is simulated for tensor/pipeline-parallel pools and "
                                   "DP-attention EP groups; pool \"",
                                   pool.name, "\" is an attention/FFN pool (not built yet)"));
    }
  }
  // Sliding-window layers: a cached block names its full-attention layers' KV; the window
  // before a hit (at most a block or two of the sliding layers) is taken as cached with it, as
  // vLLM's hybrid cache keeps sliding-window blocks too. A linear-attention layer's state at the
  // hit would have to be cached per block (SGLang's MambaRadixCache): not modelled.
  if (tiers.prefix_caching && s.model.CountLayers(LayerAttention::kLinear) > 0) {
    return BadValue(where.Key("prefix_caching"), true,
                    absl::StrCat("false: ", s.model.name,
                                 " has linear-attention layers, whose cached state is not "
                                 "modelled (full and sliding-window attention only)"));
  }
  const FabricSpec& host = s.cluster().host;
  if (tiers.host_tier() &&
      (host.copy_efficiency_to_host <= 0 || host.copy_efficiency_from_host <= 0)) {
    return BadInput(
        where.Key("host_kv_gb_per_server"),
        absl::StrCat("a host tier needs the host link's copy efficiencies: fabric \"", host.name,
                     "\" gives no copy_efficiency_to_host / copy_efficiency_from_host"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Scenario> ParseScenario(const nlohmann::json& doc, const std::string& file,
                                       const PresetLibrary& presets) {
  Scenario s;
  s.file = file;
  const JsonLocation root{file, "$"};
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(doc, root));
  if (r.Has("sweep")) {
    return BadInput(root.Key("sweep"),
                    "a scenario with a sweep section is a plan search: run it "
                    "with `moesim sweep`");
  }
  MOESIM_ASSIGN_OR_RETURN(s.name, r.String("name"));
  MOESIM_ASSIGN_OR_RETURN(s.description, r.StringOr("description", ""));
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader hw, r.Object("hardware"));
  MOESIM_RETURN_IF_ERROR(ParseHardware(hw, presets, s.hardware));
  MOESIM_RETURN_IF_ERROR(ParseModelSection(r, presets, s.model));
  MOESIM_ASSIGN_OR_RETURN(
      s.runtime,
      ResolveAndParse<RuntimeSpec>(r, "runtime", presets, PresetKind::kRuntime, ParseRuntimeSpec));
  MOESIM_RETURN_IF_ERROR(ParseDeploymentSection(r, presets, s));
  if (r.Has("rlvr")) {
    if (r.Has("workload")) {
      return BadInput(root.Key("workload"),
                      "an RLVR scenario draws its samples from $.rlvr: give no workload");
    }
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* rlvr, r.Value("rlvr"));
    MOESIM_ASSIGN_OR_RETURN(s.rlvr, ParseRlvrSpec(*rlvr, root.Key("rlvr")));
    s.workload.arrival = WorkloadSpec::Arrival::kClosedLoop;
    s.workload.concurrency = s.rlvr->samples_per_step();
    s.workload.input_tokens = s.rlvr->prompt_tokens;
    s.workload.output_tokens = s.rlvr->output_tokens;
  } else {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* workload, r.Value("workload"));
    MOESIM_ASSIGN_OR_RETURN(s.workload, ParseWorkloadSpec(*workload, root.Key("workload")));
  }
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader sim, r.Object("simulation"));
  MOESIM_RETURN_IF_ERROR(ParseSimulation(sim, s.simulation));
  if (r.Has("economics")) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader econ, r.Object("economics"));
    MOESIM_ASSIGN_OR_RETURN(s.economics.usd_per_gpu_hour,
                            econ.OptionalNumber("usd_per_gpu_hour", NumberRule::NonNegative()));
    MOESIM_RETURN_IF_ERROR(econ.Finish());
  }
  if (r.Has("speculative")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* spec, r.Value("speculative"));
    MOESIM_ASSIGN_OR_RETURN(s.speculative,
                            ParseSpeculativeSpec(*spec, root.Key("speculative"), s.model, presets));
  }
  if (r.Has("kv_hierarchy")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* tiers, r.Value("kv_hierarchy"));
    MOESIM_ASSIGN_OR_RETURN(s.kv_hierarchy,
                            ParseKvHierarchySpec(*tiers, root.Key("kv_hierarchy"), presets));
  }
  if (r.Has("routing")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* routing, r.Value("routing"));
    if (s.model.IsDense()) {
      return BadInput(root.Key("routing"), absl::StrCat("no routing section: ", s.model.name,
                                                        " is a dense model (no routed experts)"));
    }
    MOESIM_ASSIGN_OR_RETURN(s.routing, ParseRoutingSpec(*routing, root.Key("routing")));
  }
  if (r.Has("faults")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* faults, r.Value("faults"));
    MOESIM_ASSIGN_OR_RETURN(s.faults, ParseFaults(*faults, root.Key("faults")));
  }
  if (r.Has("reference")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* refs, r.Value("reference"));
    MOESIM_RETURN_IF_ERROR(ParseReferences(*refs, root.Key("reference"), s.references));
  }
  MOESIM_RETURN_IF_ERROR(r.Finish());
  if (s.workload.arrival == WorkloadSpec::Arrival::kPoisson &&
      s.workload.rate_per_s * s.simulation.duration_s > kMaxRequests) {
    return BadValue(root.Key("workload").Key("rate_per_s"), s.workload.rate_per_s,
                    absl::StrCat("at most ", kMaxRequests, " requests over the ",
                                 s.simulation.duration_s, " s simulated (rate × duration)"));
  }
  MOESIM_RETURN_IF_ERROR(CheckSimulationAgainstPlan(s, root));
  MOESIM_RETURN_IF_ERROR(CheckKvHierarchy(s, root));
  MOESIM_RETURN_IF_ERROR(CheckFaults(s, root));
  if (s.workload.session_turns > 0 || s.workload.shared_prefix_tokens > 0) {
    if (s.rlvr) {
      return BadInput(root.Key("workload"), "no sessions or shared prefix with an rlvr section");
    }
  }
  // Validated by deploying it; the deployment is derived and not kept.
  MOESIM_ASSIGN_OR_RETURN(Deployment deployment, DeployScenario(s));
  MOESIM_RETURN_IF_ERROR(CheckRouting(s, deployment, root));
  return s;
}

absl::StatusOr<Scenario> LoadScenario(const std::string& path, const PresetLibrary& presets) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open scenario file (not a file)"));
  }
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open scenario file"));
  std::stringstream text;
  text << in.rdbuf();
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJsonText(text.str(), path));
  return ParseScenario(doc, path, presets);
}

namespace {

nlohmann::json DeploymentToJson(const DeploymentSpec& d) {
  nlohmann::json j = {
      {"tensor_parallel", d.plan.tp},
      {"pipeline_parallel", d.plan.pp},
      {"attention", d.plan.dp_attention ? "data_parallel" : "tensor_parallel"},
      {"expert_parallel", d.plan.ep},
      {"dense_tensor_parallel", d.plan.DenseTp()},
      {"instances", d.instances},
      {"placement", d.placement == DeploymentSpec::Placement::kSpread ? "spread" : "packed"},
      {"first_rack", d.first_rack},
      {"expert_placement", PlacementSpecToJson(d.expert_placement)}};
  if (d.attention_ffn.enabled()) {
    const DeploymentSpec::AttentionFfn& a = d.attention_ffn;
    j["attention_ffn"] = {
        {"attention_gpus", a.attention_gpus},
        {"expert_gpus", a.expert_gpus},
        {"micro_batches", a.micro_batches},
        {"dispatch_dtype", DTypeName(a.dispatch_dtype)},
        {"combine_dtype", DTypeName(a.combine_dtype)},
        {"shared_experts", a.shared_experts_on_expert_side ? "experts" : "attention"}};
    if (a.expert_gpu) j["attention_ffn"]["expert_gpu"] = a.expert_gpu->name;
  } else if (d.plan.dp_attention) {
    j["two_batch_overlap"] = d.two_batch_overlap;
    j["moe_dispatch"] = MoeDispatchName(d.moe_dispatch);
    if (d.moe_tensor_sharded) j["moe_sharding"] = "tensor";
  }
  return j;
}

nlohmann::json MemoryPlanToJson(const MemoryPlan& m) {
  return {{"usable_gb", m.usable_bytes / 1e9},
          {"weights_gb", m.weight_bytes / 1e9},
          {"activation_reserve_gb", m.reserve_bytes / 1e9},
          {"linear_state_pool_gb", m.state_pool_bytes / 1e9},
          {"kv_budget_gb", m.kv_budget_bytes / 1e9},
          {"kv_blocks", m.kv_blocks},
          {"kv_capacity_tokens", m.kv_capacity_tokens}};
}

// A deployed pool: what it was given, where it sits, its resolved runtime and memory.
nlohmann::json PoolToJson(const Scenario& s, const PoolDeployment& d) {
  nlohmann::json j = DeploymentToJson(d.spec.deployment);
  j["name"] = d.spec.name;
  j["role"] = PoolRoleName(d.spec.role);
  j["gpu"] = d.spec.gpu.name;
  j["runtime"] = RuntimeSpecToJson(d.spec.runtime);
  j["runtime"]["preset_resolved"] = d.spec.runtime.name;
  j["servers"] = d.servers;
  j["gpus"] = d.total_gpus();
  j["collectives"] = CollectiveFidelityName(CollectivesFor(s, d));
  j["usd_per_gpu_hour"] = s.economics.PriceFor(d.spec.gpu);
  j["usd_per_hour"] = PoolUsdPerHour(s, d);
  j["per_gpu_memory"] = MemoryPlanToJson(d.memory);
  if (d.deployment().attention_ffn.enabled()) {
    j["per_expert_gpu_memory"] = MemoryPlanToJson(d.expert_memory);
  }
  return j;
}

}  // namespace

nlohmann::json ScenarioToJson(const Scenario& s) {
  nlohmann::json j = nlohmann::json::object();
  j["name"] = s.name;
  j["description"] = s.description;
  nlohmann::json gpu = GpuSpecToJson(s.hardware.gpu);
  gpu["preset_resolved"] = s.hardware.gpu.name;
  nlohmann::json hardware = ClusterSpecToJson(s.hardware.cluster);
  hardware["gpu"] = gpu;
  j["hardware"] = hardware;
  nlohmann::json model = ModelSpecToJson(s.model);
  model["preset_resolved"] = s.model.name;
  j["model"] = model;
  nlohmann::json runtime = RuntimeSpecToJson(s.runtime);
  runtime["preset_resolved"] = s.runtime.name;
  j["runtime"] = runtime;
  if (!s.faults.empty()) j["faults"] = FaultsToJson(s.faults);
  if (s.rlvr) {
    j["rlvr"] = RlvrSpecToJson(*s.rlvr);
  } else {
    j["workload"] = WorkloadSpecToJson(s.workload);
  }
  j["simulation"] = {{"duration_s", s.simulation.duration_s},
                     {"warmup_s", s.simulation.warmup_s},
                     {"seed", s.simulation.seed},
                     {"fidelity", FidelityName(s.simulation.fidelity)},
                     {"timeseries_interval_s", s.simulation.timeseries_interval_s}};
  j["economics"] = nlohmann::json::object();
  if (s.economics.usd_per_gpu_hour) {
    j["economics"]["usd_per_gpu_hour"] = *s.economics.usd_per_gpu_hour;
  }
  j["routing"] = s.routing ? RoutingSpecToJson(*s.routing) : nlohmann::json("expected_uniform");
  j["speculative"] =
      s.speculative ? SpeculativeSpecToJson(*s.speculative) : nlohmann::json(nullptr);
  if (s.kv_hierarchy) j["kv_hierarchy"] = KvHierarchySpecToJson(*s.kv_hierarchy);
  nlohmann::json refs = nlohmann::json::array();
  for (const auto& m : s.references) {
    refs.push_back({{"metric", m.metric},
                    {"value", m.value},
                    {"unit", m.unit},
                    {"source", m.source},
                    {"tolerance_pct", m.tolerance_pct}});
  }
  if (!refs.empty()) j["reference"] = refs;
  // The pools as deployed (a validated scenario always deploys).
  nlohmann::json pools = nlohmann::json::array();
  auto deployment = DeployScenario(s);
  if (deployment.ok()) {
    for (const PoolDeployment& d : deployment->pools) pools.push_back(PoolToJson(s, d));
  }
  j["deployment"] = {{"pools", pools}, {"router", RouterPolicyName(s.plan.router)}};
  if (s.plan.Disaggregated()) {
    nlohmann::json connector = KvConnectorSpecToJson(s.plan.kv_transfer.connector);
    connector["preset_resolved"] = s.plan.kv_transfer.connector.name;
    j["deployment"]["kv_transfer"] = {{"connector", connector},
                                      {"layerwise", s.plan.kv_transfer.layerwise}};
  }
  j["derived"] = {{"total_params", s.model.TotalParams()},
                  {"active_params", s.model.ActiveParams()},
                  {"weight_bytes", s.model.WeightBytes()}};
  return j;
}

}  // namespace moesim
