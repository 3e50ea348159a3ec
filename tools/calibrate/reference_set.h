// The whole InferenceX reference set: every usable CSV row (aggregated with its recipe,
// disaggregated without one) as a scenario file, plus the set's README, as text in memory
// (make_reference_set.cc writes them; tests compare them).
//
// Deterministic: the same CSV and recipes give byte-identical files. Files are named by the
// configuration (inferencex_scenario.h); if two rows would share a name, both get their date
// appended (-d20260325).
//
//   MOESIM_ASSIGN_OR_RETURN(ReferenceSet set, GenerateReferenceSet(table, book));
//   for (const GeneratedFile& f : set.files) Write(dir + "/" + f.name, f.text);
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/calibrate/csv_table.h"
#include "tools/calibrate/disagg_recipe_book.h"
#include "tools/calibrate/inferencex_scenario.h"
#include "tools/calibrate/recipe_book.h"

namespace moesim::calibrate {

struct GeneratedFile {
  std::string name;  // "b200-sglang-fp8-tp8-ep1-isl1024-osl1024-c64.json", "README.md"
  std::string text;
};

struct ReferenceSet {
  std::vector<GeneratedFile> files;  // scenarios sorted by name, then README.md
  int scenarios = 0;                 // aggregated and disaggregated
  int disaggregated = 0;
  int mtp = 0;  // with MTP speculative decoding (aggregated and disaggregated)
  int mtp_disaggregated = 0;
  // (GPU, stack) -> aggregated scenarios; -> disaggregated scenarios.
  std::map<std::pair<std::string, std::string>, int> per_gpu_stack;
  std::map<std::pair<std::string, std::string>, int> per_gpu_stack_disaggregated;
  std::map<std::string, int> skipped;  // reason -> CSV rows
};

// `refuses`, when given, says why moesim cannot deploy a generated scenario (its parser and
// memory plan; "" when it can): such rows are skipped with that reason instead of written.
// `disagg_book`, when given, holds the disaggregated rows' per-worker recipes.
using ScenarioCheck = std::function<std::string(const nlohmann::json& scenario)>;

absl::StatusOr<ReferenceSet> GenerateReferenceSet(const CsvTable& table, const RecipeBook& book,
                                                  const InputLabels& labels = {},
                                                  const ScenarioCheck& refuses = nullptr,
                                                  const DisaggRecipeBook* disagg_book = nullptr);

}  // namespace moesim::calibrate
