// Tests for tools/calibrate/csv_table.h: the plain-CSV reader and what it refuses.
#include "tools/calibrate/csv_table.h"

#include <catch2/catch.hpp>

namespace moesim::calibrate {
namespace {

TEST_CASE("csv: fields by column name, empty fields kept, CRLF accepted", "[calibrate]") {
  auto t = CsvTable::Parse("a,b,c\r\n1,,3\r\nx,y,z\n", "t.csv");
  REQUIRE(t.ok());
  CHECK(t->size() == 2);
  CHECK(*t->Field(0, "a") == "1");
  CHECK(*t->Field(0, "b") == "");
  CHECK(*t->Field(1, "c") == "z");
  CHECK(t->Field(0, "d").status().code() == absl::StatusCode::kNotFound);
  CHECK(CsvTable::LineOf(1) == 3);
}

TEST_CASE("csv: quotes, ragged lines, blank lines and duplicate columns are errors",
          "[calibrate]") {
  CHECK_FALSE(CsvTable::Parse("a,b\n\"1,2\",3\n", "t.csv").ok());
  const auto ragged = CsvTable::Parse("a,b\n1,2,3\n", "t.csv");
  REQUIRE_FALSE(ragged.ok());
  CHECK(ragged.status().message() == "t.csv:2: got 3 fields, expected 2 (the header's count)");
  CHECK_FALSE(CsvTable::Parse("a,b\n\n1,2\n", "t.csv").ok());
  CHECK_FALSE(CsvTable::Parse("a,a\n1,2\n", "t.csv").ok());
  CHECK_FALSE(CsvTable::Parse("", "t.csv").ok());
}

}  // namespace
}  // namespace moesim::calibrate
