// MOESIM_CHECK (models/invariant.h): a broken invariant stops the process with SIGABRT after
// naming the file, the line, the condition and the numbers; a kept one costs nothing visible.
// Each broken case runs in a forked child (the check aborts the process it runs in).
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "models/invariant.h"
#include "models/kv_cache.h"

namespace {

struct Death {
  int signal = 0;
  std::string stderr_text;
};

// Runs `body` in a child whose stderr is captured; returns how it ended and what it printed.
template <typename Body>
Death RunInChild(Body body) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    body();
    _exit(0);
  }
  close(fds[1]);
  Death d;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) d.stderr_text.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) d.signal = WTERMSIG(status);
  return d;
}

}  // namespace

TEST_CASE("a broken MOESIM_CHECK aborts naming file, line, condition and numbers", "[invariant]") {
  const Death d = RunInChild([] {
    const int used = 7, capacity = 5;
    MOESIM_CHECK(used <= capacity, used, " blocks in use of ", capacity);
  });
  CHECK(d.signal == SIGABRT);
  CHECK(d.stderr_text.find("invariant_test.cc:") != std::string::npos);
  CHECK(d.stderr_text.find("invariant broken: used <= capacity: 7 blocks in use of 5") !=
        std::string::npos);
}

TEST_CASE("a kept MOESIM_CHECK does not evaluate its message", "[invariant]") {
  int evaluated = 0;
  auto count = [&evaluated] { return ++evaluated; };
  MOESIM_CHECK(1 + 1 == 2, "never printed ", count());
  CHECK(evaluated == 0);
}

TEST_CASE("a KV block freed twice stops the run at the event", "[invariant][kv]") {
  const Death d = RunInChild([] {
    moesim::PagedKvPool pool(10);
    REQUIRE(pool.TryTake(3));
    pool.Give(2);
    pool.Give(2);  // one more than in use
  });
  CHECK(d.signal == SIGABRT);
  CHECK(d.stderr_text.find("KV blocks freed twice: 2 given back, 1 in use of 10") !=
        std::string::npos);
  // Kept invariants: taking beyond the free blocks is refused, not counted.
  moesim::PagedKvPool pool(4);
  CHECK_FALSE(pool.TryTake(5));
  CHECK(pool.used() == 0);
}
