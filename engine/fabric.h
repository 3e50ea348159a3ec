// The fabric a step runs on, as an interface (LevelDB's Env is the model): what time it is, how
// a collective or a transfer takes time, how lanes of one instance share a GPU group, and how a
// kernel occupies its GPUs.
//
//  * SimgridFabric (engine/simgrid_fabric.h): SimGrid's clock and platform; collectives and
//    transfers as SimGrid activities that share links with everything else (or, when
//    analytic, their closed-form cost without an activity); group mutexes and kernel Execs.
//  * AnalyticFabric (engine/analytic_fabric.h): a virtual clock and closed-form costs on an
//    idle fabric. It backs the runner's Estimate() (step fidelity bounds, sweeps) and unit tests
//    of runners and instances, without SimGrid.
// A fault-injecting wrapper can forward to either.
//
// Every time is absolute simulated seconds. Calls that block (SleepUntil, RunCollective,
// Finish, Acquire) advance Now() to when they return.
#pragma once

#include <memory>
#include <vector>

#include "topology/collective_pattern.h"

namespace moesim {

// A copy between GPU `gpu`'s memory and its server's host memory over the GPU's host link (KV
// offload): `wire_bytes` on the link (the payload over the copy's efficiency).
struct HostCopy {
  int gpu = 0;
  bool to_host = true;
  double wire_bytes = 0;
};

// A read (`write` false) or write of `bytes` on the local SSDs of GPU `gpu`'s server, from or
// to its host memory (the KV hierarchy's SSD tier).
struct DiskIo {
  int gpu = 0;
  bool write = false;
  double bytes = 0;
};

// A transfer started by StartTransfer(); Finish() waits for it.
class PendingTransfer {
 public:
  virtual ~PendingTransfer() = default;
};

class Fabric {
 public:
  virtual ~Fabric() = default;

  virtual double Now() const = 0;
  virtual void SleepUntil(double t) = 0;
  // Whether communication is costed in closed form (no activity to wait for).
  virtual bool Analytic() const = 0;

  // Runs `pattern` for `message_bytes` per rank, starting now; returns its cost, `seconds`
  // being the realised duration, and returns when it ends.
  virtual CollectiveCost RunCollective(const CollectivePattern& pattern, double message_bytes,
                                       double launch_us) = 0;
  // Starts a transfer of analytic cost `cost` moving `wire` among `gpus` (which must outlive
  // it) at `start_s` >= Now(), without waiting.
  virtual std::unique_ptr<PendingTransfer> StartTransfer(const std::vector<int>* gpus,
                                                         const CollectiveCost& cost,
                                                         std::vector<Transfer> wire,
                                                         double start_s) = 0;
  // Waits for a started transfer; returns its realised cost (its end is Now()).
  virtual CollectiveCost Finish(PendingTransfer& t) = 0;
  // Starts `copies` and `disk_ios` now, side by side, without waiting; `analytic_s`: their
  // time on an idle fabric (what analytic fabrics charge). FinishHostCopies() waits for them.
  virtual std::unique_ptr<PendingTransfer> StartHostCopies(const std::vector<HostCopy>& copies,
                                                           const std::vector<DiskIo>& disk_ios,
                                                           double analytic_s) = 0;
  virtual void FinishHostCopies(PendingTransfer& t) = 0;

  // Mutual exclusion of GPU group `resource` among the lanes of an instance (FIFO).
  virtual void Acquire(int resource) = 0;
  virtual void Release(int resource) = 0;
  // A kernel occupying `gpus` from `start_s` to `end_s` (kernel fidelity: a SimGrid Exec per
  // GPU; elsewhere nothing). Returns at `end_s`: a walk may use it only where its groups'
  // kernels do not overlap in time (pipeline stages in sequence; the scenario parser rejects
  // kernel fidelity for DP-attention EP groups, whose ranks run side by side).
  virtual void RunKernel(const std::vector<int>& gpus, double start_s, double end_s) = 0;
  virtual bool KernelActivities() const = 0;
};

}  // namespace moesim
