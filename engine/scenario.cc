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

std::vector<int> DeploymentSpec::InstanceGpus(int i) const {
  std::vector<int> gpus;
  for (int g = 0; g < gpus_per_instance(); ++g)
    gpus.push_back(gpu_order[i * gpus_per_instance() + g]);
  return gpus;
}

std::vector<int> DeploymentSpec::StageGpus(int i, int stage) const {
  std::vector<int> gpus;
  for (int g = 0; g < plan.tp; ++g) {
    gpus.push_back(gpu_order[i * gpus_per_instance() + stage * plan.tp + g]);
  }
  return gpus;
}

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

const char* MoeDispatchName(DeploymentSpec::MoeDispatch d) {
  return d == DeploymentSpec::MoeDispatch::kNormal ? "normal" : "low_latency";
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
  MOESIM_ASSIGN_OR_RETURN(
      m, ResolveAndParse<ModelSpec>(r, "model", presets, PresetKind::kModel, ParseModelSpec));
  return absl::OkStatus();
}

absl::Status ParseDeployment(JsonObjectReader r, DeploymentSpec& d) {
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
  if (r.Has("expert_placement")) {
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
  MOESIM_ASSIGN_OR_RETURN(d.two_batch_overlap, r.BoolOr("two_batch_overlap", false));
  if (!d.plan.dp_attention && d.two_batch_overlap) {
    return BadValue(r.where().Key("two_batch_overlap"), true,
                    "false unless \"attention\": \"data_parallel\" (it overlaps the MoE "
                    "all-to-alls of an expert-parallel group)");
  }
  MOESIM_ASSIGN_OR_RETURN(std::string dispatch,
                          r.EnumOr("moe_dispatch", "low_latency", {"low_latency", "normal"}));
  d.moe_dispatch = dispatch == "normal" ? DeploymentSpec::MoeDispatch::kNormal
                                        : DeploymentSpec::MoeDispatch::kLowLatency;
  if (!d.plan.dp_attention && d.moe_dispatch == DeploymentSpec::MoeDispatch::kNormal) {
    return BadValue(r.where().Key("moe_dispatch"), dispatch,
                    "\"low_latency\" unless \"attention\": \"data_parallel\" (it chooses the "
                    "DeepEP kernels of an expert-parallel group's all-to-alls)");
  }
  if (d.plan.dp_attention) {
    if (d.plan.tp != 1 || d.plan.pp != 1) {
      return BadValue(r.where().Key(d.plan.tp != 1 ? "tensor_parallel" : "pipeline_parallel"),
                      d.plan.tp != 1 ? tp : pp,
                      "1 with \"attention\": \"data_parallel\" (every GPU of the expert-parallel "
                      "group runs attention for its own sequences)");
    }
    if (d.plan.ep < 2) {
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

// Whole-plan checks: GPUs, heads, experts, memory.
absl::Status CheckPlan(Scenario& s, const JsonLocation& root) {
  const JsonLocation dep = root.Key("deployment");
  const ParallelPlan& p = s.deployment.plan;
  const ClusterSpec& cl = s.cluster();
  if (cl.gpus_per_server % p.tp != 0 && p.tp % cl.gpus_per_server != 0) {
    return BadValue(dep.Key("tensor_parallel"), p.tp,
                    absl::StrCat("a divisor or a multiple of hardware.gpus_per_server (",
                                 cl.gpus_per_server, "), so that instances tile whole servers"));
  }
  if (p.dp_attention && cl.gpus_per_server % p.ep != 0 && p.ep % cl.gpus_per_server != 0) {
    return BadValue(dep.Key("expert_parallel"), p.ep,
                    absl::StrCat("a divisor or a multiple of hardware.gpus_per_server (",
                                 cl.gpus_per_server, "), so that EP groups tile whole servers"));
  }
  if (s.deployment.moe_dispatch == DeploymentSpec::MoeDispatch::kNormal &&
      s.runtime.mode == ExecutionMode::kCudaGraph) {
    // SGLang PR #5014 / issue #6218, rtp-llm PR #1308: DeepEP's normal kernels sync with the
    // host for the receive counts and cannot be captured into a CUDA graph.
    return BadValue(
        dep.Key("moe_dispatch"), "normal",
        "\"low_latency\" with runtime.execution_mode \"cuda_graph\" (DeepEP's normal "
        "kernels wait on the host for receive counts and cannot be graph-captured, "
        "as SGLang and rtp-llm enforce); set \"execution_mode\": \"eager\" to use them");
  }
  const int cluster_gpus = cl.total_gpus();
  if (p.tp > cluster_gpus) {
    return BadValue(dep.Key("tensor_parallel"), p.tp,
                    absl::StrCat("at most the cluster's ", cluster_gpus, " GPUs"));
  }
  if (p.dp_attention && s.deployment.gpus_per_instance() > cluster_gpus) {
    return BadValue(dep.Key("expert_parallel"), p.ep,
                    absl::StrCat("at most the cluster's ", cluster_gpus, " GPUs"));
  }
  if (p.tp * p.pp > cluster_gpus) {
    return BadValue(dep.Key("pipeline_parallel"), p.pp,
                    absl::StrCat("at most ", cluster_gpus / p.tp, " stages of ", p.tp,
                                 " GPUs on the cluster's ", cluster_gpus, " GPUs"));
  }
  if (p.pp > s.model.layers) {
    return BadValue(dep.Key("pipeline_parallel"), p.pp,
                    absl::StrCat("at most the model's ", s.model.layers, " layers"));
  }
  if (s.total_gpus() > cluster_gpus) {
    return BadValue(dep.Key("instances"), s.deployment.instances,
                    absl::StrCat("at most ", cluster_gpus / (p.tp * p.pp), " instances of ",
                                 p.tp * p.pp, " GPUs on ", cluster_gpus, " GPUs"));
  }
  const ModelSpec& m = s.model;
  const int heads = m.attention.q_heads;
  if (heads % p.tp != 0) {
    return BadValue(dep.Key("tensor_parallel"), p.tp,
                    absl::StrCat("a divisor of the model's ", heads, " attention heads"));
  }
  if (m.CountLayers(LayerAttention::kLinear) > 0 && m.linear.v_heads % p.tp != 0) {
    return BadValue(dep.Key("tensor_parallel"), p.tp,
                    absl::StrCat("a divisor of the model's ", m.linear.v_heads,
                                 " linear-attention value heads"));
  }
  const int slots = m.moe.routed_experts + p.redundant_experts;
  if (p.ep > 1 && slots % p.ep != 0) {
    return BadValue(
        dep.Key("expert_parallel"), p.ep,
        absl::StrCat("a divisor of the model's ", m.moe.routed_experts, " routed experts",
                     p.redundant_experts > 0
                         ? absl::StrCat(" plus ", p.redundant_experts, " redundant slots (", slots,
                                        " slots)")
                         : std::string()));
  }
  if (m.moe.expert_inter % p.MoeTp() != 0) {
    return BadValue(dep.Key("tensor_parallel"), p.tp,
                    absl::StrCat("a multiple of expert_parallel whose quotient (", p.MoeTp(),
                                 ") divides the expert intermediate size ", m.moe.expert_inter));
  }
  // Slot -> GPU order of the chosen placement.
  s.deployment.gpu_order.clear();
  for (int k = 0; k < cl.servers(); ++k) {
    const int server = s.deployment.placement == DeploymentSpec::Placement::kPacked
                           ? k
                           : (k % cl.racks) * cl.servers_per_rack + k / cl.racks;
    for (int g = 0; g < cl.gpus_per_server; ++g) {
      s.deployment.gpu_order.push_back(server * cl.gpus_per_server + g);
    }
  }
  if (!s.simulation.collectives_given && s.simulation.fidelity != Fidelity::kStep &&
      s.deployment.gpus_per_instance() > cl.gpus_per_server) {
    // DP-attention EP groups: analytic per-pair link-load bounds (a SimGrid parallel task per
    // all-to-all costs ~0.1 s of wall time at EP 256; tests/engine/ep_group_fidelity_test.cc
    // measures the shortcut against ptask and flows). Other instances: parallel tasks.
    s.simulation.collectives =
        p.dp_attention ? CollectiveFidelity::kAnalytic : CollectiveFidelity::kPtask;
  }

  const int64_t longest = s.workload.input_tokens.Max() + s.workload.output_tokens.Max();

  // The stack's own rules for what the runtime left open (models/serving_stack_rules.h).
  StackPlanShape shape;
  shape.tp_size = s.deployment.gpus_per_instance() / p.pp;
  shape.pp = p.pp;
  shape.dp_attention = p.dp_attention ? p.ep : 1;
  ResolveRuntimeDefaults(s.runtime, s.hardware.gpu, shape);
  const KvFootprint fp = s.Footprint();
  auto mem = PlanMemory(m, s.hardware.gpu, s.runtime, p, fp, longest);
  if (!mem.ok()) return BadInput(dep, std::string(mem.status().message()));
  s.memory = *mem;
  ResolveRunningCap(s.runtime, s.memory.kv_capacity_tokens, m.max_context_tokens);
  if (s.memory.running_cap_by_state > 0 && s.runtime.MaxNumSeqs() > s.memory.running_cap_by_state) {
    // SGLang caps running requests at the linear-state pool's slots / 3.
    s.runtime.max_num_seqs = static_cast<int>(s.memory.running_cap_by_state);
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
  MOESIM_ASSIGN_OR_RETURN(s.name, r.String("name"));
  MOESIM_ASSIGN_OR_RETURN(s.description, r.StringOr("description", ""));
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader hw, r.Object("hardware"));
  MOESIM_RETURN_IF_ERROR(ParseHardware(hw, presets, s.hardware));
  MOESIM_RETURN_IF_ERROR(ParseModelSection(r, presets, s.model));
  MOESIM_ASSIGN_OR_RETURN(
      s.runtime,
      ResolveAndParse<RuntimeSpec>(r, "runtime", presets, PresetKind::kRuntime, ParseRuntimeSpec));
  if (r.Has("deployment")) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader dep, r.Object("deployment"));
    MOESIM_RETURN_IF_ERROR(ParseDeployment(dep, s.deployment));
  }
  MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* workload, r.Value("workload"));
  MOESIM_ASSIGN_OR_RETURN(s.workload, ParseWorkloadSpec(*workload, root.Key("workload")));
  MOESIM_ASSIGN_OR_RETURN(JsonObjectReader sim, r.Object("simulation"));
  MOESIM_RETURN_IF_ERROR(ParseSimulation(sim, s.simulation));
  s.economics.usd_per_gpu_hour = s.hardware.gpu.usd_per_hour;
  if (r.Has("economics")) {
    MOESIM_ASSIGN_OR_RETURN(JsonObjectReader econ, r.Object("economics"));
    MOESIM_ASSIGN_OR_RETURN(
        s.economics.usd_per_gpu_hour,
        econ.NumberOr("usd_per_gpu_hour", s.hardware.gpu.usd_per_hour, NumberRule::NonNegative()));
    MOESIM_RETURN_IF_ERROR(econ.Finish());
  }
  if (r.Has("routing")) {
    MOESIM_ASSIGN_OR_RETURN(const nlohmann::json* routing, r.Value("routing"));
    MOESIM_ASSIGN_OR_RETURN(s.routing, ParseRoutingSpec(*routing, root.Key("routing")));
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
  MOESIM_RETURN_IF_ERROR(CheckPlan(s, root));
  if (s.routing) {
    ExpertRouter router(*s.routing, s.model.moe, s.model.MoeLayerCount(), s.simulation.seed);
    if (absl::Status st = router.Validate(); !st.ok()) {
      return BadInput(root.Key("routing"), std::string(st.message()));
    }
    auto sampler = MoeLoadSampler::Make(s, s.simulation.seed);
    if (!sampler.ok()) {
      return BadInput(root.Key("deployment").Key("expert_placement"),
                      std::string(sampler.status().message()));
    }
  } else if (doc.contains("deployment") && doc["deployment"].contains("expert_placement")) {
    return BadInput(root.Key("deployment").Key("expert_placement"),
                    "needs a routing model: add \"routing\" (e.g. {\"kind\": \"zipf\", "
                    "\"exponent\": 1.0}); without it every expert gets its expected uniform load");
  }
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
  j["deployment"] = {
      {"tensor_parallel", s.deployment.plan.tp},
      {"pipeline_parallel", s.deployment.plan.pp},
      {"attention", s.deployment.plan.dp_attention ? "data_parallel" : "tensor_parallel"},
      {"expert_parallel", s.deployment.plan.ep},
      {"dense_tensor_parallel", s.deployment.plan.DenseTp()},
      {"instances", s.deployment.instances},
      {"placement",
       s.deployment.placement == DeploymentSpec::Placement::kSpread ? "spread" : "packed"}};
  if (s.deployment.plan.dp_attention) {
    j["deployment"]["two_batch_overlap"] = s.deployment.two_batch_overlap;
    j["deployment"]["moe_dispatch"] = MoeDispatchName(s.deployment.moe_dispatch);
  }
  j["workload"] = WorkloadSpecToJson(s.workload);

  j["simulation"] = {{"duration_s", s.simulation.duration_s},
                     {"warmup_s", s.simulation.warmup_s},
                     {"seed", s.simulation.seed},
                     {"fidelity", FidelityName(s.simulation.fidelity)},
                     {"collectives", CollectiveFidelityName(s.simulation.collectives)}};
  j["economics"] = {{"usd_per_gpu_hour", s.economics.usd_per_gpu_hour}};
  j["routing"] = s.routing ? RoutingSpecToJson(*s.routing) : nlohmann::json("expected_uniform");
  j["deployment"]["expert_placement"] = PlacementSpecToJson(s.deployment.expert_placement);

  nlohmann::json refs = nlohmann::json::array();
  for (const auto& m : s.references) {
    refs.push_back({{"metric", m.metric},
                    {"value", m.value},
                    {"unit", m.unit},
                    {"source", m.source},
                    {"tolerance_pct", m.tolerance_pct}});
  }
  if (!refs.empty()) j["reference"] = refs;
  j["derived"] = {{"total_params", s.model.TotalParams()},
                  {"active_params", s.model.ActiveParams()},
                  {"weight_bytes", s.model.WeightBytes()},
                  {"per_gpu_memory",
                   {{"usable_gb", s.memory.usable_bytes / 1e9},
                    {"weights_gb", s.memory.weight_bytes / 1e9},
                    {"activation_reserve_gb", s.memory.reserve_bytes / 1e9},
                    {"linear_state_pool_gb", s.memory.state_pool_bytes / 1e9},
                    {"kv_budget_gb", s.memory.kv_budget_bytes / 1e9},
                    {"kv_blocks", s.memory.kv_blocks},
                    {"kv_capacity_tokens", s.memory.kv_capacity_tokens}}}};
  return j;
}

}  // namespace moesim
