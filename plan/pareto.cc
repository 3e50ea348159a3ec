#include "plan/pareto.h"

#include <algorithm>
#include <limits>
#include <numeric>

namespace moesim {

std::vector<size_t> ParetoFrontier(const std::vector<ParetoPoint>& points) {
  std::vector<size_t> order(points.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // By x descending, then y descending, then index: a sweep keeps each point whose y beats every
  // y seen so far (all of which have x at least as large).
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (points[a].x != points[b].x) return points[a].x > points[b].x;
    if (points[a].y != points[b].y) return points[a].y > points[b].y;
    return a < b;
  });
  std::vector<size_t> frontier;
  double best_y = -std::numeric_limits<double>::infinity();
  for (size_t i : order) {
    if (points[i].y > best_y) {
      frontier.push_back(i);
      best_y = points[i].y;
    }
  }
  std::reverse(frontier.begin(), frontier.end());
  return frontier;
}

double FrontierShortfall(const ParetoPoint& p, const std::vector<ParetoPoint>& frontier) {
  double k = 0;
  for (const ParetoPoint& f : frontier) {
    const double rx = p.x > 0 ? f.x / p.x : (f.x > 0 ? std::numeric_limits<double>::infinity() : 1);
    const double ry = p.y > 0 ? f.y / p.y : (f.y > 0 ? std::numeric_limits<double>::infinity() : 1);
    k = std::max(k, std::min(rx, ry) - 1);
  }
  return k;
}

}  // namespace moesim
