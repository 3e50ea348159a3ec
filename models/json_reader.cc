#include "models/json_reader.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace moesim {

namespace {
std::string Shorten(const nlohmann::json& value) {
  std::string text = value.dump();
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

std::string FormatBound(double x) {
  std::string s = absl::StrCat(x);
  return s;
}
}  // namespace

absl::StatusOr<nlohmann::json> ParseJsonText(const std::string& text, const std::string& file) {
  // Each open object: its keys so far and the path that leads to it.
  struct Frame {
    std::set<std::string> keys;
    std::string path;
    std::string last_key;
    bool is_array = false;
    size_t index = 0;
  };
  std::vector<Frame> stack;
  std::string duplicate;
  struct TooDeep {
    std::string path;  // of the object or array that went past the bound
  };
  auto child_path = [&stack]() -> std::string {
    if (stack.empty()) return "$";
    const Frame& f = stack.back();
    return f.is_array ? absl::StrCat(f.path, "[", f.index, "]") : f.path + "." + f.last_key;
  };
  auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using E = nlohmann::json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start: {
        if (stack.size() >= static_cast<size_t>(kMaxJsonDepth)) throw TooDeep{child_path()};
        Frame f;
        f.path = child_path();
        f.is_array = event == E::array_start;
        stack.push_back(std::move(f));
        break;
      }
      case E::key:
        if (!stack.empty()) {
          const std::string k = parsed.get<std::string>();
          if (!stack.back().keys.insert(k).second && duplicate.empty()) {
            duplicate = absl::StrCat(stack.back().path, ".", k);
          }
          stack.back().last_key = k;
        }
        break;
      case E::object_end:
      case E::array_end:
        if (!stack.empty()) stack.pop_back();
        if (!stack.empty() && stack.back().is_array) ++stack.back().index;
        break;
      case E::value:
        if (!stack.empty() && stack.back().is_array) ++stack.back().index;
        break;
    }
    return true;
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text, callback);
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": malformed JSON at byte ", e.byte, ": ", e.what()));
  } catch (const TooDeep& e) {
    std::string path = e.path;
    if (path.size() > 120) path = path.substr(0, 117) + "...";
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", path, ": nested deeper than ",
                                                   kMaxJsonDepth,
                                                   " levels of objects and arrays (expected a "
                                                   "scenario or preset file, a few levels deep)"));
  }
  if (!duplicate.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": ", duplicate, ": duplicate key (each key may appear once per object)"));
  }
  return doc;
}

absl::Status BadValue(const JsonLocation& where, const nlohmann::json& got,
                      const std::string& expected) {
  return absl::InvalidArgumentError(
      absl::StrCat(where.file, ": ", where.path, ": got ", Shorten(got), ", expected ", expected));
}

absl::Status BadInput(const JsonLocation& where, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(where.file, ": ", where.path, ": ", message));
}

bool NumberRule::Accepts(double x) const {
  if (!std::isfinite(x)) return false;
  if (min_exclusive ? !(x > min) : !(x >= min)) return false;
  if (max_exclusive ? !(x < max) : !(x <= max)) return false;
  return true;
}

std::string NumberRule::Describe() const {
  const bool has_min = min > -1e307;
  const bool has_max = max < 1e307;
  std::string lo = absl::StrCat(min_exclusive ? "> " : ">= ", FormatBound(min));
  std::string hi = absl::StrCat(max_exclusive ? "< " : "<= ", FormatBound(max));
  if (has_min && has_max) return absl::StrCat("a number ", lo, " and ", hi);
  if (has_min) return absl::StrCat("a number ", lo);
  if (has_max) return absl::StrCat("a number ", hi);
  return "a finite number";
}

absl::StatusOr<JsonObjectReader> JsonObjectReader::Open(const nlohmann::json& value,
                                                        JsonLocation where) {
  if (!value.is_object()) return BadValue(where, value, "a JSON object");
  return JsonObjectReader(&value, std::move(where));
}

bool JsonObjectReader::Has(const std::string& key) const {
  asked_.insert(key);
  return value_->contains(key);
}

absl::StatusOr<const nlohmann::json*> JsonObjectReader::Lookup(const std::string& key) {
  asked_.insert(key);
  auto it = value_->find(key);
  if (it == value_->end()) {
    return BadInput(where_.Key(key), "missing required key");
  }
  read_.insert(key);
  return &*it;
}

