#include "engine/instance_scheduler.h"

#include <algorithm>
#include <utility>

#include "models/invariant.h"

namespace moesim {

InstanceScheduler::InstanceScheduler(const SchedulerConfig& config, const KvFootprint& footprint,
                                     PagedKvPool* pool)
    : config_(config), footprint_(footprint), pool_(pool) {}

void InstanceScheduler::Enqueue(Request* r) {
  r->prompt_tokens = r->input_tokens;
  waiting_.push_back(r);
}

bool InstanceScheduler::Take(int64_t blocks) {
  if (blocks <= 0) return true;
  if (config_.tiers != nullptr && blocks > pool_->free()) {
    const int64_t dropped = config_.tiers->dropped_blocks();
    const PrefixCache::Eviction e = config_.tiers->EvictHbm(blocks - pool_->free());
    tiers_stats_.evicted_blocks += e.freed;
    tiers_stats_.write_back_blocks += e.written;
    tiers_stats_.dropped_blocks += config_.tiers->dropped_blocks() - dropped;
  }
  if (config_.capacity_offload && blocks > pool_->free()) OffloadCold(blocks - pool_->free());
  return pool_->TryTake(blocks);
}

void InstanceScheduler::OffloadCold(int64_t blocks) {
  PrefixCache& host = *config_.tiers;
  for (Request* r : running_) {
    if (blocks <= 0) break;
    const int64_t k = std::min(blocks, r->kv_blocks - 1);
    if (k <= 0 || !host.TakeHostSwap(k)) continue;
    r->kv_blocks -= k;
    r->offloaded_blocks += k;
    pool_->Give(k);
    tiers_stats_.offload_blocks += k;
    blocks -= k;
  }
}

int64_t InstanceScheduler::Available() const {
  return pool_->free() + (config_.tiers != nullptr ? config_.tiers->evictable_hbm_blocks() : 0);
}

bool InstanceScheduler::Grow(Request* r, int64_t new_tokens) {
  const int64_t need = footprint_.BlocksFor(r->kv_tokens + new_tokens) - r->kv_blocks -
                       r->cached_blocks - r->offloaded_blocks;
  if (need <= 0) return true;
  if (!Take(need)) return false;
  r->kv_blocks += need;
  return true;
}

std::vector<uint64_t> InstanceScheduler::Hashes(const Request& r, int64_t blocks) const {
  std::vector<uint64_t> out(blocks);
  const int64_t shared = r.shared_prefix_tokens / footprint_.block_tokens();
  for (int64_t i = 0; i < blocks; ++i) {
    out[i] = BlockHash(i < shared ? r.shared_prefix_owner : r.prefix_owner, i);
  }
  return out;
}

void InstanceScheduler::CacheFullBlocks(Request* r) {
  // Private blocks hold positions from cached_blocks on; the full ones among them join.
  const int64_t full = r->kv_tokens / footprint_.block_tokens();
  const int64_t n = std::min(full - r->cached_blocks, r->kv_blocks);
  if (n <= 0) return;
  const int64_t shared = r->shared_prefix_tokens / footprint_.block_tokens();
  std::vector<uint64_t> names(n);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t block = r->cached_blocks + i;
    names[i] = BlockHash(block < shared ? r->shared_prefix_owner : r->prefix_owner, block);
  }
  config_.tiers->Register(names);  // duplicates return to the pool
  r->kv_blocks -= n;
  r->cached_blocks += n;
}

void InstanceScheduler::ReleaseKv(Request* r) {
  if (config_.tiers != nullptr && config_.prefix_caching) {
    const int64_t full = r->kv_tokens / footprint_.block_tokens();
    const std::vector<uint64_t> hashes = Hashes(*r, std::max(full, r->cached_blocks));
    config_.tiers->Release(hashes, 0, r->cached_blocks);
    const int64_t donated = std::min(r->kv_blocks, std::max<int64_t>(0, full - r->cached_blocks));
    config_.tiers->Donate(hashes, r->cached_blocks, donated);  // duplicates return to the pool
    r->kv_blocks -= donated;
    r->cached_blocks = 0;  // references released above
  }
  DropKv(r);  // the rest goes back to the pool and the host tier
}

