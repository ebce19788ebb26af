// The fast classifier's schedule (engine/schedule.h): its buffer sharing, checked by replaying the run on
// tagged memory, and cache blocking, which must leave every output bit as it was.
#include <gtest/gtest.h>

#include <cstdlib>

#include "engine/fast_classifier.h"
#include "engine/schedule.h"
#include "kernels/noisy_input_conv.h"
#include "smoothing/noise.h"
#include "test_util.h"

namespace sc::test {
namespace {

struct Arch {
  const char* arch;
  int64_t channels, size;
  bool blocks;  // has a run of steps with same-sized outputs (lenet's steps all change the size)
};
void PrintTo(const Arch& a, std::ostream* os) {
  *os << a.arch;
}

const Arch kArchs[] = {{"lenet", 1, 28, false},       {"mlp", 1, 12, true},
                       {"linear", 2, 5, false},       {"cifar_resnet20", 3, 16, true},
                       {"aka_resnet20", 3, 16, true}, {"resnet18", 3, 32, true},
                       {"resnet50", 3, 32, true},     {"wrn40_2", 3, 16, true}};

// Bytes of the plan's largest activation map, per row, at element_bytes: budgets are given in these.
int64_t largest_map_bytes(const Plan& plan, int64_t element_bytes) {
  int64_t most = 0;
  for (const PlanValue& v : plan.values) most = std::max(most, v.elems());
  return most * element_bytes;
}

// Replays `sch` over a batch of `rows` on memory whose every element is tagged with the value and row last
// written there, and returns the first read that does not find what the step expects (empty: none).
std::string replay(const Plan& plan, const Schedule& sch, int64_t rows) {
  std::vector<std::vector<int64_t>> mem;
  for (int64_t e : sch.slot_elems) mem.emplace_back(static_cast<size_t>(e), -1);
  const auto tag = [](int v, int64_t row) { return static_cast<int64_t>(v) << 32 | row; };
  // Calls f(element, tag) for value v's rows [first, first + count) as the classifier lays them out.
  const auto visit = [&](int v, int64_t first, int64_t count, auto&& f) -> std::string {
    const int64_t E = plan.values[static_cast<size_t>(v)].elems();
    const int slot = sch.slot_of_value[static_cast<size_t>(v)];
    if (slot < 0) return "";  // the logits buffer: never shared
    std::vector<int64_t>& m = mem[static_cast<size_t>(slot)];
    const int64_t row0 = sch.chunked[static_cast<size_t>(v)] ? 0 : first;
    if ((row0 + count) * E > static_cast<int64_t>(m.size()))
      return "v" + std::to_string(v) + " rows past its slot's end";
    for (int64_t r = 0; r < count; ++r)
      for (int64_t e = 0; e < E; ++e)
        if (!f(m[static_cast<size_t>((row0 + r) * E + e)], tag(v, first + r)))
          return "v" + std::to_string(v) + " row " + std::to_string(first + r) + " was overwritten";
    return "";
  };
  const auto read = [&](int v, int64_t first, int64_t count) {
    return visit(v, first, count, [](int64_t& cell, int64_t t) { return cell == t; });
  };
  const auto write = [&](int v, int64_t first, int64_t count) {
    return visit(v, first, count, [](int64_t& cell, int64_t t) { return cell = t, true; });
  };
  for (const Segment& seg : sch.segments)
    for (int64_t first = 0; first < rows; first += seg.rows)
      for (int i = seg.begin; i < seg.end; ++i) {
        const PlanStep& st = plan.steps[static_cast<size_t>(i)];
        const int64_t count = std::min(seg.rows, rows - first);
        for (int v : {st.in, st.residual})
          if (v >= 0)
            if (std::string err = read(v, first, count); !err.empty())
              return "step " + std::to_string(i) + ": " + err;
        if (std::string err = write(st.out, first, count); !err.empty()) return err;
      }
  if (plan.steps.back().kind == PlanStep::Kind::Head)
    if (std::string err = read(plan.steps.back().in, 0, rows); !err.empty()) return "head: " + err;
  return "";
}

class ScheduleTest : public ::testing::TestWithParam<Arch> {};

// Whatever the budget and batch, no step reads a value that a later one has overwritten, and the segments
// cover the steps before the head in order.
TEST_P(ScheduleTest, NoStepReadsAnOverwrittenValue) {
  const Arch a = GetParam();
  auto model = random_classifier(a.arch, a.channels, a.size, 10, 1);
  const Plan plan = build_plan(*model);
  int blocked = 0;
  const int64_t map = largest_map_bytes(plan, 4);
  for (int64_t capacity : {1, 7, 13})
    for (int64_t budget : {int64_t{0}, 3 * map / 2, 3 * map, 10 * map}) {
      const Schedule sch = make_schedule(plan, capacity, 4, CacheBudget{budget, 1});
      int next = 0;
      for (const Segment& s : sch.segments) {
        EXPECT_EQ(s.begin, next);
        EXPECT_LT(s.begin, s.end);
        EXPECT_GE(s.rows, 1);
        EXPECT_LE(s.rows, capacity);
        blocked += s.rows < capacity;
        next = s.end;
      }
      EXPECT_EQ(next, static_cast<int>(plan.steps.size()) - (plan.steps.back().kind == PlanStep::Kind::Head));
      for (int64_t rows : {capacity, (capacity + 1) / 2})
        EXPECT_EQ(replay(plan, sch, rows), "")
            << "capacity " << capacity << ", budget " << budget << ", rows " << rows << "\n"
            << sch.summary(plan) << plan.summary();
    }
  EXPECT_EQ(blocked > 0, a.blocks) << plan.summary();
}

INSTANTIATE_TEST_SUITE_P(Archs, ScheduleTest, ::testing::ValuesIn(kArchs),
                         [](const auto& info) { return std::string(info.param.arch); });

// The replay catches sharing that a chunked run breaks: a value read in a later segment must not share a
// slot with one that lives inside its own segment, though their steps do not overlap.
TEST(Schedule, ReplayCatchesASlotSharedAcrossChunks) {
  auto model = random_classifier("cifar_resnet20", 3, 16, 10, 1);
  const Plan plan = build_plan(*model);
  Schedule sch = make_schedule(plan, 6, 4, CacheBudget{3 * largest_map_bytes(plan, 4), 1});
  ASSERT_EQ(replay(plan, sch, 6), "");
  // Every value in one slot, each in its own layout: a chunked run then overwrites rows it still needs.
  const int64_t most = *std::max_element(sch.slot_elems.begin(), sch.slot_elems.end());
  for (int& s : sch.slot_of_value)
    if (s >= 0) s = 0;
  sch.slot_elems.assign(1, most);
  EXPECT_NE(replay(plan, sch, 6), "");
}

// A hand-made plan where a chunked value is wider than the earlier-segment value that its segment reads last
// (v1, the residual of step 3): v4 must not take v1's slot, or chunk 1's v4 overwrites chunk 2's rows of v1.
TEST(Schedule, ReplayHoldsWhenAChunkedValueOutgrowsACrossingOne) {
  Plan plan;
  plan.values = {{4, 4, 8}, {4, 4, 8}, {2, 2, 8}, {2, 2, 64}, {2, 2, 64}, {2, 2, 64}};
  const auto step = [](PlanStep::Kind kind, int in, int out, int residual) {
    PlanStep st;
    st.kind = kind, st.in = in, st.out = out, st.residual = residual;
    return st;
  };
  using K = PlanStep::Kind;
  plan.steps = {step(K::InputConv, -1, 0, -1), step(K::Conv, 0, 1, -1), step(K::Conv, 1, 2, -1),
                step(K::Conv, 2, 3, 1),        step(K::Conv, 3, 4, -1), step(K::Conv, 4, 5, -1),
                step(K::Head, 5, -1, -1)};
  int blocked = 0;
  for (int64_t capacity : {2, 5, 9})
    for (int64_t budget : {0, 500, 2000, 3000, 8000}) {
      const Schedule sch = make_schedule(plan, capacity, 4, CacheBudget{budget, 1});
      for (const Segment& seg : sch.segments) blocked += seg.rows < capacity;
      EXPECT_EQ(replay(plan, sch, capacity), "") << "capacity " << capacity << ", budget " << budget << "\n"
                                                 << sch.summary(plan);
    }
  EXPECT_GT(blocked, 0);
}

TEST(Schedule, BlocksByCacheBudgetAndFillsTheDevice) {
  auto model = random_classifier("cifar_resnet20", 3, 32, 10, 1);
  const Plan plan = build_plan(*model);
  // No budget: one chunk, with at most four buffers (a residual block needs three live values).
  const Schedule whole = make_schedule(plan, 100, 2, CacheBudget{});
  for (const Segment& s : whole.segments) EXPECT_EQ(s.rows, 100);
  EXPECT_EQ(whole.segments.size(), 1u) << whole.summary(plan);
  EXPECT_LE(whole.slot_elems.size(), 4u) << whole.summary(plan);
  // The three stages (32², 16², 8²) at 960 KB and 2048 pixels. Stage 1: a step reads and writes at most three
  // 32×32×16 maps, 96 KB a row in bf16: 10 rows. Stage 2: its first block's second convolution reads a
  // 16×16×32 map and the 32×32×16 shortcut and writes a 16×16×32 map, 64 KB: 15 rows. Stage 3: 32 KB by the
  // same count gives 30 rows, fewer than the fill floor's 2048 / 8² = 32.
  const Schedule sch = make_schedule(plan, 100, 2, CacheBudget{960 * 1024, 2048});
  ASSERT_EQ(sch.segments.size(), 3u) << sch.summary(plan);
  EXPECT_EQ(sch.segments[0].rows, 10) << sch.summary(plan);
  EXPECT_EQ(sch.segments[1].rows, 15) << sch.summary(plan);
  EXPECT_EQ(sch.segments[2].rows, 32) << sch.summary(plan);
  EXPECT_NE(sch.summary(plan).find("chunks of 10 rows"), std::string::npos) << sch.summary(plan);
  // Where the fill floor's chunk would overflow the whole cache (twice the budget), chunks would only add
  // launches: stage 3's 32 rows need 1 MB, more than twice a 480 KB budget.
  const Schedule small = make_schedule(plan, 100, 2, CacheBudget{480 * 1024, 2048});
  ASSERT_EQ(small.segments.size(), 3u) << small.summary(plan);
  EXPECT_EQ(small.segments[0].rows, 5) << small.summary(plan);
  EXPECT_EQ(small.segments[2].rows, 100) << small.summary(plan);
  // Values living inside a chunked stage take a chunk's rows, not the batch's.
  int64_t total = 0, whole_total = 0;
  for (int64_t e : sch.slot_elems) total += e;
  for (int64_t e : whole.slot_elems) whole_total += e;
  EXPECT_LT(total, whole_total);
}

// --batch auto on an H100's budget: ResNet-20's 8×8 stage needs 270,336 / 64 = 4,224 rows to give 2048
// output pixels to each of 132 multiprocessors, taken in hundreds; less memory halves it down to the floor.
TEST(Schedule, FillingBatchFillsTheLastStageWithinMemory) {
  auto model = random_classifier("cifar_resnet20", 3, 32, 10, 1);
  const Plan plan = build_plan(*model);
  const CacheBudget h100{25 << 20, 2048 * 132};
  const int64_t plenty = int64_t{1} << 40;
  EXPECT_EQ(filling_batch(plan, h100, 2, plenty, 1000), 4300);
  EXPECT_EQ(filling_batch(plan, h100, 2, plenty, 5000), 5000);
  EXPECT_EQ(filling_batch(plan, CacheBudget{0, 2048}, 2, plenty, 1000), 1000);  // 2 CPU threads
  const auto bytes_at = [&](int64_t rows) {
    return schedule_bytes(plan, make_schedule(plan, rows, 2, h100), 2);
  };
  EXPECT_GT(bytes_at(4300), bytes_at(2150));
  EXPECT_EQ(filling_batch(plan, h100, 2, bytes_at(2150), 1000), 2150);
  EXPECT_EQ(filling_batch(plan, h100, 2, bytes_at(2150) - 1, 1000), 1075);
  EXPECT_EQ(filling_batch(plan, h100, 2, 1, 1000), 1000);
  // What the classifier allocates: its slots at the activation size, and the float32 logits.
  const Schedule sch = make_schedule(plan, 300, 2, h100);
  int64_t elems = 0;
  for (int64_t e : sch.slot_elems) elems += e;
  EXPECT_EQ(schedule_bytes(plan, sch, 2), 2 * elems + 300 * 10 * 4);
  EXPECT_ERROR_MENTIONS(filling_batch(plan, h100, 2, plenty, 0), "floor");
}

// ResNet-50 on 224×224 at 5,600 rows (what --batch auto chose on an H100): its stem writes 112×112×64 per
// row, 4.5e9 elements for the batch, past the kernels' 32-bit indexing. Every segment runs in chunks whose
// tensors stay within it, with and without cache blocking, and the ones that fit keep the whole batch.
TEST(Schedule, ChunksKeepEachLaunchWithin32BitIndexing) {
  auto model = random_classifier("resnet50", 3, 224, 1000, 1);
  const Plan plan = build_plan(*model);
  for (const CacheBudget& budget : {CacheBudget{}, CacheBudget{25 << 20, 2048 * 132}}) {
    const Schedule sch = make_schedule(plan, 5600, 2, budget);
    int64_t whole = 0;
    for (const Segment& seg : sch.segments) {
      for (int i = seg.begin; i < seg.end; ++i) {
        const PlanStep& st = plan.steps[static_cast<size_t>(i)];
        for (int v : {st.in, st.residual, st.out}) {
          if (v < 0) continue;
          EXPECT_LE(seg.rows * plan.values[static_cast<size_t>(v)].elems(), kMaxLaunchElements)
              << "step " << i << "\n"
              << sch.summary(plan);
        }
      }
      whole += seg.rows == 5600;
    }
    EXPECT_EQ(sch.segments.front().rows, kMaxLaunchElements / (112 * 112 * 64)) << sch.summary(plan);
    EXPECT_EQ(sch.segments.front().rows, 2674);  // (2^31 − 1) / 802,816
    if (budget.bytes == 0) {
      EXPECT_GT(whole, 0) << sch.summary(plan);
    }
  }
}

TEST(Schedule, CacheBytesComeFromTheEnvironment) {
  ASSERT_EQ(setenv("SMOOTHCUDA_CACHE_BYTES", "12345", 1), 0);
  EXPECT_EQ(cache_budget(Device::cpu()).bytes, 12345);
  ASSERT_EQ(setenv("SMOOTHCUDA_CACHE_BYTES", "lots", 1), 0);
  EXPECT_ERROR_MENTIONS(cache_budget(Device::cpu()), "SMOOTHCUDA_CACHE_BYTES");
  ASSERT_EQ(unsetenv("SMOOTHCUDA_CACHE_BYTES"), 0);
  EXPECT_GE(cache_budget(Device::cpu()).fill_pixels, 1024);
}

TEST(SliceRows, CutsSpansAndKeepsNoiseIndices) {
  NoisyInput in;
  in.spans = {{3, 0, 7, 10}, {4, 1, 8, 0}, {2, 0, 7, 13}};
  const NoisyInput s = slice_rows(in, 2, 5);
  ASSERT_EQ(s.spans.size(), 2u);
  EXPECT_EQ(s.spans[0].rows, 1);
  EXPECT_EQ(s.spans[0].first_sample, 12u);
  EXPECT_EQ(s.spans[0].image_id, 7u);
  EXPECT_EQ(s.spans[1].rows, 4);
  EXPECT_EQ(s.spans[1].slot, 1);
  EXPECT_EQ(s.spans[1].first_sample, 0u);
  EXPECT_EQ(slice_rows(in, 7, 2).spans[0].first_sample, 13u);
  EXPECT_ERROR_MENTIONS(slice_rows(in, 5, 5), "batch of 9");
}

class CacheBlockingTest : public ::testing::TestWithParam<Arch> {};

// Chunked runs (down to one row at a time) give the same logits and the same vote counts, bit for bit, in
// float32 and bfloat16.
TEST_P(CacheBlockingTest, KeepsEveryOutputBit) {
  const Arch a = GetParam();
  auto model = random_classifier(a.arch, a.channels, a.size, 10, 3);
  const Tensor images = random_images({3, a.channels, a.size, a.size}, 5, 0.3f);
  NoisyInput in;
  in.images = images, in.sigma = 0.25f, in.seed = 9, in.phase = noise::kEstimation;
  in.spans = {{4, 2, 11, 5}, {3, 0, 3, 0}, {4, 1, 4, 100}};
  for (Precision precision : {Precision::FP32, Precision::BF16}) {
    SCOPED_TRACE(precision_name(precision));
    FastClassifier whole(*model, precision), chunked(*model, precision), single(*model, precision);
    // One row at a time where a step holds three maps; a few rows where it holds less (later stages).
    const int64_t map = largest_map_bytes(whole.plan(), precision == Precision::FP32 ? 4 : 2);
    whole.set_cache_budget(CacheBudget{});
    chunked.set_cache_budget(CacheBudget{10 * map, 1});
    single.set_cache_budget(CacheBudget{3 * map / 2, 1});
    const Tensor expected = whole.logits(in).clone();
    EXPECT_TRUE(identical(chunked.logits(in).clone(), expected))
        << chunked.schedule().summary(chunked.plan());
    EXPECT_TRUE(identical(single.logits(in).clone(), expected)) << single.schedule().summary(single.plan());
    bool blocked = false;
    for (const Segment& s : single.schedule().segments) blocked |= s.rows < 11;
    EXPECT_EQ(blocked, a.blocks) << single.schedule().summary(single.plan());
    Tensor counts_whole = Tensor::zeros({3, 10}, DType::I64),
           counts_single = Tensor::zeros({3, 10}, DType::I64);
    whole.accumulate_noisy_counts(in, counts_whole);
    single.accumulate_noisy_counts(in, counts_single);
    EXPECT_TRUE(identical(counts_single, counts_whole));
  }
}

INSTANTIATE_TEST_SUITE_P(Archs, CacheBlockingTest, ::testing::ValuesIn(kArchs),
                         [](const auto& info) { return std::string(info.param.arch); });

}  // namespace
}  // namespace sc::test
