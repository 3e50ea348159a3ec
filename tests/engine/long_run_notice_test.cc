// tools/long_run_notice.h: one notice, from the run's own pace, when it projects past a minute;
// nothing for short runs, before two seconds, when disabled, or twice.
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "tools/long_run_notice.h"

namespace {

// What the notice wrote to a temporary file.
std::string Written(std::FILE* f) {
  std::rewind(f);
  std::string text;
  char buf[512];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  return text;
}

}  // namespace

TEST_CASE("a long run's notice projects its wall time from its pace, once", "[cli][progress]") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  double now = 1.0;
  moesim::LongRunNotice notice(true, out, [&now] { return now; });
  notice.Update(0.001);  // before two seconds: no estimate yet
  CHECK(Written(out).empty());
  now = 18.0;
  notice.Update(0.04);  // 18 s for 4 %: 450 s in all
  const std::string text = Written(out);
  CHECK(text.find("about 7.5 min of wall time") != std::string::npos);
  CHECK(text.find("4 % of the simulated duration in 18 s") != std::string::npos);
  CHECK(notice.printed());
  now = 30.0;
  notice.Update(0.05);
  CHECK(Written(out) == text);  // once only
  std::fclose(out);
}

TEST_CASE("a short run, a finished one or a quiet one gets no notice", "[cli][progress]") {
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  double now = 3.0;
  moesim::LongRunNotice short_run(true, out, [&now] { return now; });
  short_run.Update(0.1);  // 30 s in all
  short_run.Update(1.0);  // done
  moesim::LongRunNotice quiet(false, out, [&now] { return now; });
  quiet.Update(0.001);
  CHECK(Written(out).empty());
  CHECK_FALSE(short_run.printed());
  CHECK_FALSE(quiet.printed());
  std::fclose(out);
}
