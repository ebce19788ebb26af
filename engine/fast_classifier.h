// The fast path's base classifier: a Plan (engine/plan.h) run step by step on the model's device, in a chosen
// Precision, with activation buffers kept between batches; a Schedule (engine/schedule.h) runs each stage
// over chunks of rows that stay in the device's cache. For randomized smoothing it takes the clean images and
// the sample spans (NoisyInput): the first convolution makes the noisy samples while loading them.
//
// On CUDA the steps before the head run as a CUDA graph (nn/cuda_graph.h), one per batch size: a size's
// first batch runs launch by launch (kernel attributes and occupancy are asked then), its second is captured,
// and from then on each batch stages its description (ops::stage_noisy_input) and replays the graph.
// SMOOTHCUDA_CUDA_GRAPHS=0 (or set_cuda_graphs(false)) launches every kernel every batch.
//
// Runs of basic blocks (find_residual_runs) whose maps fit the device's fused kernel run as one
// ops::residual_stage each, in bf16/fp16 on CUDA: the maps stay on chip through the whole run, with the same
// sums as step by step. SMOOTHCUDA_FUSED_STAGES=0 (or set_fused_stages(false)) runs their steps one by one.
//
// The first convolution computes in float32 from the full-precision noisy input. SMOOTHCUDA_STEM_16BIT=1 (or
// set_stem_16bit(true)) rounds its operands to the 16-bit activation type in bf16/fp16 instead, so that it
// runs on tensor cores (ops::noisy_input_conv's round_operands): another network's arithmetic, off by default
// (docs/PRECISION.md).
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "engine/plan.h"
#include "engine/precision.h"
#include "engine/schedule.h"
#include "nn/cuda_graph.h"
#include "smoothing/base_classifier.h"

namespace sc {

class FastClassifier : public BaseClassifier {
 public:
  // Lowers `model` (throws sc::Error naming what has no fast path) for the model's current device.
  FastClassifier(const Classifier& model, Precision precision);
  // With a plan already built from `model` (build_plan), e.g. to run one plan in several precisions.
  FastClassifier(const Classifier& model, Plan plan, Precision precision);

  // Logits [rows, K] float32 on device() for a noisy (or plain) input; mean/std of `in` are ignored (the
  // model's own normalization applies). The returned tensor is reused by the next call.
  Tensor logits(const NoisyInput& in) override;
  Tensor logits(const Tensor& x) override;  // a plain batch [B, C, H, W] in [0, 1]
  Tensor predict_labels(const Tensor& x) override;
  Tensor predict_noisy_labels(const NoisyInput& in) override;
  void accumulate_noisy_counts(const NoisyInput& in, Tensor& counts) override;
  int64_t num_classes() const override { return plan_.num_classes; }
  Shape input_shape() const override { return {plan_.channels, plan_.height, plan_.width}; }
  Device device() override { return device_; }
  bool fuses_noise() const override { return true; }

  const Plan& plan() const { return plan_; }
  Precision precision() const { return precision_; }
  // The schedule of the buffers held now (empty before the first batch).
  const Schedule& schedule() const { return schedule_; }
  // Replaces the device's cache budget (cache_budget); the next batch reschedules.
  void set_cache_budget(const CacheBudget& budget);
  // Rows per batch for `--batch auto` (filling_batch): on CUDA enough to fill the device through the last
  // stage, at least `floor`, within half the device memory free now; `floor` on the CPU.
  int64_t auto_batch(int64_t floor, std::string& why) override;
  // CUDA graphs on or off (on by default on CUDA unless SMOOTHCUDA_CUDA_GRAPHS=0; never on the CPU).
  void set_cuda_graphs(bool on);
  bool cuda_graphs() const { return graphs_on_; }
  // Batches run by replaying a graph so far.
  int64_t graph_replays() const { return graph_replays_; }
  // Residual runs as fused stages on or off (on by default on CUDA in bf16/fp16 unless
  // SMOOTHCUDA_FUSED_STAGES=0), and how many runs the plan has that way.
  void set_fused_stages(bool on);
  size_t fused_stages() const { return fused_.size(); }
  // The first convolution on 16-bit operands (bf16/fp16 only; off by default unless SMOOTHCUDA_STEM_16BIT=1).
  void set_stem_16bit(bool on);
  bool stem_16bit() const { return stem_16bit_; }

 private:
  struct StepParams {
    Tensor weight, bias, scale, shift;
  };
  // A residual run with its layers' weights [L, C, 3, 3, C] and biases [L, C] on the device.
  struct FusedRun {
    ResidualRun run;
    Tensor weight, bias;
  };
  Plan plan_;
  Precision precision_;
  Device device_;
  std::vector<StepParams> params_;
  Tensor mean_, std_;
  CacheBudget budget_;
  Schedule schedule_;
  std::vector<Tensor> slots_;
  Tensor logits_;
  bool graphs_on_;
  Tensor noise_table_;                   // the staged batch the graphs read (StagedNoise)
  std::map<int64_t, CudaGraph> graphs_;  // by batch rows, for the schedule and buffers held now
  std::set<int64_t> run_once_;           // batch rows run launch by launch once already
  int64_t graph_replays_ = 0;
  std::vector<FusedRun> fused_;
  std::vector<int> fused_at_;  // per step: the fused run that begins there, or −1
  bool stem_16bit_ = false;
  void drop_graphs();
  // Value v for rows [first, first + count) of the batch.
  Tensor value(int v, int64_t first, int64_t count);
  void reserve(int64_t rows);
  void run_step(size_t i, const NoisyInput& in, int64_t first, int64_t count);
  void run_fused(const FusedRun& f, int64_t first, int64_t count);
  void run_steps(const NoisyInput& in, int64_t rows);
  size_t run_body(const NoisyInput& in, int64_t rows);
};

// A FastClassifier when the model lowers and `engine` allows it ("fast" requires it, "generic" never, "auto"
// falls back to ArgmaxClassifier and says why in `note`); for vision transformers a FastTransformer
// (engine/fast_transformer.h), which `auto` takes on CUDA only. No precision: default_precision for the
// engine that runs the model (`--precision auto`).
std::unique_ptr<BaseClassifier> make_base_classifier(Classifier& model, const std::string& engine,
                                                     std::optional<Precision> precision, std::string& note);

// Whether `base` runs on the fast engine: a FastClassifier, or a FastTransformer for vision transformers.
bool runs_on_fast_engine(const BaseClassifier& base);

}  // namespace sc
