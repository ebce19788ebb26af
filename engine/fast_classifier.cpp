#include "engine/fast_classifier.h"

#include <cstdio>
#include <utility>

#include "engine/fast_transformer.h"
#include "kernels/argmax.h"
#include "kernels/noisy_input_conv.h"
#include "kernels/pool2d_nhwc.h"
#include "kernels/pooled_linear.h"
#include "kernels/residual_stage.h"
#include "nn/runtime.h"

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
    : plan_(std::move(plan)),
      precision_(precision),
      device_(const_cast<Classifier&>(model).device()),
      budget_(cache_budget(device_)),
      graphs_on_(device_.is_cuda() && env_switch_on("SMOOTHCUDA_CUDA_GRAPHS")) {
  for (size_t i = 0; i + 1 < plan_.steps.size(); ++i)
    SC_CHECK(plan_.steps[i].kind != PlanStep::Kind::Head,
             "fast classifier: the plan's head is not its last step");
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
  set_fused_stages(env_switch_on("SMOOTHCUDA_FUSED_STAGES"));
  set_stem_16bit(env_flag_set("SMOOTHCUDA_STEM_16BIT"));
}

void FastClassifier::set_stem_16bit(bool on) {
  drop_graphs();
  const DType act = activation_dtype(precision_);
  stem_16bit_ = on && (act == DType::BF16 || act == DType::F16);
}

void FastClassifier::set_fused_stages(bool on) {
  drop_graphs();
  fused_.clear();
  fused_at_.assign(plan_.steps.size(), -1);
  const DType act = activation_dtype(precision_);
  if (!on || (act != DType::BF16 && act != DType::F16)) return;
  for (const ResidualRun& r : find_residual_runs(plan_)) {
    const PlanValue& v = plan_.values[static_cast<size_t>(r.in)];
    if (!ops::residual_stage_fused(device_, act, v.H, v.W, v.C)) continue;
    const int64_t L = r.end - r.begin, C = v.C;
    Tensor w = Tensor::empty({L, C, 3, 3, C}), b = Tensor::zeros({L, C});
    for (int64_t l = 0; l < L; ++l) {
      const PlanStep& st = plan_.steps[static_cast<size_t>(r.begin + l)];
      w.slice(0, l, l + 1).reshape({C, 3, 3, C}).copy_(st.weight);
      if (st.bias.defined()) b.slice(0, l, l + 1).reshape({C}).copy_(st.bias);
    }
    fused_at_[static_cast<size_t>(r.begin)] = static_cast<int>(fused_.size());
    fused_.push_back({r, w.astype(act).to(device_), b.to(device_)});
  }
}

void FastClassifier::set_cache_budget(const CacheBudget& budget) {
  budget_ = budget;
  schedule_ = Schedule();
  drop_graphs();
}

int64_t FastClassifier::auto_batch(int64_t floor, std::string& why) {
  why.clear();
  if (!device_.is_cuda()) return floor;  // the CPU path splits any batch over its threads: nothing to fill
  why = "enough to fill the device through the last stage";
  const auto element_bytes = static_cast<int64_t>(dtype_size(activation_dtype(precision_)));
  return filling_batch(plan_, budget_, element_bytes, cuda_free_memory_bytes(device_.index) / 2, floor);
}

void FastClassifier::set_cuda_graphs(bool on) {
  graphs_on_ = on && device_.is_cuda();
  drop_graphs();
}

void FastClassifier::drop_graphs() {
  graphs_.clear();
  run_once_.clear();
}

void FastClassifier::reserve(int64_t rows) {
  if (rows <= schedule_.capacity) return;
  drop_graphs();  // they hold the old buffers' addresses
  slots_.clear();
  const DType act = activation_dtype(precision_);
  schedule_ = make_schedule(plan_, rows, static_cast<int64_t>(dtype_size(act)), budget_);
  for (int64_t elems : schedule_.slot_elems) slots_.push_back(Tensor::empty({elems}, act, device_));
  logits_ = Tensor::empty({rows * plan_.num_classes}, DType::F32, device_);
}

