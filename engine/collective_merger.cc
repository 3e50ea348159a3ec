#include "engine/collective_merger.h"

#include <algorithm>
#include <cstring>

namespace moesim {

namespace {
// The name of a merged activity of more than one op.
constexpr const char* kMixedOps = "collectives";
}  // namespace

void CollectiveMerger::OnActivity(const StepActivity& a) {
  if (a.kind != StepActivity::Kind::kCollective) {
    out_->OnActivity(a);
    return;
  }
  const double busy = a.busy_s > 0 ? a.busy_s : a.end_s - a.start_s;
  for (StepActivity& m : merged_) {
    if (m.first_gpu != a.first_gpu || m.tier != a.tier) continue;
    // Names are string literals: equal pointers are the usual case, strcmp the rest.
    if (m.name != kMixedOps && m.name != a.name && std::strcmp(m.name, a.name) != 0) {
      m.name = kMixedOps;
    }
    m.start_s = std::min(m.start_s, a.start_s);
    m.end_s = std::max(m.end_s, a.end_s);
    m.bytes += a.bytes;
    m.count += a.count;
    m.busy_s += busy;
    return;
  }
  merged_.push_back(a);
  merged_.back().busy_s = busy;
}

void CollectiveMerger::Flush() {
  for (const StepActivity& m : merged_) out_->OnActivity(m);
  merged_.clear();
}

}  // namespace moesim
