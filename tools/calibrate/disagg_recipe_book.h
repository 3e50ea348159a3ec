// The per-worker server recipes behind InferenceX's disaggregated rows
// (docs/research/inferencex_disagg_recipes.json, written by
// tools/calibrate/collect_disagg_recipes.py from InferenceX's master config and the srt-slurm
// recipe files it names).
//
// The file is an object whose `rows` array holds one entry per CSV row: the row's identity
// (hardware, framework, precision, spec, isl, osl, conc, date, prefill_workers, decode_workers),
// the recipe's name and sources, and each side's flags (`prefill`, `decode`: flag name -> value,
// named as in docs/research/inferencex_recipes.json) and environment (`prefill_env`,
// `decode_env`). Each side is offered as a RecipeMatch, so the aggregated rows' flag readers
// apply to it unchanged.
//
//   MOESIM_ASSIGN_OR_RETURN(DisaggRecipeBook book, DisaggRecipeBook::Load(path));
//   MOESIM_ASSIGN_OR_RETURN(std::optional<DisaggRecipeMatch> m, book.Find(row));
//   if (m) { MOESIM_ASSIGN_OR_RETURN(nlohmann::json kv, m->decode().Flag("kv_cache_dtype")); }
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "tools/calibrate/inferencex_row.h"
#include "tools/calibrate/recipe_book.h"

namespace moesim::calibrate {

// One row's recipe. Points into the book, which must outlive it.
class DisaggRecipeMatch {
 public:
  explicit DisaggRecipeMatch(const nlohmann::json* entry);

  const RecipeMatch& prefill() const { return prefill_; }
  const RecipeMatch& decode() const { return decode_; }
  std::string recipe_id() const;
  std::string source() const;         // srt-slurm path@commit (date)
  std::string master_config() const;  // the InferenceX master config that named the recipe

 private:
  const nlohmann::json* entry_;
  RecipeMatch prefill_;
  RecipeMatch decode_;
};

class DisaggRecipeBook {
 public:
  static absl::StatusOr<DisaggRecipeBook> Load(const std::string& path);
  static absl::StatusOr<DisaggRecipeBook> FromJson(nlohmann::json doc, const std::string& file);

  // The entry with the row's hardware, framework, precision, spec, isl, osl, conc, date and
  // worker counts; nullopt when there is none (always for an aggregated row); an error when
  // several match.
  absl::StatusOr<std::optional<DisaggRecipeMatch>> Find(const InferencexRow& row) const;

 private:
  std::string file_;
  nlohmann::json doc_;  // entries carry their sides as RecipeMatch groups (see FromJson)
};

}  // namespace moesim::calibrate