int64_t InstanceScheduler::swapped_blocks() const {
  int64_t n = 0;
  for (const Request* r : waiting_) n += r->swapped_blocks;
  for (const Request* r : running_) n += r->offloaded_blocks;
  return n;
}

void InstanceScheduler::Preempt(Request* r) {
  ++r->preemptions;
  ++preemptions_;
  r->scheduled_tokens = 0;
  const int64_t blocks = footprint_.BlocksFor(r->kv_tokens);
  // Offloaded blocks are already in host DRAM: their space returns, a swap takes it again.
  const int64_t offloaded = r->offloaded_blocks;
  if (offloaded > 0) {
    config_.tiers->GiveHostSwap(offloaded);
    r->offloaded_blocks = 0;
  }
  const int64_t dropped = config_.tiers != nullptr ? config_.tiers->dropped_blocks() : 0;
  const bool swapped = config_.swap && r->kv_tokens > 0 && config_.tiers->TakeHostSwap(blocks);
  if (config_.tiers != nullptr) {
    tiers_stats_.dropped_blocks += config_.tiers->dropped_blocks() - dropped;
  }
  if (swapped) {
    // Its KV (shared prefix blocks included) goes to host DRAM; its progress is kept.
    ++tiers_stats_.swap_preemptions;
    tiers_stats_.swap_out_blocks += blocks - offloaded;
    if (config_.prefix_caching) {
      config_.tiers->Release(Hashes(*r, r->cached_blocks), 0, r->cached_blocks);
    }
    pool_->Give(r->kv_blocks);
    r->kv_blocks = 0;
    r->cached_blocks = 0;
    r->swapped_blocks = blocks;
    waiting_.push_front(r);
    return;
  }
  if (config_.tiers != nullptr) ++tiers_stats_.recompute_preemptions;
  ReleaseKv(r);
  r->kv_tokens = 0;
  r->prefilled = 0;
  r->prompt_tokens = r->input_tokens + r->generated;
  waiting_.push_front(r);
}

std::vector<Request*> InstanceScheduler::EvictAll() {
  MOESIM_CHECK(handed_off_.empty(), "evicting a scheduler with ", handed_off_.size(),
               " prompts handed off but not taken");
  // Everything it held is lost with the instance: its private and referenced HBM blocks, and
  // (KV hierarchy) its offloaded and swapped blocks in host DRAM; each request starts over.
  std::vector<Request*> out;
  for (Request* r : running_) {
    DropKv(r);
    r->StartOver();
    out.push_back(r);
  }
  // Decode side: transferred requests waiting for a running slot lose their KV too. Blocks
  // reserved for transfers still in flight stay taken until each lands (CancelReservation).
  for (Request* r : ready_) {
    DropKv(r);
    r->StartOver();
    out.push_back(r);
  }
  for (Request* r : waiting_) {
    MOESIM_CHECK(r->kv_blocks == 0, "waiting request ", r->id, " holds ", r->kv_blocks,
                 " KV blocks");
    if (r->swapped_blocks > 0) {
      config_.tiers->GiveHostSwap(r->swapped_blocks);
      r->swapped_blocks = 0;
      r->StartOver();
    }
    out.push_back(r);
  }
  running_.clear();
  scheduled_.clear();
  ready_.clear();
  waiting_.clear();
  return out;
}

void InstanceScheduler::DropKv(Request* r) {
  if (config_.tiers != nullptr && config_.prefix_caching && r->cached_blocks > 0) {
    config_.tiers->Release(Hashes(*r, r->cached_blocks), 0, r->cached_blocks);
  }
  pool_->Give(r->kv_blocks);
  r->kv_blocks = 0;
  r->cached_blocks = 0;
  if (r->offloaded_blocks > 0) {
    config_.tiers->GiveHostSwap(r->offloaded_blocks);
    r->offloaded_blocks = 0;
  }
}

