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
      auto pointer = *SweepPathPointer(path, {});
      // Every parent must be an object (a missing key is created) or an array holding the index.
      nlohmann::json* node = &doc;
      std::string at = "$";
      bool placed = false;
      std::string problem;
      const std::string text = pointer.to_string();
      std::vector<std::string> tokens;
      for (size_t i = 1; i <= text.size();) {
        const size_t end = std::min(text.find('/', i), text.size());
        tokens.push_back(text.substr(i, end - i));
        i = end + 1;
      }
      for (size_t t = 0; t < tokens.size(); ++t) {
        const std::string& tok = tokens[t];
        const bool last = t + 1 == tokens.size();
        if (node->is_null()) *node = nlohmann::json::object();
        if (node->is_object()) {
          at += "." + tok;
          node = &(*node)[tok];
        } else if (node->is_array() && tok.find_first_not_of("0123456789") == std::string::npos &&
                   std::stoull(tok) < node->size()) {
          at += "[" + tok + "]";
          node = &(*node)[std::stoull(tok)];
        } else {
          problem = absl::StrCat(at, " is ", node->is_array() ? "an array without element " : "",
                                 node->is_array() ? tok : std::string(node->type_name()),
                                 node->is_array() ? "" : ", not an object");
          break;
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
