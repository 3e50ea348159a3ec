// The HTML reports (tools/html_report.h) rendered in a real browser: Debian's headless Chromium
// (chromium-headless-shell, which tools/setup.sh installs; without it these tests fail, they do
// not skip) loads the page of `run`, `sweep` and `compare`, and the test checks
//  * the page wrote nothing to the console: no uncaught exception, no console message;
//  * the charts drew: the page's charts, one canvas each, every canvas holding a painted pixel
//    (what the page records on <body> once loaded, read back from the DOM after scripts ran);
//  * the screenshot is a 1280 x 2400 PNG larger than a blank page's (about 14 KB).
// The page, the DOM, Chromium's log and the screenshot stay in build/test-artifacts/ (html-*.png)
// for a person to look at.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cli.h"
#include "tests/support/rlvr_sweep_fixture.h"

namespace moesim {
namespace {

namespace fs = std::filesystem;
using testing::ReadTextFile;
using testing::RunMoesim;

constexpr const char* kChromium = "/usr/bin/chromium-headless-shell";
// A 1280 x 2400 screenshot of a page with one word of text is about 14 KB.
constexpr uintmax_t kMinScreenshotBytes = 50 * 1024;

// What the headless browser left behind for one page.
struct Rendered {
  std::string dom;  // the DOM after the page's scripts ran (--dump-dom)
  std::string log;  // Chromium's log, console messages included
  fs::path screenshot;
};

// An absolute path (CMakeLists.txt: the build tree's test-artifacts/).
fs::path ArtifactDir() {
  const fs::path dir = MOESIM_ARTIFACT_DIR;
  fs::create_directories(dir);
  return dir;
}

Rendered RenderInChromium(const fs::path& html, const std::string& name) {
  if (!fs::exists(kChromium)) {
    FAIL(kChromium << " not found: run tools/setup.sh (it installs Debian's "
                      "chromium-headless-shell, which these tests need)");
  }
  const fs::path dir = ArtifactDir();
  Rendered r{"", "", dir / (name + ".png")};
  const fs::path dom = dir / (name + ".dom.html"), log = dir / (name + ".chromium.log");
  fs::remove(r.screenshot);
  const auto quoted = [](const std::string& s) { return "'" + s + "'"; };
  const std::string cmd = std::string("timeout 60 ") + kChromium +
                          " --headless --no-sandbox --disable-gpu --window-size=1280,2400"
                          " --virtual-time-budget=5000 --enable-logging=stderr --v=0"
                          " --screenshot=" +
                          quoted(r.screenshot.string()) + " --dump-dom " +
                          quoted("file://" + html.string()) + " > " + quoted(dom.string()) +
                          " 2> " + quoted(log.string());
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
  r.dom = ReadTextFile(dom);
  r.log = ReadTextFile(log);
  return r;
}

// Chromium logs console output as "...:CONSOLE:<line>] "<message>", source: ...".
std::string ConsoleLines(const std::string& log) {
  std::istringstream in(log);
  std::string line, found;
  while (std::getline(in, line)) {
    if (line.find(":CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) {
      found += line + "\n";
    }
  }
  return found;
}

// The value of data-NAME on <body>, or -1 if the page did not record it.
int BodyCount(const std::string& dom, const std::string& name) {
  std::smatch m;
  const std::regex re("<body[^>]*\\sdata-" + name + "=\"(\\d+)\"");
  return std::regex_search(dom, m, re) ? std::stoi(m[1].str()) : -1;
}

// The width and height in a PNG's IHDR chunk (big-endian, bytes 16..23).
std::pair<uint32_t, uint32_t> PngSize(const std::string& png) {
  REQUIRE(png.size() > 24);
  REQUIRE(png.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
  const auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

// Writes the page with `moesim ARGS --html`, renders it and checks it holds `charts` charts.
void CheckRendersInBrowser(const std::string& args, const std::string& name, int charts) {
  const fs::path html = ArtifactDir() / (name + ".html");
  const auto written = RunMoesim(args + " --quiet --html " + html.string());
  INFO(written.output);
  REQUIRE(written.exit_code == 0);
  const Rendered r = RenderInChromium(html, name);
  INFO("Chromium log: " << (ArtifactDir() / (name + ".chromium.log")).string());
  CHECK(ConsoleLines(r.log) == "");  // the lines themselves on failure
  CHECK(BodyCount(r.dom, "charts") == charts);
  CHECK(BodyCount(r.dom, "canvases") == charts);
  CHECK(BodyCount(r.dom, "canvases-painted") == charts);
  REQUIRE(fs::exists(r.screenshot));
  CHECK(fs::file_size(r.screenshot) > kMinScreenshotBytes);
  const auto [width, height] = PngSize(ReadTextFile(r.screenshot));
  CHECK(width == 1280);
  CHECK(height == 2400);
}

TEST_CASE("the run report renders in headless Chromium with every chart drawn", "[html][browser]") {
  // default.json: the GPU time split, the bounds, fabric load per tier and five time series.
  CheckRendersInBrowser("run " MOESIM_SOURCE_DIR "/scenarios/default.json", "html-run", 8);
}

TEST_CASE("a run with a KV hierarchy renders its section and hit-ratio chart in Chromium",
          "[html][browser][kv-hierarchy]") {
  // The eight charts of a run and the prefix cache's hits per tier.
  CheckRendersInBrowser("run " MOESIM_SOURCE_DIR
                        "/scenarios/kv/qwen3-235b-h200-tp8-chat-think20-host-tier.json",
                        "html-run-kv", 9);
}

TEST_CASE("the sweep report renders in headless Chromium with the Pareto chart drawn",
          "[html][browser][sweep]") {
  CheckRendersInBrowser("sweep " MOESIM_SOURCE_DIR "/scenarios/sweeps/deepseek-v3-h200-small.json",
                        "html-sweep", 1);
}

TEST_CASE("an RLVR sweep's report renders its step-time against cost chart in Chromium",
          "[html][browser][sweep][rlvr]") {
  const nlohmann::json doc = testing::SmallRlvrSplitSweep();
  const fs::path file = ArtifactDir() / "rlvr-sweep.json";
  std::ofstream(file) << doc.dump(2);
  CheckRendersInBrowser("sweep " + file.string(), "html-sweep-rlvr", 1);
  CHECK(ReadTextFile(ArtifactDir() / "html-sweep-rlvr.html").find("\"kind\":\"rlvr\"") !=
        std::string::npos);
}

TEST_CASE("the compare report renders in headless Chromium with the ratio chart drawn",
          "[html][browser][compare]") {
  CheckRendersInBrowser("compare " MOESIM_SOURCE_DIR
                        "/scenarios/speculative/deepseek-v3-h200-tp8-c1-mtp2.json "
                        "--without-speculation",
                        "html-compare", 1);
}

}  // namespace
}  // namespace moesim
