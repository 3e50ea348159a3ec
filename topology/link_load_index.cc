#include "topology/link_load_index.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <tuple>

namespace moesim {

int LinkLoadIndex::Intern(std::vector<NodeSet>* table, std::vector<int> members, int positions) {
  NodeSet s;
  if (2 * static_cast<int>(members.size()) > positions) {
    s.complement = true;
    std::vector<char> in(positions, 0);
    for (int m : members) in[m] = 1;
    for (int p = 0; p < positions; ++p) {
      if (!in[p]) s.members.push_back(p);
    }
  } else {
    s.members = std::move(members);
  }
  table->push_back(std::move(s));
  return static_cast<int>(table->size()) - 1;
}

LinkLoadIndex::LinkLoadIndex(int positions, int dir_count, const std::vector<IndexedFlow>& flows)
    : positions_(positions), dir_count_(dir_count) {
  // (dir, fabric class, share, src) -> destinations.
  std::map<std::tuple<int, int, double, int>, std::vector<int>> by_source;
  for (const IndexedFlow& f : flows) {
    for (int d : f.dirs) by_source[{d, f.fabric_class, f.share, f.src}].push_back(f.dst);
  }
  // (dir, fabric class, share, destinations) -> sources.
  std::map<std::tuple<int, int, double, std::vector<int>>, std::vector<int>> by_dests;
  for (auto& [key, dsts] : by_source) {
    std::sort(dsts.begin(), dsts.end());
    dsts.erase(std::unique(dsts.begin(), dsts.end()), dsts.end());
    const auto& [dir, cls, share, src] = key;
    by_dests[{dir, cls, share, dsts}].push_back(src);
  }
  std::map<std::vector<int>, int> src_ids, dst_ids;
  auto intern = [this](std::map<std::vector<int>, int>* ids, std::vector<NodeSet>* table,
                       const std::vector<int>& members) {
    auto it = ids->find(members);
    if (it != ids->end()) return it->second;
    const int id = Intern(table, members, positions_);
    ids->emplace(members, id);
    return id;
  };
  for (auto& [key, srcs] : by_dests) {
    const auto& [dir, cls, share, dsts] = key;
    std::sort(srcs.begin(), srcs.end());
    Group g;
    g.dir = dir;
    g.fabric_class = cls;
    g.share = share;
    g.src_set = intern(&src_ids, &src_sets_, srcs);
    g.dst_set = intern(&dst_ids, &dst_sets_, dsts);
    groups_.push_back(g);
  }
}

void LinkLoadIndex::SetSums(const std::vector<NodeSet>& sets, const std::vector<double>& weight,
                            int positions, std::vector<double>* sums) {
  sums->resize(sets.size());
  const bool ones = weight.empty();
  const double total =
      ones ? double(positions) : std::accumulate(weight.begin(), weight.end(), 0.0);
  for (size_t i = 0; i < sets.size(); ++i) {
    double s = 0;
    if (ones) {
      s = double(sets[i].members.size());
    } else {
      for (int m : sets[i].members) s += weight[m];
    }
    (*sums)[i] = sets[i].complement ? total - s : s;
  }
}

void LinkLoadIndex::Loads(const std::vector<double>& src_weight,
                          const std::vector<double>& dst_weight,
                          const std::vector<double>& inv_efficiency, std::vector<double>* payload,
                          std::vector<double>* wire) const {
  payload->assign(dir_count_, 0.0);
  wire->assign(dir_count_, 0.0);
  SetSums(src_sets_, src_weight, positions_, &src_sums_);
  SetSums(dst_sets_, dst_weight, positions_, &dst_sums_);
  for (const Group& g : groups_) {
    const double p = g.share * src_sums_[g.src_set] * dst_sums_[g.dst_set];
    (*payload)[g.dir] += p;
    (*wire)[g.dir] += p * inv_efficiency[g.fabric_class];
  }
}

}  // namespace moesim
