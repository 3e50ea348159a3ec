#include "models/invariant.h"

#include <cstdio>
#include <cstdlib>

namespace moesim {

void InvariantBroken(const char* file, int line, const char* condition,
                     const std::string& message) {
  std::fprintf(stderr, "moesim: %s:%d: invariant broken: %s: %s\n", file, line, condition,
               message.c_str());
  std::fflush(stderr);
  std::abort();
}

}  // namespace moesim
