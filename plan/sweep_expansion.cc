#include "plan/sweep_expansion.h"

#include "absl/strings/str_cat.h"

namespace moesim {

std::vector<std::string> SweepColumns(const SweepSpec& spec) {
  std::vector<std::string> columns;
  for (const SweepAxis& a : spec.axes) {
    for (const std::string& p : a.paths) columns.push_back(p.substr(2));  // without "$."
  }
  return columns;
}

std::vector<nlohmann::json> SweepPointValues(const SweepSpec& spec, size_t index) {
  // Mixed-radix digits of `index`, the last axis the least significant.
  std::vector<size_t> digit(spec.axes.size());
  for (size_t a = spec.axes.size(); a-- > 0;) {
    const size_t n = spec.axes[a].values.size();
    digit[a] = index % n;
    index /= n;
  }
  std::vector<nlohmann::json> values;
  for (size_t a = 0; a < spec.axes.size(); ++a) {
    for (const nlohmann::json& v : spec.axes[a].values[digit[a]]) values.push_back(v);
  }
  return values;
}

absl::StatusOr<nlohmann::json> SweepPlanDocument(const nlohmann::json& base, const SweepSpec& spec,
                                                 size_t index) {
  nlohmann::json doc = base;
  const std::vector<nlohmann::json> values = SweepPointValues(spec, index);
  size_t column = 0;
  for (const SweepAxis& a : spec.axes) {
    for (const std::string& path : a.paths) {
      // Paths were checked when the sweep section was parsed.
      const std::vector<SweepPathStep> tokens = *ParseSweepPath(path, {});
      nlohmann::json* node = &doc;
      std::string at = "$";
      bool placed = false;
      std::string problem;
      for (size_t t = 0; t < tokens.size(); ++t) {
        const std::string& tok = tokens[t].key;
        const bool is_index = tokens[t].index;
        const bool last = t + 1 == tokens.size();
        if (!is_index) {
          if (node->is_null()) *node = nlohmann::json::object();  // a missing key is created
          if (!node->is_object()) {
            problem = absl::StrCat(at, " is ", node->type_name(), ", not an object");
            break;
          }
          at += "." + tok;
          node = &(*node)[tok];
        } else {
          if (!node->is_array() || std::stoull(tok) >= node->size()) {
            problem = node->is_array()
                          ? absl::StrCat(at, " is an array without element ", tok)
                          : absl::StrCat(at, " is ", node->is_null() ? "absent" : node->type_name(),
                                         ", not an array");
            break;
          }
          at += "[" + tok + "]";
          node = &(*node)[std::stoull(tok)];
        }
        if (last) {
          *node = values[column];
          placed = true;
        }
      }
      if (!placed) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot set ", path, " = ", values[column].dump(), ": ", problem));
      }
      ++column;
    }
  }
  const std::string name = doc.contains("name") && doc["name"].is_string()
                               ? doc["name"].get<std::string>()
                               : std::string("sweep");
  doc["name"] = absl::StrCat(name, "#", index);
  return doc;
}

}  // namespace moesim
