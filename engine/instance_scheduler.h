// Continuous batching for one serving instance, independent of SimGrid, with the two policies of
// the serving stacks (RuntimeSpec::batching):
//
//  * mixed (vLLM V1, TensorRT-LLM): each step, every running request gets its tokens first (one
//    decode token, or the next chunk of its prompt), in admission order, allocating KV blocks;
//    then waiting requests are admitted in FIFO order while the token budget, max_num_seqs and
//    free blocks allow, each with a prompt chunk.
//  * prefill_first (SGLang, ATOM): when a running request is part-way through its prompt or a
//    waiting request can be admitted, the step is a prefill-only batch (chunks of those prompts
//    within the token budget) and the decoding requests wait; otherwise the step decodes every
//    running request.
//
// When blocks run out the most recently admitted request is preempted (recompute: its blocks are
// freed and it returns to the front of the queue with its generated tokens added to its prompt).
//
// With a KV hierarchy (SchedulerConfig::tiers, models/prefix_cache.h):
//  * prefix caching: an admitted prompt first takes the longest run of its full blocks that is
//    cached (in HBM: shared, no copy; in host DRAM: loaded back, counted in TakeTiers()), at
//    most all but its last token; its prefill starts after them. A block joins the cache as
//    soon as it is full (shared from then on) and stays there when its sequence finishes or is
//    preempted; when blocks run out, unreferenced cached
//    blocks are evicted (least recently released first, written back to host DRAM when there
//    is a host tier) before any sequence is preempted;
//  * swap preemption: a preempted sequence's KV goes to host DRAM (when it fits there) and
//    comes back when it is admitted again, its progress kept; otherwise it is recomputed;
//  * capacity offload: when blocks run out, the oldest blocks of running sequences (admission
//    order, each keeping its newest block) move to host DRAM before anyone is preempted; every
//    step streams in the offloaded blocks of the sequences it runs.
// The copies are counted in TakeTiers(); the instance times them on the host links.
// Complete() applies the step: prompts advance, a request whose prompt finished samples its first
// (next) token, decoding requests sample one token, finished requests free their blocks.
//
//   InstanceScheduler s(config, footprint, pool_blocks);
//   s.Enqueue(&req);
//   StepBatch b = s.Schedule(now);   // execute it, then at the step's end time:
//   for (Request* done : s.Complete(now)) ...
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "engine/kv_tier_stats.h"
#include "engine/request.h"
#include "models/decode_step.h"
#include "models/kv_cache.h"
#include "models/prefix_cache.h"
#include "models/speculative.h"

namespace moesim {

// Tokens a scheduler sampled and, with speculative decoding, what its verifications kept.
struct SpeculationCounts {
  int64_t tokens_emitted = 0;   // every token sampled (first, decode, accepted and bonus tokens)
  int64_t verifications = 0;    // decoding sequences verified (one per sequence and step)
  int64_t drafts_accepted = 0;  // drafts kept by those verifications
  SpeculationCounts& operator+=(const SpeculationCounts& o) {
    tokens_emitted += o.tokens_emitted;
    verifications += o.verifications;
    drafts_accepted += o.drafts_accepted;
    return *this;
  }
};

struct SchedulerConfig {
  int64_t max_num_seqs = 0;
  int64_t max_num_batched_tokens = 0;
  int sliding_window_tokens = 0;  // 0: model has no sliding layers
  bool prefill_first = false;     // RuntimeSpec::batching == kPrefillFirst
  // A prefill pool's instance (prefill/decode disaggregation): a request whose prompt completes
  // samples its first token and leaves the scheduler, keeping its KV blocks until
  // ReleaseHandedOff() (after its KV has moved to a decode instance).
  bool hand_off_prefilled = false;
  // Speculative decoding (models/speculative.h): every decoding sequence verifies 1 + draft
  // tokens positions per step and keeps 1 + the accepted drafts drawn from `acceptance`
  // (shared by the instance's schedulers; nullptr without speculation).
  int draft_tokens = 0;
  AcceptanceSampler* acceptance = nullptr;
  // KV hierarchy: the pool's cache and host tier (shared by the instance's schedulers; nullptr:
  // HBM only), whether prompts look up cached prefixes, whether preemption swaps to host.
  PrefixCache* tiers = nullptr;
  bool prefix_caching = false;
  bool swap = false;
  bool capacity_offload = false;
  // Decode side of prefill/decode disaggregation: RuntimeSpec::decode_reserved_tokens (0: off,
  // a request's prompt blocks need only be free).
  int64_t decode_reserved_tokens = 0;
};

class InstanceScheduler {
 public:
  // `pool`: the instance's KV blocks, shared by its virtual engines (pipeline parallelism runs
  // one scheduler per micro-batch in flight over the same GPUs' memory).
  InstanceScheduler(const SchedulerConfig& config, const KvFootprint& footprint, PagedKvPool* pool);

