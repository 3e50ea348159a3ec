#include "tools/calibrate/inferencex_row.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim::calibrate {
namespace {

absl::Status BadField(const CsvTable& t, size_t row, const std::string& column,
                      const std::string& got, const std::string& expected) {
  return absl::InvalidArgumentError(absl::StrCat("CSV line ", CsvTable::LineOf(row), ", column ",
                                                 column, ": got \"", got, "\", expected ",
                                                 expected));
}

absl::StatusOr<int> IntField(const CsvTable& t, size_t row, const std::string& column) {
  MOESIM_ASSIGN_OR_RETURN(std::string text, t.Field(row, column));
  int v = 0;
  if (!absl::SimpleAtoi(text, &v)) return BadField(t, row, column, text, "an integer");
  return v;
}

absl::StatusOr<double> NumberField(const CsvTable& t, size_t row, const std::string& column) {
  MOESIM_ASSIGN_OR_RETURN(std::string text, t.Field(row, column));
  double v = 0;
  if (!absl::SimpleAtod(text, &v)) return BadField(t, row, column, text, "a number");
  return v;
}

absl::StatusOr<bool> FlagField(const CsvTable& t, size_t row, const std::string& column) {
  MOESIM_ASSIGN_OR_RETURN(std::string text, t.Field(row, column));
  if (text != "0" && text != "1") return BadField(t, row, column, text, "0 or 1");
  return text == "1";
}

}  // namespace

absl::StatusOr<InferencexRow> ParseInferencexRow(const CsvTable& t, size_t row) {
  InferencexRow r;
  r.line = CsvTable::LineOf(row);
  MOESIM_ASSIGN_OR_RETURN(r.hardware, t.Field(row, "hardware"));
  MOESIM_ASSIGN_OR_RETURN(r.framework, t.Field(row, "framework"));
  MOESIM_ASSIGN_OR_RETURN(r.precision, t.Field(row, "precision"));
  MOESIM_ASSIGN_OR_RETURN(r.spec, t.Field(row, "spec"));
  MOESIM_ASSIGN_OR_RETURN(r.disagg, FlagField(t, row, "disagg"));
  MOESIM_ASSIGN_OR_RETURN(r.tp, IntField(t, row, "decode_tp"));
  MOESIM_ASSIGN_OR_RETURN(r.ep, IntField(t, row, "decode_ep"));
  MOESIM_ASSIGN_OR_RETURN(r.dp_attention, FlagField(t, row, "decode_dpattn"));
  if (r.disagg) {
    MOESIM_ASSIGN_OR_RETURN(r.decode_workers, IntField(t, row, "decode_workers"));
    MOESIM_ASSIGN_OR_RETURN(r.prefill_tp, IntField(t, row, "prefill_tp"));
    MOESIM_ASSIGN_OR_RETURN(r.prefill_ep, IntField(t, row, "prefill_ep"));
    MOESIM_ASSIGN_OR_RETURN(r.prefill_dp_attention, FlagField(t, row, "prefill_dpattn"));
    MOESIM_ASSIGN_OR_RETURN(r.prefill_workers, IntField(t, row, "prefill_workers"));
    MOESIM_ASSIGN_OR_RETURN(r.prefill_gpus, IntField(t, row, "prefill_gpus"));
    MOESIM_ASSIGN_OR_RETURN(r.decode_gpus, IntField(t, row, "decode_gpus"));
    MOESIM_ASSIGN_OR_RETURN(r.total_gpus, IntField(t, row, "total_gpus"));
  }
  MOESIM_ASSIGN_OR_RETURN(r.isl, IntField(t, row, "isl"));
  MOESIM_ASSIGN_OR_RETURN(r.osl, IntField(t, row, "osl"));
  MOESIM_ASSIGN_OR_RETURN(r.conc, IntField(t, row, "conc"));
  MOESIM_ASSIGN_OR_RETURN(r.tput_per_gpu_total_text, t.Field(row, "tput_per_gpu_total"));
  MOESIM_ASSIGN_OR_RETURN(r.output_tput_per_gpu_text, t.Field(row, "output_tput_per_gpu"));
  MOESIM_ASSIGN_OR_RETURN(r.median_tpot_ms_text, t.Field(row, "median_tpot_ms"));
  MOESIM_ASSIGN_OR_RETURN(r.tput_per_gpu_total, NumberField(t, row, "tput_per_gpu_total"));
  MOESIM_ASSIGN_OR_RETURN(r.output_tput_per_gpu, NumberField(t, row, "output_tput_per_gpu"));
  MOESIM_ASSIGN_OR_RETURN(r.median_tpot_ms, NumberField(t, row, "median_tpot_ms"));
  MOESIM_ASSIGN_OR_RETURN(r.median_ttft_s, NumberField(t, row, "median_ttft_s"));
  MOESIM_ASSIGN_OR_RETURN(r.image, t.Field(row, "image"));
  MOESIM_ASSIGN_OR_RETURN(r.date, t.Field(row, "date"));
  MOESIM_ASSIGN_OR_RETURN(r.run_url, t.Field(row, "run_url"));
  return r;
}

}  // namespace moesim::calibrate
