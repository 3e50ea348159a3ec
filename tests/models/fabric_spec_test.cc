// Fabric specs: parsing, ranges and the protocol-efficiency curve.
#include "models/fabric_spec.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace moesim {
namespace {

nlohmann::json Valid() {
  return nlohmann::json::parse(R"({"gb_per_s": 50, "latency_us": 1.5, "step_latency_us": 2,
    "protocol_efficiency_vs_bytes": [[65536, 0.3], [1048576, 0.8]]})");
}

TEST_CASE("a fabric parses and its curve interpolates in log2(bytes)", "[fabric]") {
  auto f = ParseFabricSpec(Valid(), {"f.json", "$.ib"}, "ib");
  REQUIRE(f.ok());
  CHECK(f->BytesPerSecond() == Approx(50e9));
  CHECK(f->protocol_efficiency.At(1) == Approx(0.3));
  CHECK(f->protocol_efficiency.At(262144) == Approx(0.55));  // halfway in log2 between points
  CHECK(f->protocol_efficiency.At(1e9) == Approx(0.8));
  CHECK(FabricSpecToJson(*f)["gb_per_s"] == 50);
}

TEST_CASE("bad fabrics are rejected with path and expectation", "[fabric][bad-input]") {
  nlohmann::json j = Valid();
  j["gb_per_s"] = 0;
  auto f = ParseFabricSpec(j, {"f.json", "$.ib"}, "ib");
  REQUIRE_FALSE(f.ok());
  CHECK_THAT(std::string(f.status().message()), Catch::Contains("f.json: $.ib.gb_per_s: got 0"));
  j = Valid();
  j["protocol_efficiency_vs_bytes"] = {{1048576, 0.8}, {65536, 0.3}};  // sizes must increase
  CHECK_FALSE(ParseFabricSpec(j, {"f.json", "$.ib"}, "ib").ok());
  j = Valid();
  j["bandwidth"] = 1;
  f = ParseFabricSpec(j, {"f.json", "$.ib"}, "ib");
  REQUIRE_FALSE(f.ok());
  CHECK_THAT(std::string(f.status().message()), Catch::Contains("$.ib.bandwidth: unknown key"));
}

}  // namespace
}  // namespace moesim
