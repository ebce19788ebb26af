// Raw memory owned by RAII buffers. Host memory is 64-byte aligned; device memory comes from a caching
// allocator that keeps freed blocks (per device and stream, rounded sizes) for reuse, because cudaMalloc and
// cudaFree synchronize the device and would stall a certification loop.
#pragma once
#include <cstddef>
#include <memory>

#include "nn/device.h"

namespace sc {

class Buffer {
 public:
  Buffer(size_t bytes, Device device);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  Device device_;
  [[maybe_unused]] void* stream_ = nullptr;  // the stream the device block was allocated on (CUDA builds)
};

// Copies n bytes between any two devices. Copies that end on the host wait for the device.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t n);

struct AllocatorStats {
  size_t allocated_bytes = 0;  // held by live buffers
  size_t cached_bytes = 0;     // freed blocks kept for reuse
  size_t device_mallocs = 0;   // cudaMalloc calls so far
  size_t cache_hits = 0;
};
AllocatorStats device_allocator_stats();

// Bytes asked for by live buffers of a device kind (the host, or all CUDA devices together), and the most at
// once since the last reset_peak_bytes for that kind. What a piece of work needs at its peak is peak - now
// before it runs (engine/memory_batch.h sizes batches with it). These are the sizes asked for: the blocks
// that hold them are larger (host: 64-byte multiples; CUDA: 512-byte multiples below 1 MiB, 2 MiB above,
// served by a cached block up to twice that, as allocated_bytes above counts).
struct LiveBytes {
  size_t now = 0;
  size_t peak = 0;
};
LiveBytes live_bytes(Device device);
void reset_peak_bytes(Device device);

// Testing aid: when on, every new buffer is filled with 0xFF bytes (NaN for floats, -1 for integers), so an
// op that leaves an output element unwritten shows it. SMOOTHCUDA_POISON=1 in the environment turns it on.
void set_poison_new_buffers(bool on);
bool poison_new_buffers();
// Returns every cached (unused) block to the driver.
void empty_device_cache();

}  // namespace sc
