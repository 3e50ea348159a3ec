// Shipped presets for tests (MOESIM_SOURCE_DIR is defined for the test binaries).
#pragma once

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "models/fabric_spec.h"
#include "models/gpu_spec.h"
#include "models/kv_storage.h"
#include "models/model_spec.h"
#include "models/preset_library.h"
#include "models/runtime_spec.h"

namespace moesim::testing {

inline PresetLibrary LoadPresets() {
  auto lib = PresetLibrary::Load(MOESIM_SOURCE_DIR "/models/presets");
  REQUIRE(lib.ok());
  return std::move(*lib);
}

inline ModelSpec ModelPreset(const std::string& name) {
  const PresetLibrary lib = LoadPresets();
  const nlohmann::json* j = lib.Find(PresetKind::kModel, name);
  REQUIRE(j != nullptr);
  auto m = ParseModelSpec(*j, {"models.json", "$"}, name);
  INFO(m.status().message());
  REQUIRE(m.ok());
  return *m;
}

inline GpuSpec GpuPreset(const std::string& name) {
  const PresetLibrary lib = LoadPresets();
  const nlohmann::json* j = lib.Find(PresetKind::kGpu, name);
  REQUIRE(j != nullptr);
  auto g = ParseGpuSpec(*j, {"gpus.json", "$"}, name);
  INFO(g.status().message());
  REQUIRE(g.ok());
  return *g;
}

inline FabricSpec FabricPreset(const std::string& name) {
  const PresetLibrary lib = LoadPresets();
  const nlohmann::json* j = lib.Find(PresetKind::kFabric, name);
  REQUIRE(j != nullptr);
  auto f = ParseFabricSpec(*j, {"fabrics.json", "$"}, name);
  INFO(f.status().message());
  REQUIRE(f.ok());
  return *f;
}

inline RuntimeSpec RuntimePreset(const std::string& name) {
  const PresetLibrary lib = LoadPresets();
  const nlohmann::json* j = lib.Find(PresetKind::kRuntime, name);
  REQUIRE(j != nullptr);
  auto r = ParseRuntimeSpec(*j, {"runtimes.json", "$"}, name);
  INFO(r.status().message());
  REQUIRE(r.ok());
  return *r;
}

inline KvStorageSpec KvStoragePreset(const std::string& name) {
  const PresetLibrary lib = LoadPresets();
  const nlohmann::json* j = lib.Find(PresetKind::kKvStorage, name);
  REQUIRE(j != nullptr);
  auto d = ParseKvStorageSpec(*j, {"kv_storage.json", "$"}, name);
  INFO(d.status().message());
  REQUIRE(d.ok());
  return *d;
}

}  // namespace moesim::testing
