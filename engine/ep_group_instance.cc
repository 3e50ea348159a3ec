#include "engine/ep_group_instance.h"

#include "absl/strings/str_cat.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <utility>

#include <boost/container_hash/hash.hpp>

#include "engine/moe_step_script.h"
#include "engine/step_model.h"
#include "models/invariant.h"

namespace moesim {

namespace {

// Salt of the acceptance streams (speculative decoding), as tp_pp's.
constexpr uint64_t kAcceptanceSeedSalt = 0x9E3779B97F4A7C15ULL;

// Tokens routed per MoE layer to estimate DeepEP normal-kernel hit rates (models/expert_hits.h):
// a standard error of at most 0.5 / sqrt(4096) ≈ 0.008 per rate, ~1 ms per layer.
constexpr int64_t kHitRateTokens = 4096;

}  // namespace

// Adds a script's nodes to a graph: chunk by chunk, each micro-batch's items in turn; per rank
// compute nodes and one transfer per all-to-all that waits for every rank (a barrier).
class EpGraphEmitter {
 public:
  // `extend`: the step carries prompt tokens on some rank (the gather's padding mode).
  EpGraphEmitter(const PoolContext& s, const EpDispatchPlanner& planner,
                 const std::vector<int>& gpus, bool host_syncs, bool extend, int micro, bool wire,
                 StepGraph* g)
      : s_(s),
        planner_(planner),
        gpus_(gpus),
        host_syncs_(host_syncs),
        extend_(extend),
        micro_(micro),
        wire_(wire),
        g_(*g),
        last_(micro, -1),
        last_transfer_(micro, -1),
        all_ranks_(gpus.size()) {
    for (size_t r = 0; r < gpus.size(); ++r) all_ranks_[r] = static_cast<int>(r);
  }

  // prog_set[m]: the program set of micro-batch m (a program per rank); tokens[m][r]: its
  // tokens on rank r; loads[m][layer][r]: their routed loads.
  void Script(const StepScript& script, const std::vector<int>& prog_set,
              const std::vector<std::vector<double>>& tokens,
              const std::vector<GroupLayerLoads>& loads) {
    for (const auto& [first, end] : script.chunks) {
      for (int m = 0; m < micro_; ++m) {
        for (size_t i = first; i < end; ++i) {
          const ScriptItem& item = script.items[i];
          if (item.kind == ScriptItem::kDispatch || item.kind == ScriptItem::kCombine) {
            AllToAll(m, item, tokens[m], loads[m][item.moe_layer]);
          } else {
            Compute(m, item, script, prog_set[m], tokens[m], loads[m]);
          }
        }
      }
    }
  }

 private:
  void AllToAll(int m, const ScriptItem& item, const std::vector<double>& tokens,
                const std::vector<MoeLayerLoad>& load) {
    const bool dispatch = item.kind == ScriptItem::kDispatch;
    StepNode n;
    if (last_[m] >= 0) n.deps.push_back(last_[m]);
    if (n.deps.empty() && last_transfer_[m] >= 0) n.deps.push_back(last_transfer_[m]);
    StepTransfer t;
    t.name = dispatch ? "dispatch" : "combine";
    t.cost =
        planner_.Plan(dispatch, item.moe_layer, tokens, load, extend_, wire_ ? &t.wire : nullptr);
    t.gpus = &gpus_;
    if (micro_ > 1) {
      t.hold_groups = all_ranks_;
      t.hold_s = planner_.FloorSeconds(dispatch);
    }
    if (dispatch && host_syncs_) t.host_sync_groups = all_ranks_;
    last_transfer_[m] = g_.AddTransfer(std::move(n), std::move(t));
    last_[m] = -1;
  }

  // One node over every rank: micro-batch m's ops of `item`, each rank on its own program.
  void Compute(int m, const ScriptItem& item, const StepScript& script, int prog_set,
               const std::vector<double>& tokens, const GroupLayerLoads& loads) {
    StepNode c;
    c.kind = StepNode::Kind::kCompute;
    c.group = 0;
    c.groups = static_cast<int>(gpus_.size());
    if (last_transfer_[m] >= 0 && last_[m] < 0) c.deps.push_back(last_transfer_[m]);
    if (item.kind == ScriptItem::kExperts) {
      std::vector<int> experts(gpus_.size());
      if (s_.deployment().moe_tensor_sharded) {
        // Every GPU runs every routed expert's 1/N slice on all the group's gathered tokens.
        double all_tokens = 0;
        MoeLayerLoad all;
        for (size_t r = 0; r < gpus_.size(); ++r) {
          all_tokens += tokens[r];
          all.assignments += loads[item.moe_layer][r].assignments;
          all.active_experts += loads[item.moe_layer][r].active_experts;
        }
        all.active_experts = std::min(all.active_experts, double(s_.model.moe.routed_experts));
        for (size_t r = 0; r < gpus_.size(); ++r) {
          experts[r] = TensorShardedExperts(tokens[r], all_tokens, all);
        }
      } else {
        for (size_t r = 0; r < gpus_.size(); ++r) {
          experts[r] = Experts(tokens[r], loads[item.moe_layer][r]);
        }
      }
      c.program_set = g_.AddProgramSet(std::move(experts));
      c.begin = {0, 0};
      c.end = {1, 0};
    } else {
      c.program_set = prog_set;
      ScriptItemRange(script, item, &c.begin, &c.end);
    }
    last_[m] = g_.AddNode(std::move(c));
  }

