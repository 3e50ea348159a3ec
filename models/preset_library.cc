#include "models/preset_library.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "models/status_macros.h"

#ifndef MOESIM_PRESET_DIR
#define MOESIM_PRESET_DIR "models/presets"
#endif

namespace moesim {

namespace {

constexpr PresetKind kAllKinds[] = {PresetKind::kGpu,         PresetKind::kModel,
                                    PresetKind::kRuntime,     PresetKind::kFabric,
                                    PresetKind::kKvConnector, PresetKind::kAcceptanceCurve,
                                    PresetKind::kKvStorage};

struct Preset {
  nlohmann::json value;
  std::map<std::string, std::string> sources;
};

bool HasNumber(const nlohmann::json& j) {
  if (j.is_number()) return true;
  if (j.is_array() || j.is_object()) {
    for (const auto& e : j) {
      if (HasNumber(e)) return true;
    }
  }
  return false;
}

bool IsSourcedValue(const nlohmann::json& j) {
  return j.is_object() && j.size() == 2 && j.contains("value") && j.contains("source") &&
         j["source"].is_string();
}

// Replaces {"value", "source"} wrappers by their value; records each leaf's source. Fails on a
// numeric leaf that has neither its own source nor the preset-level one.
absl::Status Strip(nlohmann::json& j, const std::string& path, const std::string& preset_source,
                   const JsonLocation& where, std::map<std::string, std::string>& sources) {
  if (IsSourcedValue(j)) {
    sources[path] = j["source"].get<std::string>();
    nlohmann::json v = j["value"];
    j = std::move(v);
    return absl::OkStatus();
  }
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string child = path.empty() ? it.key() : path + "." + it.key();
      MOESIM_RETURN_IF_ERROR(Strip(*it, child, preset_source, where.Key(it.key()), sources));
    }
    return absl::OkStatus();
  }
  if (HasNumber(j)) {  // numbers, and arrays holding numbers, need a source
    if (preset_source.empty()) {
      return BadValue(where, j, "a value with a source: {\"value\": ..., \"source\": \"...\"}");
    }
    sources[path] = preset_source;
  }
  return absl::OkStatus();
}

void MergeInto(nlohmann::json& base, const nlohmann::json& overrides) {
  for (auto it = overrides.begin(); it != overrides.end(); ++it) {
    if (it->is_object() && base.contains(it.key()) && base[it.key()].is_object()) {
      MergeInto(base[it.key()], *it);
    } else {
      base[it.key()] = *it;
    }
  }
}

}  // namespace

const char* PresetFileName(PresetKind kind) {
  switch (kind) {
    case PresetKind::kGpu:
      return "gpus.json";
    case PresetKind::kModel:
      return "models.json";
    case PresetKind::kRuntime:
      return "runtimes.json";
    case PresetKind::kFabric:
      return "fabrics.json";
    case PresetKind::kKvConnector:
      return "kv_connectors.json";
    case PresetKind::kAcceptanceCurve:
      return "acceptance_curves.json";
    case PresetKind::kKvStorage:
      return "kv_storage.json";
  }
  return "";
}

struct PresetLibrary::Impl {
  std::map<PresetKind, std::map<std::string, Preset>> presets;
};

PresetLibrary::PresetLibrary(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PresetLibrary::PresetLibrary(PresetLibrary&&) noexcept = default;
PresetLibrary& PresetLibrary::operator=(PresetLibrary&&) noexcept = default;
PresetLibrary::~PresetLibrary() = default;

std::string PresetLibrary::DefaultDir() {
  const char* env = std::getenv("MOESIM_PRESETS");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(MOESIM_PRESET_DIR);
}

absl::StatusOr<PresetLibrary> PresetLibrary::Load(const std::string& dir) {
  auto impl = std::make_unique<Impl>();
  for (PresetKind kind : kAllKinds) {
    const std::string file = dir + "/" + PresetFileName(kind);
    std::ifstream in(file);
    // KV connectors, acceptance curves and KV storage arrived after the other kinds: a preset
    // folder without them has none (a scenario naming one, or a disaggregated plan relying on the
    // default connector, is then refused).
    if (!in && (kind == PresetKind::kKvConnector || kind == PresetKind::kAcceptanceCurve ||
                kind == PresetKind::kKvStorage)) {
      continue;
    }
    if (!in) return absl::NotFoundError(absl::StrCat(file, ": cannot open preset file"));
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = ParseJsonText(text.str(), file);
    if (!parsed.ok()) return parsed.status();
    nlohmann::json doc = std::move(*parsed);
    const JsonLocation root{file, "$"};
    if (!doc.is_object()) return BadValue(root, doc, "an object of named presets");
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const JsonLocation where = root.Key(it.key());
      if (!it->is_object()) return BadValue(where, *it, "a preset object");
      Preset p;
      p.value = *it;
      std::string preset_source;
      if (p.value.contains("source")) {
        if (!p.value["source"].is_string()) {
          return BadValue(where.Key("source"), p.value["source"], "a string");
        }
        preset_source = p.value["source"].get<std::string>();
        p.value.erase("source");
      }
      MOESIM_RETURN_IF_ERROR(Strip(p.value, "", preset_source, where, p.sources));
      impl->presets[kind][it.key()] = std::move(p);
    }
  }
  return PresetLibrary(std::move(impl));
}

std::vector<std::string> PresetLibrary::Names(PresetKind kind) const {
  std::vector<std::string> names;
  auto it = impl_->presets.find(kind);
  if (it == impl_->presets.end()) return names;
  for (const auto& [name, p] : it->second) names.push_back(name);
  return names;
}

const nlohmann::json* PresetLibrary::Find(PresetKind kind, const std::string& name) const {
  auto it = impl_->presets.find(kind);
  if (it == impl_->presets.end()) return nullptr;
  auto p = it->second.find(name);
  return p == it->second.end() ? nullptr : &p->second.value;
}

std::map<std::string, std::string> PresetLibrary::Sources(PresetKind kind,
                                                          const std::string& name) const {
  auto it = impl_->presets.find(kind);
  if (it == impl_->presets.end()) return {};
  auto p = it->second.find(name);
  return p == it->second.end() ? std::map<std::string, std::string>() : p->second.sources;
}

absl::StatusOr<PresetLibrary::Resolved> PresetLibrary::Resolve(PresetKind kind,
                                                               const nlohmann::json& spec,
                                                               const JsonLocation& where) const {
  const std::string expected =
      absl::StrCat("a ", PresetFileName(kind), " preset: ", absl::StrJoin(Names(kind), ", "));
  if (spec.is_string()) {
    // Shorthand: "gpu": "H200".
    if (Find(kind, spec.get<std::string>()) == nullptr) return BadValue(where, spec, expected);
    return Resolve(kind, nlohmann::json{{"preset", spec}}, where);
  }
  if (!spec.is_object()) return BadValue(where, spec, "an object or a preset name");
  Resolved out;
  out.value = std::make_shared<nlohmann::json>(nlohmann::json::object());
  nlohmann::json overrides = spec;
  if (spec.contains("preset")) {
    const auto& name = spec["preset"];
    if (!name.is_string()) return BadValue(where.Key("preset"), name, expected);
    const nlohmann::json* base = Find(kind, name.get<std::string>());
    if (base == nullptr) return BadValue(where.Key("preset"), name, expected);
    *out.value = *base;
    out.name = name.get<std::string>();
    overrides.erase("preset");
  } else {
    out.name = "custom";
  }
  MergeInto(*out.value, overrides);
  return out;
}

}  // namespace moesim
