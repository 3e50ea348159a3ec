#include "engine/plan_screen.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

#include "engine/instance.h"
#include "engine/instance_fabric.h"
#include "engine/step_model.h"
#include "topology/cluster_graph.h"

namespace moesim {

namespace {

// Instance 0 of a pool on an analytic fabric, and what its estimates need.
class PoolEstimator {
 public:
  static absl::StatusOr<std::unique_ptr<PoolEstimator>> Make(const Scenario& s,
                                                             const PoolDeployment& pool,
                                                             const ClusterGraph& graph) {
    auto e = std::unique_ptr<PoolEstimator>(new PoolEstimator(s, pool));
    auto fabric = BuildInstanceFabric(e->context_, graph, 0);
    if (!fabric.ok()) return fabric.status();
    e->fabric_ = std::make_unique<InstanceFabric>(std::move(*fabric));
    InstanceContext ic{e->context_, *e->fabric_, e->context_.InstanceGpus(0)};
    ic.new_resource = [] { return -1; };  // estimates only: no lanes run
    auto instance =
        InstanceRegistry::Builtin().Find(InstanceKindFor(e->context_.deployment()))->factory(ic);
    if (!instance.ok()) return instance.status();
    e->instance_ = std::move(*instance);
    return e;
  }

  const PoolContext& context() const { return context_; }
  // DP-attention ranks (each schedules its own sequences) and pipeline micro-batches.
  int ranks() const { return context_.plan().dp_attention ? context_.plan().ep : 1; }
  int pp() const { return context_.plan().pp; }

  // One step of `batch` on the instance (DP attention: on `busy_ranks` ranks, the others
  // stepping `others`, by default nothing).
  double Seconds(const StepBatch& batch, int busy_ranks = 1,
                 const StepBatch& others = StepBatch()) const {
    const StepTiming t = instance_->EstimateBatch(batch, busy_ranks, others);
    return t.end_s - t.start_s;
  }

  // One rank's steady decode batch when the instance runs `rows` rows at `context_tokens` each
  // (speculative: verifying k + 1 positions per sequence).
  StepBatch RankDecodeBatch(int64_t rows, double context_tokens) const {
    const int64_t seqs = std::max<int64_t>(1, rows / ranks());
    const int k = context_.speculative ? context_.speculative->draft_tokens : 0;
    return VerifyBatch(context_.model, seqs, context_tokens, k);
  }

  // Rows per instance in flight (`rows` tokens spread over the ranks and micro-batches) at
  // `context_tokens` each: the round's seconds and the rows it advances. Fewer rows than ranks
  // and micro-batches leave some empty: the round is costed with one row on each, and advances
  // only the rows there are.
  std::pair<double, double> Round(int64_t rows, double context_tokens) const {
    const int64_t slots = int64_t(ranks()) * pp();
    const int64_t per_batch = std::max<int64_t>(1, rows / slots);
    const StepTiming e = instance_->EstimateDecode(per_batch, context_tokens);
    double max_stage = 0;
    for (double span : e.group_span_s) max_stage = std::max(max_stage, span);
    const double round = std::max(e.end_s - e.start_s, pp() * max_stage);
    return {round, double(std::min(std::max<int64_t>(rows, 1), per_batch * slots))};
  }

