// Tests for models/json_reader.h: strict, path-aware reading of JSON objects.
//
// The error format under test is the one documented in models/json_reader.h:
//   "<file>: <json path>: got <value>, expected <what>".
#include "models/json_reader.h"

#include <cmath>
#include <limits>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace moesim {
namespace {

using nlohmann::json;

std::string Message(const absl::Status& s) { return std::string(s.message()); }

const JsonLocation kWhere{"s.json", "$.gpu"};

// Required getters return the stored values (exact: integers and short decimals stored as
// doubles compare equal to the same literals).
TEST_CASE("JsonObjectReader required getters", "[json_reader]") {
  const json j = json::parse(R"({"n": 2.5, "i": 7, "s": "x", "e": "fp8", "b": true,
                                 "o": {"k": 1}, "a": [1, 2], "v": null})");
  auto r = JsonObjectReader::Open(j, kWhere);
  REQUIRE(r.ok());
  CHECK(r->where().file == "s.json");
  CHECK(r->where().path == "$.gpu");
  CHECK(*r->Number("n", NumberRule()) == 2.5);
  CHECK(*r->Integer("i", NumberRule()) == 7);
  CHECK(*r->String("s") == "x");
  CHECK(*r->Enum("e", {"bf16", "fp8"}) == "fp8");
  CHECK(*r->Bool("b") == true);
  auto o = r->Object("o");
  REQUIRE(o.ok());
  CHECK(o->where().path == "$.gpu.o");
  CHECK(*o->Integer("k", NumberRule()) == 1);
  CHECK(o->Finish().ok());
  auto a = r->Array("a");
  REQUIRE(a.ok());
  CHECK((*a)->size() == 2);
  auto v = r->Value("v");
  REQUIRE(v.ok());
  CHECK((*v)->is_null());
  CHECK(r->Finish().ok());
}

// A missing required key names file and full path; wrong types name the value and expectation.
TEST_CASE("JsonObjectReader required getters fail on missing keys and wrong types",
          "[json_reader]") {
  const json j = json::parse(R"({"n": "fast", "s": 3, "b": "yes", "o": 1, "a": {}, "e": "fp16"})");
  auto r = JsonObjectReader::Open(j, kWhere);
  REQUIRE(r.ok());

  auto missing = r->Number("hbm_gb", NumberRule::Positive());
  REQUIRE_FALSE(missing.ok());
  CHECK(Message(missing.status()) == "s.json: $.gpu.hbm_gb: missing required key");

  auto n = r->Number("n", NumberRule::Positive());
  REQUIRE_FALSE(n.ok());
  CHECK(Message(n.status()) == "s.json: $.gpu.n: got \"fast\", expected a number > 0");

  auto s = r->String("s");
  REQUIRE_FALSE(s.ok());
  CHECK(Message(s.status()) == "s.json: $.gpu.s: got 3, expected a string");

  auto b = r->Bool("b");
  REQUIRE_FALSE(b.ok());
  CHECK(Message(b.status()) == "s.json: $.gpu.b: got \"yes\", expected true or false");

  auto o = r->Object("o");
  REQUIRE_FALSE(o.ok());
  CHECK(Message(o.status()) == "s.json: $.gpu.o: got 1, expected a JSON object");

  auto a = r->Array("a");
  REQUIRE_FALSE(a.ok());
  CHECK(Message(a.status()) == "s.json: $.gpu.a: got {}, expected a JSON array");

  auto e = r->Enum("e", {"bf16", "fp8", "fp4"});
  REQUIRE_FALSE(e.ok());
  CHECK(Message(e.status()) ==
        "s.json: $.gpu.e: got \"fp16\", expected one of \"bf16\", \"fp8\", \"fp4\"");
}

// Open() accepts only objects.
TEST_CASE("JsonObjectReader::Open rejects non-objects", "[json_reader]") {
  for (const char* text : {"[1]", "3", "\"H200\"", "null", "true"}) {
    INFO(text);
    auto r = JsonObjectReader::Open(json::parse(text), {"f.json", "$.x"});
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(Message(r.status()), Catch::StartsWith("f.json: $.x: got "));
    CHECK_THAT(Message(r.status()), Catch::EndsWith("expected a JSON object"));
  }
}

