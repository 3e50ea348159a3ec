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

std::vector<absl::StatusOr<std::string>> RunInSubprocesses(const std::vector<SubprocessJob>& jobs,
                                                           int parallel);

}  // namespace moesim