  // The expert program for a rank's `tokens` and routed load: one per distinct pair.
  int Experts(double tokens, const MoeLayerLoad& load) {
    const auto key = std::make_tuple(tokens, load.assignments, load.active_experts);
    auto it = expert_prog_.find(key);
    if (it != expert_prog_.end()) return it->second;
    StepProgram p;
    p.blocks.push_back(MoeExpertOps(s_.model, s_.runtime(), s_.plan(), tokens, &load));
    p.order.push_back(0);
    const int id = g_.AddProgram(std::move(p));
    expert_prog_.emplace(key, id);
    return id;
  }

  // The expert program of a rank under tensor-sharded experts: the routed experts' slices on
  // the group's `all_tokens` with its whole `load`, then the shared experts on the rank's own
  // `tokens` (dense TP as the plan says).
  int TensorShardedExperts(double tokens, double all_tokens, const MoeLayerLoad& load) {
    const auto key = std::make_tuple(tokens, all_tokens, load.assignments, load.active_experts);
    auto it = sharded_prog_.find(key);
    if (it != sharded_prog_.end()) return it->second;
    ParallelPlan sliced = s_.plan();
    sliced.dp_attention = false;
    sliced.tp = static_cast<int>(gpus_.size());
    sliced.ep = 1;
    sliced.redundant_experts = 0;
    StepProgram p;
    p.blocks.push_back(RoutedExpertOps(s_.model, s_.runtime(), sliced, all_tokens, load));
    for (Op& op : SharedExpertOps(s_.model, s_.runtime(), s_.plan(), tokens)) {
      p.blocks.back().push_back(op);
    }
    p.order.push_back(0);
    const int id = g_.AddProgram(std::move(p));
    sharded_prog_.emplace(key, id);
    return id;
  }

