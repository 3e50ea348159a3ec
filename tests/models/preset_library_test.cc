// Tests for models/preset_library.h: loading, sources, and scenario overrides of the presets in
// models/presets/.
#include "models/preset_library.h"

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "models/gpu_spec.h"
#include "models/model_spec.h"
#include "models/runtime_spec.h"

namespace moesim {
namespace {

using nlohmann::json;

const std::string kDir = MOESIM_SOURCE_DIR "/models/presets";
constexpr PresetKind kKinds[] = {PresetKind::kGpu, PresetKind::kModel, PresetKind::kRuntime};

PresetLibrary Lib() {
  auto lib = PresetLibrary::Load(kDir);
  INFO(lib.status().message());
  REQUIRE(lib.ok());
  return std::move(*lib);
}

json ReadFile(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return json::parse(in);
}

bool IsWrapper(const json& j) {
  return j.is_object() && j.size() == 2 && j.contains("value") && j.contains("source") &&
         j["source"].is_string();
}

// Walks a raw preset value and records, for every numeric leaf, the key path under which the
// library should report its source (the wrapper's path for wrapped values, the array's path for
// numbers inside arrays) and whether the leaf is covered by its own {"value","source"} wrapper.
void CollectNumericLeaves(const json& j, const std::string& path, bool wrapped, bool in_array,
                          const std::string& source_path, std::map<std::string, bool>& leaves) {
  if (IsWrapper(j)) {
    CHECK_FALSE(j["source"].get<std::string>().empty());
    CollectNumericLeaves(j["value"], path, true, in_array, in_array ? source_path : path, leaves);
    return;
  }
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      const std::string child = path.empty() ? it.key() : path + "." + it.key();
      CollectNumericLeaves(*it, child, wrapped, false, wrapped ? source_path : child, leaves);
    }
  } else if (j.is_array()) {
    for (const json& e : j) CollectNumericLeaves(e, path, wrapped, true, source_path, leaves);
  } else if (j.is_number()) {
    leaves[source_path] = leaves[source_path] || wrapped;
  }
}

// Every preset of every kind parses with its kind's parser (the parsers apply the range rules of
// models/gpu_spec.cc, model_spec.cc and runtime_spec.cc and reject unknown keys).
TEST_CASE("Every preset parses", "[preset_library]") {
  const PresetLibrary lib = Lib();
  CHECK(lib.Names(PresetKind::kGpu).size() >= 9);    // H100 ... MI355X (calibration.md §1.4)
  CHECK(lib.Names(PresetKind::kModel).size() >= 8);  // §4 models + seed 004's hypothetical 2T
  CHECK(lib.Names(PresetKind::kRuntime).size() >= 1);
  for (const std::string& name : lib.Names(PresetKind::kGpu)) {
    INFO("gpu " << name);
    auto g = ParseGpuSpec(*lib.Find(PresetKind::kGpu, name), {"gpus.json", "$." + name}, name);
    INFO(g.status().message());
    CHECK(g.ok());
  }
  for (const std::string& name : lib.Names(PresetKind::kModel)) {
    INFO("model " << name);
    auto m =
        ParseModelSpec(*lib.Find(PresetKind::kModel, name), {"models.json", "$." + name}, name);
    INFO(m.status().message());
    CHECK(m.ok());
  }
  for (const std::string& name : lib.Names(PresetKind::kRuntime)) {
    INFO("runtime " << name);
    auto r = ParseRuntimeSpec(*lib.Find(PresetKind::kRuntime, name), {"runtimes.json", "$." + name},
                              name);
    INFO(r.status().message());
    CHECK(r.ok());
  }
}

