// The InferenceX server recipes behind the CSV rows (docs/research/inferencex_recipes.json; how
// they were collected: docs/research/inferencex_recipes.md).
//
// The file is an array of groups, one per (hardware, framework, precision, TP, EP, DP attention,
// spec) under one recipe version. A group's `flags` hold the server flags fixed within it (null:
// not passed, the stack default applies; the text "varies by conc/isl/osl (see rows)": resolved
// per CSV row); its `rows` name each CSV row it covers (isl, osl, conc, date) with the per-row
// values, image and script source (path@commit).
//
//   MOESIM_ASSIGN_OR_RETURN(RecipeBook book, RecipeBook::Load("inferencex_recipes.json"));
//   MOESIM_ASSIGN_OR_RETURN(std::optional<RecipeMatch> m, book.Find(row));
//   if (m) { MOESIM_ASSIGN_OR_RETURN(nlohmann::json mem, m->Flag("mem_fraction_static")); }
#pragma once

#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "tools/calibrate/inferencex_row.h"

namespace moesim::calibrate {

// One CSV row's recipe: its group and its entry in the group's `rows`. Points into the book,
// which must outlive it.
class RecipeMatch {
 public:
  RecipeMatch(const nlohmann::json* group, const nlohmann::json* row) : group_(group), row_(row) {}

  // The flag's value for this row: the row's own value when it has one, else the group's.
  // null when the flag was not passed. Error when the group says the value varies per row but
  // the row has none.
  absl::StatusOr<nlohmann::json> Flag(const std::string& key) const;
  // Every flag name the group or the row carries (row metadata such as isl, date excluded).
  std::set<std::string> FlagNames() const;

  std::string recipe_id() const;
  std::string source() const;         // script path@commit for this row
  std::string model() const;          // checkpoint the recipe serves
  const nlohmann::json& env() const;  // environment variables set by the script (object)

 private:
  const nlohmann::json* group_;
  const nlohmann::json* row_;
};

// The JSON document in `path`; NotFound when it cannot be read, InvalidArgument when it is not
// JSON (both name the file). Shared by RecipeBook and DisaggRecipeBook.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

class RecipeBook {
 public:
  static absl::StatusOr<RecipeBook> Load(const std::string& path);
  static absl::StatusOr<RecipeBook> FromJson(nlohmann::json doc, const std::string& file);

  // The group whose hardware, framework, precision, tp, ep (as the CSV states it), dp_attention
  // and spec equal the row's, and its entry with the row's isl, osl, conc and date. nullopt when
  // there is none (always for a disaggregated row: every group is one aggregated server's
  // recipe); an error when several match (the file would be ambiguous).
  absl::StatusOr<std::optional<RecipeMatch>> Find(const InferencexRow& row) const;

 private:
  std::string file_;
  nlohmann::json doc_;
};

}  // namespace moesim::calibrate
