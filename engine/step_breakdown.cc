#include "engine/step_breakdown.h"

#include <nlohmann/json.hpp>

#include "engine/instance.h"
#include "engine/instance_fabric.h"
#include "engine/step_model.h"
#include "models/kernel_cost.h"
#include "topology/cluster_graph.h"

namespace moesim {

namespace {

const char* ClassName(const Op& op) {
  switch (op.cls) {
    case OpClass::kGemm:
      return "gemm";
    case OpClass::kMoe:
      return "moe";
    case OpClass::kAttention:
      return op.attention == AttentionFamily::kMla      ? "attention_mla"
             : op.attention == AttentionFamily::kLinear ? "attention_linear"
                                                        : "attention_gqa";
    case OpClass::kElementwise:
      return "elementwise";
    case OpClass::kAllReduce:
      return "all_reduce";
    case OpClass::kAllToAll:
      return "all_to_all";
  }
  return "";
}

}  // namespace

absl::StatusOr<nlohmann::json> DescribeDecodeStep(const Scenario& s, int64_t seqs,
                                                  double context_tokens) {
  auto setup = SetUpServePool(s);
  if (!setup.ok()) return setup.status();
  const PoolContext& pool = *(*setup)->pool;
  auto graph = ClusterGraph::Build(s.cluster());
  if (!graph.ok()) return graph.status();
  auto fabric = BuildInstanceFabric(pool, *graph, 0);
  if (!fabric.ok()) return fabric.status();
  const StepBatch batch = DecodeBatch(s.model, seqs, context_tokens);
  const StepProgram program = BuildStepProgram(s.model, pool.runtime(), pool.plan(), batch);
  const KernelCostModel cost(pool.gpu(), pool.runtime());

  nlohmann::json blocks = nlohmann::json::array();
  std::vector<int> seen;
  for (int b : program.order) {
    if (std::find(seen.begin(), seen.end(), b) != seen.end()) continue;
    seen.push_back(b);
    nlohmann::json ops = nlohmann::json::array();
    double block_us = 0;
    for (const Op& op : program.blocks[b]) {
      double us = 0;
      std::string bound;
      if (op.cls == OpClass::kAllReduce) {
        const CollectivePattern* p = fabric->AllReduceFor(0, op.message_bytes);
        if (p != nullptr)
          us = p->Estimate(op.message_bytes, pool.runtime().allreduce_latency_us).seconds * 1e6;
        bound = "communication";
      } else if (op.cls == OpClass::kAllToAll) {
        bound = "communication";
      } else {
        const KernelTime t = cost.Time(op);
        us = t.seconds * 1e6;
        bound = t.bound == Bound::kCompute ? "compute" : "memory";
      }
      block_us += us;
      ops.push_back({{"name", op.name},
                     {"class", ClassName(op)},
                     {"kernels", op.kernels},
                     {"flops", op.flops},
                     {"bytes", op.bytes},
                     {"message_bytes", op.message_bytes},
                     {"us", us},
                     {"bound", bound}});
    }
    const auto uses = std::count(program.order.begin(), program.order.end(), b);
    blocks.push_back({{"block", b}, {"uses", uses}, {"us", block_us}, {"ops", ops}});
  }
  // The whole step as instance 0 runs it, in its steady state on an idle fabric.
  InstanceContext context{pool, *fabric, pool.InstanceGpus(0)};
  context.new_resource = [] { return -1; };  // one lane: no shared stage mutexes
  auto instance =
      InstanceRegistry::Builtin().Find(InstanceKindFor(pool.deployment()))->factory(context);
  if (!instance.ok()) return instance.status();
  const StepTiming e = (*instance)->EstimateDecode(seqs, context_tokens);
  TimeBreakdown gpu;
  for (const TimeBreakdown& b : e.groups) gpu.Add(b);
  gpu.Scale(1.0 / double(e.groups.size()));
  return nlohmann::json{{"seqs", seqs},
                        {"context_tokens", context_tokens},
                        {"launch", StepLaunchName(ChooseLaunch(pool.runtime(), batch))},
                        {"kernels_per_step", program.KernelCount()},
                        {"step_ms", (e.end_s - e.start_s) * 1e3},
                        {"host_ms", gpu.host_s * 1e3},
                        {"launch_ms", gpu.launch_s * 1e3},
                        {"communication_ms", (gpu.comm_s + e.blocking.comm_s) * 1e3},
                        {"blocks", blocks}};
}

}  // namespace moesim
