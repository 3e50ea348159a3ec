// Jobs in child processes (engine/subprocess.h): results in job order, a crashed child as an
// error, progress reported, and the result encoding children and MPI ranks share.
#include <csignal>

#include <catch2/catch.hpp>

#include "engine/subprocess.h"

namespace moesim {
namespace {

TEST_CASE("job results survive encoding, errors with their code", "[subprocess]") {
  CHECK(*DecodeJobResult(EncodeJobResult(std::string("a\nb"))) == "a\nb");
  const auto e = DecodeJobResult(EncodeJobResult(absl::NotFoundError("x.json: line 1\nmore")));
  REQUIRE_FALSE(e.ok());
  CHECK(e.status().code() == absl::StatusCode::kNotFound);
  CHECK(e.status().message() == "x.json: line 1\nmore");
  CHECK_FALSE(DecodeJobResult("").ok());
  CHECK_FALSE(DecodeJobResult("E12").ok());
}

TEST_CASE("jobs run in children, in order, a crash failing only its job", "[subprocess]") {
  std::vector<SubprocessJob> jobs;
  for (int i = 0; i < 5; ++i) {
    jobs.push_back([i]() -> absl::StatusOr<std::string> {
      if (i == 2) std::raise(SIGKILL);
      if (i == 3) return absl::InvalidArgumentError("bad plan");
      return std::to_string(i * i);
    });
  }
  size_t last_done = 0, last_failed = 0, calls = 0;
  const auto r = RunInSubprocesses(jobs, 2, [&](size_t done, size_t failed) {
    ++calls;
    CHECK(done == last_done + 1);
    last_done = done;
    last_failed = failed;
  });
  REQUIRE(r.size() == 5);
  CHECK(*r[0] == "0");
  CHECK(*r[4] == "16");
  CHECK(std::string(r[2].status().message()).find("signal 9") != std::string::npos);
  CHECK(r[3].status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(calls == 5);
  CHECK(last_failed == 2);
}

}  // namespace
}  // namespace moesim