  const PoolContext& s_;
  const EpDispatchPlanner& planner_;
  const std::vector<int>& gpus_;
  bool host_syncs_;
  bool extend_;
  int micro_;
  bool wire_;
  StepGraph& g_;
  std::vector<int> last_;           // per micro-batch: its last compute node, or -1
  std::vector<int> last_transfer_;  // per micro-batch: its last all-to-all, or -1
  std::vector<int> all_ranks_;      // 0 .. ranks-1
  using ExpertKey = std::tuple<double, double, double>;
  std::unordered_map<ExpertKey, int, boost::hash<ExpertKey>> expert_prog_;
  // Tensor-sharded experts: (rank tokens, group tokens, group pairs, group active experts).
  using ShardedKey = std::tuple<double, double, double, double>;
  std::unordered_map<ShardedKey, int, boost::hash<ShardedKey>> sharded_prog_;
};

EpGroupInstance::EpGroupInstance(const InstanceContext& c, std::vector<ExpertHitRates> hits,
                                 int micro)
    : s_(c.pool),
      fabric_(c.fabric),
      index_(c.index),
      observers_(c.observers),
      on_prompt_completing_(c.on_prompt_completing),
      gpus_(c.gpus),
      micro_(micro),
      host_syncs_at_dispatch_(c.pool.deployment().moe_dispatch ==
                              DeploymentSpec::MoeDispatch::kNormal),
      activity_sink_(c.activity_sink),
      footprint_(c.pool.Footprint()),
      expected_(c.pool.model, c.pool.plan()),
      planner_(c.pool, c.fabric, std::move(hits)),
      runner_(MakeRunner(c.pool, static_cast<int>(c.gpus.size()))) {
  runner_.set_activity_sink(c.activity_sink);
}

StepRunner EpGroupInstance::MakeRunner(const PoolContext& s, int groups) {
  const DeploymentSpec::AttentionFfn& a = s.deployment().attention_ffn;
  if (!a.enabled()) return StepRunner(s.runtime(), s.gpu(), groups);
  return StepRunner(s.runtime(), s.gpu(), groups, a.ExpertGpu(s.gpu()), a.attention_gpus);
}

StepTiming EpGroupInstance::EstimateGraph(const StepGraph& graph) const {
  const DeploymentSpec::AttentionFfn& a = s_.deployment().attention_ffn;
  if (!a.enabled()) return StepRunner::Estimate(graph, s_.runtime(), s_.gpu());
  return StepRunner::Estimate(graph, s_.runtime(), s_.gpu(), a.ExpertGpu(s_.gpu()),
                              a.attention_gpus);
}

absl::StatusOr<std::unique_ptr<Instance>> EpGroupInstance::Make(InstanceContext& c) {
  const PoolContext& s = c.pool;
  std::vector<ExpertHitRates> hits;
  if (c.fabric.deepep_normal) {
    auto h = MoeLoadSampler::HitRates(s, c.routing_seed, c.fabric.deepep_normal->node_of_rank(),
                                      kHitRateTokens);
    if (!h.ok()) return h.status();
    hits = std::move(*h);
  }
  const int micro = s.deployment().two_batch_overlap ? 2 : 1;
  std::unique_ptr<EpGroupInstance> inst(new EpGroupInstance(c, std::move(hits), micro));
  if (absl::Status st = Init(c, static_cast<int>(c.gpus.size()), inst.get()); !st.ok()) return st;
  return std::unique_ptr<Instance>(std::move(inst));
}

absl::Status EpGroupInstance::Init(InstanceContext& c, int ranks, EpGroupInstance* inst) {
  const PoolContext& s = c.pool;
  SchedulerConfig config{
      s.runtime().MaxNumSeqs(), s.runtime().MaxNumBatchedTokens(), s.model.sliding_window_tokens,
      s.runtime().batching == Batching::kPrefillFirst, s.deployed.spec.role == PoolRole::kPrefill};
  if (s.deployed.spec.role == PoolRole::kDecode && s.runtime().decode_reserved_tokens) {
    config.decode_reserved_tokens = *s.runtime().decode_reserved_tokens;
  }
  if (s.speculative) {
    config.draft_tokens = s.speculative->draft_tokens;
    inst->draft_model_ = std::make_unique<ModelSpec>(DraftModelFor(s.model, *s.speculative));
    inst->draft_expected_ = std::make_unique<ExpectedLoadMemo>(
        *inst->draft_model_, DraftParallelPlan(s.plan(), *s.speculative));
  }
  if (s.kv_hierarchy) {
    const KvHierarchySpec& h = *s.kv_hierarchy;
    config.prefix_caching = h.prefix_caching && s.deployed.spec.role != PoolRole::kDecode;
    config.swap = h.preemption == KvPreemption::kSwap;
    config.capacity_offload = h.capacity_offload;
  }
  for (int r = 0; r < ranks; ++r) {
    inst->pools_.push_back(std::make_unique<PagedKvPool>(s.memory().kv_blocks));
    if (s.kv_hierarchy) {
      // Each rank holds its own sequences' KV on its GPU: its own cache, host share and link.
      const KvHierarchySpec& h = *s.kv_hierarchy;
      const double host_bytes = h.host_kv_gb_per_server * 1e9 / s.cluster().gpus_per_server;
      const int64_t host_blocks =
          h.host_tier() ? static_cast<int64_t>(host_bytes / inst->footprint_.BlockBytes()) : 0;
      const double ssd_bytes = h.ssd_kv_gb_per_server * 1e9 / s.cluster().gpus_per_server;
      const auto ssd_blocks = static_cast<int64_t>(ssd_bytes / inst->footprint_.BlockBytes());
      inst->tiers_.push_back(
          std::make_unique<PrefixCache>(inst->pools_.back().get(), host_blocks, ssd_blocks));
      config.tiers = inst->tiers_.back().get();
      if (h.host_tier()) {
        inst->host_io_.push_back(std::make_unique<KvHostIo>(
            s.cluster().host, inst->footprint_.BlockBytes(), std::vector<int>{c.gpus[r]},
            h.ssd ? &*h.ssd : nullptr, s.cluster().gpus_per_server));
      }
    }
    if (s.speculative) {
      // Each rank its own acceptance stream, derived from the instance's routing seed.
      inst->acceptance_.push_back(std::make_unique<AcceptanceSampler>(
          s.speculative->accept_probability,
          c.routing_seed ^ (kAcceptanceSeedSalt * uint64_t(r + 1))));
      config.acceptance = inst->acceptance_.back().get();
    }
    inst->ranks_.push_back(
        std::make_unique<InstanceScheduler>(config, inst->footprint_, inst->pools_.back().get()));
  }
  if (s.routing) {
    auto sampler = MoeLoadSampler::Make(s, c.routing_seed);
    if (!sampler.ok()) return sampler.status();
    inst->sampler_ = std::move(*sampler);
  }
  return absl::OkStatus();
}

int64_t EpGroupInstance::Load() const {
  int64_t load = 0;
  for (const auto& r : ranks_) load += r->running() + r->waiting();
  return load;
}

int EpGroupInstance::Admit(Request* request) {
  // Cache-aware: a session's later turns (a prefix group's later requests) return to its rank.
  // Otherwise the rank with the fewest running + waiting sequences (lowest index on ties).
  const bool sticky = s_.cache_aware_ranks && request->CacheAffinity() != -1;
  auto known = sticky ? affinity_ranks_.find(request->CacheAffinity()) : affinity_ranks_.end();
  // Ranks dropped by a fault take nothing.
  auto live = [&](size_t r) { return dropped_.empty() || dropped_[r] == 0; };
  size_t best = 0;
  while (!live(best)) ++best;  // a group with no live rank is stopped, never admits
  if (known != affinity_ranks_.end() && live(known->second)) {
    best = known->second;
  } else {
    for (size_t r = best + 1; r < ranks_.size(); ++r) {
      if (live(r) && ranks_[r]->running() + ranks_[r]->waiting() <
                         ranks_[best]->running() + ranks_[best]->waiting()) {
        best = r;
      }
    }
  }
  if (sticky) {
    affinity_ranks_[request->CacheAffinity()] = best;
    if (request->LastOfAffinity(s_.workload.session_turns)) {
      affinity_ranks_.erase(request->CacheAffinity());
    }
  }
  request->rank = static_cast<int>(best);
  ranks_[best]->Enqueue(request);
  return 0;
}

bool EpGroupInstance::ReserveKv(Request* request) {
  // The rank with the fewest running + waiting sequences among those with room.
  int best = -1;
  for (size_t r = 0; r < ranks_.size(); ++r) {
    if (!ranks_[r]->CanReserve(*request) || (!dropped_.empty() && dropped_[r] > 0)) continue;
    if (best < 0 || ranks_[r]->running() + ranks_[r]->waiting() <
                        ranks_[best]->running() + ranks_[best]->waiting()) {
      best = static_cast<int>(r);
    }
  }
  if (best < 0 || !ranks_[best]->Reserve(request)) return false;
  request->handoff.decode_rank = best;
  return true;
}

int EpGroupInstance::AdmitTransferred(Request* request) {
  request->rank = request->handoff.decode_rank;
  ranks_[request->rank]->EnqueueTransferred(request);
  return 0;
}

void EpGroupInstance::ReleaseHandedOff(Request* request) {
  ranks_[request->handoff.prefill_rank]->ReleaseHandedOff(request);
}

void EpGroupInstance::DiscardHandedOff(Request* request) {
  ranks_[request->handoff.prefill_rank]->DiscardHandedOff(request);
}

void EpGroupInstance::CancelReservation(Request* request) {
  ranks_[request->handoff.decode_rank]->CancelReservation(request);
}

SpeculationCounts EpGroupInstance::Speculation() const {
  SpeculationCounts c;
  for (const auto& r : ranks_) c += r->counts();
  return c;
}

int64_t EpGroupInstance::KvBlocksInUse() const {
  int64_t used = 0;
  for (const auto& p : pools_) used += p->used();
  for (const auto& t : tiers_) used -= t->hbm_blocks();  // the caches' own
  return used;
}

int64_t EpGroupInstance::KvBlocksSwapped() const {
  int64_t n = 0;
  for (const auto& t : tiers_) n += t->host_swap_blocks();
  return n;
}

void EpGroupInstance::CheckKvTiers() const {
  for (size_t r = 0; r < tiers_.size(); ++r) {
    tiers_[r]->Check();
    MOESIM_CHECK(tiers_[r]->host_swap_blocks() == ranks_[r]->swapped_blocks(), "rank ", r,
                 "'s host tier holds ", tiers_[r]->host_swap_blocks(),
                 " swapped blocks, its requests ", ranks_[r]->swapped_blocks());
  }
}

EpGroupInstance::HostLoads EpGroupInstance::StartHostCopies(Fabric& fabric, StepRecord* rec) {
  HostLoads loads;
  if (tiers_.empty()) return loads;
  const size_t ranks = ranks_.size();
  std::vector<KvTierStats> stats(ranks);
  for (size_t r = 0; r < ranks; ++r) {
    stats[r] = ranks_[r]->TakeTiers();
    stats[r].ssd_write_blocks = tiers_[r]->TakeSsdWrites();
  }
  if (!host_io_.empty()) {
    const double save_start = fabric.Now();
    std::vector<double> unsaved(ranks);
    std::vector<std::unique_ptr<PendingTransfer>> saves;
    for (size_t r = 0; r < ranks; ++r) {
      unsaved[r] = stats[r].to_host_bytes;
      if (auto t = host_io_[r]->StartSaves(&stats[r], fabric)) saves.push_back(std::move(t));
    }
    for (auto& t : saves) fabric.FinishHostCopies(*t);
    for (size_t r = 0; r < ranks; ++r) {
      ReportHostCopy(activity_sink_, "kv save to host", gpus_[r], save_start, fabric.Now(),
                     stats[r].to_host_bytes - unsaved[r]);
      if (auto t = host_io_[r]->StartLoads(&stats[r], fabric))
        loads.pending.push_back(std::move(t));
      loads.load_bytes.push_back(stats[r].from_host_bytes);
      loads.ssd_bytes.push_back(stats[r].ssd_read_bytes + stats[r].ssd_write_bytes);
    }
  }
  for (size_t r = 0; r < ranks; ++r) {
    rec->kv_tiers.Add(stats[r]);
    rec->kv_tiers.host_used_blocks =
        std::max(rec->kv_tiers.host_used_blocks, tiers_[r]->host_used());
    rec->kv_tiers.ssd_used_blocks =
        std::max(rec->kv_tiers.ssd_used_blocks, tiers_[r]->ssd_blocks());
  }
  return loads;
}

void EpGroupInstance::FinishHostLoads(HostLoads& loads, double gpu_start, Fabric& fabric) const {
  for (const auto& t : loads.pending) fabric.FinishHostCopies(*t);
  for (size_t r = 0; r < loads.load_bytes.size(); ++r) {
    ReportHostCopy(activity_sink_, "kv load from host", gpus_[r], gpu_start, fabric.Now(),
                   loads.load_bytes[r]);
    ReportHostCopy(activity_sink_, "kv ssd reads and writes", gpus_[r], gpu_start, fabric.Now(),
                   loads.ssd_bytes[r]);
  }
}

bool EpGroupInstance::HasWork(int) const {
  for (const auto& r : ranks_) {
    if (r->HasWork()) return true;
  }
  return false;
}

std::vector<StepBatch> EpGroupInstance::Split(const StepBatch& b) const {
  std::vector<StepBatch> out(micro_);
  const int64_t seqs = b.seqs();
  for (int m = 0; m < micro_; ++m) {
    StepBatch& x = out[m];
    auto part = [&](int64_t total) { return total / micro_ + (m < total % micro_ ? 1 : 0); };
    x.decode_seqs = part(b.decode_seqs);
    x.prefill_seqs = part(b.prefill_seqs);
    x.prefill_tokens = part(b.prefill_tokens);
    x.sampled_seqs = part(b.sampled_seqs);
    x.speculative_tokens = part(b.speculative_tokens);
    const double f = seqs > 0 ? double(x.seqs()) / double(seqs) : 0.0;
    x.full_pairs = b.full_pairs * f;
    x.full_kv_tokens = b.full_kv_tokens * f;
    x.sliding_pairs = b.sliding_pairs * f;
    x.sliding_kv_tokens = b.sliding_kv_tokens * f;
    const double fp = b.prefill_seqs > 0 ? double(x.prefill_seqs) / double(b.prefill_seqs) : 0.0;
    x.prefill_full_pairs = b.prefill_full_pairs * fp;
    x.prefill_full_kv_tokens = b.prefill_full_kv_tokens * fp;
    x.prefill_sliding_pairs = b.prefill_sliding_pairs * fp;
    x.prefill_sliding_kv_tokens = b.prefill_sliding_kv_tokens * fp;
  }
  return out;
}

StepGraph EpGroupInstance::BuildGraph(const std::vector<std::vector<StepBatch>>& batches,
                                      const std::vector<int64_t>& running,
                                      const std::vector<GroupLayerLoads>& loads, bool wire) const {
  const size_t ranks = gpus_.size();
  StepGraph g;
  g.launch = GroupLaunch(s_.runtime(), batches);
  for (size_t r = 0; r < ranks; ++r) {
    StepGroup group;
    group.gpus = {gpus_[r]};
    group.running_seqs = running[r];
    g.groups.push_back(std::move(group));
  }
  const RankPrograms ranked = AddRankPrograms(s_.model, s_.runtime(), s_.plan(), batches, &g);
  const std::vector<std::vector<int>>& prog = ranked.program;
  const std::vector<std::vector<double>>& tokens = ranked.tokens;
  const StepScript script = MakeScript(g.programs[prog[0][0]]);
  g.nodes.reserve(static_cast<size_t>(micro_) * script.items.size());
  std::vector<int> prog_set(micro_);
  for (int m = 0; m < micro_; ++m) prog_set[m] = g.AddProgramSet(prog[m]);
  bool extend = false;
  for (const auto& micro_batch : batches) {
    for (const StepBatch& b : micro_batch) extend = extend || b.prefill_tokens > 0;
  }
  EpGraphEmitter emit(s_, planner_, gpus_, host_syncs_at_dispatch_, extend, micro_, wire, &g);
  emit.Script(script, prog_set, tokens, loads);
  for (const DraftPass& d : AddDraftPrograms(batches, &g)) {
    emit.Script(d.script, d.prog_set, d.tokens, d.loads);
  }
  return g;
}

// Drafts for the next step on every rank, after the verification: k chained passes of the
// draft network (what each runs over: DraftPassBatch), each with its own all-to-alls when the
// draft has MoE layers.
std::vector<EpGroupInstance::DraftPass> EpGroupInstance::AddDraftPrograms(
    const std::vector<std::vector<StepBatch>>& batches, StepGraph* g) const {
  std::vector<DraftPass> passes;
  if (!draft_model_ || !drafts_) return passes;
  const int k = s_.speculative->draft_tokens;
  const bool prefill_pool = s_.deployed.spec.role == PoolRole::kPrefill;
  const ParallelPlan draft_plan = DraftParallelPlan(s_.plan(), *s_.speculative);
  const size_t ranks = batches[0].size();
  for (int pass = 0; pass < k; ++pass) {
    std::vector<std::vector<StepBatch>> draft(micro_, std::vector<StepBatch>(ranks));
    std::vector<GroupLayerLoads> loads(micro_);
    bool any = false;
    for (int m = 0; m < micro_; ++m) {
      double tokens = 0;
      for (size_t r = 0; r < ranks; ++r) {
        draft[m][r] = DraftPassBatch(*draft_model_, batches[m][r], k, pass, prefill_pool);
        tokens += double(draft[m][r].tokens());
        any = any || draft[m][r].tokens() > 0;
      }
      loads[m] = draft_expected_->PerGpu(tokens);
    }
    if (!any) return passes;
    const RankPrograms ranked = AddRankPrograms(*draft_model_, s_.runtime(), draft_plan, draft, g);
    DraftPass d;
    d.script = MakeScript(g->programs[ranked.program[0][0]]);
    d.prog_set.resize(micro_);
    for (int m = 0; m < micro_; ++m) d.prog_set[m] = g->AddProgramSet(ranked.program[m]);
    d.tokens = ranked.tokens;
    d.loads = std::move(loads);
    passes.push_back(std::move(d));
  }
  return passes;
}

// TensorRT-LLM py_executor.py _balance_adp_requests, for the ranks in service: context runs when
// every rank has context work and a free slot (after batching_wait_iters iterations when every
// rank also decodes); otherwise it waits, until timeout_iters iterations have waited or some
// rank has nothing to decode. The counters advance once per step, as TensorRT-LLM's do once
// per iteration (also while no rank has context work).
bool EpGroupInstance::BalanceAllowsContext() {
  const auto& balance = s_.runtime().attention_dp_balance;
  if (!balance) return true;
  bool all_context = true, all_decoding = true, all_free = true;
  for (size_t r = 0; r < ranks_.size(); ++r) {
    if (!dropped_.empty() && dropped_[r] > 0) continue;
    const InstanceScheduler& rank = *ranks_[r];
    const int64_t decoding = rank.decoding();
    all_context &= rank.ContextReady();
    all_decoding &= decoding > 0;
    all_free &= decoding < s_.runtime().MaxNumSeqs();
  }
  if (all_free && all_context) {
    balance_waiting_iters_ = 0;
    if (!all_decoding) return true;
    if (balance_batching_iters_ < balance->batching_wait_iters) {
      ++balance_batching_iters_;
      return false;
    }
    balance_batching_iters_ = 0;
    return true;
  }
  ++balance_waiting_iters_;
  if (balance_waiting_iters_ >= balance->timeout_iters || !all_decoding) {
    balance_waiting_iters_ = 0;
    return true;
  }
  return false;
}

absl::StatusOr<StepOutcome> EpGroupInstance::RunStep(int, Fabric& fabric) {
  const size_t ranks = ranks_.size();
  StepRecord rec;
  rec.start_s = fabric.Now();
  std::vector<StepBatch> batches(ranks);
  std::vector<int64_t> running(ranks);
  const bool allow_context = BalanceAllowsContext();
  for (size_t r = 0; r < ranks; ++r) {
    const int64_t preempted_before = ranks_[r]->preemptions();
    batches[r] = ranks_[r]->Schedule(rec.start_s, allow_context);
    rec.preemptions += ranks_[r]->preemptions() - preempted_before;
    running[r] = ranks_[r]->running();
    rec.tokens += batches[r].tokens();
    rec.running += running[r];
    rec.waiting += ranks_[r]->waiting();
  }
  StepOutcome out;
  if (rec.tokens == 0) return out;
  out.ran = true;
  // Micro-batches (two-batch overlap) and each one's routed load per layer and GPU.
  std::vector<std::vector<StepBatch>> micro(micro_, std::vector<StepBatch>(ranks));
  for (size_t r = 0; r < ranks; ++r) {
    const std::vector<StepBatch> split = Split(batches[r]);
    for (int m = 0; m < micro_; ++m) micro[m][r] = split[m];
  }
  std::vector<GroupLayerLoads> loads(micro_);
  auto imbalance = SampleLoads(micro, &loads);
  if (!imbalance.ok()) return imbalance.status();
  rec.moe_imbalance = *imbalance;
  if (on_prompt_completing_) {
    for (const auto& rank : ranks_) {
      for (Request* q : rank->CompletingPrompts()) on_prompt_completing_(q);
    }
  }
  HostLoads host_loads = StartHostCopies(fabric, &rec);
  const double gpu_start = fabric.Now();
  const StepTiming timing =
      runner_.Run(BuildGraph(micro, running, loads, !fabric.Analytic()), fabric);
  const double gpu_end = fabric.Now();
  FinishHostLoads(host_loads, gpu_start, fabric);
  rec.end_s = fabric.Now();
  if (!tiers_.empty()) rec.kv_tiers.io_wait_s = (gpu_start - rec.start_s) + (rec.end_s - gpu_end);
  EndStep(timing, &rec, &out);
  return out;
}

absl::StatusOr<double> EpGroupInstance::SampleLoads(
    const std::vector<std::vector<StepBatch>>& micro, std::vector<GroupLayerLoads>* loads) {
  double moe_imbalance = 0;
  for (int m = 0; m < micro_; ++m) {
    int64_t tokens = 0;
    for (const StepBatch& b : micro[m]) tokens += b.tokens();
    if (!sampler_) {
      (*loads)[m] = expected_.PerGpu(double(tokens));
      continue;
    }
    std::vector<MoeLayerLoad> busiest;
    auto imbalance = sampler_->Sample(tokens, &busiest, &(*loads)[m]);
    if (!imbalance.ok()) return imbalance.status();
    moe_imbalance += *imbalance / micro_;
  }
  return moe_imbalance;
}

void EpGroupInstance::EndStep(const StepTiming& timing, StepRecord* rec, StepOutcome* out) {
  TimeBreakdown total;
  // A rank that finishes early idles until the slowest one is done (reported as idle time).
  for (const TimeBreakdown& b : timing.groups) total.Add(b);
  total.Scale(1.0 / double(timing.groups.size()));
  total.tier_bytes = timing.transfer_tier_bytes;
  RecordStep(timing, rec);
  for (const auto& rank : ranks_) {
    rec->kv_used_blocks += rank->pool().used();
    rec->kv_total_blocks += rank->pool().total();
  }
  // Cached blocks no sequence references are free to take (evicted on demand): not in use.
  for (const auto& t : tiers_) rec->kv_used_blocks -= t->evictable_hbm_blocks();
  for (const auto& rank : ranks_) {
    for (Request* q : rank->Complete(rec->end_s)) out->finished.push_back(q);
    rec->output_tokens += rank->last_emitted();
    rec->input_tokens += rank->last_input_served();
    for (Request* q : rank->TakeHandedOff()) out->handed_off.push_back(q);
  }
  for (Request* q : out->finished) {
    for (StepObserver* o : observers_) o->OnRequestFinished(*q);
  }
  for (StepObserver* o : observers_) o->OnStep(index_, *rec, total);
}

// Every rank decodes the same batch; uniform routing's expected loads.
StepGraph EpGroupInstance::DecodeGraph(int64_t seqs, double context_tokens, bool wire) const {
  const size_t ranks = ranks_.size();
  const StepBatch batch = VerifyBatch(s_.model, seqs, context_tokens,
                                      s_.speculative ? s_.speculative->draft_tokens : 0);
  std::vector<std::vector<StepBatch>> micro(micro_, std::vector<StepBatch>(ranks));
  std::vector<GroupLayerLoads> loads(micro_);
  const std::vector<StepBatch> split = Split(batch);
  for (int m = 0; m < micro_; ++m) {
    for (size_t r = 0; r < ranks; ++r) micro[m][r] = split[m];
    loads[m] = expected_.PerGpu(double(split[m].tokens()) * double(ranks));
  }
  return BuildGraph(micro, std::vector<int64_t>(ranks, seqs), loads, wire);
}

double EpGroupInstance::EstimateDraftShare(int64_t seqs, double context_tokens) const {
  if (!draft_model_) return 0.0;
  const StepTiming with = EstimateDecode(seqs, context_tokens);
  drafts_ = false;
  const StepTiming without = EstimateDecode(seqs, context_tokens);
  drafts_ = true;
  const double w = with.end_s - with.start_s;
  return w > 0 ? std::max(0.0, 1.0 - (without.end_s - without.start_s) / w) : 0.0;
}

StepTiming EpGroupInstance::EstimateDecode(int64_t seqs, double context_tokens) const {
  return EstimateGraph(DecodeGraph(seqs, context_tokens, false));
}

StepTiming EpGroupInstance::EstimateBatch(const StepBatch& batch, int ranks,
                                          const StepBatch& others) const {
  const size_t all = ranks_.size();
  const size_t busy = std::clamp<size_t>(static_cast<size_t>(std::max(ranks, 1)), 1, all);
  std::vector<std::vector<StepBatch>> micro(micro_, std::vector<StepBatch>(all));
  std::vector<GroupLayerLoads> loads(micro_);
  std::vector<int64_t> running(all, others.seqs());
  for (size_t r = 0; r < busy; ++r) running[r] = batch.seqs();
  const std::vector<StepBatch> split = Split(batch);
  const std::vector<StepBatch> split_others = Split(others);
  for (int m = 0; m < micro_; ++m) {
    for (size_t r = 0; r < all; ++r) micro[m][r] = r < busy ? split[m] : split_others[m];
    const double tokens = double(split[m].tokens()) * double(busy) +
                          double(split_others[m].tokens()) * double(all - busy);
    loads[m] = expected_.PerGpu(tokens);
  }
  return EstimateGraph(BuildGraph(micro, running, loads, false));
}

StepTiming EpGroupInstance::RunDecode(int64_t seqs, double context_tokens, Fabric& fabric) {
  return runner_.Run(DecodeGraph(seqs, context_tokens, !fabric.Analytic()), fabric);
}

namespace {
// Ranks held out of service by at least one fault.
std::vector<char> DeadRanks(const std::vector<int>& dropped) {
  std::vector<char> dead(dropped.size());
  for (size_t r = 0; r < dropped.size(); ++r) dead[r] = dropped[r] > 0;
  return dead;
}
}  // namespace

bool EpGroupInstance::DropRanks(const std::vector<int>& positions) {
  if (!sampler_) return false;
  std::vector<int> next = dropped_.empty() ? std::vector<int>(ranks_.size(), 0) : dropped_;
  for (int p : positions) {
    if (p < 0 || size_t(p) >= next.size()) return false;
    ++next[p];
  }
  const std::vector<char> dead = DeadRanks(next);
  if (std::count(dead.begin(), dead.end(), 1) == int(dead.size())) return false;
  if (!sampler_->SetDeadGpus(dead)) return false;  // some expert would have no replica left
  dropped_ = std::move(next);
  return true;
}

std::vector<Request*> EpGroupInstance::EvictDroppedRanks() {
  std::vector<Request*> out;
  for (size_t r = 0; r < dropped_.size(); ++r) {
    if (dropped_[r] == 0) continue;
    for (Request* q : ranks_[r]->EvictAll()) out.push_back(q);
    if (!tiers_.empty()) tiers_[r]->Clear();
  }
  for (auto it = affinity_ranks_.begin(); it != affinity_ranks_.end();) {
    it = dropped_[it->second] > 0 ? affinity_ranks_.erase(it) : std::next(it);
  }
  return out;
}

void EpGroupInstance::RestoreRanks(const std::vector<int>& positions) {
  for (int p : positions) {
    MOESIM_CHECK(p >= 0 && size_t(p) < dropped_.size() && dropped_[p] > 0, "rank ", p,
                 " restored but not dropped");
    --dropped_[p];
  }
  // Fewer GPUs out than when the drop was accepted: every expert keeps a replica.
  MOESIM_CHECK(sampler_->SetDeadGpus(DeadRanks(dropped_)), "placement could not be restored");
}

std::vector<Request*> EpGroupInstance::Evict(int) {
  std::vector<Request*> out;
  for (size_t r = 0; r < ranks_.size(); ++r) {
    for (Request* q : ranks_[r]->EvictAll()) out.push_back(q);
    if (!tiers_.empty()) tiers_[r]->Clear();
  }
  affinity_ranks_.clear();
  return out;
}

}  // namespace moesim
