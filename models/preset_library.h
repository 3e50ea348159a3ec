// Named presets (GPUs, models, serving runtimes, fabrics) loaded from the JSON files that ship with
// moesim in models/presets/, so a user can add a GPU or a model without recompiling.
//
// Preset files map a preset name to an object. Any leaf may be written as
// {"value": X, "source": "..."}; a preset-level "source" string covers its plain leaves.
// The library strips the wrappers (keeping the sources for `moesim presets`) and merges
// scenario overrides on top:
//
//   scenario: "gpu": {"preset": "H200", "hbm_gb": 141}
//   Resolve(kGpu, that object, where) -> H200's values with hbm_gb replaced by 141.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "absl/status/statusor.h"
#include "models/json_reader.h"

namespace moesim {

enum class PresetKind {
  kGpu,
  kModel,
  kRuntime,
  kFabric,
  kKvConnector,
  kAcceptanceCurve,
  kKvStorage
};

const char* PresetFileName(PresetKind kind);  // "gpus.json", "models.json", "runtimes.json", ...

class PresetLibrary {
 public:
  // Loads every preset file from `dir` (kv_connectors.json, acceptance_curves.json and
  // kv_storage.json may be absent: none of those).
  // Fails on a missing file of another kind, malformed files or sourceless numbers.
  static absl::StatusOr<PresetLibrary> Load(const std::string& dir);
  // Directory compiled in at build time (the source tree's models/presets), unless the
  // MOESIM_PRESETS environment variable names another one.
  static std::string DefaultDir();

  PresetLibrary(PresetLibrary&&) noexcept;
  PresetLibrary& operator=(PresetLibrary&&) noexcept;
  ~PresetLibrary();

  std::vector<std::string> Names(PresetKind kind) const;
  // The preset's values with source wrappers removed; nullptr if unknown.
  const nlohmann::json* Find(PresetKind kind, const std::string& name) const;
  // JSON path inside the preset ("hbm_gb", "moe.top_k") -> source text.
  std::map<std::string, std::string> Sources(PresetKind kind, const std::string& name) const;

  // `spec` is a scenario object that may name {"preset": NAME} and override any field.
  // Returns the merged object (without "preset") and the resolved name ("custom" when none).
  struct Resolved {
    std::string name;
    std::shared_ptr<nlohmann::json> value;
  };
  absl::StatusOr<Resolved> Resolve(PresetKind kind, const nlohmann::json& spec,
                                   const JsonLocation& where) const;

 private:
  struct Impl;
  explicit PresetLibrary(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace moesim
