// Pareto frontiers of plans on two objectives that are both maximised (a sweep's output tok/s
// per GPU against tok/s per user).
#pragma once

#include <cstddef>
#include <vector>

namespace moesim {

struct ParetoPoint {
  double x = 0;  // e.g. output tok/s per GPU
  double y = 0;  // e.g. tok/s per user
};

// Indices of the points no other point dominates (another point at least as good on both and
// better on one), sorted by x ascending (ties: by index). Of identical points the first is kept.
std::vector<size_t> ParetoFrontier(const std::vector<ParetoPoint>& points);

// How far `p` lies below the frontier `frontier` (points, not indices): the smallest k >= 0 such
// that p scaled by (1 + k) on both objectives is dominated by no frontier point, i.e.
// max over f of min(f.x / p.x, f.y / p.y) - 1, floored at 0. A point with a zero objective is
// infinitely far unless the frontier is empty.
double FrontierShortfall(const ParetoPoint& p, const std::vector<ParetoPoint>& frontier);

}  // namespace moesim
