#include "models/prefix_cache.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "models/invariant.h"

namespace moesim {

uint64_t BlockHash(uint64_t owner, int64_t index) {
  // SplitMix64 (Steele, Lea, Flood 2014) over the pair.
  uint64_t z = owner * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(index) + 1;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

PrefixCache::PrefixCache(PagedKvPool* hbm, int64_t host_blocks, int64_t ssd_blocks)
    : hbm_(hbm), host_capacity_(host_blocks), ssd_capacity_(ssd_blocks) {}

PrefixCache::Hit PrefixCache::Lookup(const std::vector<uint64_t>& hashes) const {
  Hit hit;
  size_t i = 0;
  for (; i < hashes.size(); ++i) {
    auto it = entries_.find(hashes[i]);
    if (it == entries_.end() || !it->second.in_hbm) break;
    ++hit.hbm;
  }
  for (; i < hashes.size(); ++i) {
    auto it = entries_.find(hashes[i]);
    if (it == entries_.end() || it->second.in_hbm || !it->second.in_host) break;
    ++hit.host;
  }
  for (; i < hashes.size(); ++i) {
    auto it = entries_.find(hashes[i]);
    if (it == entries_.end() || it->second.in_hbm || it->second.in_host || !it->second.in_ssd) {
      break;
    }
    ++hit.ssd;
  }
  return hit;
}

void PrefixCache::Acquire(const std::vector<uint64_t>& hashes, int64_t first, int64_t n) {
  for (int64_t i = first; i < first + n; ++i) {
    Entry& e = entries_.at(hashes[i]);
    if (e.refs++ == 0) hbm_lru_.erase(e.hbm_pos);
  }
}

void PrefixCache::Release(const std::vector<uint64_t>& hashes, int64_t first, int64_t n) {
  // Last block first, so that a sequence's tail is evicted before its head (vLLM's free queue).
  for (int64_t i = first + n - 1; i >= first; --i) {
    Entry& e = entries_.at(hashes[i]);
    if (--e.refs == 0) e.hbm_pos = hbm_lru_.insert(hbm_lru_.end(), hashes[i]);
  }
}

void PrefixCache::PinHost(const std::vector<uint64_t>& hashes, int64_t first, int64_t n) {
  for (int64_t i = first; i < first + n; ++i) {
    Entry& e = entries_.at(hashes[i]);
    ++e.host_pins;
    host_lru_.splice(host_lru_.end(), host_lru_, e.host_pos);  // most recently used
  }
}

void PrefixCache::UnpinHost(const std::vector<uint64_t>& hashes, int64_t first, int64_t n) {
  for (int64_t i = first; i < first + n; ++i) --entries_.at(hashes[i]).host_pins;
}

void PrefixCache::Promote(const std::vector<uint64_t>& hashes, int64_t first, int64_t n) {
  for (int64_t i = first; i < first + n; ++i) {
    Entry& e = entries_.at(hashes[i]);
    --e.host_pins;
    e.in_hbm = true;
    e.refs = 1;
    ++hbm_blocks_;
  }
}

void PrefixCache::PinSsd(const std::vector<uint64_t>& hashes, int64_t first, int64_t n) {
  for (int64_t i = first; i < first + n; ++i) {
    Entry& e = entries_.at(hashes[i]);
    ++e.ssd_pins;
    ssd_lru_.splice(ssd_lru_.end(), ssd_lru_, e.ssd_pos);  // most recently used
  }
}

void PrefixCache::UnpinSsd(const std::vector<uint64_t>& hashes, int64_t first, int64_t n) {
  for (int64_t i = first; i < first + n; ++i) --entries_.at(hashes[i]).ssd_pins;
}

void PrefixCache::PromoteFromSsd(const std::vector<uint64_t>& hashes, int64_t first, int64_t n) {
  for (int64_t i = first; i < first + n; ++i) {
    Entry& e = entries_.at(hashes[i]);
    --e.ssd_pins;
    e.in_hbm = true;
    e.refs = 1;
    ++hbm_blocks_;
  }
}

int64_t PrefixCache::Donate(const std::vector<uint64_t>& hashes, int64_t first, int64_t n) {
  int64_t duplicates = 0;
  for (int64_t i = first + n - 1; i >= first; --i) {  // tail first, as Release()
    Entry& e = entries_[hashes[i]];
    if (e.in_hbm) {
      ++duplicates;
      continue;
    }
    e.in_hbm = true;
    e.refs = 0;
    e.hbm_pos = hbm_lru_.insert(hbm_lru_.end(), hashes[i]);
    ++hbm_blocks_;
  }
  hbm_->Give(duplicates);
  return duplicates;
}

int64_t PrefixCache::Register(const std::vector<uint64_t>& hashes) {
  int64_t duplicates = 0;
  for (uint64_t hash : hashes) {
    Entry& e = entries_[hash];
    if (e.in_hbm) {
      ++duplicates;  // computed by another sequence meanwhile: share that copy
      if (e.refs++ == 0) hbm_lru_.erase(e.hbm_pos);
      continue;
    }
    e.in_hbm = true;
    e.refs = 1;
    ++hbm_blocks_;
  }
  hbm_->Give(duplicates);
  return duplicates;
}

bool PrefixCache::FreeHostBlock() {
  for (auto it = host_lru_.begin(); it != host_lru_.end(); ++it) {
    const uint64_t hash = *it;
    Entry& e = entries_.at(hash);
    if (e.host_pins > 0) continue;
    host_lru_.erase(it);
    e.in_host = false;
    if (ssd_capacity_ > 0 && !e.in_ssd && WriteToSsd(hash, e)) ++ssd_written_;
    DropIfEmpty(hash);
    return true;
  }
  return false;
}

bool PrefixCache::WriteToHost(uint64_t hash, Entry& e) {
  if (host_capacity_ <= 0) return false;
  if (host_used() >= host_capacity_ && !FreeHostBlock()) return false;
  e.in_host = true;
  e.host_pos = host_lru_.insert(host_lru_.end(), hash);
  return true;
}

bool PrefixCache::WriteToSsd(uint64_t hash, Entry& e) {
  if (ssd_blocks() >= ssd_capacity_) {
    auto victim = std::find_if(ssd_lru_.begin(), ssd_lru_.end(),
                               [this](uint64_t h) { return entries_.at(h).ssd_pins == 0; });
    if (victim == ssd_lru_.end()) return false;
    const uint64_t dropped = *victim;
    ssd_lru_.erase(victim);
    entries_.at(dropped).in_ssd = false;
    DropIfEmpty(dropped);
  }
  e.in_ssd = true;
  e.ssd_pos = ssd_lru_.insert(ssd_lru_.end(), hash);
  return true;
}

void PrefixCache::DropIfEmpty(uint64_t hash) {
  auto it = entries_.find(hash);
  if (it != entries_.end() && !it->second.in_hbm && !it->second.in_host && !it->second.in_ssd) {
    entries_.erase(it);
    ++dropped_;
  }
}

PrefixCache::Eviction PrefixCache::EvictHbm(int64_t blocks) {
  Eviction out;
  while (out.freed < blocks && !hbm_lru_.empty()) {
    const uint64_t hash = hbm_lru_.front();
    hbm_lru_.pop_front();
    Entry& e = entries_.at(hash);
    e.in_hbm = false;
    --hbm_blocks_;
    ++out.freed;
    if (!e.in_host && WriteToHost(hash, e)) ++out.written;
    DropIfEmpty(hash);
  }
  hbm_->Give(out.freed);
  return out;
}

bool PrefixCache::TakeHostSwap(int64_t blocks) {
  if (blocks <= 0) return true;
  if (blocks > host_capacity_) return false;
  // Cached host blocks that could give way (unpinned ones).
  int64_t movable = 0;
  for (uint64_t hash : host_lru_) movable += entries_.at(hash).host_pins == 0;
  if (host_used() - movable + blocks > host_capacity_) return false;
  while (host_used() + blocks > host_capacity_) FreeHostBlock();
  host_swap_ += blocks;
  return true;
}

void PrefixCache::GiveHostSwap(int64_t blocks) { host_swap_ -= blocks; }

void PrefixCache::Clear() {
  MOESIM_CHECK(host_swap_ == 0, "clearing a cache whose host tier holds ", host_swap_,
               " swapped blocks");
  for (const auto& [hash, e] : entries_) {
    MOESIM_CHECK(e.refs == 0 && e.host_pins == 0 && e.ssd_pins == 0, "clearing block ", hash,
                 " with ", e.refs, " references, ", e.host_pins, " host and ", e.ssd_pins,
                 " SSD pins");
  }
  hbm_->Give(hbm_blocks_);
  dropped_ += static_cast<int64_t>(entries_.size());
  hbm_blocks_ = 0;
  entries_.clear();
  hbm_lru_.clear();
  host_lru_.clear();
  ssd_lru_.clear();
}

void PrefixCache::Check() const {
  int64_t in_hbm = 0, evictable = 0, in_host = 0, in_ssd = 0;
  for (const auto& [hash, e] : entries_) {
    in_hbm += e.in_hbm;
    evictable += e.in_hbm && e.refs == 0;
    in_host += e.in_host;
    in_ssd += e.in_ssd;
    MOESIM_CHECK(e.refs >= 0 && e.host_pins >= 0 && e.ssd_pins >= 0 && (e.in_hbm || e.refs == 0) &&
                     (e.in_host || e.host_pins == 0) && (e.in_ssd || e.ssd_pins == 0),
                 "block ", hash, " has ", e.refs, " references, ", e.host_pins, " host pins and ",
                 e.ssd_pins, " SSD pins (in HBM ", e.in_hbm, ", in host ", e.in_host, ", on SSD ",
                 e.in_ssd, ")");
  }
  MOESIM_CHECK(in_ssd == ssd_blocks() && ssd_blocks() <= ssd_capacity_, in_ssd,
               " SSD blocks (listed ", ssd_blocks(), ") of ", ssd_capacity_);
  MOESIM_CHECK(in_hbm == hbm_blocks_ && evictable == evictable_hbm_blocks() &&
                   in_host == host_cached_blocks() && hbm_blocks_ <= hbm_->used() &&
                   host_swap_ >= 0 && host_used() <= host_capacity_,
               in_hbm, " HBM blocks (counted ", hbm_blocks_, ", pool uses ", hbm_->used(), "), ",
               evictable, " evictable (listed ", evictable_hbm_blocks(), "), ", in_host,
               " host blocks (listed ", host_cached_blocks(), ") + ", host_swap_, " swapped of ",
               host_capacity_);
}

}  // namespace moesim
