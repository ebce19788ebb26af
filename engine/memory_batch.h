// Batches sized by memory, for work whose memory grows with its rows (a diffusion denoiser's maps: 422 MB per
// 224×224 sample for the ImageNet UNet + ResNet-50 in fp32). The need is measured rather than modeled: the
// work runs on 1 row and then on 2, and the peaks of live buffers (nn/memory.h) above what was live before
// give a fixed part and a part per row. Whatever the work keeps between calls (sized buffers, lazily made
// tables) counts too, since both peaks are taken from the same starting point.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "nn/device.h"

namespace sc {

struct MemoryNeed {
  int64_t fixed = 0;    // bytes at the peak whatever the rows
  int64_t per_row = 0;  // bytes more for each row
};

// Runs run(1), then run(2), on `device`.
MemoryNeed measure_memory_need(Device device, const std::function<void(int64_t rows)>& run);

// Memory a batch may take on `device`: half of what is available now (CUDA: the device's free memory plus the
// caching allocator's free blocks; the host: host_available_memory_bytes). The other half is room for the
// blocks that hold the bytes measured (the caching allocator may serve a request with a block twice its
// size) and for other processes.
int64_t batch_memory_budget(Device device);

// The most rows whose need fits in `budget` bytes, between 1 and `most`; from 100 rows on, a multiple of 100.
int64_t rows_within(const MemoryNeed& need, int64_t budget, int64_t most);

// "1.3 MB per sample + 20.0 MB" (no fixed part: "1.3 MB per sample"); bytes as "812 B", "1.3 MB", "11.2 GB"
// (powers of 1000).
std::string describe(const MemoryNeed& need);
std::string format_bytes(int64_t bytes);

}  // namespace sc
