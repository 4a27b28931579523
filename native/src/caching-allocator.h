// A caching CPU allocator for libtorch, installed by the addon.
//
// Why: a training step allocates the same large activation and gradient buffers every step. With
// glibc, buffers above the mmap threshold come fresh from the kernel each time and every 4 KiB
// page faults on first touch; on our 2-core VM that was ~1M faults and seconds per WRN-28-2 step.
// Keeping freed large blocks for reuse (as PyTorch's CUDA allocator does on GPU) removes those
// faults. Small blocks go straight to c10's allocator, where glibc's heap already reuses them.
// Freed blocks are kept up to a byte limit; beyond it they are returned to the OS at once.
#pragma once

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

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

  static uint64_t defaultLimit() { return uint64_t{8} << 30; }

  static size_t rounded(size_t n) { return (n + kPage - 1) / kPage * kPage; }

  void* take(size_t nbytes) {
    if (nbytes < kMinCached) return c10::alloc_cpu(nbytes);
    const size_t size = rounded(nbytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        stats_.cachedBytes -= size;
        stats_.liveBytes += size;
        stats_.hits++;
        sizes_[p] = size;
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
          self.free_[size].push_back(p);
          self.stats_.cachedBytes += size;
          return;
        }
      }
    }
    c10::free_cpu(p);
  }

  // Frees cached blocks until at most `keep` bytes stay cached. Caller holds mutex_.
  void trimLocked(uint64_t keep) {
    for (auto& entry : free_) {
      while (stats_.cachedBytes > keep && !entry.second.empty()) {
        c10::free_cpu(entry.second.back());
        entry.second.pop_back();
        stats_.cachedBytes -= entry.first;
      }
    }
  }

  mutable std::mutex mutex_;
  uint64_t limit_;
  Stats stats_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  std::unordered_map<void*, size_t> sizes_;
};

}  // namespace ssl
