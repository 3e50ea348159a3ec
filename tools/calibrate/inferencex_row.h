// One row of ../shared/reference/measurements/inferencex_dsr1_training.csv, typed.
//
// Columns are described in that folder's README.md (§1). For aggregated rows (`disagg` 0) the
// decode_* columns describe the one pool; its GPU count is decode_tp. Disaggregated rows (`disagg`
// 1) also describe the prefill workers and every pool's GPUs.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "tools/calibrate/csv_table.h"

namespace moesim::calibrate {

struct InferencexRow {
  size_t line = 0;        // line number in the CSV file (header = 1)
  std::string hardware;   // "b200", "mi355x", ...
  std::string framework;  // "sglang", "trt", "atom", "dynamo-sglang", ...
  std::string precision;  // "fp8" or "fp4" (MoE weights)
  std::string spec;       // "none" or "mtp"
  bool disagg = false;    // separate prefill and decode workers
  int tp = 0;             // decode_tp
  int ep = 0;             // decode_ep as the CSV states it (see the recipes for what ran)
  bool dp_attention = false;
  // Disaggregated rows only (0 / false otherwise: these columns are blank in aggregated rows).
  int decode_workers = 0;
  int prefill_tp = 0;
  int prefill_ep = 0;
  bool prefill_dp_attention = false;
  int prefill_workers = 0;
  int prefill_gpus = 0;
  int decode_gpus = 0;
  int total_gpus = 0;
  int isl = 0;
  int osl = 0;
  int conc = 0;
  // Measured values, exactly as the CSV writes them (for messages) and as numbers.
  std::string tput_per_gpu_total_text, output_tput_per_gpu_text, median_tpot_ms_text;
  double tput_per_gpu_total = 0;
  double output_tput_per_gpu = 0;
  double median_tpot_ms = 0;
  double median_ttft_s = 0;
  std::string image;  // may be empty (blank in the API)
  std::string date;   // YYYY-MM-DD
  std::string run_url;
};

// Reads data row `row` of `table`; an unparsable number is an error naming the line and column.
absl::StatusOr<InferencexRow> ParseInferencexRow(const CsvTable& table, size_t row);

}  // namespace moesim::calibrate
