#include "tools/calibrate/csv_table.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace moesim::calibrate {

absl::StatusOr<CsvTable> CsvTable::Parse(const std::string& text, const std::string& file) {
  CsvTable t;
  t.file_ = file;
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // trailing newline
  if (lines.empty()) return absl::InvalidArgumentError(absl::StrCat(file, ": empty CSV file"));
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string& line = lines[i];
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t line_no = i + 1;
    if (line.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ":", line_no, ": blank line"));
    }
    if (line.find('"') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line_no, ": quoted fields are not supported by this reader"));
    }
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    if (i == 0) {
      for (size_t c = 0; c < fields.size(); ++c) {
        if (!t.column_index_.emplace(fields[c], c).second) {
          return absl::InvalidArgumentError(
              absl::StrCat(file, ":1: duplicate column \"", fields[c], "\""));
        }
      }
      t.header_ = std::move(fields);
      continue;
    }
    if (fields.size() != t.header_.size()) {
      return absl::InvalidArgumentError(absl::StrCat(file, ":", line_no, ": got ", fields.size(),
                                                     " fields, expected ", t.header_.size(),
                                                     " (the header's count)"));
    }
    t.rows_.push_back(std::move(fields));
  }
  return t;
}

absl::StatusOr<std::string> CsvTable::Field(size_t row, const std::string& column) const {
  const auto it = column_index_.find(column);
  if (it == column_index_.end()) {
    return absl::NotFoundError(absl::StrCat(file_, ": no column \"", column, "\""));
  }
  if (row >= rows_.size()) {
    return absl::OutOfRangeError(absl::StrCat(file_, ": no data row ", row));
  }
  return rows_[row][it->second];
}

absl::StatusOr<CsvTable> ReadCsvFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  return CsvTable::Parse(text.str(), path);
}

}  // namespace moesim::calibrate