// "Every value carries a source" (reference/README.md; models/preset_library.h): in the raw JSON
// files, each numeric leaf is inside a {"value", "source"} wrapper or its preset has a top-level
// "source"; and Sources(kind, name) reports a non-empty source for every numeric key path.
TEST_CASE("Every numeric leaf of every preset has a source", "[preset_library]") {
  const PresetLibrary lib = Lib();
  for (PresetKind kind : kKinds) {
    const json doc = ReadFile(kDir + "/" + PresetFileName(kind));
    REQUIRE(doc.is_object());
    std::set<std::string> file_names, lib_names;
    for (auto it = doc.begin(); it != doc.end(); ++it) file_names.insert(it.key());
    for (const auto& n : lib.Names(kind)) lib_names.insert(n);
    CHECK(file_names == lib_names);

    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const std::string& name = it.key();
      INFO(PresetFileName(kind) << ": " << name);
      json preset = *it;
      const bool has_preset_source = preset.contains("source") && preset["source"].is_string() &&
                                     !preset["source"].get<std::string>().empty();
      preset.erase("source");
      std::map<std::string, bool> leaves;
      CollectNumericLeaves(preset, "", false, false, "", leaves);
      CHECK_FALSE(leaves.empty());
      const auto sources = lib.Sources(kind, name);
      for (const auto& [path, wrapped] : leaves) {
        INFO("numeric leaf " << path);
        CHECK((wrapped || has_preset_source));
        auto s = sources.find(path);
        REQUIRE(s != sources.end());
        CHECK_FALSE(s->second.empty());
      }
    }
  }
}

// A wrapped leaf's own source wins over the preset-level one (Qwen3-Next's max_context_tokens
// cites its HF config; SGLang's linear_state_dtype cites the research notes; H100's hbm_gb cites
// §1.1 [S5]) and wrappers are stripped from Find()'s values.
TEST_CASE("Sources keeps per-leaf sources and Find strips wrappers", "[preset_library]") {
  const PresetLibrary lib = Lib();
  const auto qn = lib.Sources(PresetKind::kModel, "Qwen3-Next-80B-A3B");
  REQUIRE(qn.count("max_context_tokens") == 1);
  CHECK_THAT(qn.at("max_context_tokens"), Catch::Contains("max_position_embeddings"));
  REQUIRE(qn.count("layers") == 1);
  CHECK_THAT(qn.at("layers"), Catch::Contains("§4.1"));
  const json* m = lib.Find(PresetKind::kModel, "Qwen3-Next-80B-A3B");
  REQUIRE(m != nullptr);
  CHECK((*m)["max_context_tokens"] == 262144);
  const auto sgl = lib.Sources(PresetKind::kRuntime, "sglang");
  REQUIRE(sgl.count("linear_state_dtype") == 1);
  CHECK_THAT(sgl.at("linear_state_dtype"), Catch::Contains("float32"));
  CHECK((*lib.Find(PresetKind::kRuntime, "sglang"))["linear_state_dtype"] == "fp32");
  CHECK_FALSE(m->contains("source"));

  const json* h100 = lib.Find(PresetKind::kGpu, "H100");
  REQUIRE(h100 != nullptr);
  CHECK((*h100)["hbm_gb"].is_number());
  CHECK((*h100)["kernels"]["gemm"]["bf16"]["mfu_vs_rows"].is_array());
  CHECK_THAT(lib.Sources(PresetKind::kGpu, "H100").at("kernels.gemm.bf16"),
             Catch::Contains("tables_gemm.md"));
  CHECK_THAT(lib.Sources(PresetKind::kGpu, "H100").at("hbm_gb"), Catch::Contains("§1.1"));

  CHECK(lib.Find(PresetKind::kGpu, "H300") == nullptr);
  CHECK(lib.Sources(PresetKind::kGpu, "H300").empty());
}

// Resolve merges scenario overrides on top of the preset (models/preset_library.h example):
// {"preset": "H200", "hbm_gb": 100} → H200's values with hbm_gb 100, everything else kept.
TEST_CASE("Resolve merges overrides onto a preset", "[preset_library]") {
  const PresetLibrary lib = Lib();
  const json* h200 = lib.Find(PresetKind::kGpu, "H200");
  REQUIRE(h200 != nullptr);
  auto r =
      lib.Resolve(PresetKind::kGpu, json{{"preset", "H200"}, {"hbm_gb", 100}}, {"s.json", "$.gpu"});
  REQUIRE(r.ok());
  CHECK(r->name == "H200");
  const json& v = *r->value;
  CHECK(v["hbm_gb"] == 100);
  CHECK_FALSE(v.contains("preset"));
  for (auto it = h200->begin(); it != h200->end(); ++it) {
    INFO(it.key());
    REQUIRE(v.contains(it.key()));
    if (it.key() != "hbm_gb") CHECK(v[it.key()] == *it);
  }
  CHECK(v.size() == h200->size());
  auto g = ParseGpuSpec(v, {"s.json", "$.gpu"}, r->name);
  REQUIRE(g.ok());
  CHECK(g->hbm_gb == 100);
  // The library's own copy is untouched.
  CHECK((*lib.Find(PresetKind::kGpu, "H200"))["hbm_gb"] != 100);

  // Nested objects merge key by key: only moe.top_k changes.
  auto m = lib.Resolve(PresetKind::kModel, json{{"preset", "DeepSeek-V3"}, {"moe", {{"top_k", 4}}}},
                       {"s.json", "$"});
  REQUIRE(m.ok());
  CHECK((*m->value)["moe"]["top_k"] == 4);
  CHECK((*m->value)["moe"]["routed_experts"] == 256);
  CHECK((*m->value)["moe"]["first_dense_layers"] == 3);

  // Runtime override of an enum.
  auto rt = lib.Resolve(PresetKind::kRuntime, json{{"preset", "vllm"}, {"execution_mode", "eager"}},
                        {"s.json", "$"});
  REQUIRE(rt.ok());
  auto spec = ParseRuntimeSpec(*rt->value, {"s.json", "$.runtime"}, rt->name);
  REQUIRE(spec.ok());
  CHECK(spec->mode == ExecutionMode::kEager);
}

