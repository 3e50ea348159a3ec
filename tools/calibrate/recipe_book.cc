#include "tools/calibrate/recipe_book.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim::calibrate {
namespace {

// Keys of a recipe row entry that identify it or describe the client, not a server flag.
const std::set<std::string>& RowMetadataKeys() {
  static const std::set<std::string> keys = {"isl",   "osl",    "conc",        "date",
                                             "image", "source", "num_prompts", "num_warmups"};
  return keys;
}

bool Varies(const nlohmann::json& v) {
  return v.is_string() && absl::StartsWith(v.get<std::string>(), "varies");
}

std::string StringOr(const nlohmann::json& obj, const std::string& key, const std::string& def) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : def;
}

}  // namespace

absl::StatusOr<nlohmann::json> RecipeMatch::Flag(const std::string& key) const {
  if (row_->contains(key)) return row_->at(key);
  const nlohmann::json& flags = group_->at("flags");
  if (!flags.contains(key)) return nlohmann::json();
  const nlohmann::json& v = flags.at(key);
  if (Varies(v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("recipe ", recipe_id(), ": flag \"", key,
                     "\" varies per row but the row (isl ", row_->value("isl", 0), ", osl ",
                     row_->value("osl", 0), ", conc ", row_->value("conc", 0), ") has no value"));
  }
  return v;
}

std::set<std::string> RecipeMatch::FlagNames() const {
  std::set<std::string> names;
  for (const auto& [key, value] : group_->at("flags").items()) names.insert(key);
  for (const auto& [key, value] : row_->items()) {
    if (RowMetadataKeys().count(key) == 0) names.insert(key);
  }
  return names;
}

std::string RecipeMatch::recipe_id() const { return StringOr(*group_, "recipe_id", "?"); }

std::string RecipeMatch::source() const {
  return StringOr(*row_, "source", StringOr(*group_, "source", "?"));
}

std::string RecipeMatch::model() const { return StringOr(*group_, "model", "?"); }

const nlohmann::json& RecipeMatch::env() const {
  static const nlohmann::json empty = nlohmann::json::object();
  const auto it = group_->find("env");
  return it != group_->end() && it->is_object() ? *it : empty;
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": not JSON"));
  return doc;
}

absl::StatusOr<RecipeBook> RecipeBook::Load(const std::string& path) {
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json doc, ReadJsonFile(path));
  return FromJson(std::move(doc), path);
}

absl::StatusOr<RecipeBook> RecipeBook::FromJson(nlohmann::json doc, const std::string& file) {
  if (!doc.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": $: expected an array of groups"));
  }
  for (size_t i = 0; i < doc.size(); ++i) {
    const nlohmann::json& g = doc[i];
    const std::string where = absl::StrCat(file, ": $[", i, "]");
    if (!g.is_object()) return absl::InvalidArgumentError(where + ": expected an object");
    for (const char* key : {"hardware", "framework", "precision", "spec"}) {
      if (!g.contains(key) || !g[key].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": expected a string"));
      }
    }
    for (const char* key : {"tp", "ep"}) {
      if (!g.contains(key) || !g[key].is_number_integer()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": expected an integer"));
      }
    }
    if (!g.contains("dp_attention") || !g["dp_attention"].is_boolean()) {
      return absl::InvalidArgumentError(where + ".dp_attention: expected true or false");
    }
    if (!g.contains("flags") || !g["flags"].is_object()) {
      return absl::InvalidArgumentError(where + ".flags: expected an object");
    }
    if (!g.contains("rows") || !g["rows"].is_array()) {
      return absl::InvalidArgumentError(where + ".rows: expected an array");
    }
    for (size_t j = 0; j < g["rows"].size(); ++j) {
      const nlohmann::json& r = g["rows"][j];
      for (const char* key : {"isl", "osl", "conc"}) {
        if (!r.is_object() || !r.contains(key) || !r[key].is_number_integer()) {
          return absl::InvalidArgumentError(
              absl::StrCat(where, ".rows[", j, "].", key, ": expected an integer"));
        }
      }
      if (!r.contains("date") || !r["date"].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ".rows[", j, "].date: expected a string"));
      }
    }
  }
  RecipeBook book;
  book.file_ = file;
  book.doc_ = std::move(doc);
  return book;
}

absl::StatusOr<std::optional<RecipeMatch>> RecipeBook::Find(const InferencexRow& row) const {
  if (row.disagg) return std::optional<RecipeMatch>();
  std::vector<RecipeMatch> matches;
  for (const nlohmann::json& g : doc_) {
    if (g["hardware"] != row.hardware || g["framework"] != row.framework ||
        g["precision"] != row.precision || g["spec"] != row.spec || g["tp"] != row.tp ||
        g["ep"] != row.ep || g["dp_attention"] != row.dp_attention) {
      continue;
    }
    for (const nlohmann::json& r : g["rows"]) {
      if (r["isl"] == row.isl && r["osl"] == row.osl && r["conc"] == row.conc &&
          r["date"] == row.date) {
        matches.emplace_back(&g, &r);
      }
    }
  }
  if (matches.empty()) return std::optional<RecipeMatch>();
  if (matches.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_, ": ", matches.size(), " recipes match CSV line ", row.line, " (expected one)"));
  }
  return std::optional<RecipeMatch>(matches.front());
}

}  // namespace moesim::calibrate
