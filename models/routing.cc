#include "models/routing.h"

#include <cmath>

namespace moesim {

double ExpectedDistinctExperts(double experts, double top_k, double tokens) {
  if (tokens <= 0 || experts <= 0) return 0.0;
  return experts * (1.0 - std::pow(1.0 - top_k / experts, tokens));
}

}  // namespace moesim