Tensor FastClassifier::value(int v, int64_t first, int64_t count) {
  const PlanValue& pv = plan_.values[static_cast<size_t>(v)];
  const Shape shape{count, pv.H, pv.W, pv.C};
  if (pv.logits) return logits_.slice(0, first * pv.elems(), (first + count) * pv.elems()).reshape(shape);
  // A chunked value holds only the chunk being run, at its slot's start.
  const int64_t row0 = schedule_.chunked[static_cast<size_t>(v)] ? 0 : first;
  return slots_[static_cast<size_t>(schedule_.slot_of_value[static_cast<size_t>(v)])]
      .slice(0, row0 * pv.elems(), (row0 + count) * pv.elems())
      .reshape(shape);
}

void FastClassifier::run_step(size_t i, const NoisyInput& in, int64_t first, int64_t count) {
  const PlanStep& st = plan_.steps[i];
  const StepParams& p = params_[i];
  Tensor y = value(st.out, first, count);
  switch (st.kind) {
    case PlanStep::Kind::InputConv: {
      FusedConvParams cp = st.conv;
      cp.round_operands = stem_16bit_ && y.dtype() != DType::F32;  // (not where it makes the logits)
      ops::noisy_input_conv(slice_rows(in, first, count), p.weight, p.bias, cp, y);
      break;
    }
    case PlanStep::Kind::Conv: {
      FusedConvParams cp = st.conv;
      cp.tf32 = precision_ == Precision::TF32;
      ops::fused_conv(value(st.in, first, count), p.weight, p.bias, p.scale, p.shift,
                      st.residual >= 0 ? value(st.residual, first, count) : Tensor(), cp, y);
      break;
    }
    case PlanStep::Kind::MaxPool:
      ops::pool2d_nhwc(PoolKind::Max, value(st.in, first, count), st.pool, y);
      break;
    case PlanStep::Kind::Head:
      SC_FAIL("fast classifier: the head runs after the schedule's segments");
  }
}

void FastClassifier::run_fused(const FusedRun& f, int64_t first, int64_t count) {
  Tensor y = value(f.run.out, first, count);
  ops::residual_stage(value(f.run.in, first, count), f.weight, f.bias, y);
}

// Every step before the head, segment by segment, each over its chunks of rows; a fused run in one op.
void FastClassifier::run_steps(const NoisyInput& in, int64_t rows) {
  for (const Segment& seg : schedule_.segments)
    for (int64_t first = 0; first < rows; first += seg.rows) {
      const int64_t count = std::min(seg.rows, rows - first);
      for (int i = seg.begin; i < seg.end; ++i) {
        const int f = fused_at_[static_cast<size_t>(i)];
        if (f >= 0 && fused_[static_cast<size_t>(f)].run.end <= seg.end) {
          run_fused(fused_[static_cast<size_t>(f)], first, count);
          i = fused_[static_cast<size_t>(f)].run.end - 1;
        } else {
          run_step(static_cast<size_t>(i), in, first, count);
        }
      }
    }
}

// Runs the steps before the head, as a CUDA graph where it can; returns the head's step index (the last
// step), or the number of steps when the plan has no head (its first convolution writes the logits).
size_t FastClassifier::run_body(const NoisyInput& given, int64_t rows) {
  SC_CHECK(given.images.dim() == 4 && given.images.shape()[1] == plan_.channels &&
               given.images.size(2) == plan_.height && given.images.size(3) == plan_.width,
           "fast classifier: images ", given.images.describe(), " do not fit the input ",
           shape_str(input_shape()));
  reserve(rows);
  NoisyInput in = given;
  in.images = given.images.contiguous().to(device_);
  in.mean = mean_, in.std = std_;
  const size_t body_end = !plan_.steps.empty() && plan_.steps.back().kind == PlanStep::Kind::Head
                              ? plan_.steps.size() - 1
                              : plan_.steps.size();
  // On CUDA the batch's description goes to device memory once per batch, read there by every chunk's first
  // convolution; a graph replays those same launches for every batch of this size.
  const bool staged =
      device_.is_cuda() && rows > 0 && in.spans.size() <= static_cast<size_t>(StagedNoise::kMaxSpans);
  if (staged) {
    if (!noise_table_.defined())
      noise_table_ = Tensor::empty({static_cast<int64_t>(sizeof(StagedNoise))}, DType::U8, device_);
    in = ops::stage_noisy_input(in, noise_table_);
  }
  if (!graphs_on_ || !staged) {
    run_steps(in, rows);
    return body_end;
  }
  if (const auto it = graphs_.find(rows); it != graphs_.end()) {
    it->second.launch();
    ++graph_replays_;
  } else if (run_once_.insert(rows).second) {
    run_steps(in, rows);
  } else {
    try {
      CudaGraph graph = CudaGraph::capture(device_.index, [&] { run_steps(in, rows); });
      if (graphs_.size() >= 8) graphs_.clear();  // batch sizes come few; keep the set bounded anyway
      graphs_.emplace(rows, graph).first->second.launch();
      ++graph_replays_;
    } catch (const Error& e) {
      // Launch by launch is slower but the same work: say so once and go on.
      std::fprintf(stderr, "smoothcuda: CUDA graph capture failed, launching kernels one by one: %s\n",
                   e.what());
      set_cuda_graphs(false);
      run_steps(in, rows);
    }
  }
  return body_end;
}

