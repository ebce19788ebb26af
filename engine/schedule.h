// How the fast classifier runs a plan over a batch, and where the plan's activations live.
//
// Cache blocking. Step by step over the whole batch, every activation goes out to device memory and comes
// back for the next step: ResNet-110 in bf16 moves ~5 MB per sample so, which at an H100's 3.35 TB/s is
// 0.17 s for the 100,100 samples of one image, more than its 0.15 s target. Instead the steps before the
// head are cut into segments (runs of steps whose outputs have the same size: a ResNet stage), and each
// segment runs chunk after chunk of rows: small enough that a chunk's activations stay in the last-level
// cache (the GPU's L2) from one step to the next, large enough to fill the device. A value read only inside
// its own segment then needs a chunk's rows of memory, not the batch's; the others keep every row.
// Samples are independent, so the outputs are the same bits whatever the chunks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/plan.h"
#include "nn/device.h"

namespace sc {

struct CacheBudget {
  int64_t bytes = 0;        // a chunk's live activations at most this (0: no blocking, one chunk)
  int64_t fill_pixels = 1;  // a step's chunk has at least this many output pixels (to fill the device)
};

// The device's budget: on CUDA half its L2 cache and 2048 output pixels per multiprocessor (sixteen 128-pixel
// tiles); on the CPU no blocking (measured slower there), 1024 pixels per thread when one is set.
// SMOOTHCUDA_CACHE_BYTES=N in the environment sets the bytes (0 turns blocking off).
CacheBudget cache_budget(const Device& device);

// The most elements a tensor of one launch may have: the kernels index with 32-bit integers. A segment whose
// batch would pass it runs in chunks (ResNet-50's 112×112×64 stem output past 2,674 rows).
constexpr int64_t kMaxLaunchElements = (int64_t{1} << 31) - 1;

struct Segment {
  int begin = 0, end = 0;  // steps [begin, end)
  int64_t rows = 0;        // rows per chunk
};

struct Schedule {
  int64_t capacity = 0;            // rows of the batches it serves (at most)
  std::vector<Segment> segments;   // the steps before the head, in order
  std::vector<int> slot_of_value;  // −1 for the logits value (kept in the classifier's logits buffer)
  // A chunked value lives one chunk at a time: its rows sit at its slot's start. Any other value keeps the
  // whole batch, row r at offset r·elems.
  std::vector<bool> chunked;
  std::vector<int64_t> slot_elems;  // elements of each slot
  std::string summary(const Plan& plan) const;
};

// Segments and slots for batches of up to `capacity` rows whose activations take element_bytes each.
// Values share a slot when their lives do not overlap. A value read outside its own segment counts as alive
// over the whole of the segments where it is written and last read, when they run in several chunks (every
// chunk of a segment runs before the next segment starts, so its rows are written and read at every step).
Schedule make_schedule(const Plan& plan, int64_t capacity, int64_t element_bytes, const CacheBudget& budget);

// Device memory the fast classifier holds for a schedule: its activation slots and the float32 logits.
int64_t schedule_bytes(const Plan& plan, const Schedule& schedule, int64_t element_bytes);

// `--batch auto`: the fewest rows, in hundreds, at which every step before the head with a map (more than a
// 1×1 output) launches at least budget.fill_pixels output pixels (on a GPU, 2048 per multiprocessor: the last
// stage's small maps fill the device too; at 1000 rows ResNet-110's 8×8 maps give an H100 a quarter of that),
// and at least `floor`; halved, not below `floor`, while the schedule's buffers would take more than
// memory_bytes.
int64_t filling_batch(const Plan& plan, const CacheBudget& budget, int64_t element_bytes,
                      int64_t memory_bytes, int64_t floor);

}  // namespace sc