// Optional getters: the fallback applies only when the key is absent; a present key is
// validated exactly like a required one (models/json_reader.h).
TEST_CASE("JsonObjectReader optional getters", "[json_reader]") {
  const json j = json::parse(R"({"n": 3, "bad_n": -1, "i": 4, "s": "v", "e": "b", "b": false,
                                 "bad_b": 0, "o": 0.5})");
  auto r = JsonObjectReader::Open(j, kWhere);
  REQUIRE(r.ok());
  CHECK(*r->NumberOr("n", 9, NumberRule::Positive()) == 3);
  CHECK(*r->NumberOr("absent_n", 9, NumberRule::Positive()) == 9);
  CHECK(*r->IntegerOr("i", 1, NumberRule::Positive()) == 4);
  CHECK(*r->IntegerOr("absent_i", 1, NumberRule::Positive()) == 1);
  CHECK(*r->StringOr("s", "d") == "v");
  CHECK(*r->StringOr("absent_s", "d") == "d");
  CHECK(*r->EnumOr("e", "a", {"a", "b"}) == "b");
  CHECK(*r->EnumOr("absent_e", "a", {"a", "b"}) == "a");
  CHECK(*r->BoolOr("b", true) == false);
  CHECK(*r->BoolOr("absent_b", true) == true);
  auto opt = r->OptionalNumber("o", NumberRule::Fraction());
  REQUIRE(opt.ok());
  REQUIRE(opt->has_value());
  CHECK(**opt == 0.5);
  auto none = r->OptionalNumber("absent_o", NumberRule::Fraction());
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  // Present but invalid: an error, never the fallback.
  auto bad_n = r->NumberOr("bad_n", 9, NumberRule::Positive());
  REQUIRE_FALSE(bad_n.ok());
  CHECK(Message(bad_n.status()) == "s.json: $.gpu.bad_n: got -1, expected a number > 0");
  auto bad_b = r->BoolOr("bad_b", true);
  REQUIRE_FALSE(bad_b.ok());
  CHECK_THAT(Message(bad_b.status()), Catch::Contains("$.gpu.bad_b"));
  CHECK(r->Finish().ok());
}

// NumberRule bounds (models/json_reader.h: inclusive unless marked exclusive):
//   Positive x > 0, NonNegative x >= 0, Fraction 0 < x <= 1, Between inclusive, AtLeast x >= lo.
// Boundary values are exact; non-finite values are always rejected.
TEST_CASE("NumberRule range rules", "[json_reader]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();

  CHECK_FALSE(NumberRule::Positive().Accepts(0));
  CHECK(NumberRule::Positive().Accepts(1e-12));
  CHECK_FALSE(NumberRule::Positive().Accepts(-1));

  CHECK(NumberRule::NonNegative().Accepts(0));
  CHECK_FALSE(NumberRule::NonNegative().Accepts(-1e-12));

  CHECK_FALSE(NumberRule::Fraction().Accepts(0));
  CHECK(NumberRule::Fraction().Accepts(0.5));
  CHECK(NumberRule::Fraction().Accepts(1));
  CHECK_FALSE(NumberRule::Fraction().Accepts(1.0001));

  CHECK(NumberRule::Between(2, 4).Accepts(2));
  CHECK(NumberRule::Between(2, 4).Accepts(4));
  CHECK_FALSE(NumberRule::Between(2, 4).Accepts(1.99));
  CHECK_FALSE(NumberRule::Between(2, 4).Accepts(4.01));

  CHECK(NumberRule::AtLeast(1).Accepts(1));
  CHECK_FALSE(NumberRule::AtLeast(1).Accepts(0.999));

  for (const NumberRule& rule : {NumberRule(), NumberRule::Positive(), NumberRule::Fraction()}) {
    CHECK_FALSE(rule.Accepts(nan));
    CHECK_FALSE(rule.Accepts(inf));
    CHECK_FALSE(rule.Accepts(-inf));
  }

  // Describe() wording (header example "a number > 0").
  CHECK(NumberRule::Positive().Describe() == "a number > 0");
  CHECK(NumberRule::NonNegative().Describe() == "a number >= 0");
  CHECK(NumberRule::Fraction().Describe() == "a number > 0 and <= 1");
  CHECK(NumberRule::Between(2, 4).Describe() == "a number >= 2 and <= 4");
  CHECK(NumberRule().Describe() == "a finite number");
}

// Range rules applied through the reader: the message carries the rule's description.
TEST_CASE("JsonObjectReader applies range rules", "[json_reader]") {
  const json j = json::parse(R"({"eff": 1.2, "zero": 0, "k": 5})");
  auto r = JsonObjectReader::Open(j, kWhere);
  REQUIRE(r.ok());
  auto eff = r->Number("eff", NumberRule::Fraction());
  REQUIRE_FALSE(eff.ok());
  CHECK(Message(eff.status()) == "s.json: $.gpu.eff: got 1.2, expected a number > 0 and <= 1");
  CHECK_FALSE(r->Number("zero", NumberRule::Positive()).ok());
  CHECK(*r->Number("zero", NumberRule::NonNegative()) == 0);
  auto k = r->Integer("k", NumberRule::Between(1, 4));
  REQUIRE_FALSE(k.ok());
  CHECK(Message(k.status()) ==
        "s.json: $.gpu.k: got 5, expected an integer (a number >= 1 and <= 4)");
  CHECK(*r->Integer("k", NumberRule::Between(1, 8)) == 5);
}

