// A caching CPU allocator for libtorch, installed by the addon.
//
// Why: a training step allocates the same large activation and gradient buffers every step. With
// glibc, buffers above the mmap threshold come fresh from the kernel each time and every 4 KiB
// page faults on first touch; on our 2-core VM that was ~1M faults and seconds per WRN-28-2 step.
// Keeping freed large blocks for reuse (as PyTorch's CUDA allocator does on GPU) removes those
// faults. Small blocks go straight to c10's allocator, where glibc's heap already reuses them.
// A request takes the smallest cached block that fits with at most 1/8 slack (so a few
// varying sizes do not pile up unused blocks); freed blocks are kept up to a byte limit
// (a quarter of RAM, at most 4 GiB), beyond which they go back to the OS at once.
#pragma once

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <mutex>
#include <unordered_map>

#include <unistd.h>

namespace ssl {

class CachingCpuAllocator final : public c10::Allocator {
 public:
  struct Stats {
    uint64_t cachedBytes = 0;  // held in free lists
    uint64_t liveBytes = 0;    // handed out, not yet freed (cached-size blocks only)
    uint64_t hits = 0;
    uint64_t misses = 0;
  };

  explicit CachingCpuAllocator(uint64_t limitBytes) : limit_(limitBytes) {}

  c10::DataPtr allocate(size_t nbytes) const override {
    void* p = instance().take(nbytes);
    return {p, p, &CachingCpuAllocator::release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &CachingCpuAllocator::release; }

  /** The process-wide instance (never destroyed: tensors may be freed during exit). */
  static CachingCpuAllocator& instance() {
    static CachingCpuAllocator* self = new CachingCpuAllocator(defaultLimit());
    return *self;
  }

  Stats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }

  void setLimit(uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = bytes;
    trimLocked(limit_);
  }

  /** Returns every cached block to the OS. */
  void emptyCache() {
    std::lock_guard<std::mutex> lock(mutex_);
    trimLocked(0);
  }

 private:
  static constexpr size_t kMinCached = 256 * 1024;
  static constexpr size_t kPage = 4096;

  static uint64_t defaultLimit() {
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGE_SIZE);
    const uint64_t quarter = pages > 0 && pageSize > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(pageSize) / 4 : 0;
    const uint64_t cap = uint64_t{4} << 30;
    return quarter > 0 && quarter < cap ? quarter : cap;
  }

  static size_t rounded(size_t n) { return (n + kPage - 1) / kPage * kPage; }

  void* take(size_t nbytes) {
    if (nbytes < kMinCached) return c10::alloc_cpu(nbytes);
    const size_t size = rounded(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.lower_bound(size);
      if (it != free_.end() && it->first <= size + size / 8) {
        const size_t blockSize = it->first;
        void* p = it->second;
        free_.erase(it);
        stats_.cachedBytes -= blockSize;
        stats_.liveBytes += blockSize;
        stats_.hits++;
        sizes_[p] = blockSize;
        return p;
      }
      stats_.misses++;
    }
    void* p = c10::alloc_cpu(size);
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.liveBytes += size;
    sizes_[p] = size;
    return p;
  }

  static void release(void* p) {
    if (p == nullptr) return;
    CachingCpuAllocator& self = instance();
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      auto it = self.sizes_.find(p);
      if (it != self.sizes_.end()) {
        const size_t size = it->second;
        self.sizes_.erase(it);
        self.stats_.liveBytes -= size;
        if (self.stats_.cachedBytes + size <= self.limit_) {
          self.free_.emplace(size, p);
          self.stats_.cachedBytes += size;
          return;
        }
      }
    }
    c10::free_cpu(p);
  }

  // Frees cached blocks until at most `keep` bytes stay cached. Caller holds mutex_.
  void trimLocked(uint64_t keep) {
    // Largest blocks first: they cost the most memory.
    while (stats_.cachedBytes > keep && !free_.empty()) {
      auto last = std::prev(free_.end());
      c10::free_cpu(last->second);
      stats_.cachedBytes -= last->first;
      free_.erase(last);
    }
  }

  mutable std::mutex mutex_;
  uint64_t limit_;
  Stats stats_;
  std::multimap<size_t, void*> free_;
  std::unordered_map<void*, size_t> sizes_;
};

}  // namespace ssl