void InstanceScheduler::DiscardHandedOff(Request* r) {
  r->kv_blocks += r->handoff.prefill_blocks;
  r->handoff.prefill_blocks = 0;
  DropKv(r);
}

void InstanceScheduler::CancelReservation(Request* r) {
  MOESIM_CHECK(reserved_ > 0 && r->handoff.decode_blocks > 0, "request ", r->id,
               " cancels a reservation of ", r->handoff.decode_blocks, " blocks (", reserved_,
               " reserved)");
  pool_->Give(r->handoff.decode_blocks);
  r->handoff.decode_blocks = 0;
  --reserved_;
}

bool InstanceScheduler::AdmitSwapped(Request* r, int64_t budget, int64_t* scheduled) {
  const int64_t n = r->prefilling() ? std::min(r->prompt_tokens - r->prefilled, budget)
                                    : int64_t{1} + config_.draft_tokens;
  const int64_t need = footprint_.BlocksFor(r->kv_tokens + n);
  if (!Take(need)) return false;
  config_.tiers->GiveHostSwap(r->swapped_blocks);
  tiers_stats_.swap_in_blocks += r->swapped_blocks;
  r->swapped_blocks = 0;
  r->kv_blocks = need;
  *scheduled = n;
  return true;
}

bool InstanceScheduler::AdmitWithCache(Request* r, int64_t budget, int64_t* scheduled) {
  PrefixCache& cache = *config_.tiers;
  const int64_t bt = footprint_.block_tokens();
  // A hit never covers the whole prompt: its last token is computed to sample from it
  // (vLLM: max_cache_hit_length = num_tokens - 1).
  const std::vector<uint64_t> hashes = Hashes(*r, (r->prompt_tokens - 1) / bt);
  const PrefixCache::Hit hit = cache.Lookup(hashes);
  cache.Acquire(hashes, 0, hit.hbm);
  cache.PinHost(hashes, hit.hbm, hit.host);
  cache.PinSsd(hashes, hit.hbm + hit.host, hit.ssd);
  // With the host and SSD hits, else with the host hits only, else with neither (when their
  // blocks do not fit).
  const std::pair<int64_t, int64_t> tries[] = {{hit.host, hit.ssd}, {hit.host, 0}, {0, 0}};
  for (const auto& [host, ssd] : tries) {
    const int64_t cached = hit.hbm + host + ssd;
    const int64_t n = std::min(r->prompt_tokens - cached * bt, budget);
    const int64_t need = footprint_.BlocksFor(cached * bt + n) - hit.hbm;
    if (!Take(need)) continue;
    cache.Promote(hashes, hit.hbm, host);
    cache.UnpinHost(hashes, hit.hbm + host, hit.host - host);
    cache.PromoteFromSsd(hashes, hit.hbm + hit.host, ssd);
    cache.UnpinSsd(hashes, hit.hbm + hit.host + ssd, hit.ssd - ssd);
    r->cached_blocks = cached;
    r->kv_blocks = need - host - ssd;
    r->kv_tokens = r->prefilled = cached * bt;
    tiers_stats_.lookup_tokens += r->prompt_tokens;
    tiers_stats_.hbm_hit_tokens += hit.hbm * bt;
    tiers_stats_.host_hit_tokens += host * bt;
    tiers_stats_.ssd_hit_tokens += ssd * bt;
    tiers_stats_.load_blocks += host;
    tiers_stats_.ssd_load_blocks += ssd;
    *scheduled = n;
    return true;
  }
  cache.Release(hashes, 0, hit.hbm);
  cache.UnpinHost(hashes, hit.hbm, hit.host);
  cache.UnpinSsd(hashes, hit.hbm + hit.host, hit.ssd);
  return false;
}