// Integer(): "Accept 8.0 but not 8.5" (models/json_reader.cc); strings are not integers.
TEST_CASE("JsonObjectReader::Integer rejects 1.5, accepts 2.0", "[json_reader]") {
  const json j = json::parse(R"({"frac": 1.5, "whole": 2.0, "str": "2", "neg": -3})");
  auto r = JsonObjectReader::Open(j, kWhere);
  REQUIRE(r.ok());
  auto frac = r->Integer("frac", NumberRule());
  REQUIRE_FALSE(frac.ok());
  CHECK(Message(frac.status()) ==
        "s.json: $.gpu.frac: got 1.5, expected an integer (a finite number)");
  auto whole = r->Integer("whole", NumberRule::Positive());
  REQUIRE(whole.ok());
  CHECK(*whole == 2);
  auto str = r->Integer("str", NumberRule());
  REQUIRE_FALSE(str.ok());
  CHECK_THAT(Message(str.status()), Catch::Contains("got \"2\""));
  CHECK(*r->Integer("neg", NumberRule()) == -3);
  CHECK_FALSE(r->Integer("neg", NumberRule::NonNegative()).ok());
}

// Finish(): "rejects any key that no code asked for" and lists the accepted keys (every key a
// getter asked for, present or not, in sorted order).
TEST_CASE("JsonObjectReader::Finish rejects unknown keys and lists accepted keys",
          "[json_reader]") {
  const json j = json::parse(R"({"hbm_gb": 141, "hbm_gbb": 141})");
  auto r = JsonObjectReader::Open(j, kWhere);
  REQUIRE(r.ok());
  REQUIRE(r->Number("hbm_gb", NumberRule::Positive()).ok());
  REQUIRE(r->NumberOr("tdp_w", 700, NumberRule::Positive()).ok());
  const absl::Status s = r->Finish();
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(Message(s) == "s.json: $.gpu.hbm_gbb: unknown key; keys accepted here: hbm_gb, tdp_w");
}

TEST_CASE("JsonObjectReader::Finish lists only keys that code asked for", "[json_reader]") {
  const json j = json::parse(R"({"hbm_gb": 141, "typo": 1})");
  auto r = JsonObjectReader::Open(j, kWhere);
  REQUIRE(r.ok());
  REQUIRE(r->Number("hbm_gb", NumberRule::Positive()).ok());
  REQUIRE(r->NumberOr("tdp_w", 700, NumberRule::Positive()).ok());
  const absl::Status s = r->Finish();
  REQUIRE_FALSE(s.ok());
  const std::string msg = Message(s);
  CHECK_THAT(msg, Catch::Contains("s.json"));
  CHECK_THAT(msg, Catch::Contains("$.gpu.typo"));
  CHECK_THAT(msg, Catch::Contains("unknown key"));
  CHECK_THAT(msg, Catch::EndsWith("keys accepted here: hbm_gb, tdp_w"));

  // Skip() marks a key as read; Has() alone does not.
  const json k = json::parse(R"({"owned_elsewhere": {}, "checked": 1})");
  auto r2 = JsonObjectReader::Open(k, kWhere);
  REQUIRE(r2.ok());
  CHECK(r2->Has("checked"));
  CHECK_FALSE(r2->Has("absent"));
  r2->Skip("owned_elsewhere");
  CHECK_FALSE(r2->Finish().ok());
  REQUIRE(r2->Integer("checked", NumberRule()).ok());
  CHECK(r2->Finish().ok());

  // An object with no keys read at all.
  const json e = json::parse(R"({"x": 1})");
  auto r3 = JsonObjectReader::Open(e, kWhere);
  REQUIRE(r3.ok());
  CHECK(Message(r3->Finish()) == "s.json: $.gpu.x: unknown key; keys accepted here: (none)");
}

// BadValue / BadInput format, and long values shortened to 80 characters.
TEST_CASE("BadValue and BadInput name file, path, value and expectation", "[json_reader]") {
  const JsonLocation where = JsonLocation{"a.json", "$"}.Key("m").Index(2).Key("k");
  CHECK(where.path == "$.m[2].k");
  CHECK(Message(BadValue(where, json(1.5), "an integer")) ==
        "a.json: $.m[2].k: got 1.5, expected an integer");
  CHECK(Message(BadInput(where, "required")) == "a.json: $.m[2].k: required");
  const std::string long_value(200, 'x');
  const std::string msg = Message(BadValue(where, json(long_value), "short"));
  CHECK_THAT(msg, Catch::Contains("..."));
  CHECK(msg.size() < 150);
}

}  // namespace
}  // namespace moesim
