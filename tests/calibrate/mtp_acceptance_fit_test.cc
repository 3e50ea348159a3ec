// The acceptance curve InferenceX's MTP rows run with is the fit tools/calibrate/
// fit_mtp_acceptance.py wrote (tools/calibrate/mtp_acceptance_fit.json): the preset's lengths are
// the TensorRT-LLM B200 curve with every per-position acceptance probability scaled by the
// fitted alpha, and the fit's held-out rows were not used to choose alpha.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

namespace {

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

std::vector<double> Lengths(const nlohmann::json& curves, const std::string& name) {
  REQUIRE(curves.contains(name));
  return curves.at(name).at("lengths").at("value").get<std::vector<double>>();
}

// AL(k) with p_i -> alpha * p_i, where AL(k) - AL(k-1) = prod_{j<=k} p_j.
std::vector<double> Scaled(const std::vector<double>& base, double alpha) {
  std::vector<double> out;
  double prev_len = 1.0, prod = 1.0, total = 1.0, prev_prod = 1.0;
  for (double len : base) {
    const double base_prod = len - prev_len;
    prod *= alpha * base_prod / prev_prod;
    prev_prod = base_prod;
    prev_len = len;
    total += prod;
    out.push_back(total);
  }
  return out;
}

}  // namespace

TEST_CASE("InferenceX MTP acceptance preset is the alpha-scaled TensorRT-LLM curve of the fit",
          "[calibrate][speculative]") {
  const nlohmann::json fit = ReadJson(MOESIM_SOURCE_DIR "/tools/calibrate/mtp_acceptance_fit.json");
  const nlohmann::json curves =
      ReadJson(MOESIM_SOURCE_DIR "/models/presets/acceptance_curves.json");
  const double alpha = fit.at("alpha").get<double>();
  REQUIRE(alpha > 0.0);
  REQUIRE(alpha <= 1.0);
  const std::vector<double> base = Lengths(curves, fit.at("base_curve").get<std::string>());
  const std::vector<double> preset = Lengths(curves, fit.at("curve").get<std::string>());
  const std::vector<double> expected = Scaled(base, alpha);
  REQUIRE(preset.size() == expected.size());
  for (size_t k = 0; k < preset.size(); ++k) {
    INFO("k = " << k + 1);
    CHECK(preset[k] == Approx(expected[k]).margin(1e-4));
    CHECK(preset[k] == Approx(fit.at("lengths").at(k).get<double>()).margin(1e-9));
    // Scaling every acceptance probability down lowers the length at every k.
    CHECK(preset[k] <= base[k]);
  }
  // The preset says where it came from.
  const std::string source =
      curves.at(fit.at("curve").get<std::string>()).at("lengths").at("source");
  CHECK(source.find("fit_mtp_acceptance.py") != std::string::npos);
}

TEST_CASE("InferenceX MTP acceptance fit keeps its held-out rows apart", "[calibrate]") {
  const nlohmann::json fit = ReadJson(MOESIM_SOURCE_DIR "/tools/calibrate/mtp_acceptance_fit.json");
  const auto train = fit.at("train_rows").get<std::set<std::string>>();
  const auto held_out = fit.at("held_out_rows").get<std::set<std::string>>();
  CHECK(train.size() >= 10);
  CHECK(held_out.size() >= 10);
  for (const std::string& row : held_out) CHECK(train.count(row) == 0);
  // Every row named is a committed reference scenario.
  for (const auto* rows : {&train, &held_out}) {
    for (const std::string& row : *rows) {
      std::ifstream in(MOESIM_SOURCE_DIR "/scenarios/reference/inferencex/" + row);
      CHECK(in.good());
    }
  }
  // The alpha chosen has the smallest training bias (|median signed TPOT error|) of its grid.
  double best = 1e9;
  for (const auto& g : fit.at("grid")) {
    best = std::min(best, std::fabs(g.at("train_tpot_median_signed_pct").get<double>()));
  }
  bool chosen_in_grid = false;
  for (const auto& g : fit.at("grid")) {
    if (g.at("alpha") == fit.at("alpha")) {
      chosen_in_grid = true;
      CHECK(std::fabs(g.at("train_tpot_median_signed_pct").get<double>()) == best);
    }
  }
  CHECK(chosen_in_grid);
}
