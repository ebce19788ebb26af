#include "engine/fast_classifier.h"

#include <utility>

#include "kernels/argmax.h"
#include "kernels/max_pool2d_nhwc.h"
#include "kernels/noisy_input_conv.h"
#include "kernels/pooled_linear.h"

namespace sc {

namespace {
int64_t total_rows(const NoisyInput& in) {
  int64_t rows = 0;
  for (const SampleSpan& s : in.spans) rows += s.rows;
  return rows;
}
}  // namespace

FastClassifier::FastClassifier(const Classifier& model, Precision precision)
    : FastClassifier(model, build_plan(model), precision) {}

FastClassifier::FastClassifier(const Classifier& model, Plan plan, Precision precision)
    : plan_(std::move(plan)), precision_(precision), device_(const_cast<Classifier&>(model).device()) {
  const DType act = activation_dtype(precision);
  for (const PlanStep& st : plan_.steps) {
    StepParams p;
    if (st.weight.defined()) {
      // The first convolution and the head keep float32 weights; the others are stored in the activation
      // type.
      const bool f32 = st.kind == PlanStep::Kind::InputConv || st.kind == PlanStep::Kind::Head;
      p.weight = (f32 ? st.weight : st.weight.astype(act)).to(device_);
    }
    if (st.bias.defined()) p.bias = st.bias.to(device_);
    if (st.scale.defined()) p.scale = st.scale.to(device_), p.shift = st.shift.to(device_);
    params_.push_back(std::move(p));
  }
  if (!plan_.mean.empty()) {
    mean_ = Tensor::from_vector(plan_.mean, {plan_.channels}).to(device_);
    std_ = Tensor::from_vector(plan_.std, {plan_.channels}).to(device_);
  }
}

void FastClassifier::reserve(int64_t rows) {
  if (rows <= capacity_) return;
  slots_.clear();
  for (int64_t elems : plan_.slot_elems)
    slots_.push_back(Tensor::empty({rows * elems}, activation_dtype(precision_), device_));
  logits_ = Tensor::empty({rows * plan_.num_classes}, DType::F32, device_);
  capacity_ = rows;
}

Tensor FastClassifier::value(int v, int64_t rows) {
  const PlanValue& pv = plan_.values[static_cast<size_t>(v)];
  const Shape shape{rows, pv.H, pv.W, pv.C};
  if (pv.logits) return logits_.slice(0, 0, rows * pv.elems()).reshape(shape);
  return slots_[static_cast<size_t>(plan_.slot_of_value[static_cast<size_t>(v)])]
      .slice(0, 0, rows * pv.elems())
      .reshape(shape);
}

// Runs every step before the head; returns the head's step index (the last step), or the number of steps when
// the plan has no head (its first convolution writes the logits).
size_t FastClassifier::run_body(const NoisyInput& given, int64_t rows) {
  SC_CHECK(given.images.dim() == 4 && given.images.shape()[1] == plan_.channels &&
               given.images.size(2) == plan_.height && given.images.size(3) == plan_.width,
           "fast classifier: images ", given.images.describe(), " do not fit the input ",
           shape_str(input_shape()));
  reserve(rows);
  NoisyInput in = given;
  in.images = given.images.contiguous().to(device_);
  in.mean = mean_, in.std = std_;
  const bool tf32 = precision_ == Precision::TF32;
  for (size_t i = 0; i < plan_.steps.size(); ++i) {
    const PlanStep& st = plan_.steps[i];
    const StepParams& p = params_[i];
    switch (st.kind) {
      case PlanStep::Kind::InputConv: {
        Tensor y = value(st.out, rows);
        ops::noisy_input_conv(in, p.weight, p.bias, st.conv, y);
        break;
      }
      case PlanStep::Kind::Conv: {
        FusedConvParams cp = st.conv;
        cp.tf32 = tf32;
        Tensor y = value(st.out, rows);
        ops::fused_conv(value(st.in, rows), p.weight, p.bias, p.scale, p.shift,
                        st.residual >= 0 ? value(st.residual, rows) : Tensor(), cp, y);
        break;
      }
      case PlanStep::Kind::MaxPool: {
        Tensor y = value(st.out, rows);
        ops::max_pool2d_nhwc(value(st.in, rows), st.pool, y);
        break;
      }
      case PlanStep::Kind::Head:
        SC_CHECK(i + 1 == plan_.steps.size(), "fast classifier: the plan's head is not its last step");
        return i;
    }
  }
  return plan_.steps.size();
}

Tensor FastClassifier::logits(const NoisyInput& in) {
  const int64_t rows = total_rows(in);
  const size_t h = run_body(in, rows);
  Tensor out = logits_.slice(0, 0, rows * plan_.num_classes).reshape({rows, plan_.num_classes});
  if (h == plan_.steps.size()) return out;
  const PlanStep& st = plan_.steps[h];
  const StepParams& p = params_[h];
  ops::pooled_linear(value(st.in, rows), p.weight, p.bias, p.scale, p.shift, st.conv.prologue_relu, out);
  return out;
}

// The head counts each sample's label into its image's histogram: no logits, labels or histogram pass.
void FastClassifier::accumulate_noisy_counts(const NoisyInput& in, Tensor& counts) {
  if (plan_.steps.back().kind != PlanStep::Kind::Head)
    return BaseClassifier::accumulate_noisy_counts(in, counts);
  const int64_t rows = total_rows(in);
  const size_t h = run_body(in, rows);
  const PlanStep& st = plan_.steps[h];
  const StepParams& p = params_[h];
  std::vector<RowRun> runs;
  for (const SampleSpan& s : in.spans) runs.push_back({s.rows, s.slot});
  ops::pooled_linear_vote(value(st.in, rows), p.weight, p.bias, p.scale, p.shift, st.conv.prologue_relu, runs,
                          counts);
}

Tensor FastClassifier::logits(const Tensor& x) {
  check_dim(x, 4, "fast classifier", "x");
  return logits(plain_batch(x, Tensor(), Tensor()));
}

Tensor FastClassifier::predict_labels(const Tensor& x) {
  return ops::argmax(logits(x));
}

Tensor FastClassifier::predict_noisy_labels(const NoisyInput& in) {
  return ops::argmax(logits(in));
}

std::unique_ptr<BaseClassifier> make_base_classifier(Classifier& model, const std::string& engine,
                                                     Precision precision, std::string& note) {
  SC_CHECK(engine == "auto" || engine == "fast" || engine == "generic", "unknown engine '", engine,
           "' (expected auto, fast or generic)");
  if (engine == "generic") {
    SC_CHECK(precision == Precision::FP32, "the generic engine runs fp32 only; --precision ",
             precision_name(precision), " needs the fast engine");
    note = "generic engine (fp32)";
    return std::make_unique<ArgmaxClassifier>(model);
  }
  Plan plan;
  std::string why;
  if (!try_build_plan(model, plan, why)) {
    SC_CHECK(engine != "fast", "--engine fast: ", why);
    SC_CHECK(precision == Precision::FP32, "--precision ", precision_name(precision), ": ", why);
    note = "generic engine (fp32; " + why + ")";
    return std::make_unique<ArgmaxClassifier>(model);
  }
  note = std::string("fast engine (") + precision_name(precision) + ")";
  return std::make_unique<FastClassifier>(model, std::move(plan), precision);
}

}  // namespace sc