// The string shorthand "gpu": "H200" resolves to the preset itself; an object without "preset"
// is a custom spec named "custom".
TEST_CASE("Resolve accepts the string shorthand and custom objects", "[preset_library]") {
  const PresetLibrary lib = Lib();
  auto r = lib.Resolve(PresetKind::kGpu, json("H200"), {"s.json", "$.gpu"});
  REQUIRE(r.ok());
  CHECK(r->name == "H200");
  CHECK(*r->value == *lib.Find(PresetKind::kGpu, "H200"));

  auto c = lib.Resolve(PresetKind::kGpu, json{{"hbm_gb", 1}}, {"s.json", "$.gpu"});
  REQUIRE(c.ok());
  CHECK(c->name == "custom");
  CHECK(*c->value == json{{"hbm_gb", 1}});
}

// Unknown presets are rejected with a message naming file, path, the bad name and every known
// name of that kind.
TEST_CASE("Resolve rejects unknown preset names and lists the known ones", "[preset_library]") {
  const PresetLibrary lib = Lib();
  for (const json& spec : {json{{"preset", "H300"}}, json("H300")}) {
    auto r = lib.Resolve(PresetKind::kGpu, spec, {"s.json", "$.gpu"});
    REQUIRE_FALSE(r.ok());
    const std::string msg(r.status().message());
    CHECK_THAT(msg, Catch::Contains("s.json"));
    CHECK_THAT(msg, Catch::Contains("$.gpu"));
    if (spec.is_object()) CHECK_THAT(msg, Catch::Contains("$.gpu.preset"));
    CHECK_THAT(msg, Catch::Contains("H300"));
    CHECK_THAT(msg, Catch::Contains("gpus.json"));
    for (const std::string& name : lib.Names(PresetKind::kGpu)) {
      CHECK_THAT(msg, Catch::Contains(name));
    }
  }
  auto not_string = lib.Resolve(PresetKind::kModel, json{{"preset", 3}}, {"s.json", "$.model"});
  REQUIRE_FALSE(not_string.ok());
  CHECK_THAT(std::string(not_string.status().message()), Catch::Contains("DeepSeek-V3"));
  auto not_object = lib.Resolve(PresetKind::kGpu, json(5), {"s.json", "$.gpu"});
  REQUIRE_FALSE(not_object.ok());
  CHECK_THAT(std::string(not_object.status().message()), Catch::Contains("$.gpu"));
}