void InstanceScheduler::Account(StepBatch& b, const Request& r) const {
  const double n = double(r.scheduled_tokens);
  const double ctx = double(r.kv_tokens);  // before this step
  const double end = ctx + n;
  // Token j of the chunk (1-based) attends to ctx + j tokens.
  const double full_pairs = n * ctx + n * (n + 1) / 2;
  double sliding_pairs = 0, sliding_kv = 0;
  if (config_.sliding_window_tokens > 0) {
    const double w = config_.sliding_window_tokens;
    if (end <= w) {
      sliding_pairs = full_pairs;
    } else {
      // Tokens at positions up to w attend to all before them, later ones to w tokens.
      const double full_part = std::max(0.0, w - ctx);
      sliding_pairs = full_part * ctx + full_part * (full_part + 1) / 2 + (n - full_part) * w;
    }
    sliding_kv = std::min(end, w);
  }
  if (r.prefilling()) {
    b.prefill_tokens += r.scheduled_tokens;
    ++b.prefill_seqs;
    if (r.prefilled + r.scheduled_tokens >= r.prompt_tokens) ++b.sampled_seqs;
    b.prefill_full_pairs += full_pairs;
    b.prefill_full_kv_tokens += end;
    b.prefill_sliding_pairs += sliding_pairs;
    b.prefill_sliding_kv_tokens += sliding_kv;
  } else {
    ++b.decode_seqs;
    ++b.sampled_seqs;
    b.speculative_tokens += r.scheduled_tokens - 1;
  }
  b.full_pairs += full_pairs;
  b.full_kv_tokens += end;
  b.sliding_pairs += sliding_pairs;
  b.sliding_kv_tokens += sliding_kv;
}

int64_t InstanceScheduler::ScheduleRunning(int64_t budget, bool decode_only, bool prefill_only) {
  // Oldest first; preempt the newest when blocks run out.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Request* r = running_[i];
    if ((decode_only && r->prefilling()) || (prefill_only && !r->prefilling())) {
      ++i;
      continue;
    }
    const int64_t n = r->prefilling() ? std::min(r->prompt_tokens - r->prefilled, budget)
                                      : int64_t{1} + config_.draft_tokens;
    if (Grow(r, n)) {
      r->scheduled_tokens = n;
      budget -= n;
      scheduled_.push_back(r);
      ++i;
      continue;
    }
    if (prefill_only) {
      // A prompt chunk never evicts decoding sequences (SGLang admits prefill only into free
      // memory): it waits, holding what it has, while decode steps free blocks.
      ++i;
      continue;
    }
    // Preempt from the back until r fits or r itself is preempted.
    Request* victim = running_.back();
    running_.pop_back();
    Preempt(victim);
    if (victim == r) break;
  }
  return budget;
}

int64_t InstanceScheduler::Admit(int64_t budget, double now_s) {
  while (!waiting_.empty() && budget > 0 &&
         static_cast<int64_t>(running_.size()) < config_.max_num_seqs) {
    Request* r = waiting_.front();
    int64_t n = 0;
    if (r->swapped_blocks > 0) {
      if (!AdmitSwapped(r, budget, &n)) break;
    } else if (config_.prefix_caching && r->kv_tokens == 0) {
      if (!AdmitWithCache(r, budget, &n)) break;
    } else {
      n = std::min(r->prompt_tokens - r->prefilled, budget);
      if (!Grow(r, n)) break;
    }
    waiting_.pop_front();
    if (!r->handoff.prefill_start_s) r->handoff.prefill_start_s = now_s;
    r->scheduled_tokens = n;
    budget -= n;
    running_.push_back(r);
    scheduled_.push_back(r);
  }
  return budget;
}

