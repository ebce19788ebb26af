#include "engine/schedule.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <sstream>

#include "nn/error.h"
#include "nn/runtime.h"

namespace sc {

CacheBudget cache_budget(const Device& device) {
  CacheBudget b;
  if (device.is_cuda()) {
    b.bytes = cuda_l2_cache_bytes(device.index) / 2;
    b.fill_pixels = 2048 * std::max(1, cuda_multiprocessor_count(device.index));
  } else {
    // Off by default: the CPU path is bound by arithmetic, not memory, and chunks only add calls (ResNet-110,
    // fp32, batch 200 on 2 cores: 75 samples/s whole, 63 in chunks that fit 4 MB of L2).
    b.bytes = 0;
    b.fill_pixels = 1024 * std::max(1, cpu_threads());
  }
  if (const char* v = std::getenv("SMOOTHCUDA_CACHE_BYTES"); v != nullptr && v[0] != '\0') {
    char* end = nullptr;
    const long long bytes = std::strtoll(v, &end, 10);
    SC_CHECK(*end == '\0' && bytes >= 0,
             "SMOOTHCUDA_CACHE_BYTES: expected a byte count (0: no cache blocking), got '", v, "'");
    b.bytes = bytes;
  }
  return b;
}

namespace {

int body_steps(const Plan& plan) {
  const bool head = !plan.steps.empty() && plan.steps.back().kind == PlanStep::Kind::Head;
  return static_cast<int>(plan.steps.size()) - (head ? 1 : 0);
}

int64_t elems_of(const Plan& plan, int v) {
  return v < 0 ? 0 : plan.values[static_cast<size_t>(v)].elems();
}

// Runs of steps whose outputs have the same spatial size, each with its chunk rows.
std::vector<Segment> make_segments(const Plan& plan, int64_t capacity, int64_t element_bytes,
                                   const CacheBudget& budget) {
  std::vector<Segment> segs;
  const int n = body_steps(plan);
  const auto pixels = [&](int i) {
    const PlanValue& v = plan.values[static_cast<size_t>(plan.steps[static_cast<size_t>(i)].out)];
    return v.H * v.W;
  };
  for (int i = 0; i < n; ++i) {
    if (i == 0 || pixels(i) != pixels(i - 1)) segs.push_back({i, i, 0});
    segs.back().end = i + 1;
  }
  for (Segment& s : segs) {
    s.rows = capacity;
    // What one row of the segment's busiest step reads and writes, and its widest tensor.
    int64_t live = 1, widest = 1;
    for (int i = s.begin; i < s.end; ++i) {
      const PlanStep& st = plan.steps[static_cast<size_t>(i)];
      live = std::max(live, element_bytes * (elems_of(plan, st.in) + elems_of(plan, st.residual) +
                                             elems_of(plan, st.out)));
      for (int v : {st.in, st.residual, st.out}) widest = std::max(widest, elems_of(plan, v));
    }
    // One step: nothing to keep for a next one.
    if (budget.bytes > 0 && s.end - s.begin >= 2) {
      const int64_t fill = (budget.fill_pixels + pixels(s.begin) - 1) / pixels(s.begin);
      const int64_t rows = std::max(fill, budget.bytes / live);
      // Chunks that fill the device but overflow the whole cache (2 × budget) would only add launches.
      if (rows <= 2 * budget.bytes / live) s.rows = std::clamp(rows, int64_t{1}, capacity);
    }
    // Each launch's tensors within the kernels' 32-bit indexing, whatever the batch.
    s.rows = std::clamp(kMaxLaunchElements / widest, int64_t{1}, s.rows);
  }
  // Neighbours that run in one chunk each are one segment: their values can then share slots step by step.
  std::vector<Segment> merged;
  for (const Segment& s : segs) {
    if (!merged.empty() && merged.back().rows == capacity && s.rows == capacity)
      merged.back().end = s.end;
    else
      merged.push_back(s);
  }
  return merged;
}

}  // namespace

Schedule make_schedule(const Plan& plan, int64_t capacity, int64_t element_bytes, const CacheBudget& budget) {
  SC_CHECK(capacity > 0, "make_schedule: capacity must be positive, got ", capacity);
  Schedule sch;
  sch.capacity = capacity;
  sch.segments = make_segments(plan, capacity, element_bytes, budget);
  const int n = body_steps(plan), n_steps = static_cast<int>(plan.steps.size());
  const int n_values = static_cast<int>(plan.values.size());
  // Segment of each step; the head (if any) is a segment of its own after the others.
  std::vector<int> seg_of(static_cast<size_t>(n_steps));
  std::vector<int> seg_begin, seg_end;
  for (size_t s = 0; s < sch.segments.size(); ++s) {
    for (int i = sch.segments[s].begin; i < sch.segments[s].end; ++i)
      seg_of[static_cast<size_t>(i)] = static_cast<int>(s);
    seg_begin.push_back(sch.segments[s].begin), seg_end.push_back(sch.segments[s].end);
  }
  if (n < n_steps) {
    seg_of[static_cast<size_t>(n)] = static_cast<int>(seg_begin.size());
    seg_begin.push_back(n), seg_end.push_back(n + 1);
  }

  // A value is chunked when every step that reads it runs in its writer's segment (steps write before they
  // are read, so the writer is known at each read).
  std::vector<int> def(static_cast<size_t>(n_values), -1), last_use(static_cast<size_t>(n_values), -1);
  sch.chunked.assign(static_cast<size_t>(n_values), true);
  for (int i = 0; i < n_steps; ++i) {
    const PlanStep& st = plan.steps[static_cast<size_t>(i)];
    for (int v : {st.in, st.residual})
      if (v >= 0) {
        SC_CHECK(def[static_cast<size_t>(v)] >= 0, "make_schedule: step ", i, " reads v", v,
                 " before any step writes it");
        last_use[static_cast<size_t>(v)] = i;
        if (seg_of[static_cast<size_t>(def[static_cast<size_t>(v)])] != seg_of[static_cast<size_t>(i)])
          sch.chunked[static_cast<size_t>(v)] = false;
      }
    if (st.out >= 0) def[static_cast<size_t>(st.out)] = i;
  }
  sch.slot_of_value.assign(static_cast<size_t>(n_values), -1);
  struct Life {
    int value, first, last;  // alive over steps [first, last]
    int64_t elems;
  };
  std::vector<Life> lives;
  for (int v = 0; v < n_values; ++v) {
    const int d = def[static_cast<size_t>(v)];
    if (d < 0 || plan.values[static_cast<size_t>(v)].logits) continue;
    const int last = std::max(d, last_use[static_cast<size_t>(v)]);
    const int sd = seg_of[static_cast<size_t>(d)], sl = seg_of[static_cast<size_t>(last)];
    const bool chunked = sch.chunked[static_cast<size_t>(v)];
    const int64_t rows = chunked ? sch.segments[static_cast<size_t>(sd)].rows : capacity;
    // A value read in later segments stays alive over every chunk of the segments that write and read it
    // (a segment of one chunk runs its steps once: there its life is its steps').
    const auto one_chunk = [&](int seg) {
      return seg == static_cast<int>(sch.segments.size()) ||
             sch.segments[static_cast<size_t>(seg)].rows == capacity;
    };
    const int first = chunked || one_chunk(sd) ? d : seg_begin[static_cast<size_t>(sd)];
    const int end = chunked || one_chunk(sl) ? last : seg_end[static_cast<size_t>(sl)] - 1;
    lives.push_back({v, first, end, rows * plan.values[static_cast<size_t>(v)].elems()});
  }
  std::stable_sort(lives.begin(), lives.end(),
                   [](const Life& a, const Life& b) { return a.first < b.first; });
  std::vector<int> owner_last;  // the last step of each slot's current value (−1: never used)
  for (const Life& life : lives) {
    int best = -1;
    for (size_t s = 0; s < owner_last.size(); ++s) {  // the smallest free slot that fits, else the largest
      if (owner_last[s] >= life.first) continue;
      if (best < 0) {
        best = static_cast<int>(s);
        continue;
      }
      const int64_t have = sch.slot_elems[s], best_have = sch.slot_elems[static_cast<size_t>(best)];
      const bool fits = have >= life.elems, best_fits = best_have >= life.elems;
      if ((fits && (!best_fits || have < best_have)) || (!fits && !best_fits && have > best_have))
        best = static_cast<int>(s);
    }
    if (best < 0) {
      owner_last.push_back(-1);
      sch.slot_elems.push_back(0);
      best = static_cast<int>(owner_last.size()) - 1;
    }
    owner_last[static_cast<size_t>(best)] = life.last;
    sch.slot_elems[static_cast<size_t>(best)] =
        std::max(sch.slot_elems[static_cast<size_t>(best)], life.elems);
    sch.slot_of_value[static_cast<size_t>(life.value)] = best;
  }
  return sch;
}

int64_t schedule_bytes(const Plan& plan, const Schedule& schedule, int64_t element_bytes) {
  const int64_t elems = std::accumulate(schedule.slot_elems.begin(), schedule.slot_elems.end(), int64_t{0});
  return elems * element_bytes + schedule.capacity * plan.num_classes * static_cast<int64_t>(sizeof(float));
}

int64_t filling_batch(const Plan& plan, const CacheBudget& budget, int64_t element_bytes,
                      int64_t memory_bytes, int64_t floor) {
  SC_CHECK(floor > 0, "filling_batch: floor must be positive, got ", floor);
  int64_t rows = floor;
  for (int i = 0; i < body_steps(plan); ++i) {
    // Over maps only: a linear layer (a 1×1 output) is a small share of any network's work.
    const PlanValue& out = plan.values[static_cast<size_t>(plan.steps[static_cast<size_t>(i)].out)];
    const int64_t pixels = out.H * out.W;
    if (pixels > 1) rows = std::max(rows, (budget.fill_pixels + pixels - 1) / pixels);
  }
  rows = (rows + 99) / 100 * 100;
  while (rows > floor &&
         schedule_bytes(plan, make_schedule(plan, rows, element_bytes, budget), element_bytes) > memory_bytes)
    rows = std::max(floor, rows / 2);
  return rows;
}

std::string Schedule::summary(const Plan& plan) const {
  std::ostringstream os;
  for (const Segment& s : segments) {
    const PlanValue& v = plan.values[static_cast<size_t>(plan.steps[static_cast<size_t>(s.begin)].out)];
    os << "steps " << s.begin << "-" << s.end - 1;
    if (s.rows >= capacity)
      os << ": whole batch\n";
    else
      os << " [" << v.H << "x" << v.W << "]: chunks of " << s.rows << " rows\n";
  }
  const int64_t total = std::accumulate(slot_elems.begin(), slot_elems.end(), int64_t{0});
  os << slot_elems.size() << " buffers, " << total << " elements for " << capacity << " rows\n";
  return os.str();
}

}  // namespace sc
