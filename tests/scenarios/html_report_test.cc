// Self-contained HTML reports (tools/html_report.h): Chart.js and the data inlined, nothing
// loaded from the network, the data readable back, a clear error without the chart library.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tools/html_report.h"

namespace moesim {
namespace {

std::string RunAndRead(const std::string& args, const std::string& out) {
  const std::string cmd = std::string(MOESIM_BINARY) + " " + args + " > /dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(out);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The inlined data: the second <script> element, "const DATA = {...};".
nlohmann::json InlinedData(const std::string& html) {
  // Plain searches: libstdc++'s std::regex recurses per character and overflows the stack on a
  // page this size under AddressSanitizer.
  const std::string open = "<script>const DATA = ", close = ";</script>";
  const size_t begin = html.find(open);
  REQUIRE(begin != std::string::npos);
  const size_t end = html.find(close, begin + open.size());
  REQUIRE(end != std::string::npos);
  return nlohmann::json::parse(html.substr(begin + open.size(), end - begin - open.size()));
}

void CheckSelfContained(const std::string& html) {
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("Chart.js v3") != std::string::npos);  // the library, inlined
  CHECK(html.find("<script src") == std::string::npos);  // nothing fetched
  CHECK(html.find("<link") == std::string::npos);
  CHECK(html.find("new Chart(") != std::string::npos);
}

TEST_CASE("moesim run --html writes one self-contained page with the report", "[html][cli]") {
  const std::string out = "/tmp/moesim-report-test.html";
  const std::string html = RunAndRead("run --quiet " MOESIM_SOURCE_DIR
                                      "/scenarios/disaggregation/deepseek-v3-h200-1p1d-tp8.json "
                                      "--html " +
                                          out,
                                      out);
  CheckSelfContained(html);
  const nlohmann::json data = InlinedData(html);
  CHECK(data["scenario"] == "deepseek-v3-h200-1p1d-tp8");
  CHECK(data.contains("timeseries"));
  CHECK(data["pools"].contains("decode"));
}

TEST_CASE("moesim sweep --html writes the Pareto chart", "[html][cli][sweep]") {
  const std::string out = "/tmp/moesim-sweep-test.html";
  const std::string html = RunAndRead("sweep --quiet " MOESIM_SOURCE_DIR
                                      "/scenarios/sweeps/deepseek-v3-h200-small.json --html " +
                                          out,
                                      out);
  CheckSelfContained(html);
  const nlohmann::json data = InlinedData(html);
  CHECK(data["plans"].size() == 12);
  CHECK(!data["frontier"].empty());
  CHECK(html.find("Pareto frontier") != std::string::npos);
}

TEST_CASE("moesim compare --html shows the plans side by side", "[html][cli][compare]") {
  const std::string out = "/tmp/moesim-compare-test.html";
  const std::string html = RunAndRead(
      "compare --quiet " MOESIM_SOURCE_DIR
      "/scenarios/speculative/deepseek-v3-h200-tp8-c1-mtp2.json --without-speculation --html " +
          out,
      out);
  CheckSelfContained(html);
  const nlohmann::json data = InlinedData(html);
  CHECK(data["scenarios"].size() == 2);
  CHECK(!data["metrics"].empty());
}

TEST_CASE("HTML reports escape the data and need the chart library", "[html]") {
  const nlohmann::json report = {{"scenario", "a</script><b>"}};
  auto html = ReportToHtml(report);
  REQUIRE(html.ok());
  CHECK(html->find("a</script><b>") == std::string::npos);
  CHECK(html->find("a<\\/script><b>") != std::string::npos);
  auto missing = ReportToHtml(report, "/nonexistent/chart.min.js");
  REQUIRE_FALSE(missing.ok());
  CHECK(std::string(missing.status().message()).find("libjs-chart.js") != std::string::npos);
}

}  // namespace
}  // namespace moesim
