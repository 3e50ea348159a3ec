// Strict, path-aware reading of JSON objects for scenario and preset files.
//
// Every user-facing spec (GPU, model, workload, ...) parses itself through a JsonObjectReader so
// that all input errors look alike: "<file>: <json path>: got <value>, expected <what>". A reader
// remembers which keys were read; Finish() rejects any key that no code asked for, so a typo in a
// scenario is an error, never a silent default.
//
//   MOESIM_ASSIGN_OR_RETURN(JsonObjectReader r, JsonObjectReader::Open(json, {"s.json", "$.gpu"}));
//   MOESIM_ASSIGN_OR_RETURN(spec.hbm_gb, r.Number("hbm_gb", NumberRule::Positive()));
//   MOESIM_RETURN_IF_ERROR(r.Finish());
//
// The reader keeps a pointer to the JSON value: the value must outlive the reader.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace moesim {

// Where a JSON value lives: the file name and the JSON path ("$.hardware.gpu").
struct JsonLocation {
  std::string file;
  std::string path = "$";

  JsonLocation Key(const std::string& key) const { return {file, path + "." + key}; }
  JsonLocation Index(size_t i) const { return {file, path + "[" + std::to_string(i) + "]"}; }
};

// Deepest nesting of objects and arrays that ParseJsonText accepts. Scenario and preset files
// need fewer than 10 levels; the bound keeps every later recursion over a document (the JSON
// library's serializer in error messages, preset merges) shallow, and the parser's own memory
// linear in the file size.
inline constexpr int kMaxJsonDepth = 64;

// Parses JSON text strictly: malformed text, duplicate keys in one object and nesting deeper
// than kMaxJsonDepth are errors naming `file` (with the byte offset, or the JSON path of the
// object).
absl::StatusOr<nlohmann::json> ParseJsonText(const std::string& text, const std::string& file);

// The error every parser returns for a bad value: names file, path, value and expectation.
absl::Status BadValue(const JsonLocation& where, const nlohmann::json& got,
                      const std::string& expected);
// Same, for errors about a whole object or plan where no single value is at fault.
absl::Status BadInput(const JsonLocation& where, const std::string& message);

// Accepted range of a number. Bounds are inclusive unless marked exclusive.
struct NumberRule {
  double min = -1e308;
  bool min_exclusive = false;
  double max = 1e308;
  bool max_exclusive = false;

  static NumberRule Positive() { return {0.0, true}; }              // x > 0
  static NumberRule NonNegative() { return {0.0, false}; }          // x >= 0
  static NumberRule Fraction() { return {0.0, true, 1.0, false}; }  // 0 < x <= 1
  static NumberRule Between(double lo, double hi) { return {lo, false, hi, false}; }
  static NumberRule AtLeast(double lo) { return {lo, false}; }
  static NumberRule PositiveAtMost(double hi) { return {0.0, true, hi, false}; }  // 0 < x <= hi
  bool Accepts(double x) const;
  std::string Describe() const;  // e.g. "a number > 0"
};

class JsonObjectReader {
 public:
  // Fails unless `value` is a JSON object.
  static absl::StatusOr<JsonObjectReader> Open(const nlohmann::json& value, JsonLocation where);

  const JsonLocation& where() const { return where_; }
  bool Has(const std::string& key) const;

  // Required fields: fail when the key is missing or the value is of the wrong type or range.
  absl::StatusOr<double> Number(const std::string& key, NumberRule rule);
  absl::StatusOr<int64_t> Integer(const std::string& key, NumberRule rule);
  absl::StatusOr<std::string> String(const std::string& key);
  absl::StatusOr<std::string> Enum(const std::string& key, const std::vector<std::string>& allowed);
  absl::StatusOr<bool> Bool(const std::string& key);
  absl::StatusOr<JsonObjectReader> Object(const std::string& key);
  // Required value of any JSON type (for values another parser interprets).
  absl::StatusOr<const nlohmann::json*> Value(const std::string& key) { return Lookup(key); }
  // Required JSON array; returns the array value (owned by the parsed document).
  absl::StatusOr<const nlohmann::json*> Array(const std::string& key);

  // Optional fields: the fallback applies only when the key is absent; a present key is
  // validated exactly like a required one.
  absl::StatusOr<double> NumberOr(const std::string& key, double fallback, NumberRule rule);
  absl::StatusOr<int64_t> IntegerOr(const std::string& key, int64_t fallback, NumberRule rule);
  absl::StatusOr<std::string> StringOr(const std::string& key, const std::string& fallback);
  absl::StatusOr<std::string> EnumOr(const std::string& key, const std::string& fallback,
                                     const std::vector<std::string>& allowed);
  absl::StatusOr<bool> BoolOr(const std::string& key, bool fallback);
  absl::StatusOr<std::optional<double>> OptionalNumber(const std::string& key, NumberRule rule);

  // Marks a key as read without interpreting it (for keys another component owns).
  void Skip(const std::string& key) {
    read_.insert(key);
    asked_.insert(key);
  }

  // Fails if the object has a key that was never read; lists the keys that are accepted.
  absl::Status Finish() const;

 private:
  JsonObjectReader(const nlohmann::json* value, JsonLocation where)
      : value_(value), where_(std::move(where)) {}
  absl::StatusOr<const nlohmann::json*> Lookup(const std::string& key);

  const nlohmann::json* value_;
  JsonLocation where_;
  std::set<std::string> read_;
  mutable std::set<std::string> asked_;  // every key any getter asked for, present or not
};

}  // namespace moesim
