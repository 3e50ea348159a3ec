#include "engine/subprocess.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace moesim {

namespace {

void WriteResult(const std::string& path, const absl::StatusOr<std::string>& result) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << EncodeJobResult(result);
}

absl::StatusOr<std::string> ReadResult(const std::string& path, int wait_status) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string s = text.str();
  std::remove(path.c_str());
  if (!WIFEXITED(wait_status) || s.empty()) {
    return absl::InternalError(absl::StrCat("simulation process ended abnormally (",
                                            WIFSIGNALED(wait_status)
                                                ? absl::StrCat("signal ", WTERMSIG(wait_status))
                                                : absl::StrCat("exit ", WEXITSTATUS(wait_status)),
                                            ")"));
  }
  return DecodeJobResult(s);
}

}  // namespace

std::string EncodeJobResult(const absl::StatusOr<std::string>& result) {
  if (result.ok()) return "O" + *result;
  return absl::StrCat("E", static_cast<int>(result.status().code()), "\n",
                      result.status().message());
}

absl::StatusOr<std::string> DecodeJobResult(const std::string& s) {
  if (!s.empty() && s[0] == 'O') return s.substr(1);
  const size_t nl = s.find('\n');
  if (s.size() < 2 || s[0] != 'E' || nl == std::string::npos) {
    return absl::InternalError("a job's result was malformed");
  }
  const int code = std::atoi(s.substr(1, nl - 1).c_str());
  return absl::Status(static_cast<absl::StatusCode>(code), s.substr(nl + 1));
}

std::vector<absl::StatusOr<std::string>> RunInSubprocesses(const std::vector<SubprocessJob>& jobs,
                                                           int parallel,
                                                           const SubprocessProgress& progress) {
  std::vector<absl::StatusOr<std::string>> results(jobs.size(),
                                                   absl::InternalError("job did not run"));
  std::map<pid_t, std::pair<size_t, std::string>> running;
  size_t next = 0, done_count = 0, failed_count = 0;
  std::fflush(nullptr);
  while (next < jobs.size() || !running.empty()) {
    while (next < jobs.size() && static_cast<int>(running.size()) < std::max(1, parallel)) {
      char path[] = "/tmp/moesim-job-XXXXXX";
      const int fd = mkstemp(path);
      if (fd < 0) {
        results[next] = absl::InternalError("cannot create a temporary file for a job");
        ++next;
        continue;
      }
      close(fd);
      const pid_t pid = fork();
      if (pid == 0) {
        WriteResult(path, jobs[next]());
        std::fflush(nullptr);
        _exit(0);
      }
      if (pid < 0) {
        std::remove(path);
        results[next] = absl::InternalError("fork failed");
        ++next;
        continue;
      }
      running[pid] = {next, path};
      ++next;
    }
    int status = 0;
    const pid_t done = waitpid(-1, &status, 0);
    if (done < 0) break;
    auto it = running.find(done);
    if (it == running.end()) continue;
    results[it->second.first] = ReadResult(it->second.second, status);
    ++done_count;
    if (!results[it->second.first].ok()) ++failed_count;
    running.erase(it);
    if (progress) progress(done_count, failed_count);
  }
  return results;
}

}  // namespace moesim
