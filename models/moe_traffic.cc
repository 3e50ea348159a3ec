#include "models/moe_traffic.h"

namespace moesim {

double DispatchBytesPerCopy(const ModelSpec& m) {
  return m.hidden * 1.0 + m.hidden / kDispatchScaleBlock * 4.0;
}

double CombineBytesPerCopy(const ModelSpec& m) { return m.hidden * 2.0; }

double SizedGatherBytesPerToken(const ModelSpec& m) {
  constexpr double kNvfp4ScaleBlock = 16.0;  // NVFP4: one e4m3 scale per 16 values
  double activation = m.hidden * 2.0;
  if (m.expert_weight_dtype == DType::kFp4) {
    activation = m.hidden * 0.5 + m.hidden / kNvfp4ScaleBlock;
  } else if (m.expert_weight_dtype == DType::kFp8 && !m.fp8_block_scaled) {
    activation = m.hidden * 1.0;
  }
  return activation + m.moe.top_k * (4.0 + 4.0);
}

double DispatchBytesPerRank(const ModelSpec& m, double tokens) {
  return tokens * m.moe.top_k * DispatchBytesPerCopy(m);
}

double CombineBytesPerRank(const ModelSpec& m, double tokens) {
  return tokens * m.moe.top_k * CombineBytesPerCopy(m);
}

}  // namespace moesim
