// A minimal CSV reader for the measurement tables under ../shared/reference/measurements/.
//
// Those files are plain: one header line, comma-separated fields, no quoting, no embedded commas
// or newlines. Anything else is rejected rather than guessed at: a double quote anywhere, a line
// whose field count differs from the header's, a duplicate column name, an empty table.
//
//   MOESIM_ASSIGN_OR_RETURN(CsvTable t, ReadCsvFile("inferencex_dsr1_training.csv"));
//   for (size_t i = 0; i < t.size(); ++i) {
//     MOESIM_ASSIGN_OR_RETURN(std::string hw, t.Field(i, "hardware"));
//   }
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace moesim::calibrate {

class CsvTable {
 public:
  // Parses `text` (`file` names it in messages). A trailing newline and "\r\n" endings are
  // accepted; blank lines are not.
  static absl::StatusOr<CsvTable> Parse(const std::string& text, const std::string& file);

  size_t size() const { return rows_.size(); }
  const std::vector<std::string>& header() const { return header_; }
  // 2 for the first data row: the line number in the file, for messages.
  static size_t LineOf(size_t row) { return row + 2; }

  // The field of data row `row` (0-based) in column `column`; NotFound for an unknown column.
  absl::StatusOr<std::string> Field(size_t row, const std::string& column) const;

 private:
  std::string file_;
  std::vector<std::string> header_;
  std::map<std::string, size_t> column_index_;
  std::vector<std::vector<std::string>> rows_;
};

absl::StatusOr<CsvTable> ReadCsvFile(const std::string& path);

}  // namespace moesim::calibrate
