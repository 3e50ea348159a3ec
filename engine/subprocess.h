// Runs jobs in child processes (fork), at most `parallel` at a time, and collects what each
// job returns. SimGrid allows one engine per process, so every simulation of a sweep or of
// `moesim validate` runs in its own child.
//
//   auto results = RunInSubprocesses({[&] { return RunOne(a); }, [&] { return RunOne(b); }}, 2);
//
// A job returns StatusOr<std::string>; a child that crashes or is killed yields an internal
// error naming its exit status. Results come back in job order, whatever the finishing order.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace moesim {

using SubprocessJob = std::function<absl::StatusOr<std::string>()>;

// A job's result as bytes (what a child hands its parent, or an MPI rank rank 0): 'O' and the
// text, or 'E', the status code, a newline and the message. DecodeJobResult inverts it.
std::string EncodeJobResult(const absl::StatusOr<std::string>& result);
absl::StatusOr<std::string> DecodeJobResult(const std::string& bytes);

// Called in the parent after each job ends: jobs done so far (ok or not) and those that failed.
using SubprocessProgress = std::function<void(size_t done, size_t failed)>;

std::vector<absl::StatusOr<std::string>> RunInSubprocesses(const std::vector<SubprocessJob>& jobs,
                                                           int parallel,
                                                           const SubprocessProgress& progress = {});

}  // namespace moesim