// Load() fails on a missing directory, on malformed JSON and on a sourceless number
// (models/preset_library.h: "Fails on malformed files or sourceless numbers").
TEST_CASE("Load rejects missing files, malformed JSON and sourceless numbers", "[preset_library]") {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("moesim_preset_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto write = [&](const char* file, const std::string& text) {
    std::ofstream(dir / file) << text;
  };
  write("models.json", "{}");
  write("runtimes.json", "{}");
  write("fabrics.json", "{}");

  CHECK_FALSE(PresetLibrary::Load((dir / "nope").string()).ok());

  write("gpus.json", "{\"X\": {\"hbm_gb\": 1}}");
  auto sourceless = PresetLibrary::Load(dir.string());
  REQUIRE_FALSE(sourceless.ok());
  CHECK_THAT(std::string(sourceless.status().message()), Catch::Contains("$.X.hbm_gb"));
  CHECK_THAT(std::string(sourceless.status().message()), Catch::Contains("source"));

  write("gpus.json", "{\"X\": {\"hbm_gb\": 1,");
  auto malformed = PresetLibrary::Load(dir.string());
  REQUIRE_FALSE(malformed.ok());
  // The same message as a scenario file's: the file and the byte.
  CHECK_THAT(std::string(malformed.status().message()), Catch::Contains("gpus.json"));
  CHECK_THAT(std::string(malformed.status().message()), Catch::Contains("malformed JSON at byte"));

  // Nesting beyond kMaxJsonDepth is refused before anything recurses over the document.
  write("gpus.json", "{\"X\": " + std::string(10000, '[') + std::string(10000, ']') + "}");
  auto deep = PresetLibrary::Load(dir.string());
  REQUIRE_FALSE(deep.ok());
  CHECK_THAT(std::string(deep.status().message()), Catch::Contains("nested deeper than 64"));
  CHECK_THAT(std::string(deep.status().message()), Catch::Contains("$.X"));

  write("gpus.json",
        "{\"X\": {\"hbm_gb\": {\"value\": 1, \"source\": \"a\"}, \"name\": \"text needs none\"},"
        " \"Y\": {\"source\": \"b\", \"hbm_gb\": 2, \"curve\": [[1, 0.5]]}}");
  auto ok = PresetLibrary::Load(dir.string());
  INFO(ok.status().message());
  REQUIRE(ok.ok());
  // No kv_connectors.json in this folder: no connectors (older preset folders still load).
  CHECK(ok->Names(PresetKind::kKvConnector).empty());
  CHECK(ok->Sources(PresetKind::kGpu, "X") == std::map<std::string, std::string>{{"hbm_gb", "a"}});
  CHECK(ok->Sources(PresetKind::kGpu, "Y") ==
        std::map<std::string, std::string>{{"hbm_gb", "b"}, {"curve", "b"}});
  CHECK((*ok->Find(PresetKind::kGpu, "X"))["hbm_gb"] == 1);
  fs::remove_all(dir);
}

// Only numbers need a source (models/preset_library.h: "Fails on ... sourceless numbers";
// reference/README.md: every *value* carries a source tag). A preset without a preset-level
// "source" whose numbers are all wrapped may still hold plain strings, booleans and arrays of
// strings, e.g. a model's "attention_pattern": ["sliding", "full"].
// Known failure: models/preset_library.cc Strip() treats every array as a numeric leaf
// (`j.is_number() || j.is_array()`), so an array of strings is rejected as sourceless.
TEST_CASE("Load accepts sourceless non-numeric arrays", "[preset_library]") {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("moesim_preset_arrays_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "gpus.json") << "{}";
  std::ofstream(dir / "runtimes.json") << "{}";
  std::ofstream(dir / "fabrics.json") << "{}";
  std::ofstream(dir / "models.json")
      << "{\"M\": {\"layers\": {\"value\": 2, \"source\": \"s\"}, \"flag\": true,"
         " \"attention_pattern\": [\"sliding\", \"full\"]}}";
  auto lib = PresetLibrary::Load(dir.string());
  fs::remove_all(dir);
  INFO(lib.status().message());
  REQUIRE(lib.ok());
  CHECK((*lib->Find(PresetKind::kModel, "M"))["attention_pattern"].size() == 2);
}

// DefaultDir(): the compiled-in source-tree directory unless MOESIM_PRESETS names another.
TEST_CASE("DefaultDir honours MOESIM_PRESETS", "[preset_library]") {
  const char* old = std::getenv("MOESIM_PRESETS");
  const std::string saved = old ? old : "";
  ::unsetenv("MOESIM_PRESETS");
  CHECK(PresetLibrary::DefaultDir() == kDir);
  ::setenv("MOESIM_PRESETS", "/tmp/elsewhere", 1);
  CHECK(PresetLibrary::DefaultDir() == "/tmp/elsewhere");
  if (old) {
    ::setenv("MOESIM_PRESETS", saved.c_str(), 1);
  } else {
    ::unsetenv("MOESIM_PRESETS");
  }
}

}  // namespace
}  // namespace moesim
