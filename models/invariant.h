// MOESIM_CHECK: invariants of the simulation (conservation of requests, tokens, KV blocks and
// bytes; capacities never exceeded), checked in every build and every run. Never compiled out.
//
// Contract: user input is never checked with it (bad input is an absl::Status naming the file,
// the JSON path and the value); a failed MOESIM_CHECK is a bug in moesim. It prints
//   moesim: <file>:<line>: invariant broken: <condition>: <the numbers>
// to stderr and aborts the process (SIGABRT), so that tests, fuzzers and the CLI all stop at the
// event that broke it rather than reporting a wrong number.
//
//   MOESIM_CHECK(used <= capacity, used, " blocks in use of ", capacity);
//
// The message arguments are anything absl::StrCat accepts; they are evaluated only on failure.
#pragma once

#include <string>

#include "absl/strings/str_cat.h"

namespace moesim {

[[noreturn]] void InvariantBroken(const char* file, int line, const char* condition,
                                  const std::string& message);

}  // namespace moesim

#define MOESIM_CHECK(condition, ...)                                                          \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      ::moesim::InvariantBroken(__FILE__, __LINE__, #condition, ::absl::StrCat(__VA_ARGS__)); \
    }                                                                                         \
  } while (false)
