#include "nn/memory.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

#include "nn/cuda_graph.h"
#include "nn/error.h"
#include "nn/runtime.h"
#include "nn/stream.h"
#ifdef SMOOTHCUDA_HAVE_CUDA
#include "nn/cuda_check.h"
#endif

namespace sc {

namespace {

// Bytes asked for by live buffers, and the most at once since the last reset_peak.
class ByteCount {
 public:
  void add(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += n;
    peak_ = std::max(peak_, now_);
  }
  void remove(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ -= n;
  }
  LiveBytes live() {
    std::lock_guard<std::mutex> lock(mu_);
    return {now_, peak_};
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    peak_ = now_;
  }

 private:
  std::mutex mu_;
  size_t now_ = 0, peak_ = 0;
};

#ifdef SMOOTHCUDA_HAVE_CUDA
// Sizes are rounded up so that blocks of nearby sizes can be reused: 512-byte granularity below 1 MiB,
// 2 MiB granularity above.
size_t round_size(size_t n) {
  if (n == 0) n = 1;
#if defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer (scripts/emulator-sanitizer.sh address: the emulated kernels) every block has its
  // tensor's exact size, so that a kernel's access past the end of a tensor is reported instead of landing in
  // the rounding.
  return n;
#endif
  const size_t g = n < (1u << 20) ? 512 : (2u << 20);
  return (n + g - 1) / g * g;
}

class CachingAllocator {
 public:
  static CachingAllocator& instance() {
    static CachingAllocator* a = new CachingAllocator();  // never destroyed: outlives static tensors
    return *a;
  }

  void* allocate(size_t bytes, int device, void* stream) {
    const size_t size = round_size(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto& pool = free_[Key{device, stream}];
    auto it = pool.lower_bound(size);
    // Reuse a block no more than twice the request, so that a small tensor does not pin a huge block (under
    // AddressSanitizer only a block of the same size: round_size).
#if defined(__SANITIZE_ADDRESS__)
    constexpr size_t kReuseSlack = 1;
#else
    constexpr size_t kReuseSlack = 2;
#endif
    if (it != pool.end() && it->first <= kReuseSlack * size) {
      void* p = it->second;
      held_[p] = Held{it->first, bytes};
      stats_.cached_bytes -= it->first;
      stats_.allocated_bytes += it->first;
      stats_.cache_hits++;
      pool.erase(it);
      requested_.add(bytes);
      return p;
    }
    SC_CUDA_CHECK(cudaSetDevice(device));
    void* p = nullptr;
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {  // give the cache back and try once more
      cudaGetLastError();
      release_all_locked();
      err = cudaMalloc(&p, size);
    }
    if (err != cudaSuccess) {
      cudaGetLastError();
      SC_FAIL("out of device memory on cuda:", device, ": cannot allocate ", size, " bytes (",
              stats_.allocated_bytes, " bytes in use; fewer samples per batch need less)");
    }
    held_[p] = Held{size, bytes};
    stats_.allocated_bytes += size;
    stats_.device_mallocs++;
    requested_.add(bytes);
    return p;
  }

  void release(void* p, int device, void* stream) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = held_.find(p);
    if (it == held_.end()) return;
    const Held h = it->second;
    held_.erase(it);
    requested_.remove(h.request);
    stats_.allocated_bytes -= h.block;
    stats_.cached_bytes += h.block;
    free_[Key{device, stream}].emplace(h.block, p);
  }

  void empty() {
    std::lock_guard<std::mutex> lock(mu_);
    release_all_locked();
  }

  AllocatorStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

  ByteCount& requested() { return requested_; }

 private:
  struct Key {
    int device;
    void* stream;
    bool operator<(const Key& o) const { return device != o.device ? device < o.device : stream < o.stream; }
  };

  void release_all_locked() {
    for (auto& [key, pool] : free_) {
      cudaSetDevice(key.device);
      cudaDeviceSynchronize();  // a block freed on a stream may still be in use by queued work
      for (auto& [size, p] : pool) {
        cudaFree(p);
        stats_.cached_bytes -= size;
      }
    }
    free_.clear();
  }

