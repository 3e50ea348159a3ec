#include "engine/afd_instance.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/moe_step_script.h"
#include "models/invariant.h"

namespace moesim {

namespace {

// Adds the nodes of an attention/FFN step: chunk by chunk, each micro-batch's items in turn.
class AfdEmitter {
 public:
  AfdEmitter(const PoolContext& s, const AfdHopPlanner& hops, const std::vector<int>& gpus,
             int attention, int micro, bool wire, StepGraph* g, AfdStepStats* stats)
      : s_(s),
        hops_(hops),
        gpus_(gpus),
        attention_(attention),
        experts_(static_cast<int>(gpus.size()) - attention),
        wire_(wire),
        g_(*g),
        stats_(*stats),
        last_compute_(micro, -1),
        last_transfer_(micro, -1),
        last_experts_(micro, -1),
        dispatched_(micro, 0.0) {}

  void Script(const StepScript& script, const std::vector<int>& prog_set,
              const std::vector<std::vector<double>>& tokens,
              const std::vector<GroupLayerLoads>& loads) {
    const int micro = static_cast<int>(prog_set.size());
    for (const auto& [first, end] : script.chunks) {
      for (int m = 0; m < micro; ++m) {
        for (size_t i = first; i < end; ++i) {
          const ScriptItem& item = script.items[i];
          const std::vector<MoeLayerLoad>* layer =
              item.kind == ScriptItem::kCompute ? nullptr : &loads[m][item.moe_layer];
          switch (item.kind) {
            case ScriptItem::kCompute:
              Attention(m, item, script, prog_set[m]);
              break;
            case ScriptItem::kDispatch:
              Hop(m, true, tokens[m], *layer);
              SharedOnAttention(tokens[m]);
              break;
            case ScriptItem::kExperts:
              Experts(m, tokens[m], *layer);
              break;
            case ScriptItem::kCombine:
              Hop(m, false, tokens[m], *layer);
              break;
          }
        }
      }
    }
  }

 private:
  // Attention-side ops of `item` on every attention rank; after a combine it waits for it.
  void Attention(int m, const ScriptItem& item, const StepScript& script, int prog_set) {
    StepNode c;
    c.kind = StepNode::Kind::kCompute;
    c.group = 0;
    c.groups = attention_;
    if (last_transfer_[m] >= 0) c.deps.push_back(last_transfer_[m]);
    last_transfer_[m] = -1;
    c.program_set = prog_set;
    ScriptItemRange(script, item, &c.begin, &c.end);
    last_compute_[m] = g_.AddNode(std::move(c));
  }

  // A dispatch (after the micro-batch's attention) or a combine (after its experts).
  void Hop(int m, bool dispatch, const std::vector<double>& tokens,
           const std::vector<MoeLayerLoad>& load) {
    StepNode n;
    n.deps.push_back(dispatch ? last_compute_[m] : last_experts_[m]);
    // Every hop of a direction crosses the same links (the expert GPUs' ports): hops of
    // different micro-batches queue there one after another rather than overlap.
    int& previous = dispatch ? last_dispatch_ : last_combine_;
    if (previous >= 0) n.deps.push_back(previous);
    StepTransfer t;
    t.name = dispatch ? "a2e" : "e2a";
    const AfdHop hop = hops_.Plan(dispatch, tokens, load, wire_ ? &t.wire : nullptr);
    t.cost = hop.cost;
    t.gpus = &gpus_;
    stats_.hops += 1;
    (dispatch ? stats_.dispatch_s : stats_.combine_s) += hop.cost.seconds;
    (dispatch ? stats_.dispatch_bytes : stats_.combine_bytes) += hop.payload_bytes;
    if (dispatch) dispatched_[m] = hop.payload_bytes;
    last_transfer_[m] = g_.AddTransfer(std::move(n), std::move(t));
    previous = last_transfer_[m];
  }

  // Shared experts on the attention side: run on the rank's own tokens while the dispatch is in
  // flight (stream order after the attention ops, no wait on the hop).
  void SharedOnAttention(const std::vector<double>& tokens) {
    const DeploymentSpec::AttentionFfn& a = s_.deployment().attention_ffn;
    if (a.shared_experts_on_expert_side || s_.model.moe.shared_experts == 0) return;
    std::vector<int> programs(attention_);
    for (int r = 0; r < attention_; ++r) {
      programs[r] = Program(std::make_tuple(-1.0, tokens[r], 0.0), [&] {
        return SharedExpertOps(s_.model, s_.runtime(), s_.plan(), tokens[r]);
      });
    }
    StepNode c;
    c.kind = StepNode::Kind::kCompute;
    c.group = 0;
    c.groups = attention_;
    c.program_set = g_.AddProgramSet(std::move(programs));
    c.begin = {0, 0};
    c.end = {1, 0};
    g_.AddNode(std::move(c));
  }

