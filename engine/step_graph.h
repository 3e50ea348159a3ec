// One step of one instance as data: what runs where, and what waits for what.
//
// A step graph holds the kernel programs of the step (one per pipeline stage, or per rank and
// micro-batch of an expert-parallel group, plus the expert segments of each MoE layer), the GPU
// groups they run on, and nodes in an order that respects every dependency:
//
//  * compute: a contiguous run of a program's ops on one group's stream, launched by the
//    group's launch pipeline (eager gaps, graph replay) and timed by the kernel cost model; a
//    compute node may span consecutive groups that run the same ops of their own programs side
//    by side (the ranks of an expert-parallel group): it ends when the last of them ends;
//  * collective: a collective in a group's stream (a TP all-reduce): it starts when the stream
//    reaches it and the stream waits for it;
//  * transfer: traffic beside the streams (a pipeline-stage send, an MoE dispatch or combine):
//    it starts when all its dependencies have ended; the groups' streams go on meanwhile
//    except for `hold_s`, the SM time its send / receive kernels take on each held group.
//
// A group executes its compute and collective nodes in graph order. Nodes name their
// dependencies explicitly (earlier nodes only). The step runner (engine/step_runner.h) turns
// the graph into time; instance kinds (engine/instance.h) build it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <absl/container/inlined_vector.h>

#include "engine/launch_pipeline.h"
#include "models/decode_step.h"
#include "topology/collective_pattern.h"

namespace moesim {

// A position in a program's execution sequence: the `op`-th op of the block at `order` index.
struct OpPosition {
  int order = 0;
  int op = 0;
};

struct StepGroup {
  std::vector<int> gpus;     // global GPU indices
  int64_t running_seqs = 0;  // sequences whose host work the group's step begins with
  bool host_work = true;     // whether the group's step begins with the host's CPU work
  // Whether the group's step (and launch) begins with the graph's rather than when its first
  // node comes: the expert side of attention/FFN disaggregation launches ahead of its data.
  bool begins_with_graph = false;
  int resource = -1;  // mutex shared with other lanes (pipeline stages), or -1
};

// What a transfer node moves and how: kept apart from the nodes, which are many and small.
struct StepTransfer {
  const char* name = "transfer";  // its role, for traces (e.g. "dispatch", "a2e")
  // Its analytic cost and the wire transfers the SimGrid paths move (`gpus`: the GPUs it joins,
  // which must outlive the walk).
  CollectiveCost cost;
  std::vector<Transfer> wire;
  const std::vector<int>* gpus = nullptr;
  // Blocking transfers make the lane wait (pipeline sends); they run the node's collective
  // pattern instead of `cost`.
  bool blocking = false;
  // Groups whose stream it holds for `hold_s` (DeepEP send / receive kernels).
  std::vector<int> hold_groups;
  double hold_s = 0;
  // Groups whose host blocks until the transfer starts (DeepEP normal dispatch: the CPU polls
  // the received-token count before it can launch anything after the dispatch). The count's
  // notify exchange, a few us, is not added.
  std::vector<int> host_sync_groups;
};

struct StepNode {
  enum class Kind { kCompute, kCollective, kTransfer };
  Kind kind = Kind::kCompute;
  int group = -1;                    // compute / collective: the (first) group whose stream runs it
  int groups = 1;                    // compute: runs on groups [group, group + groups)
  absl::InlinedVector<int, 2> deps;  // nodes (earlier in the graph) that must end first
  // kCompute: ops [begin, end) of `program`, or, where program_set >= 0, of
  // program_sets[program_set][k] on group `group + k`.
  int program = 0;
  int program_set = -1;
  OpPosition begin;
  OpPosition end;
  // kCollective (and blocking transfers): the pattern, the message, the launch cost; a null
  // pattern costs nothing.
  const CollectivePattern* pattern = nullptr;
  double message_bytes = 0;
  double launch_us = 0;
  const char* name = "collective";  // kCollective: its op (e.g. "attn_allreduce"), for traces
  // kTransfer: its index in StepGraph::transfers.
  int transfer = -1;
};

struct StepGraph {
  std::vector<StepProgram> programs;
  std::vector<std::vector<int>> program_sets;  // per set: a program per group of a node
  std::vector<StepGroup> groups;
  std::vector<StepNode> nodes;
  std::vector<StepTransfer> transfers;
  StepLaunch launch = StepLaunch::kEager;

  int AddProgram(StepProgram p) {
    programs.push_back(std::move(p));
    return static_cast<int>(programs.size()) - 1;
  }
  int AddProgramSet(std::vector<int> programs_by_group) {
    program_sets.push_back(std::move(programs_by_group));
    return static_cast<int>(program_sets.size()) - 1;
  }
  // The program node `n` runs on its `k`-th group.
  int ProgramOf(const StepNode& n, int k) const {
    return n.program_set < 0 ? n.program : program_sets[n.program_set][k];
  }
  int AddNode(StepNode n) {
    nodes.push_back(std::move(n));
    return static_cast<int>(nodes.size()) - 1;
  }
  // Adds transfer node `n` (kind set here) moving `t`.
  int AddTransfer(StepNode n, StepTransfer t) {
    n.kind = StepNode::Kind::kTransfer;
    n.transfer = static_cast<int>(transfers.size());
    transfers.push_back(std::move(t));
    return AddNode(std::move(n));
  }
  const StepProgram& program(int i) const { return programs[i]; }
  const StepTransfer& transfer(const StepNode& n) const { return transfers[n.transfer]; }
};

}  // namespace moesim