  std::mutex mu_;
  std::map<Key, std::multimap<size_t, void*>> free_;
  // A live block: its size, and the bytes asked for (rounded up, then given a cached block up to twice that).
  struct Held {
    size_t block, request;
  };
  std::map<void*, Held> held_;
  AllocatorStats stats_;
  ByteCount requested_;  // what live buffers asked for
};
#endif

// The bytes host buffers asked for, counted as they are allocated and freed.
ByteCount& host_bytes() {
  static ByteCount* c = new ByteCount();  // never destroyed: outlives static tensors
  return *c;
}

std::atomic<bool>& poison_flag() {
  static std::atomic<bool> flag{[] {
    const char* v = std::getenv("SMOOTHCUDA_POISON");
    return v != nullptr && v[0] != '\0' && v[0] != '0';
  }()};
  return flag;
}

}  // namespace

void set_poison_new_buffers(bool on) { poison_flag() = on; }
bool poison_new_buffers() { return poison_flag(); }

Buffer::Buffer(size_t bytes, Device device) : bytes_(bytes), device_(device) {
  if (device.is_cpu()) {
    const size_t size = (bytes + 63) / 64 * 64;
    data_ = std::aligned_alloc(64, size == 0 ? 64 : size);
    SC_CHECK(data_ != nullptr, "out of host memory: cannot allocate ", bytes, " bytes");
    host_bytes().add(bytes);
    if (poison_new_buffers()) std::memset(data_, 0xff, bytes);
    return;
  }
#ifdef SMOOTHCUDA_HAVE_CUDA
  require_cuda_device(device.index);
  stream_ = current_stream_handle();
  SC_CHECK(!capturing_graph(), "cannot allocate ", bytes, " bytes on ", device.str(),
           " while a CUDA graph is being captured: the graph would go on using memory given back after the "
           "capture (allocate before it)");
  data_ = CachingAllocator::instance().allocate(bytes, device.index, stream_);
  if (poison_new_buffers()) SC_CUDA_CHECK(cudaMemsetAsync(data_, 0xff, bytes, static_cast<cudaStream_t>(stream_)));
#else
  SC_FAIL("cannot allocate on ", device.str(), ": ", cuda_unavailable_reason());
#endif
}

Buffer::~Buffer() {
  if (!data_) return;
  if (device_.is_cpu()) {
    std::free(data_);
    host_bytes().remove(bytes_);
    return;
  }
#ifdef SMOOTHCUDA_HAVE_CUDA
  CachingAllocator::instance().release(data_, device_.index, stream_);
#endif
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t n) {
  if (n == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, n);
    return;
  }
#ifdef SMOOTHCUDA_HAVE_CUDA
  const cudaStream_t s = cuda::stream();
  if (dst_device.is_cuda() && src_device.is_cuda() && dst_device.index != src_device.index) {
    SC_CUDA_CHECK(cudaMemcpyPeerAsync(dst, dst_device.index, src, src_device.index, n, s));
  } else {
    SC_CUDA_CHECK(cudaMemcpyAsync(dst, src, n, cudaMemcpyDefault, s));
  }
  // Host-side data must be complete (D2H) or may be reused (H2D) once this returns.
  if (dst_device.is_cpu() || src_device.is_cpu()) SC_CUDA_CHECK(cudaStreamSynchronize(s));
#else
  SC_FAIL("cannot copy between ", src_device.str(), " and ", dst_device.str(), ": ", cuda_unavailable_reason());
#endif
}

AllocatorStats device_allocator_stats() {
#ifdef SMOOTHCUDA_HAVE_CUDA
  return CachingAllocator::instance().stats();
#else
  return {};
#endif
}

LiveBytes live_bytes(Device device) {
  if (device.is_cpu()) return host_bytes().live();
#ifdef SMOOTHCUDA_HAVE_CUDA
  return CachingAllocator::instance().requested().live();
#else
  return {};
#endif
}

void reset_peak_bytes(Device device) {
  if (device.is_cpu()) {
    host_bytes().reset_peak();
    return;
  }
#ifdef SMOOTHCUDA_HAVE_CUDA
  CachingAllocator::instance().requested().reset_peak();
#endif
}

void empty_device_cache() {
#ifdef SMOOTHCUDA_HAVE_CUDA
  CachingAllocator::instance().empty();
#endif
}

}  // namespace sc