  // Every expert GPU's fused-MoE block on the tokens it received (and the shared experts'
  // round-robin share when they live there), after the dispatch.
  void Experts(int m, const std::vector<double>& tokens, const std::vector<MoeLayerLoad>& load) {
    const std::vector<double> received = hops_.Received(tokens, load);
    // Nothing lost: what the expert GPUs receive is what the attention GPUs sent.
    double got = 0;
    for (double r : received) got += r * hops_.DispatchBytesPerToken();
    MOESIM_CHECK(std::fabs(got - dispatched_[m]) <= 1e-9 * std::max(1.0, dispatched_[m]),
                 "micro-batch ", m, "'s dispatch sent ", dispatched_[m],
                 " bytes, the expert GPUs receive ", got);
    const bool shared_here = s_.deployment().attention_ffn.shared_experts_on_expert_side &&
                             s_.model.moe.shared_experts > 0;
    double sent = 0;
    for (double t : tokens) sent += t;
    const double shared_tokens = shared_here ? sent / experts_ : 0.0;
    std::vector<int> programs(experts_);
    for (int e = 0; e < experts_; ++e) {
      const MoeLayerLoad& l = load[e];
      programs[e] = Program(std::make_tuple(received[e], l.assignments, l.active_experts), [&] {
        std::vector<Op> ops = RoutedExpertOps(s_.model, s_.runtime(), s_.plan(), received[e], l);
        if (shared_tokens > 0) {
          for (Op& op : SharedExpertOps(s_.model, s_.runtime(), s_.plan(), shared_tokens)) {
            ops.push_back(op);
          }
        }
        return ops;
      });
    }
    StepNode c;
    c.kind = StepNode::Kind::kCompute;
    c.group = attention_;
    c.groups = experts_;
    c.deps.push_back(last_transfer_[m]);
    last_transfer_[m] = -1;
    c.program_set = g_.AddProgramSet(std::move(programs));
    c.begin = {0, 0};
    c.end = {1, 0};
    last_experts_[m] = g_.AddNode(std::move(c));
  }

  // One program per distinct key (a one-block program of `ops()`).
  using Key = std::tuple<double, double, double>;
  template <typename MakeOps>
  int Program(const Key& key, MakeOps ops) {
    auto it = programs_.find(key);
    if (it != programs_.end()) return it->second;
    StepProgram p;
    p.blocks.push_back(ops());
    p.order.push_back(0);
    const int id = g_.AddProgram(std::move(p));
    programs_.emplace(key, id);
    return id;
  }

  const PoolContext& s_;
  const AfdHopPlanner& hops_;
  const std::vector<int>& gpus_;
  int attention_;
  int experts_;
  bool wire_;
  StepGraph& g_;
  AfdStepStats& stats_;
  std::vector<int> last_compute_;   // per micro-batch: its last attention node
  std::vector<int> last_transfer_;  // per micro-batch: its hop not yet waited for, or -1
  std::vector<int> last_experts_;   // per micro-batch: its last expert node
  std::vector<double> dispatched_;  // per micro-batch: its last dispatch's payload bytes
  int last_dispatch_ = -1;          // the last dispatch of any micro-batch
  int last_combine_ = -1;           // the last combine of any micro-batch
  std::map<Key, int> programs_;
};

// The per-GPU mean of groups [first, first + count) of a step's timing.
TimeBreakdown SideMean(const StepTiming& timing, int first, int count) {
  TimeBreakdown side;
  for (int k = first; k < first + count; ++k) side.Add(timing.groups[k]);
  side.Scale(1.0 / count);
  return side;
}

}  // namespace

AfdInstance::AfdInstance(const InstanceContext& c, int micro)
    : EpGroupInstance(c, {}, micro),
      hops_(c.pool, c.fabric),
      expert_gpus_(c.pool.deployment().attention_ffn.expert_gpus) {}

absl::StatusOr<std::unique_ptr<Instance>> AfdInstance::Make(InstanceContext& c) {
  const DeploymentSpec::AttentionFfn& a = c.pool.deployment().attention_ffn;
  std::unique_ptr<AfdInstance> inst(new AfdInstance(c, a.micro_batches));
  if (absl::Status st = Init(c, a.attention_gpus, inst.get()); !st.ok()) return st;
  return std::unique_ptr<Instance>(std::move(inst));
}

StepGraph AfdInstance::BuildGraph(const std::vector<std::vector<StepBatch>>& batches,
                                  const std::vector<int64_t>& running,
                                  const std::vector<GroupLayerLoads>& loads, bool wire) const {
  const PoolContext& s = pool();
  const int attention = ranks();
  StepGraph g;
  g.launch = GroupLaunch(s.runtime(), batches);
  for (int k = 0; k < attention + expert_gpus_; ++k) {
    StepGroup group;
    group.gpus = {gpus()[k]};
    if (k < attention) {
      group.running_seqs = running[k];
    } else {
      group.host_work = false;
      group.begins_with_graph = true;
    }
    g.groups.push_back(std::move(group));
  }
  const RankPrograms ranked = AddRankPrograms(s.model, s.runtime(), s.plan(), batches, &g);
  const StepScript script = MakeScript(g.programs[ranked.program[0][0]]);
  std::vector<int> prog_set(micro());
  for (int m = 0; m < micro(); ++m) prog_set[m] = g.AddProgramSet(ranked.program[m]);
  last_graph_ = AfdStepStats();
  AfdEmitter emit(s, hops_, gpus(), attention, micro(), wire, &g, &last_graph_);
  emit.Script(script, prog_set, ranked.tokens, loads);
  // Speculative decoding: the draft passes on the attention ranks; an MTP layer's experts (the
  // target's shape) live on the expert side, so its tokens hop there and back like the target's.
  for (const DraftPass& d : AddDraftPrograms(batches, &g)) {
    emit.Script(d.script, d.prog_set, d.tokens, d.loads);
  }
  return g;
}

void AfdInstance::RecordStep(const StepTiming& timing, StepRecord* rec) const {
  rec->afd = last_graph_;
  rec->afd.attention = SideMean(timing, 0, ranks());
  rec->afd.experts = SideMean(timing, ranks(), expert_gpus_);
}

}  // namespace moesim