  void Enqueue(Request* request);
  bool HasWork() const { return !running_.empty() || !waiting_.empty() || !ready_.empty(); }

  // Forms the next step at simulated time `now_s`. An empty batch (tokens() == 0) means nothing
  // can run now. Without `allow_context` the step only decodes: no prompt chunk runs and no
  // waiting request is admitted (TensorRT-LLM's attention-DP balancing holds context back,
  // RuntimeSpec::attention_dp_balance).
  StepBatch Schedule(double now_s, bool allow_context = true);
  // Whether the next step would run context work if allowed: a running request part-way
  // through its prompt, or a waiting one whose first chunk fits.
  bool ContextReady() const { return PrefillPending(); }
  // Running requests past their prompt (decoding).
  int64_t decoding() const;
  // Applies the last scheduled step at simulated time `now_s`; returns finished requests.
  std::vector<Request*> Complete(double now_s);

  // Prefill side of disaggregation: the requests whose prompt completed since the last call
  // (their blocks still held), and the release of those blocks once their KV has moved.
  std::vector<Request*> TakeHandedOff();
  void ReleaseHandedOff(Request* request);
  // Decode side: takes the blocks of `request`'s prompt KV (false, nothing taken, when they do
  // not fit), then, once the KV has arrived, queues it to join the running batch at the next
  // step with a free max_num_seqs slot (its first token reaches the user then).
  bool Reserve(Request* request);
  // Whether Reserve(request) would take its blocks. With decode_reserved_tokens (SGLang's
  // DecodePreallocQueue), the free KV tokens less that headroom for every request taken
  // (running, waiting, reserved) must hold the prompt plus the headroom, and the longest that
  // the running ones could still need beyond what retracting all of them frees (output
  // estimate capped at 4,096 tokens, SGLANG_CLIP_MAX_NEW_TOKENS_ESTIMATION's default).
  bool CanReserve(const Request& request) const;
  // Fault injection (engine/fault_injection.h): the instance's GPUs failed. Every request it
  // holds leaves, running ones (and, decode side, transferred ones waiting for a slot) with
  // their KV lost (blocks freed; Request::StartOver: its prompt becomes input + generated
  // tokens, to prefill again elsewhere), waiting ones as they are (a swapped one's host copy
  // lost too, so it restarts the same way); running ones first, in admission order. Cache
  // references, offloaded and swapped blocks go back to the KV hierarchy's tiers, whose cached
  // blocks the instance then drops (PrefixCache::Clear) once no lane holds any. Blocks reserved
  // for KV transfers still in flight stay taken until each lands (CancelReservation).
  std::vector<Request*> EvictAll();
  // Fault injection, prefill side: a handed-off request's KV is lost with the instance (or the
  // transfer of it failed): its blocks and cache references go back without joining the
  // cache. Idempotent.
  void DiscardHandedOff(Request* request);
  // Fault injection, decode side: the transfer into `request`'s reservation was lost; its
  // blocks go back.
  void CancelReservation(Request* request);
  void EnqueueTransferred(Request* request);
  // Prefill side: the requests of the step just scheduled whose prompt it completes and that
  // will be handed off (layer-wise transfers start with that step).
  std::vector<Request*> CompletingPrompts() const;