 private:
  PoolEstimator(const Scenario& s, const PoolDeployment& pool) : context_(ContextFor(s, pool)) {}
  PoolContext context_;
  std::unique_ptr<InstanceFabric> fabric_;
  std::unique_ptr<Instance> instance_;
};

struct Lengths {
  double prompt = 0;
  double output = 0;
  double mean_context() const { return prompt + 0.5 * output; }
};

// Prefill of one instance: the seconds of one prompt alone (TTFT) and the seconds per prompt
// token when `prompts_per_step` prompts share a step (up to max_num_batched_tokens tokens each),
// as time the instance's decoding loses to them.
// The ranks of a DP-attention group take prompts independently but step in lockstep: a step's
// prompts are spread over as many ranks as there are prompts (n per rank, n as small as they
// allow). Where a waiting prompt gets a step of its own (prefill-first batching), the group's
// other ranks still decode in that step (`decoding`: a rank's steady decode batch; empty when
// not known): it costs the lockstep step less the decode round share those ranks advance
// (`decode_round_s`).
struct PrefillCost {
  double one_prompt_s = 0;
  double s_per_token = 0;
};
PrefillCost EstimatePrefill(const PoolEstimator& e, const Lengths& len, double prompts_per_step,
                            const StepBatch& decoding = StepBatch(), double decode_round_s = 0) {
  const int64_t prompt = std::max<int64_t>(1, static_cast<int64_t>(std::llround(len.prompt)));
  const int64_t budget = e.context().runtime().MaxNumBatchedTokens();
  const int64_t fit = std::max<int64_t>(1, budget / prompt);
  const int ranks = e.ranks();
  const double prompts = std::max(1.0, prompts_per_step);
  const int64_t n =
      std::clamp<int64_t>(static_cast<int64_t>(std::ceil(prompts / double(ranks))), 1, fit);
  // The ranks that prefill, and the prompts the step takes: n on each of them (a group's last
  // rank may take fewer).
  const int busy = static_cast<int>(std::min<double>(ranks, std::ceil(prompts / double(n))));
  const double in_step = ranks == 1 ? double(n) : std::min(prompts, double(n) * busy);
  const ModelSpec& model = e.context().model;
  PrefillCost c;
  c.one_prompt_s = e.Seconds(PrefillBatch(model, 1, prompt));
  const bool others_decode = ranks > busy && decoding.seqs() > 0 &&
                             e.context().runtime().batching == Batching::kPrefillFirst;
  double step_s =
      n == 1 && busy == 1 && !others_decode
          ? c.one_prompt_s
          : e.Seconds(PrefillBatch(model, n, prompt), busy, others_decode ? decoding : StepBatch());
  if (others_decode) {
    step_s = std::max(0.0, step_s - decode_round_s * double(ranks - busy) / double(ranks));
  }
  c.s_per_token = step_s / (in_step * double(prompt));
  return c;
}

// The largest running batch per instance, and what sets it.
std::pair<int64_t, std::string> BatchCap(const PoolEstimator& e, const Lengths& len) {
  const PoolContext& p = e.context();
  const int64_t by_seqs = int64_t(p.runtime().MaxNumSeqs()) * e.ranks();
  const int64_t per_seq =
      p.Footprint().BlocksFor(static_cast<int64_t>(std::ceil(len.mean_context())));
  const int64_t by_kv = per_seq > 0 ? p.memory().kv_blocks / per_seq * e.ranks() : by_seqs;
  if (by_kv < by_seqs) return {std::max<int64_t>(1, by_kv), "kv_capacity"};
  return {by_seqs, "max_num_seqs"};
}

}  // namespace

absl::StatusOr<PlanScreen> ScreenPlan(const Scenario& s) {
  auto deployment = DeployScenario(s);
  if (!deployment.ok()) return deployment.status();
  auto graph = ClusterGraph::Build(s.cluster());
  if (!graph.ok()) return graph.status();
  const Lengths len{s.workload.input_tokens.Mean(), std::max(1.0, s.workload.output_tokens.Mean())};
  const double tokens_per_step = s.speculative ? s.speculative->ExpectedAcceptanceLength() : 1.0;
  const bool closed = s.workload.arrival == WorkloadSpec::Arrival::kClosedLoop;
  const bool disaggregated = s.plan.Disaggregated();

  PlanScreen out;
  double usd_per_hour = 0;
  int entry_instances = 0;
  std::vector<std::unique_ptr<PoolEstimator>> estimators;
  for (const PoolDeployment& pool : deployment->pools) {
    out.gpus += pool.total_gpus();
    usd_per_hour += PoolUsdPerHour(s, pool);
    if (pool.spec.role != PoolRole::kPrefill) entry_instances += pool.deployment().instances;
    auto e = PoolEstimator::Make(s, pool, *graph);
    if (!e.ok()) return e.status();
    estimators.push_back(std::move(*e));
  }

  // Decode-side pools (serve or decode), each with its share of the load by instances.
  double queue_wait_s = 0, tpot_weighted = 0, ttft_prefill_s = 0;
  std::string limit;
  for (size_t i = 0; i < deployment->pools.size(); ++i) {
    const PoolDeployment& pool = deployment->pools[i];
    if (pool.spec.role == PoolRole::kPrefill) continue;
    const PoolEstimator& e = *estimators[i];
    const int instances = pool.deployment().instances;
    const double share = double(instances) / entry_instances;
    // Output tok/s of one instance running `b` sequences: decode rounds, less (colocated) the
    // time spent prefilling the prompts that replace the sequences that finish.
    double last_prefill_per_token = 0;
    auto throughput = [&](int64_t b) {
      const auto [round, rows] = e.Round(b, len.mean_context());
      const double decode = rows * tokens_per_step / round;
      if (disaggregated) return decode;
      const double prompts_per_round = rows * tokens_per_step / len.output;
      const PrefillCost pf = EstimatePrefill(e, len, prompts_per_round,
                                             e.RankDecodeBatch(b, len.mean_context()), round);
      last_prefill_per_token = pf.s_per_token;
      ttft_prefill_s = pf.one_prompt_s;
      return decode / (1 + decode * (len.prompt / len.output) * pf.s_per_token);
    };
    auto [cap, cap_reason] = BatchCap(e, len);
    int64_t batch = cap;
    std::string reason = cap_reason;
    double x = 0;
    if (closed) {
      const double clients = double(s.workload.concurrency) * share / instances;
      if (clients < cap) {
        batch = std::max<int64_t>(1, static_cast<int64_t>(std::floor(clients)));
        reason = "load";
      }
      x = throughput(batch);
      const double queued = std::max(0.0, clients - double(batch));
      queue_wait_s = std::max(queue_wait_s, queued / (x / len.output));
    } else {
      const double demand = s.workload.rate_per_s * share / instances * len.output;
      x = throughput(cap);
      if (x < demand) {
        out.overloaded = true;
      } else {
        int64_t lo = 1, hi = cap;  // the smallest batch that meets the demand
        while (lo < hi) {
          const int64_t mid = lo + (hi - lo) / 2;
          if (throughput(mid) >= demand) {
            hi = mid;
          } else {
            lo = mid + 1;
          }
        }
        batch = lo;
        reason = "load";
        throughput(batch);
        x = demand;
      }
    }
    PoolScreen ps;
    ps.name = pool.spec.name;
    ps.gpus = pool.total_gpus();
    ps.running_per_instance = batch;
    ps.round_s = e.Round(batch, len.mean_context()).first;
    ps.prefill_s_per_token = last_prefill_per_token;
    ps.output_tok_per_s = x * instances;
    ps.batch_limit = reason;
    out.pools.push_back(ps);
    out.output_tok_per_s += ps.output_tok_per_s;
    tpot_weighted += ps.output_tok_per_s * (double(batch) / x);
    if (limit.empty() || reason != "load") limit = pool.spec.name + ": " + reason;
  }
  if (out.output_tok_per_s <= 0) {
    return absl::InternalError("screen: the plan has no pool that decodes");
  }
  out.tpot_s = tpot_weighted / out.output_tok_per_s;

  // Prefill pools (disaggregated): prompts cannot be handed over faster than they finish them.
  if (disaggregated) {
    const double requests_per_s =
        closed ? out.output_tok_per_s / len.output : s.workload.rate_per_s;
    double capacity = 0;  // prompts per second over all prefill pools
    for (size_t i = 0; i < deployment->pools.size(); ++i) {
      const PoolDeployment& pool = deployment->pools[i];
      if (pool.spec.role != PoolRole::kPrefill) continue;
      const int instances = pool.deployment().instances;
      const PrefillCost one = EstimatePrefill(*estimators[i], len, 1);
      // Prompts that arrive at an instance while it prefills one.
      const double arriving = requests_per_s / instances * one.one_prompt_s;
      const PrefillCost pf = EstimatePrefill(*estimators[i], len, arriving);
      capacity += instances / (pf.s_per_token * std::max(1.0, len.prompt));
      ttft_prefill_s =
          ttft_prefill_s == 0 ? one.one_prompt_s : std::min(ttft_prefill_s, one.one_prompt_s);
      PoolScreen ps;
      ps.name = pool.spec.name;
      ps.gpus = pool.total_gpus();
      ps.prefill_s_per_token = pf.s_per_token;
      out.pools.push_back(ps);
    }
    if (capacity * len.output < out.output_tok_per_s) {
      if (!closed) out.overloaded = true;
      out.output_tok_per_s = capacity * len.output;
      limit = "prefill pools";
    }
  }
  if (out.overloaded) limit = "overloaded (arrivals exceed what the plan completes)";
  out.limit = limit;
  out.output_tok_per_s_per_gpu = out.output_tok_per_s / out.gpus;
  out.tok_per_s_per_user = out.tpot_s > 0 ? 1.0 / out.tpot_s : 0;
  out.ttft_s =
      out.overloaded ? std::numeric_limits<double>::infinity() : ttft_prefill_s + queue_wait_s;
  out.usd_per_million_output_tokens = usd_per_hour / (out.output_tok_per_s * 3600) * 1e6;
  return out;
}

}  // namespace moesim
