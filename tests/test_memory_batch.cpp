// Batches sized by memory (engine/memory_batch.h): the live-byte counts they read, the measured need of a
// work whose memory is known exactly, the rows that fit, and the measured need of DDS predicting what a
// larger batch really holds.
#include "diffusion/denoised_classifier.h"
#include "engine/memory_batch.h"
#include "nn/memory.h"
#include "nn/models/model_file.h"
#include "test_util.h"

namespace sc::test {
namespace {

constexpr int64_t kKiB = 1024;

Tensor host_bytes(int64_t bytes) {
  return Tensor::empty({bytes / 4}, DType::F32, Device::cpu());
}

TEST(MemoryBatch, LiveBytesCountHostBuffers) {
  const Device cpu = Device::cpu();
  const size_t before = live_bytes(cpu).now;
  {
    const Tensor a = Tensor::empty({999}, DType::F32, cpu);  // 3996 bytes asked for (held in 4032)
    EXPECT_EQ(live_bytes(cpu).now, before + 3996);
    reset_peak_bytes(cpu);
    EXPECT_EQ(live_bytes(cpu).peak, before + 3996);
    { const Tensor b = host_bytes(10 * kKiB); }
    const Tensor c = host_bytes(2 * kKiB);
    EXPECT_EQ(live_bytes(cpu).now, before + 3996 + 2 * kKiB);
    EXPECT_EQ(live_bytes(cpu).peak, before + 3996 + 10 * kKiB);  // b and c were never held together
  }
  EXPECT_EQ(live_bytes(cpu).now, before);
}

// A work of known memory: a table made on its first call and kept (100 KiB), a buffer of 1 KiB per row kept
// between calls and replaced when the rows change, and per call 10 KiB per row and 5 KiB more, freed. At B
// rows it holds 105 KiB + 11 KiB·B at its peak.
TEST(MemoryBatch, MeasuresWhatAWorkHoldsAtItsPeak) {
  Tensor table, kept;
  auto run = [&](int64_t rows) {
    if (!table.defined()) table = host_bytes(100 * kKiB);
    if (!kept.defined() || kept.numel() != rows * kKiB / 4) {
      kept = Tensor();
      kept = host_bytes(rows * kKiB);
    }
    const Tensor per_rows = host_bytes(rows * 10 * kKiB), workspace = host_bytes(5 * kKiB);
  };
  const MemoryNeed need = measure_memory_need(Device::cpu(), run);
  EXPECT_EQ(need.per_row, 11 * kKiB);
  EXPECT_EQ(need.fixed, 105 * kKiB);
}

TEST(MemoryBatch, RowsWithinABudget) {
  const MemoryNeed need{105 * kKiB, 11 * kKiB};
  EXPECT_EQ(rows_within(need, 105 * kKiB + 57 * 11 * kKiB + 10 * kKiB, 1000), 57);
  EXPECT_EQ(rows_within(need, 105 * kKiB + 1234 * 11 * kKiB, 5000), 1200);  // whole hundreds from 100 on
  EXPECT_EQ(rows_within(need, int64_t{1} << 40, 1000), 1000);               // at most the reference
  EXPECT_EQ(rows_within(need, 50 * kKiB, 1000), 1);                         // at least one row
  EXPECT_ERROR_MENTIONS(rows_within(MemoryNeed{0, 0}, kKiB, 10), "positive");
  EXPECT_GT(batch_memory_budget(Device::cpu()), 0);
  EXPECT_EQ(describe(MemoryNeed{20'000'000, 1'300'000}), "1.3 MB per sample + 20.0 MB");
  EXPECT_EQ(describe(MemoryNeed{0, 421'900'000}), "421.9 MB per sample");
  EXPECT_EQ(format_bytes(812), "812 B");
  EXPECT_EQ(format_bytes(11'234'000'000), "11.2 GB");
}

// DDS and DiffSmooth on the CPU, generic and fast engines: the need measured on 1 and 2 samples predicts what
// a batch of 24 holds at its peak.
TEST(MemoryBatch, DenoisedClassifierPredictsItsMemory) {
  DiffusionModel m = narrow_diffusion_model("iddpm_narrow");
  auto clf = load_model(fixture_dir() + "/models/lenet_32.safetensors");
  DenoisedClassifier generic(m, *clf, 0.25);
  DenoisedClassifier fast(m, *clf, 0.25, 0, 0.0, 0, std::make_unique<FastClassifier>(*clf, Precision::FP32),
                          std::make_unique<FastDenoiser>(m, 0.25, Precision::FP32));
  DenoisedClassifier local(m, *clf, 0.25, 3, 0.25, 5);
  const int64_t sample_bytes = 3 * 32 * 32 * 4;
  for (DenoisedClassifier* dds : {&generic, &fast, &local}) {
    SCOPED_TRACE(dds->engines() + (dds == &local ? ", local smoothing" : ""));
    const PredictedMemory mem = predicted_and_actual_memory(
        *dds, [&] { return dds->memory_need(); }, 24, 0.25f);
    EXPECT_GT(mem.actual, 24 * 10 * sample_bytes);  // the UNet's maps, well beyond the noisy batch
    EXPECT_NEAR(static_cast<double>(mem.predicted), static_cast<double>(mem.actual), 0.03 * mem.actual);
    // On this host a batch of 1000 fits; a reference below that is kept.
    std::string why;
    EXPECT_EQ(dds->auto_batch(7, why), 7);
    EXPECT_NE(why.find(" per sample"), std::string::npos) << why;
  }
}

}  // namespace
}  // namespace sc::test