bool InstanceScheduler::PrefillPending() const {
  for (const Request* r : running_) {
    if (r->prefilling()) return true;
  }
  if (waiting_.empty() || static_cast<int64_t>(running_.size()) >= config_.max_num_seqs) {
    return false;
  }
  // The head of the queue can be admitted if its first chunk's blocks are free.
  const Request* r = waiting_.front();
  const int64_t n = std::min(r->prompt_tokens - r->prefilled, config_.max_num_batched_tokens);
  return footprint_.BlocksFor(r->kv_tokens + n) - r->kv_blocks - r->cached_blocks <= Available();
}

void InstanceScheduler::AdmitTransferred(double now_s) {
  while (!ready_.empty() && static_cast<int64_t>(running_.size()) < config_.max_num_seqs) {
    Request* r = ready_.front();
    ready_.pop_front();
    if (!r->first_token_s) r->first_token_s = now_s;
    running_.push_back(r);
  }
}

int64_t InstanceScheduler::decoding() const {
  int64_t n = 0;
  for (const Request* r : running_) n += r->prefilling() ? 0 : 1;
  return n;
}

StepBatch InstanceScheduler::Schedule(double now_s, bool allow_context) {
  StepBatch batch;
  scheduled_.clear();
  AdmitTransferred(now_s);
  int64_t budget = config_.max_num_batched_tokens;
  if (!allow_context) {
    ScheduleRunning(budget, /*decode_only=*/true, /*prefill_only=*/false);
  } else if (config_.prefill_first && PrefillPending()) {
    // A prefill-only step: chunks of prompts in progress, then new admissions; when no chunk
    // fits the free blocks, the step decodes instead (so that blocks get freed).
    budget = ScheduleRunning(budget, /*decode_only=*/false, /*prefill_only=*/true);
    Admit(budget, now_s);
    if (scheduled_.empty()) {
      ScheduleRunning(config_.max_num_batched_tokens, /*decode_only=*/true,
                      /*prefill_only=*/false);
    }
  } else if (config_.prefill_first) {
    ScheduleRunning(budget, /*decode_only=*/true, /*prefill_only=*/false);
  } else {
    budget = ScheduleRunning(budget, /*decode_only=*/false, /*prefill_only=*/false);
    Admit(budget, now_s);
  }
  for (const Request* r : scheduled_) {
    Account(batch, *r);
    tiers_stats_.stream_blocks += r->offloaded_blocks;  // attention reads them this step
  }
  return batch;
}

std::vector<Request*> InstanceScheduler::Complete(double now_s) {
  std::vector<Request*> finished;
  last_emitted_ = 0;
  last_input_served_ = 0;
  for (Request* r : scheduled_) {
    const int64_t n = r->scheduled_tokens;
    r->scheduled_tokens = 0;
    bool samples = true;
    int64_t emitted = 1;
    if (r->prefilling()) {
      r->kv_tokens += n;
      r->prefilled += n;
      samples = !r->prefilling();
      if (samples && r->generated == 0) last_input_served_ += r->input_tokens;
    } else if (config_.draft_tokens > 0) {
      // Verification: the accepted drafts and the bonus token stay; the rejected positions'
      // KV is dropped (their blocks return below).
      const int accepted = config_.acceptance->Sample();
      ++counts_.verifications;
      counts_.drafts_accepted += accepted;
      emitted = std::min<int64_t>(accepted + 1, r->output_tokens - r->generated);
      r->kv_tokens += emitted;
      const int64_t keep =
          footprint_.BlocksFor(r->kv_tokens) - r->cached_blocks - r->offloaded_blocks;
      if (r->kv_blocks > keep) {
        pool_->Give(r->kv_blocks - keep);
        r->kv_blocks = keep;
      }
    } else {
      r->kv_tokens += n;
    }
    if (config_.prefix_caching) CacheFullBlocks(r);
    if (samples) {
      r->generated += emitted;
      counts_.tokens_emitted += emitted;
      last_emitted_ += emitted;
      if (r->generated >= r->output_tokens) {
        if (!r->first_token_s) r->first_token_s = now_s;
        r->finish_s = now_s;
        finished.push_back(r);
      } else if (config_.hand_off_prefilled && !r->handoff.prefill_end_s) {
        // Its first token goes with its KV to a decode instance; the user sees it when the
        // request joins a decode batch.
        r->handoff.prefill_end_s = now_s;
        r->handoff.prefill_blocks = r->kv_blocks;
        r->handoff.prefill_rank = r->rank;
        r->kv_blocks = 0;
        handed_off_.push_back(r);
      } else if (!r->first_token_s) {
        r->first_token_s = now_s;
      }
    }
  }
  scheduled_.clear();
  for (Request* r : finished) ReleaseKv(r);
  if (!finished.empty() || !handed_off_.empty()) {
    // A prefill instance's request leaves once its prompt is complete.
    const bool hand_off = config_.hand_off_prefilled;
    running_.erase(std::remove_if(running_.begin(), running_.end(),
                                  [hand_off](const Request* r) {
                                    return r->finish_s.has_value() ||
                                           (hand_off && r->handoff.prefill_end_s.has_value());
                                  }),
                   running_.end());
  }
  return finished;
}