absl::StatusOr<double> JsonObjectReader::Number(const std::string& key, NumberRule rule) {
  auto v = Lookup(key);
  if (!v.ok()) return v.status();
  const nlohmann::json& j = **v;
  if (!j.is_number()) return BadValue(where_.Key(key), j, rule.Describe());
  const double x = j.get<double>();
  if (!rule.Accepts(x)) return BadValue(where_.Key(key), j, rule.Describe());
  return x;
}

absl::StatusOr<int64_t> JsonObjectReader::Integer(const std::string& key, NumberRule rule) {
  auto v = Lookup(key);
  if (!v.ok()) return v.status();
  const nlohmann::json& j = **v;
  const std::string expected = absl::StrCat("an integer (", rule.Describe(), ")");
  if (!j.is_number_integer()) {
    // Accept 8.0 but not 8.5.
    if (!j.is_number_float() || std::floor(j.get<double>()) != j.get<double>() ||
        std::fabs(j.get<double>()) > 9e15) {
      return BadValue(where_.Key(key), j, expected);
    }
  }
  const double x = j.get<double>();
  if (!rule.Accepts(x)) return BadValue(where_.Key(key), j, expected);
  return static_cast<int64_t>(x);
}

absl::StatusOr<std::string> JsonObjectReader::String(const std::string& key) {
  auto v = Lookup(key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_string()) return BadValue(where_.Key(key), **v, "a string");
  return (*v)->get<std::string>();
}

absl::StatusOr<std::string> JsonObjectReader::Enum(const std::string& key,
                                                   const std::vector<std::string>& allowed) {
  auto v = Lookup(key);
  if (!v.ok()) return v.status();
  const std::string expected = absl::StrCat("one of \"", absl::StrJoin(allowed, "\", \""), "\"");
  if (!(*v)->is_string()) return BadValue(where_.Key(key), **v, expected);
  const std::string s = (*v)->get<std::string>();
  for (const auto& a : allowed) {
    if (a == s) return s;
  }
  return BadValue(where_.Key(key), **v, expected);
}

absl::StatusOr<bool> JsonObjectReader::Bool(const std::string& key) {
  auto v = Lookup(key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_boolean()) return BadValue(where_.Key(key), **v, "true or false");
  return (*v)->get<bool>();
}

absl::StatusOr<JsonObjectReader> JsonObjectReader::Object(const std::string& key) {
  auto v = Lookup(key);
  if (!v.ok()) return v.status();
  return Open(**v, where_.Key(key));
}

absl::StatusOr<const nlohmann::json*> JsonObjectReader::Array(const std::string& key) {
  auto v = Lookup(key);
  if (!v.ok()) return v.status();
  if (!(*v)->is_array()) return BadValue(where_.Key(key), **v, "a JSON array");
  return *v;
}

absl::StatusOr<double> JsonObjectReader::NumberOr(const std::string& key, double fallback,
                                                  NumberRule rule) {
  if (!Has(key)) return fallback;
  return Number(key, rule);
}

absl::StatusOr<int64_t> JsonObjectReader::IntegerOr(const std::string& key, int64_t fallback,
                                                    NumberRule rule) {
  if (!Has(key)) return fallback;
  return Integer(key, rule);
}

absl::StatusOr<std::string> JsonObjectReader::StringOr(const std::string& key,
                                                       const std::string& fallback) {
  if (!Has(key)) return fallback;
  return String(key);
}

absl::StatusOr<std::string> JsonObjectReader::EnumOr(const std::string& key,
                                                     const std::string& fallback,
                                                     const std::vector<std::string>& allowed) {
  if (!Has(key)) return fallback;
  return Enum(key, allowed);
}

absl::StatusOr<bool> JsonObjectReader::BoolOr(const std::string& key, bool fallback) {
  if (!Has(key)) return fallback;
  return Bool(key);
}

absl::StatusOr<std::optional<double>> JsonObjectReader::OptionalNumber(const std::string& key,
                                                                       NumberRule rule) {
  if (!Has(key)) return std::optional<double>();
  auto x = Number(key, rule);
  if (!x.ok()) return x.status();
  return std::optional<double>(*x);
}

absl::Status JsonObjectReader::Finish() const {
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    if (read_.count(it.key()) == 0) {
      std::vector<std::string> known(asked_.begin(), asked_.end());
      return BadInput(where_.Key(it.key()),
                      absl::StrCat("unknown key; keys accepted here: ",
                                   known.empty() ? "(none)" : absl::StrJoin(known, ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace moesim
