#include "tools/calibrate/disagg_recipe_book.h"

#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "models/status_macros.h"

namespace moesim::calibrate {
namespace {

// Keys under which FromJson stores each side as a RecipeMatch group ({"flags", "recipe_id",
// "source", "model", "env"}).
constexpr char kPrefillGroup[] = "_prefill_group";
constexpr char kDecodeGroup[] = "_decode_group";

// The row part of a RecipeMatch: a side has no per-row values.
const nlohmann::json& NoRowValues() {
  static const nlohmann::json empty = nlohmann::json::object();
  return empty;
}

std::string StringOr(const nlohmann::json& obj, const std::string& key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "?";
}

// The string fields that identify a row, then the integer ones.
constexpr const char* kStringKeys[] = {"hardware", "framework", "precision", "spec", "date"};
constexpr const char* kIntegerTextKeys[] = {"isl", "osl", "conc"};  // written as CSV text
constexpr const char* kIntegerKeys[] = {"prefill_workers", "decode_workers"};

}  // namespace

DisaggRecipeMatch::DisaggRecipeMatch(const nlohmann::json* entry)
    : entry_(entry),
      prefill_(&entry->at(kPrefillGroup), &NoRowValues()),
      decode_(&entry->at(kDecodeGroup), &NoRowValues()) {}

std::string DisaggRecipeMatch::recipe_id() const { return StringOr(*entry_, "recipe_id"); }
std::string DisaggRecipeMatch::source() const { return StringOr(*entry_, "source"); }
std::string DisaggRecipeMatch::master_config() const { return StringOr(*entry_, "master_config"); }

absl::StatusOr<DisaggRecipeBook> DisaggRecipeBook::Load(const std::string& path) {
  MOESIM_ASSIGN_OR_RETURN(nlohmann::json doc, ReadJsonFile(path));
  return FromJson(std::move(doc), path);
}

absl::StatusOr<DisaggRecipeBook> DisaggRecipeBook::FromJson(nlohmann::json doc,
                                                            const std::string& file) {
  if (!doc.is_object() || !doc.contains("rows") || !doc["rows"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": $.rows: expected an array"));
  }
  nlohmann::json& rows = doc["rows"];
  for (size_t i = 0; i < rows.size(); ++i) {
    nlohmann::json& r = rows[i];
    const std::string where = absl::StrCat(file, ": $.rows[", i, "]");
    if (!r.is_object()) return absl::InvalidArgumentError(where + ": expected an object");
    for (const char* key : kStringKeys) {
      if (!r.contains(key) || !r[key].is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": expected a string"));
      }
    }
    for (const char* key : kIntegerTextKeys) {
      int value = 0;
      if (!r.contains(key) || !r[key].is_string() ||
          !absl::SimpleAtoi(r[key].get<std::string>(), &value)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ".", key, ": expected an integer written as a string"));
      }
      r[key] = value;
    }
    for (const char* key : kIntegerKeys) {
      if (!r.contains(key) || !r[key].is_number_integer()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".", key, ": expected an integer"));
      }
    }
    for (const char* side : {"prefill", "decode"}) {
      if (!r.contains(side) || !r[side].is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".", side, ": expected an object"));
      }
      const std::string env_key = absl::StrCat(side, "_env");
      const nlohmann::json env =
          r.contains(env_key) && r[env_key].is_object() ? r[env_key] : nlohmann::json::object();
      r[side == std::string("prefill") ? kPrefillGroup : kDecodeGroup] = {
          {"flags", r[side]},
          {"recipe_id", absl::StrCat(StringOr(r, "recipe_id"), " (", side, ")")},
          {"source", StringOr(r, "source")},
          {"model", StringOr(r, "config_file")},
          {"env", env}};
    }
  }
  DisaggRecipeBook book;
  book.file_ = file;
  book.doc_ = std::move(doc);
  return book;
}

absl::StatusOr<std::optional<DisaggRecipeMatch>> DisaggRecipeBook::Find(
    const InferencexRow& row) const {
  if (!row.disagg) return std::optional<DisaggRecipeMatch>();
  std::vector<const nlohmann::json*> matches;
  for (const nlohmann::json& r : doc_["rows"]) {
    if (r["hardware"] == row.hardware && r["framework"] == row.framework &&
        r["precision"] == row.precision && r["spec"] == row.spec && r["date"] == row.date &&
        r["isl"] == row.isl && r["osl"] == row.osl && r["conc"] == row.conc &&
        r["prefill_workers"] == row.prefill_workers && r["decode_workers"] == row.decode_workers) {
      matches.push_back(&r);
    }
  }
  if (matches.empty()) return std::optional<DisaggRecipeMatch>();
  if (matches.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_, ": ", matches.size(), " recipes match CSV line ", row.line, " (expected one)"));
  }
  return std::optional<DisaggRecipeMatch>(DisaggRecipeMatch(matches.front()));
}

}  // namespace moesim::calibrate
