// The fast path's base classifier: a Plan (engine/plan.h) run step by step on the model's device, in a chosen
// Precision, with activation buffers kept between batches; a Schedule (engine/schedule.h) runs each stage
// over chunks of rows that stay in the device's cache. For randomized smoothing it takes the clean images and
// the sample spans (NoisyInput): the first convolution makes the noisy samples while loading them.
#pragma once
#include <memory>
#include <string>

#include "engine/plan.h"
#include "engine/precision.h"
#include "engine/schedule.h"
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
  Tensor logits(const NoisyInput& in);
  Tensor logits(const Tensor& x);  // a plain batch [B, C, H, W] in [0, 1]
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

 private:
  struct StepParams {
    Tensor weight, bias, scale, shift;
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
  // Value v for rows [first, first + count) of the batch.
  Tensor value(int v, int64_t first, int64_t count);
  void reserve(int64_t rows);
  void run_step(size_t i, const NoisyInput& in, int64_t first, int64_t count);
  size_t run_body(const NoisyInput& in, int64_t rows);
};

// A FastClassifier when the model lowers and `engine` allows it ("fast" requires it, "generic" never, "auto"
// falls back to ArgmaxClassifier and says why in `note`).
std::unique_ptr<BaseClassifier> make_base_classifier(Classifier& model, const std::string& engine,
                                                     Precision precision, std::string& note);

}  // namespace sc
