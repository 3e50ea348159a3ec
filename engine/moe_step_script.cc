#include "engine/moe_step_script.h"

#include <unordered_map>

#include <boost/container_hash/hash.hpp>

namespace moesim {

StepScript MakeScript(const StepProgram& p) {
  StepScript s;
  s.order = p.order;
  for (const std::vector<Op>& block : p.blocks) {
    s.block_size.push_back(static_cast<int>(block.size()));
    s.a2a.emplace_back();
    for (int k = 0; k < static_cast<int>(block.size()); ++k) {
      if (block[k].cls == OpClass::kAllToAll) s.a2a.back().push_back(k);
    }
  }
  int moe_layer = 0;
  for (int oi = 0; oi < static_cast<int>(s.order.size()); ++oi) {
    s.items.push_back({ScriptItem::kCompute, oi, 0, moe_layer});
    if (s.a2a[s.order[oi]].empty()) continue;
    s.items.push_back({ScriptItem::kDispatch, oi, 0, moe_layer});
    s.items.push_back({ScriptItem::kExperts, oi, 1, moe_layer});
    s.items.push_back({ScriptItem::kCombine, oi, 1, moe_layer});
    s.items.push_back({ScriptItem::kCompute, oi, 2, moe_layer});
    ++moe_layer;
  }
  size_t begin = 0;
  for (size_t i = 0; i < s.items.size(); ++i) {
    const bool cut =
        s.items[i].kind == ScriptItem::kDispatch || s.items[i].kind == ScriptItem::kCombine;
    if (cut || i + 1 == s.items.size()) {
      s.chunks.push_back({begin, i + 1});
      begin = i + 1;
    }
  }
  return s;
}

void ScriptItemRange(const StepScript& script, const ScriptItem& item, OpPosition* begin,
                     OpPosition* end) {
  const int block = script.order[item.oi];
  const std::vector<int>& cuts = script.a2a[block];
  *begin = {item.oi, item.part == 0 ? 0 : cuts[1] + 1};
  *end = {item.oi, item.part == 0 && !cuts.empty() ? cuts[0] : script.block_size[block]};
}

StepLaunch GroupLaunch(const RuntimeSpec& runtime,
                       const std::vector<std::vector<StepBatch>>& batches) {
  StepLaunch launch = StepLaunch::kFullGraph;
  for (const auto& micro : batches) {
    for (const StepBatch& b : micro) {
      const StepLaunch l = ChooseLaunch(runtime, b);
      if (l != StepLaunch::kFullGraph) launch = l;
    }
  }
  return launch;
}

RankPrograms AddRankPrograms(const ModelSpec& model, const RuntimeSpec& runtime,
                             const ParallelPlan& plan,
                             const std::vector<std::vector<StepBatch>>& batches, StepGraph* g) {
  const size_t micro = batches.size(), ranks = batches[0].size();
  RankPrograms out;
  out.program.assign(micro, std::vector<int>(ranks));
  out.tokens.assign(micro, std::vector<double>(ranks));
  using BatchKey = decltype(StepBatch().Fields());
  std::unordered_map<BatchKey, int, boost::hash<BatchKey>> program_of;
  for (size_t m = 0; m < micro; ++m) {
    for (size_t r = 0; r < ranks; ++r) {
      const StepBatch& b = batches[m][r];
      auto [it, fresh] = program_of.emplace(b.Fields(), 0);
      if (fresh) it->second = g->AddProgram(BuildStepProgram(model, runtime, plan, b));
      out.program[m][r] = it->second;
      out.tokens[m][r] = double(b.tokens());
    }
  }
  return out;
}

}  // namespace moesim