  int64_t running() const { return static_cast<int64_t>(running_.size()); }
  // Waiting for admission: queued prompts, requests whose KV is moving in (reserved) and
  // transferred requests waiting for a slot.
  int64_t waiting() const {
    return static_cast<int64_t>(waiting_.size() + ready_.size()) + reserved_;
  }
  const PagedKvPool& pool() const { return *pool_; }
  int64_t preemptions() const { return preemptions_; }
  // What the KV hierarchy did since the last call (prefix hits, blocks to copy, preemptions by
  // kind), taken by the instance after each step it schedules; all zero without one.
  KvTierStats TakeTiers() {
    KvTierStats s = tiers_stats_;
    tiers_stats_ = KvTierStats{};
    return s;
  }
  // Host DRAM blocks of this scheduler's requests: swapped out, or offloaded while running
  // (conservation checks).
  int64_t swapped_blocks() const;
  // Tokens sampled so far and speculative verifications; tokens sampled by the last Complete().
  const SpeculationCounts& counts() const { return counts_; }
  int64_t last_emitted() const { return last_emitted_; }
  // Input tokens of the prompts whose prefill the last Complete() finished for the first time
  // (cached tokens included; a recomputation after a preemption is not counted again).
  int64_t last_input_served() const { return last_input_served_; }

 private:
  bool Grow(Request* r, int64_t new_tokens);  // takes blocks for kv_tokens + new_tokens
  // Takes `blocks` from the pool, evicting unreferenced cached blocks when it is short.
  bool Take(int64_t blocks);
  // Free blocks plus those the cache could evict.
  int64_t Available() const;
  // Capacity offload: moves up to `blocks` cold blocks of running sequences to host DRAM.
  void OffloadCold(int64_t blocks);
  void Preempt(Request* r);
  // Prefix caching: takes the cached run of r's prompt with the first chunk of at most `budget`
  // tokens; false (nothing taken) when the blocks are not there.
  bool AdmitWithCache(Request* r, int64_t budget, int64_t* scheduled);
  // Swapped out: takes its blocks back with the next chunk (or decode tokens).
  bool AdmitSwapped(Request* r, int64_t budget, int64_t* scheduled);
  // A sequence leaving HBM (finished or recomputed): its full blocks pass to the prefix cache,
  // its references are dropped, the rest of its blocks return to the pool.
  void ReleaseKv(Request* r);
  // A sequence's KV is lost: its blocks and references go back, nothing joins the cache.
  void DropKv(Request* r);
  // Block names of r's first `blocks` blocks.
  std::vector<uint64_t> Hashes(const Request& r, int64_t blocks) const;
  // Prefix caching: r's private blocks that are now full join the cache, still referenced by r.
  void CacheFullBlocks(Request* r);
  // Gives running requests their tokens (decoding ones only, when `decode_only`), preempting the
  // newest on a full cache; returns the budget left.
  int64_t ScheduleRunning(int64_t budget, bool decode_only, bool prefill_only);
  // Admits waiting requests with a prompt chunk each; returns the budget left.
  int64_t Admit(int64_t budget, double now_s);
  // Moves transferred requests into the running batch while max_num_seqs allows.
  void AdmitTransferred(double now_s);
  bool PrefillPending() const;
  void Account(StepBatch& batch, const Request& r) const;

  SchedulerConfig config_;
  const KvFootprint& footprint_;
  PagedKvPool* pool_;
  std::deque<Request*> waiting_;
  std::vector<Request*> running_;  // admission order
  std::vector<Request*> scheduled_;
  std::deque<Request*> ready_;        // KV transferred in, waiting for a running slot
  int64_t reserved_ = 0;              // reserved, KV still moving in
  std::vector<Request*> handed_off_;  // prompts completed since TakeHandedOff()
  int64_t preemptions_ = 0;
  KvTierStats tiers_stats_;
  SpeculationCounts counts_;
  int64_t last_emitted_ = 0;
  int64_t last_input_served_ = 0;
};

}  // namespace moesim
