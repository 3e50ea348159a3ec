#include "engine/instance_scheduler.h"

#include <algorithm>

namespace moesim {

InstanceScheduler::InstanceScheduler(const SchedulerConfig& config, const KvFootprint& footprint,
                                     PagedKvPool* pool)
    : config_(config), footprint_(footprint), pool_(pool) {}

void InstanceScheduler::Enqueue(Request* r) {
  r->prompt_tokens = r->input_tokens;
  waiting_.push_back(r);
}

bool InstanceScheduler::Grow(Request* r, int64_t new_tokens) {
  const int64_t need = footprint_.BlocksFor(r->kv_tokens + new_tokens) - r->kv_blocks;
  if (need <= 0) return true;
  if (!pool_->TryTake(need)) return false;
  r->kv_blocks += need;
  return true;
}

void InstanceScheduler::Preempt(Request* r) {
  pool_->Give(r->kv_blocks);
  r->kv_blocks = 0;
  r->kv_tokens = 0;
  r->prefilled = 0;
  r->prompt_tokens = r->input_tokens + r->generated;
  r->scheduled_tokens = 0;
  ++r->preemptions;
  ++preemptions_;
  waiting_.push_front(r);
}

void InstanceScheduler::Account(StepBatch& b, const Request& r) const {
  const double n = double(r.scheduled_tokens);
  const double ctx = double(r.kv_tokens);  // before this step
  const double end = ctx + n;
  if (r.prefilling()) {
    b.prefill_tokens += r.scheduled_tokens;
    ++b.prefill_seqs;
    if (r.prefilled + r.scheduled_tokens >= r.prompt_tokens) ++b.sampled_seqs;
  } else {
    ++b.decode_seqs;
    ++b.sampled_seqs;
    b.speculative_tokens += r.scheduled_tokens - 1;
  }
  // Token j of the chunk (1-based) attends to ctx + j tokens.
  b.full_pairs += n * ctx + n * (n + 1) / 2;
  b.full_kv_tokens += end;
  if (config_.sliding_window_tokens > 0) {
    const double w = config_.sliding_window_tokens;
    double pairs = 0;
    if (end <= w) {
      pairs = n * ctx + n * (n + 1) / 2;
    } else {
      // Tokens at positions up to w attend to all before them, later ones to w tokens.
      const double full_part = std::max(0.0, w - ctx);
      pairs = full_part * ctx + full_part * (full_part + 1) / 2 + (n - full_part) * w;
    }
    b.sliding_pairs += pairs;
    b.sliding_kv_tokens += std::min(end, w);
  }
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
    const int64_t n = std::min(r->prompt_tokens - r->prefilled, budget);
    if (!Grow(r, n)) break;
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
  return footprint_.BlocksFor(r->kv_tokens + n) - r->kv_blocks <= pool_->free();
}

void InstanceScheduler::AdmitTransferred(double now_s) {
  while (!ready_.empty() && static_cast<int64_t>(running_.size()) < config_.max_num_seqs) {
    Request* r = ready_.front();
    ready_.pop_front();
    if (!r->first_token_s) r->first_token_s = now_s;
    running_.push_back(r);
  }
}

StepBatch InstanceScheduler::Schedule(double now_s) {
  StepBatch batch;
  scheduled_.clear();
  AdmitTransferred(now_s);
  int64_t budget = config_.max_num_batched_tokens;
  if (config_.prefill_first && PrefillPending()) {
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
  for (const Request* r : scheduled_) Account(batch, *r);
  return batch;
}

std::vector<Request*> InstanceScheduler::Complete(double now_s) {
  std::vector<Request*> finished;
  last_emitted_ = 0;
  for (Request* r : scheduled_) {
    const int64_t n = r->scheduled_tokens;
    r->scheduled_tokens = 0;
    bool samples = true;
    int64_t emitted = 1;
    if (r->prefilling()) {
      r->kv_tokens += n;
      r->prefilled += n;
      samples = !r->prefilling();
    } else if (config_.draft_tokens > 0) {
      // Verification: the accepted drafts and the bonus token stay; the rejected positions'
      // KV is dropped (their blocks return below).
      const int accepted = config_.acceptance->Sample();
      ++counts_.verifications;
      counts_.drafts_accepted += accepted;
      emitted = std::min<int64_t>(accepted + 1, r->output_tokens - r->generated);
      r->kv_tokens += emitted;
      const int64_t keep = footprint_.BlocksFor(r->kv_tokens);
      if (r->kv_blocks > keep) {
        pool_->Give(r->kv_blocks - keep);
        r->kv_blocks = keep;
      }
    } else {
      r->kv_tokens += n;
    }
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
  for (Request* r : finished) {
    pool_->Give(r->kv_blocks);
    r->kv_blocks = 0;
  }
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
  pool_->Give(r->handoff.prefill_blocks);
  r->handoff.prefill_blocks = 0;
}

bool InstanceScheduler::Reserve(Request* r) {
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