std::vector<Request*> InstanceScheduler::TakeHandedOff() {
  std::vector<Request*> out;
  out.swap(handed_off_);
  return out;
}

void InstanceScheduler::ReleaseHandedOff(Request* r) {
  // Its prompt's KV leaves the prefill instance like a finished sequence's: full blocks to the
  // prefix cache (with one), references dropped, the rest back to the pool.
  r->kv_blocks = r->handoff.prefill_blocks;
  r->handoff.prefill_blocks = 0;
  ReleaseKv(r);
}

bool InstanceScheduler::CanReserve(const Request& r) const {
  const int64_t need = footprint_.BlocksFor(r.prompt_tokens);
  if (pool_->free() < need) return false;
  const int64_t headroom = config_.decode_reserved_tokens;
  if (headroom <= 0) return true;
  constexpr int64_t kClipMaxNewTokens = 4096;  // SGLANG_CLIP_MAX_NEW_TOKENS_ESTIMATION default
  const int64_t active = running() + waiting();
  // What retracting every running request frees, and what the longest of them may still need
  // once all are retracted: max(input + capped output) - retractable, in one pass.
  int64_t retractable = 0, longest = 0;
  for (const Request* q : running_) {
    retractable += q->input_tokens + q->generated;
    longest = std::max(longest, q->input_tokens + std::min(q->output_tokens, kClipMaxNewTokens));
  }
  const int64_t single = std::max<int64_t>(0, longest - retractable);
  const int64_t allocatable =
      pool_->free() * footprint_.block_tokens() - std::max(headroom * active, single);
  const int64_t own = r.input_tokens + std::min(r.output_tokens, kClipMaxNewTokens) - retractable;
  return std::max(r.prompt_tokens + headroom, own) <= allocatable;
}

bool InstanceScheduler::Reserve(Request* r) {
  if (!CanReserve(*r)) return false;
  const int64_t need = footprint_.BlocksFor(r->prompt_tokens);
  if (!pool_->TryTake(need)) return false;
  r->handoff.decode_blocks = need;
  ++reserved_;
  return true;
}

void InstanceScheduler::EnqueueTransferred(Request* r) {
  --reserved_;
  r->kv_tokens = r->prompt_tokens;
  r->kv_blocks = r->handoff.decode_blocks;
  r->handoff.decode_blocks = 0;
  ready_.push_back(r);
}

std::vector<Request*> InstanceScheduler::CompletingPrompts() const {
  std::vector<Request*> out;
  if (!config_.hand_off_prefilled) return out;
  for (Request* r : scheduled_) {
    if (r->prefilling() && r->prefilled + r->scheduled_tokens >= r->prompt_tokens &&
        r->generated + 1 < r->output_tokens) {
      out.push_back(r);
    }
  }
  return out;
}

}  // namespace moesim
