#include "models/moe_traffic.h"

namespace moesim {

double DispatchBytesPerCopy(const ModelSpec& m) {
  return m.hidden * 1.0 + m.hidden / kDispatchScaleBlock * 4.0;
}

double CombineBytesPerCopy(const ModelSpec& m) { return m.hidden * 2.0; }

double DispatchBytesPerRank(const ModelSpec& m, double tokens) {
  return tokens * m.moe.top_k * DispatchBytesPerCopy(m);
}

double CombineBytesPerRank(const ModelSpec& m, double tokens) {
  return tokens * m.moe.top_k * CombineBytesPerCopy(m);
}

}  // namespace moesim