Tensor FastClassifier::logits(const NoisyInput& in) {
  const int64_t rows = total_rows(in);
  const size_t h = run_body(in, rows);
  Tensor out = logits_.slice(0, 0, rows * plan_.num_classes).reshape({rows, plan_.num_classes});
  if (h == plan_.steps.size()) return out;
  const PlanStep& st = plan_.steps[h];
  const StepParams& p = params_[h];
  ops::pooled_linear(value(st.in, 0, rows), p.weight, p.bias, p.scale, p.shift, st.conv.prologue_relu, out);
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
  ops::pooled_linear_vote(value(st.in, 0, rows), p.weight, p.bias, p.scale, p.shift, st.conv.prologue_relu,
                          runs, counts);
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
                                                     std::optional<Precision> precision, std::string& note) {
  SC_CHECK(engine == "auto" || engine == "fast" || engine == "generic", "unknown engine '", engine,
           "' (expected auto, fast or generic)");
  if (engine == "generic") {
    SC_CHECK(precision.value_or(Precision::FP32) == Precision::FP32,
             "the generic engine runs fp32 only; --precision ", precision_name(*precision),
             " needs the fast engine");
    note = "generic engine (fp32)";
    return std::make_unique<ArgmaxClassifier>(model);
  }
  Plan plan;
  std::string why;
  if (!try_build_plan(model, plan, why)) {
    // Vision transformers have an engine of their own (engine/fast_transformer.h). On the CPU `auto` keeps
    // the generic one: there both run ViT-B/16 at the same rate in fp32 (1.0–1.1 samples/s, bench/RESULTS.md,
    // session 36; session 32: generic 1.9, fast 1.6), and the generic engine is the reference path.
    if (model.net && is_vision_transformer(*model.net)) {
      std::string why_not;
      const bool cpu_auto = engine == "auto" && model.device().is_cpu() && !precision;
      if (fast_transformer_supports(model, why_not) && !cpu_auto) {
        const Precision p = precision.value_or(default_precision(model.device(), true));
        note = std::string("fast transformer (") + precision_name(p) + ")";
        return std::make_unique<FastTransformer>(model, p);
      }
      why = why_not.empty() ? "the generic engine runs transformers faster on the CPU" : why_not;
    }
    SC_CHECK(engine != "fast", "--engine fast: ", why);
    SC_CHECK(precision.value_or(Precision::FP32) == Precision::FP32, "--precision ",
             precision_name(*precision), ": ", why);
    note = "generic engine (fp32; " + why + ")";
    return std::make_unique<ArgmaxClassifier>(model);
  }
  const Precision p = precision.value_or(default_precision(model.device(), true));
  note = std::string("fast engine (") + precision_name(p) + ")";
  return std::make_unique<FastClassifier>(model, std::move(plan), p);
}

bool runs_on_fast_engine(const BaseClassifier& base) {
  return dynamic_cast<const FastClassifier*>(&base) != nullptr ||
         dynamic_cast<const FastTransformer*>(&base) != nullptr;
}

}  // namespace sc
