#include "engine/instance_fabric.h"

#include <algorithm>

namespace moesim {

namespace {

// vLLM custom_all_reduce.py: world sizes up to 8, messages up to 8 MiB (max_size 8192 * 1024).
constexpr int kMaxCustomAllReduceGpus = 8;
constexpr double kMaxCustomAllReduceBytes = 8192.0 * 1024;

// The all-reduces a TP group of `gpus` may run (none for one GPU), appended as the next stage's.
absl::Status AddAllReduces(const ClusterGraph& graph, const std::vector<int>& gpus,
                           InstanceFabric& f) {
  f.stage_rings.push_back(nullptr);
  f.stage_one_shot.push_back(nullptr);
  f.stage_two_shot.push_back(nullptr);
  if (gpus.size() < 2) return absl::OkStatus();
  auto ring = CollectivePattern::RingAllReduce(graph, gpus);
  if (!ring.ok()) return ring.status();
  f.stage_rings.back() = std::make_unique<CollectivePattern>(std::move(*ring));
  auto one = CollectivePattern::OneShotAllReduce(graph, gpus);
  if (!one.ok()) return one.status();
  if (static_cast<int>(gpus.size()) <= kMaxCustomAllReduceGpus && one->ScaleUpOnly()) {
    auto two = CollectivePattern::TwoShotAllReduce(graph, gpus);
    if (!two.ok()) return two.status();
    f.stage_one_shot.back() = std::make_unique<CollectivePattern>(std::move(*one));
    f.stage_two_shot.back() = std::make_unique<CollectivePattern>(std::move(*two));
  }
  return absl::OkStatus();
}

}  // namespace

const CollectivePattern* InstanceFabric::AllReduceFor(int stage, double message_bytes) const {
  const CollectivePattern* one = stage_one_shot[stage].get();
  if (one == nullptr || message_bytes >= kMaxCustomAllReduceBytes) return Ring(stage);
  const int n = static_cast<int>(one->gpus().size());
  // csrc/custom_all_reduce.cuh REDUCE_CASE: one-shot for 2 GPUs, or under 512 KiB on up to 4
  // GPUs, or under 256 KiB on up to 8; two-shot otherwise.
  const bool one_shot = n == 2 || (n <= 4 && message_bytes < 512.0 * 1024) ||
                        (n <= 8 && message_bytes < 256.0 * 1024);
  return one_shot ? one : stage_two_shot[stage].get();
}

absl::StatusOr<InstanceFabric> BuildInstanceFabric(const PoolContext& s, const ClusterGraph& graph,
                                                   int instance) {
  InstanceFabric f;
  const ParallelPlan& p = s.plan();
  const DeploymentSpec::AttentionFfn& afd = s.deployment().attention_ffn;
  if (afd.enabled()) {
    const std::vector<int> gpus = s.InstanceGpus(instance);
    std::vector<Transfer> there, back;
    for (int a = 0; a < afd.attention_gpus; ++a) {
      for (int e = afd.attention_gpus; e < static_cast<int>(gpus.size()); ++e) {
        there.push_back({gpus[a], gpus[e], 1.0 / afd.expert_gpus});
        back.push_back({gpus[e], gpus[a], 1.0 / afd.expert_gpus});
      }
    }
    auto dispatch = CollectivePattern::Custom(graph, gpus, std::move(there), 1);
    if (!dispatch.ok()) return dispatch.status();
    auto combine = CollectivePattern::Custom(graph, gpus, std::move(back), 1);
    if (!combine.ok()) return combine.status();
    // StepMesh / MegaScale-Infer hops are RDMA writes into registered buffers, not collectives.
    dispatch->UseBulkWrites();
    combine->UseBulkWrites();
    f.afd_dispatch = std::make_unique<CollectivePattern>(std::move(*dispatch));
    f.afd_combine = std::make_unique<CollectivePattern>(std::move(*combine));
  } else if (p.dp_attention) {
    auto a2a = CollectivePattern::AllToAll(graph, s.InstanceGpus(instance));
    if (!a2a.ok()) return a2a.status();
    f.all_to_all = std::make_unique<CollectivePattern>(std::move(*a2a));
    if (s.deployment().moe_dispatch == DeploymentSpec::MoeDispatch::kNormal) {
      auto normal = DeepEpNormalPattern::Make(graph, s.InstanceGpus(instance));
      if (!normal.ok()) return normal.status();
      f.deepep_normal = std::make_unique<DeepEpNormalPattern>(std::move(*normal));
    }
    if (s.deployment().moe_dispatch == DeploymentSpec::MoeDispatch::kGather) {
      auto gather = CollectivePattern::RingAllGather(graph, s.InstanceGpus(instance));
      if (!gather.ok()) return gather.status();
      f.dp_gather = std::make_unique<CollectivePattern>(std::move(*gather));
    }
  }
  // The group's all-reduces (a gather in a step with prompt tokens), after the stages' entries.
  const bool group_all_reduces =
      p.dp_attention && s.deployment().moe_dispatch == DeploymentSpec::MoeDispatch::kGather;
  for (int stage = 0; stage < p.pp; ++stage) {
    const std::vector<int> gpus = s.StageGpus(instance, stage);
    if (absl::Status st = AddAllReduces(graph, gpus, f); !st.ok()) return st;
    if (stage + 1 < p.pp) {
      const std::vector<int> next = s.StageGpus(instance, stage + 1);
      std::vector<Transfer> shares;
      std::vector<int> both = gpus;
      for (int r = 0; r < p.tp; ++r) {
        shares.push_back({gpus[r], next[r], 1.0 / p.tp});
        both.push_back(next[r]);
      }
      auto send = CollectivePattern::Custom(graph, both, shares, 1);
      if (!send.ok()) return send.status();
      f.stage_sends.push_back(std::make_unique<CollectivePattern>(std::move(*send)));
    }
  }
  if (group_all_reduces) {
    f.group_all_reduce_stage = static_cast<int>(f.stage_rings.size());
    if (absl::Status st = AddAllReduces(graph, s.InstanceGpus(instance), f); !st.ok()) return st;
  }
  const int draft_gpus = s.deployment().draft_gpus;
  if (draft_gpus > 0) {
    // A draft model on GPUs of its own: its all-reduces as one more stage's, the verified tokens
    // from the last stage's first GPU to the draft's first, the drafts back to the first stage's.
    const std::vector<int> draft = s.deployed.DraftGpus(instance);
    if (absl::Status st = AddAllReduces(graph, draft, f); !st.ok()) return st;
    const int last = s.StageGpus(instance, p.pp - 1)[0], first = s.StageGpus(instance, 0)[0];
    auto in = CollectivePattern::Custom(graph, {last, draft[0]}, {{last, draft[0], 1.0}}, 1);
    if (!in.ok()) return in.status();
    auto out = CollectivePattern::Custom(graph, {draft[0], first}, {{draft[0], first, 1.0}}, 1);
    if (!out.ok()) return out.status();
    f.draft_sends.push_back(std::make_unique<CollectivePattern>(std::move(*in)));
    f.draft_sends.push_back(std::make_unique<CollectivePattern>(std::move(*out)));
  }
  return f;
}

std::vector<std::pair<int, int>> InstanceFabric::Pairs() const {
  std::vector<std::pair<int, int>> pairs;
  if (all_to_all) {
    for (const Transfer& t : all_to_all->WireTransfers(1.0))
      pairs.emplace_back(t.src_gpu, t.dst_gpu);
  }
  if (deepep_normal) {
    for (const Transfer& t : deepep_normal->Pairs()) pairs.emplace_back(t.src_gpu, t.dst_gpu);
  }
  if (dp_gather) {
    for (const Transfer& t : dp_gather->WireTransfers(1.0))
      pairs.emplace_back(t.src_gpu, t.dst_gpu);
  }
  for (const auto* afd : {afd_dispatch.get(), afd_combine.get()}) {
    if (afd == nullptr) continue;
    for (const Transfer& t : afd->WireTransfers(1.0)) pairs.emplace_back(t.src_gpu, t.dst_gpu);
  }
  for (const auto* list :
       {&stage_rings, &stage_sends, &stage_one_shot, &stage_two_shot, &draft_sends}) {
    for (const auto& p : *list) {
      if (!p) continue;
      for (const Transfer& t : p->WireTransfers(1.0)) pairs.emplace_back(t.src_gpu, t.dst_gpu);
    }
  }
  return pairs;
}

std::vector<int> InstanceFabric::LinkDirections() const {
  std::vector<int> dirs;
  if (all_to_all) dirs = all_to_all->LinkDirections();
  if (deepep_normal) {
    for (int d : deepep_normal->LinkDirections()) dirs.push_back(d);
  }
  for (const auto* p : {afd_dispatch.get(), afd_combine.get(), dp_gather.get()}) {
    if (p == nullptr) continue;
    for (int d : p->LinkDirections()) dirs.push_back(d);
  }
  for (const auto* list :
       {&stage_rings, &stage_sends, &stage_one_shot, &stage_two_shot, &draft_sends}) {
    for (const auto& p : *list) {
      if (!p) continue;
      for (int d : p->LinkDirections()) dirs.push_back(d);
    }
  }
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  return dirs;
}

}  // namespace moesim
