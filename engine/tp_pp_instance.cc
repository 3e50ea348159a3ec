#include "engine/tp_pp_instance.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/step_activity.h"
#include "engine/step_model.h"
#include "models/invariant.h"
#include "topology/cluster_graph.h"

namespace moesim {

static_assert(kHostLinkTier == static_cast<int>(LinkTier::kHost), "the trace's host tier");

namespace {

// Separates the acceptance stream from the routing stream of the same seed (any odd constant
// does; this one is the 64-bit golden ratio).
constexpr uint64_t kAcceptanceSeedSalt = 0x9E3779B97F4A7C15ULL;

// A token id on the wire between a target and its draft model's own GPUs (int32, as vLLM and
// SGLang hold them).
constexpr double kTokenIdBytes = 4;

}  // namespace

TpPpInstance::TpPpInstance(const InstanceContext& c)
    : s_(c.pool),
      fabric_(c.fabric),
      index_(c.index),
      observers_(c.observers),
      on_prompt_completing_(c.on_prompt_completing),
      gpus_(c.gpus),
      footprint_(c.pool.Footprint()),
      runner_(c.pool.runtime(), c.pool.gpu(),
              c.pool.plan().pp + (c.pool.deployment().draft_gpus > 0 ? 1 : 0)) {
  runner_.set_activity_sink(c.activity_sink);
  activity_sink_ = c.activity_sink;
}

absl::StatusOr<std::unique_ptr<Instance>> TpPpInstance::Make(InstanceContext& c) {
  std::unique_ptr<TpPpInstance> inst(new TpPpInstance(c));
  const PoolContext& s = c.pool;
  const ParallelPlan& plan = s.plan();
  for (int stage = 0; stage < plan.pp; ++stage) {
    inst->stage_gpus_.emplace_back(c.gpus.begin() + stage * plan.tp,
                                   c.gpus.begin() + (stage + 1) * plan.tp);
    inst->stage_resources_.push_back(c.new_resource());
  }
  if (s.deployment().draft_gpus > 0) {  // the draft model's own GPUs: group pp
    inst->stage_gpus_.emplace_back(c.gpus.end() - s.deployment().draft_gpus, c.gpus.end());
    inst->stage_resources_.push_back(c.new_resource());
  }
  inst->pool_ = std::make_unique<PagedKvPool>(s.memory().kv_blocks);
  if (s.speculative) {
    // Its own acceptance stream, derived from the instance's routing seed.
    inst->acceptance_ = std::make_unique<AcceptanceSampler>(s.speculative->accept_probability,
                                                            c.routing_seed ^ kAcceptanceSeedSalt);
    inst->draft_model_ = std::make_unique<ModelSpec>(DraftModelFor(s.model, *s.speculative));
  }
  // The runtime's caps are per instance: its pp virtual engines share them.
  SchedulerConfig config{
      (s.runtime().MaxNumSeqs() + plan.pp - 1) / plan.pp,
      (s.runtime().MaxNumBatchedTokens() + plan.pp - 1) / plan.pp, s.model.sliding_window_tokens,
      s.runtime().batching == Batching::kPrefillFirst, s.deployed.spec.role == PoolRole::kPrefill};
  if (s.deployed.spec.role == PoolRole::kDecode && s.runtime().decode_reserved_tokens) {
    // Each virtual engine applies the rule to its own requests (exact without pipelining).
    config.decode_reserved_tokens = *s.runtime().decode_reserved_tokens;
  }
  if (s.speculative) {
    config.draft_tokens = s.speculative->draft_tokens;
    config.acceptance = inst->acceptance_.get();
  }
  if (s.kv_hierarchy) {
    const KvHierarchySpec& h = *s.kv_hierarchy;
    // Every GPU holds its shard of each block; the host tier gives each GPU its server's
    // share of the DRAM set aside for KV.
    const double host_bytes_per_gpu = h.host_kv_gb_per_server * 1e9 / s.cluster().gpus_per_server;
    const int64_t host_blocks =
        h.host_tier() ? static_cast<int64_t>(host_bytes_per_gpu / inst->footprint_.BlockBytes())
                      : 0;
    const double ssd_bytes_per_gpu = h.ssd_kv_gb_per_server * 1e9 / s.cluster().gpus_per_server;
    const auto ssd_blocks = static_cast<int64_t>(ssd_bytes_per_gpu / inst->footprint_.BlockBytes());
    inst->tiers_ = std::make_unique<PrefixCache>(inst->pool_.get(), host_blocks, ssd_blocks);
    config.tiers = inst->tiers_.get();
    // A decode pool's sequences arrive with their KV: prompts are looked up where they are
    // prefilled (serve and prefill pools).
    config.prefix_caching = h.prefix_caching && s.deployed.spec.role != PoolRole::kDecode;
    config.swap = h.preemption == KvPreemption::kSwap;
    config.capacity_offload = h.capacity_offload;
    if (h.host_tier()) {
      inst->host_io_ =
          std::make_unique<KvHostIo>(s.cluster().host, inst->footprint_.BlockBytes(), c.gpus,
                                     h.ssd ? &*h.ssd : nullptr, s.cluster().gpus_per_server);
    }
  }
  for (int e = 0; e < plan.pp; ++e) {
    inst->engines_.push_back(
        std::make_unique<InstanceScheduler>(config, inst->footprint_, inst->pool_.get()));
  }
  if (s.routing) {
    auto sampler = MoeLoadSampler::Make(s, c.routing_seed);
    if (!sampler.ok()) return sampler.status();
    inst->sampler_ = std::move(*sampler);
  }
  return std::unique_ptr<Instance>(std::move(inst));
}

int64_t TpPpInstance::Load() const {
  int64_t load = 0;
  for (const auto& e : engines_) load += e->running() + e->waiting();
  return load;
}

int TpPpInstance::LeastLoadedEngine() const {
  size_t best = 0;
  for (size_t e = 1; e < engines_.size(); ++e) {
    if (engines_[e]->running() + engines_[e]->waiting() <
        engines_[best]->running() + engines_[best]->waiting()) {
      best = e;
    }
  }
  return static_cast<int>(best);
}

int TpPpInstance::Admit(Request* r) {
  r->rank = LeastLoadedEngine();
  engines_[r->rank]->Enqueue(r);
  return r->rank;
}

std::vector<KvShard> TpPpInstance::KvShards(int) const {
  return TensorParallelKvShards(s_.model, gpus_, s_.plan().tp, s_.plan().pp);
}

bool TpPpInstance::ReserveKv(Request* r) {
  // The engines share one pool: any engine can take the blocks.
  const int lane = LeastLoadedEngine();
  if (!engines_[lane]->Reserve(r)) return false;
  r->handoff.decode_rank = lane;
  return true;
}

int TpPpInstance::AdmitTransferred(Request* r) {
  r->rank = r->handoff.decode_rank;
  engines_[r->rank]->EnqueueTransferred(r);
  return r->rank;
}

void TpPpInstance::ReleaseHandedOff(Request* r) {
  engines_[r->handoff.prefill_rank]->ReleaseHandedOff(r);
}

void TpPpInstance::DiscardHandedOff(Request* r) {
  engines_[r->handoff.prefill_rank]->DiscardHandedOff(r);
}

void TpPpInstance::CancelReservation(Request* r) {
  engines_[r->handoff.decode_rank]->CancelReservation(r);
}

int TpPpInstance::AddTokenSend(StepGraph& g, const CollectivePattern* pattern, const char* name,
                               double bytes, int previous) const {
  StepNode send;
  StepTransfer blocking;
  blocking.blocking = true;
  blocking.name = name;
  send.pattern = pattern;
  send.message_bytes = bytes;
  send.launch_us = s_.runtime().p2p_latency_us;
  if (previous >= 0) send.deps.push_back(previous);
  return g.AddTransfer(std::move(send), std::move(blocking));
}

// Adds `prog`'s kernels to group `group`'s stream, split at every all-reduce (a collective
// node); the first node waits for `previous` (-1: nothing). Returns the last node.
int TpPpInstance::EmitProgram(StepGraph& g, int prog, int group, int previous) const {
  const StepProgram& p = g.programs[prog];
  OpPosition begin;
  bool first = true;
  auto add_run = [&](OpPosition end) {
    if (begin.order == end.order && begin.op == end.op) return;
    StepNode n;
    n.kind = StepNode::Kind::kCompute;
    n.group = group;
    n.program = prog;
    n.begin = begin;
    n.end = end;
    if (first && previous >= 0) n.deps.push_back(previous);
    first = false;
    g.AddNode(std::move(n));
  };
  for (int oi = 0; oi < static_cast<int>(p.order.size()); ++oi) {
    const std::vector<Op>& ops = p.blocks[p.order[oi]];
    for (int k = 0; k < static_cast<int>(ops.size()); ++k) {
      if (ops[k].cls != OpClass::kAllReduce) continue;
      add_run({oi, k});
      StepNode ar;
      ar.kind = StepNode::Kind::kCollective;
      ar.name = ops[k].name;
      ar.group = group;
      ar.pattern = fabric_.AllReduceFor(group, ops[k].message_bytes);
      ar.message_bytes = ops[k].message_bytes;
      ar.launch_us = s_.runtime().allreduce_latency_us;
      if (first && previous >= 0) ar.deps.push_back(previous);
      first = false;
      g.AddNode(std::move(ar));
      begin = {oi, k + 1};
    }
  }
  add_run({static_cast<int>(p.order.size()), 0});
  return static_cast<int>(g.nodes.size()) - 1;
}

StepGraph TpPpInstance::BuildGraph(const StepBatch& batch, int64_t running_seqs,
                                   const std::vector<MoeLayerLoad>* loads, bool drafts) const {
  const ParallelPlan& plan = s_.plan();
  StepGraph g;
  g.launch = ChooseLaunch(s_.runtime(), batch);
  int previous = -1;  // the node the next stage's first node waits for
  for (int stage = 0; stage < plan.pp; ++stage) {
    StepGroup group;
    group.gpus = stage_gpus_[stage];
    group.running_seqs = running_seqs;
    group.host_work = stage == 0;
    group.resource = stage_resources_.empty() ? -1 : stage_resources_[stage];
    g.groups.push_back(std::move(group));
    const int prog =
        g.AddProgram(BuildStepProgram(s_.model, s_.runtime(), plan, batch, stage, loads));
    previous = EmitProgram(g, prog, stage, previous);
    if (stage + 1 < plan.pp) {
      StepNode send;
      StepTransfer blocking;
      blocking.blocking = true;
      blocking.name = "stage send";
      send.pattern = fabric_.Send(stage);
      send.message_bytes = StageActivationBytes(s_.model, batch);
      send.launch_us = s_.runtime().p2p_latency_us;
      send.deps.push_back(previous);
      previous = g.AddTransfer(std::move(send), std::move(blocking));
    }
  }
  if (drafts && draft_model_ && (batch.decode_seqs > 0 || batch.prefill_tokens > 0)) {
    // Drafts for the next step, k chained passes of the draft network (an MTP layer or an
    // EAGLE head sharing the target's embedding and LM head, or a separate draft model) on the
    // last stage's GPUs (a separate draft model on GPUs of its own: on those), with its own KV
    // cache; what each pass runs over: DraftPassBatch.
    const int k = s_.speculative->draft_tokens;
    const bool prefill_pool = s_.deployed.spec.role == PoolRole::kPrefill;
    // A draft model on GPUs of its own (group pp) gets the verified tokens first and sends its
    // drafts back after: token ids, 4 bytes each.
    const bool own_gpus = s_.deployment().draft_gpus > 0;
    const ParallelPlan draft_plan = own_gpus ? OwnDraftGpusPlan(s_.deployment().draft_gpus)
                                             : DraftParallelPlan(plan, *s_.speculative);
    const int draft_group = own_gpus ? plan.pp : plan.pp - 1;
    const double seqs = static_cast<double>(batch.seqs());
    if (own_gpus) {
      StepGroup group;
      group.gpus = stage_gpus_[draft_group];
      group.running_seqs = running_seqs;
      group.resource = stage_resources_[draft_group];
      g.groups.push_back(std::move(group));
      previous = AddTokenSend(g, fabric_.DraftIn(), "verified tokens to draft",
                              seqs * (k + 1) * kTokenIdBytes, previous);
    }
    const StepBatch extend = DraftPassBatch(*draft_model_, batch, k, 0, prefill_pool);
    previous = EmitProgram(
        g, g.AddProgram(BuildStepProgram(*draft_model_, s_.runtime(), draft_plan, extend)),
        draft_group, previous);
    // Passes 1 .. k-1 differ by one token of context each; pass 1's program stands for them all.
    const StepBatch next =
        k > 1 ? DraftPassBatch(*draft_model_, batch, k, 1, prefill_pool) : StepBatch();
    if (next.tokens() > 0) {
      const int prog =
          g.AddProgram(BuildStepProgram(*draft_model_, s_.runtime(), draft_plan, next));
      for (int pass = 1; pass < k; ++pass) previous = EmitProgram(g, prog, draft_group, previous);
    }
    if (own_gpus) {
      previous = AddTokenSend(g, fabric_.DraftOut(), "drafts to target", seqs * k * kTokenIdBytes,
                              previous);
    }
  }
  return g;
}

absl::StatusOr<StepOutcome> TpPpInstance::RunStep(int lane, Fabric& fabric) {
  InstanceScheduler& sched = *engines_[lane];
  const double start = fabric.Now();
  const int64_t preempted_before = sched.preemptions();
  const StepBatch batch = sched.Schedule(start);
  StepOutcome out;
  if (batch.tokens() == 0) return out;  // nothing fits now (other lanes hold the KV cache)
  out.ran = true;
  const int64_t running = sched.running();
  const int64_t waiting = sched.waiting();
  std::vector<MoeLayerLoad> moe_loads;
  double moe_imbalance = 0;
  if (sampler_) {
    auto imbalance = sampler_->Sample(batch.tokens(), &moe_loads);
    if (!imbalance.ok()) return imbalance.status();
    moe_imbalance = *imbalance;
  }
  const StepGraph graph = BuildGraph(batch, running, sampler_ ? &moe_loads : nullptr);
  if (on_prompt_completing_) {
    for (Request* r : sched.CompletingPrompts()) on_prompt_completing_(r);
  }
  // KV hierarchy: saves to host DRAM before the GPU work, loads from it alongside.
  KvTierStats tiers = sched.TakeTiers();
  if (tiers_) tiers.ssd_write_blocks = tiers_->TakeSsdWrites();
  std::unique_ptr<PendingTransfer> loads;
  if (host_io_) {
    const double saved = tiers.to_host_bytes;
    host_io_->Save(&tiers, fabric);
    ReportHostCopy(activity_sink_, "kv save to host", gpus_[0], start, fabric.Now(),
                   tiers.to_host_bytes - saved);
    loads = host_io_->StartLoads(&tiers, fabric);
  }
  const double gpu_start = fabric.Now();
  const StepTiming timing = runner_.Run(graph, fabric);
  const double gpu_end = fabric.Now();
  if (loads) {
    host_io_->Wait(*loads, fabric);
    ReportHostCopy(activity_sink_, "kv load from host", gpus_[0], gpu_start, fabric.Now(),
                   tiers.from_host_bytes);
    ReportHostCopy(activity_sink_, "kv ssd reads and writes", gpus_[0], gpu_start, fabric.Now(),
                   tiers.ssd_read_bytes + tiers.ssd_write_bytes);
  }
  if (tiers_) {
    tiers.io_wait_s = (gpu_start - start) + (fabric.Now() - gpu_end);
    tiers.host_used_blocks = tiers_->host_used();
    tiers.ssd_used_blocks = tiers_->ssd_blocks();
  }

  // Per GPU: the stages' time averaged (each stage is tp of the instance's GPUs; a draft
  // model's own GPUs, group pp, weigh by their number).
  const int pp = s_.plan().pp;
  const int draft_gpus = s_.deployment().draft_gpus;
  TimeBreakdown breakdown;  // Scale leaves tier_bytes (whole-instance payload) as they are
  if (draft_gpus == 0) {
    for (const TimeBreakdown& b : timing.groups) breakdown.Add(b);
    breakdown.Add(timing.blocking);
  } else {
    const double tp = s_.plan().tp;
    for (size_t gi = 0; gi < timing.groups.size(); ++gi) {
      TimeBreakdown b = timing.groups[gi];
      b.Scale(static_cast<int>(gi) < pp ? tp : draft_gpus);
      breakdown.Add(b);
    }
    TimeBreakdown blocking = timing.blocking;
    blocking.Scale(tp);
    breakdown.Add(blocking);
  }
  const std::array<double, 4> tier_bytes = breakdown.tier_bytes;
  breakdown.Scale(draft_gpus == 0 ? 1.0 / pp : 1.0 / (pp * s_.plan().tp + draft_gpus));
  breakdown.tier_bytes = tier_bytes;

  const double end = fabric.Now();
  out.finished = sched.Complete(end);
  out.handed_off = sched.TakeHandedOff();
  StepRecord rec;
  rec.start_s = start;
  rec.end_s = end;
  rec.tokens = batch.tokens();
  rec.output_tokens = sched.last_emitted();
  rec.input_tokens = sched.last_input_served();
  rec.preemptions = sched.preemptions() - preempted_before;
  rec.running = running;
  rec.waiting = waiting;
  // Cached blocks no sequence references are free to take (evicted on demand): not in use.
  rec.kv_used_blocks = sched.pool().used() - (tiers_ ? tiers_->evictable_hbm_blocks() : 0);
  rec.kv_total_blocks = sched.pool().total();
  rec.share = 1.0 / pp;
  rec.moe_imbalance = moe_imbalance;
  rec.kv_tiers = tiers;
  for (StepObserver* o : observers_) o->OnStep(index_, rec, breakdown);
  for (Request* r : out.finished) {
    for (StepObserver* o : observers_) o->OnRequestFinished(*r);
  }
  return out;
}

void TpPpInstance::CheckKvTiers() const {
  if (!tiers_) return;
  tiers_->Check();
  int64_t queued = 0;
  for (const auto& e : engines_) queued += e->swapped_blocks();
  MOESIM_CHECK(queued == tiers_->host_swap_blocks(), "host tier holds ", tiers_->host_swap_blocks(),
               " swapped blocks, the queues' requests ", queued);
}

StepBatch TpPpInstance::SteadyDecodeBatch(int64_t seqs, double context_tokens) const {
  return VerifyBatch(s_.model, seqs, context_tokens,
                     s_.speculative ? s_.speculative->draft_tokens : 0);
}

StepTiming TpPpInstance::EstimateDecode(int64_t seqs, double context_tokens) const {
  const StepBatch batch = SteadyDecodeBatch(seqs, context_tokens);
  return StepRunner::Estimate(BuildGraph(batch, seqs, nullptr), s_.runtime(), s_.gpu());
}

StepTiming TpPpInstance::EstimateBatch(const StepBatch& batch, int /*ranks*/,
                                       const StepBatch& /*others*/) const {
  return StepRunner::Estimate(BuildGraph(batch, batch.seqs(), nullptr), s_.runtime(), s_.gpu());
}

double TpPpInstance::EstimateDraftShare(int64_t seqs, double context_tokens) const {
  if (!draft_model_) return 0.0;
  const StepBatch batch = SteadyDecodeBatch(seqs, context_tokens);
  const StepTiming whole =
      StepRunner::Estimate(BuildGraph(batch, seqs, nullptr), s_.runtime(), s_.gpu());
  const StepTiming verify =
      StepRunner::Estimate(BuildGraph(batch, seqs, nullptr, false), s_.runtime(), s_.gpu());
  const double w = whole.end_s - whole.start_s, v = verify.end_s - verify.start_s;
  return w > 0 ? std::max(0.0, 1.0 - v / w) : 0.0;
}

StepTiming TpPpInstance::RunDecode(int64_t seqs, double context_tokens, Fabric& fabric) {
  const StepBatch batch = SteadyDecodeBatch(seqs, context_tokens);
  return runner_.Run(BuildGraph(batch, seqs, nullptr), fabric);
}

SpeculationCounts TpPpInstance::Speculation() const {
  SpeculationCounts c;
  for (const auto& e : engines_) c += e->counts();
  return c;
}

std::vector<Request*> TpPpInstance::Evict(int lane) {
  std::vector<Request*> out = engines_[lane]->EvictAll();
  // The lanes share the KV hierarchy's cache: it goes once none of them holds a request.
  if (tiers_ &&
      std::none_of(engines_.begin(), engines_.end(), [](const auto& e) { return e->HasWork(); })) {
    tiers_->Clear();
  }
  return out;
}

}  // namespace moesim
