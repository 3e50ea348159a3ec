// Unit tests of Pareto frontiers and shortfalls (plan/pareto.h).
#include <catch2/catch.hpp>

#include "plan/pareto.h"

namespace moesim {
namespace {

TEST_CASE("the Pareto frontier keeps the undominated points, by x ascending", "[pareto]") {
  const std::vector<ParetoPoint> points = {
      {100, 50},  // 0: frontier
      {200, 30},  // 1: frontier
      {150, 30},  // 2: dominated by 1
      {300, 10},  // 3: frontier
      {200, 30},  // 4: identical to 1: the first is kept
      {50, 50},   // 5: dominated by 0 (same y, less x)
      {10, 60},   // 6: frontier
  };
  CHECK(ParetoFrontier(points) == std::vector<size_t>{6, 0, 1, 3});
  CHECK(ParetoFrontier({}).empty());
}

TEST_CASE("shortfall is how much a point must grow to reach the frontier", "[pareto]") {
  const std::vector<ParetoPoint> frontier = {{100, 50}, {200, 30}};
  CHECK(FrontierShortfall({100, 50}, frontier) == 0);
  CHECK(FrontierShortfall({150, 25}, frontier) == Approx(0.2));  // x1.2 to reach (200, 30)
  // Dominated on one objective only (same y): growing both by any amount escapes.
  CHECK(FrontierShortfall({150, 30}, frontier) == 0);
  CHECK(FrontierShortfall({50, 25}, frontier) == Approx(1.0));  // x2 to reach (100, 50)
  CHECK(FrontierShortfall({250, 5}, frontier) == 0);            // beyond on x
  CHECK(FrontierShortfall({1, 1}, {}) == 0);
}

}  // namespace
}  // namespace moesim
