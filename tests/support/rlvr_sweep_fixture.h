// The shipped RLVR split sweep (scenarios/sweeps/deepseek-v3-h200-rlvr-split.json) made small
// for tests: a step of 64 prompts x 4 samples of ~400 tokens and two steps, so that its eight
// plans simulate in about a second.
#pragma once

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace moesim::testing {

inline nlohmann::json SmallRlvrSplitSweep() {
  std::ifstream in(MOESIM_SOURCE_DIR "/scenarios/sweeps/deepseek-v3-h200-rlvr-split.json");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json doc = nlohmann::json::parse(text.str());
  doc["rlvr"]["prompts_per_step"] = 64;
  doc["rlvr"]["samples_per_prompt"] = 4;
  doc["rlvr"]["output_tokens"] = {
      {"kind", "lognormal"}, {"median_tokens", 400}, {"sigma", 0.8}, {"max_tokens", 2000}};
  doc["rlvr"]["steps"] = 2;
  return doc;
}

}  // namespace moesim::testing
