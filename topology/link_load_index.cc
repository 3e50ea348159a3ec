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
  // The flows crossing each link direction (a counting sort: flow order kept within a direction).
  std::vector<int> start(dir_count + 1, 0);
  for (const IndexedFlow& f : flows) {
    for (int d : f.dirs) ++start[d + 1];
  }
  for (int d = 0; d < dir_count; ++d) start[d + 1] += start[d];
  std::vector<int> crossing(start.back());
  {
    std::vector<int> next(start.begin(), start.end() - 1);
    for (int i = 0; i < static_cast<int>(flows.size()); ++i) {
      for (int d : flows[i].dirs) crossing[next[d]++] = i;
    }
  }
  // Per direction (ascending): each source's destinations, (fabric class, share, source)
  // ascending; then sources with equal (class, share, destinations) form one group, groups in
  // (class, share, destinations) order, sources ascending. Node sets are interned in the order
  // the groups come.
  struct Source {
    int cls = 0;
    double share = 0;
    int src = 0;
    std::vector<int> dsts;  // sorted, distinct
  };
  auto same_source = [](const IndexedFlow& x, const IndexedFlow& y) {
    return x.fabric_class == y.fabric_class && !(x.share < y.share) && !(y.share < x.share) &&
           x.src == y.src;
  };
  auto same_group = [](const Source& x, const Source& y) {
    return x.cls == y.cls && !(x.share < y.share) && !(y.share < x.share) && x.dsts == y.dsts;
  };
  std::map<std::vector<int>, int> src_ids, dst_ids;
  auto intern = [this](std::map<std::vector<int>, int>* ids, std::vector<NodeSet>* table,
                       const std::vector<int>& members) {
    auto it = ids->find(members);
    if (it != ids->end()) return it->second;
    const int id = Intern(table, members, positions_);
    ids->emplace(members, id);
    return id;
  };
  std::vector<Source> sources;
  std::vector<int> order, srcs;
  for (int d = 0; d < dir_count; ++d) {
    int* const begin = crossing.data() + start[d];
    int* const end = crossing.data() + start[d + 1];
    if (begin == end) continue;
    auto by_key = [&flows](int x, int y) {
      const IndexedFlow& a = flows[x];
      const IndexedFlow& b = flows[y];
      return std::tie(a.fabric_class, a.share, a.src, a.dst) <
             std::tie(b.fabric_class, b.share, b.src, b.dst);
    };
    // Collectives list their flows source by source, so this is often sorted already.
    if (!std::is_sorted(begin, end, by_key)) std::sort(begin, end, by_key);
    sources.clear();
    for (const int* it = begin; it != end;) {
      const IndexedFlow& first = flows[*it];
      Source s{first.fabric_class, first.share, first.src, {}};
      for (; it != end && same_source(flows[*it], first); ++it) {
        const int dst = flows[*it].dst;
        if (s.dsts.empty() || s.dsts.back() != dst) s.dsts.push_back(dst);
      }
      sources.push_back(std::move(s));
    }
    order.resize(sources.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&sources](int x, int y) {
      const Source& a = sources[x];
      const Source& b = sources[y];
      if (a.cls != b.cls) return a.cls < b.cls;
      if (a.share < b.share) return true;
      if (b.share < a.share) return false;
      if (a.dsts != b.dsts) return a.dsts < b.dsts;
      return a.src < b.src;
    });
    for (size_t i = 0; i < order.size();) {
      const Source& first = sources[order[i]];
      srcs.clear();
      for (; i < order.size() && same_group(sources[order[i]], first); ++i) {
        srcs.push_back(sources[order[i]].src);
      }
      Group g;
      g.dir = d;
      g.fabric_class = first.cls;
      g.share = first.share;
      g.src_set = intern(&src_ids, &src_sets_, srcs);
      g.dst_set = intern(&dst_ids, &dst_sets_, first.dsts);
      groups_.push_back(g);
    }
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
