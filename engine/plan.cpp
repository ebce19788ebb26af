#include "engine/plan.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace sc {

// A symbolic value while lowering. Map: a plan value (plus a pending per-channel transform act(scale·v +
// shift) that its consumers apply in their prologue). While `step` ≥ 0 the convolution that writes the value
// can still absorb a BatchNorm, a ReLU or a residual into its epilogue. Flat, Pooled and Shortcut wrap a Map;
// Input is the network input; Logits the head's output.
struct PlanBuilder::Sym {
  enum class Kind { Input, Map, Flat, Pooled, Shortcut, Logits };
  Kind kind = Kind::Map;
  int64_t C = 0, H = 0, W = 0;
  int value = -1;  // the plan value (Map; Flat/Pooled/Shortcut: the wrapped map's)
  int base = -1;   // the wrapped symbol (Flat, Pooled, Shortcut)
  int step = -1;   // the writing convolution while its epilogue is open
  std::vector<double> scale, shift;
  bool relu = false;
  int64_t stride = 1, offset = 0;  // Shortcut
  bool stale = false;              // fused into a later step: using it again would be wrong
  bool pending() const { return !scale.empty() || relu; }
};

namespace {

std::vector<double> to_doubles(const Tensor& t) {
  const std::vector<float> f = t.to_float_vector();
  return {f.begin(), f.end()};
}

Tensor to_host_f32(const std::vector<double>& v, const Shape& shape) {
  std::vector<float> f(v.begin(), v.end());
  return Tensor::from_vector(f, shape);
}

const char* kind_name(PlanStep::Kind k) {
  switch (k) {
    case PlanStep::Kind::InputConv:
      return "input_conv";
    case PlanStep::Kind::Conv:
      return "conv";
    case PlanStep::Kind::MaxPool:
      return "max_pool";
    case PlanStep::Kind::Head:
      return "head";
  }
  return "?";
}

}  // namespace

PlanBuilder::PlanBuilder(const ModelSpec& spec) {
  Sym in;
  in.kind = Sym::Kind::Input;
  in.C = spec.channels, in.H = spec.height, in.W = spec.width;
  syms_.push_back(in);
  plan_.channels = spec.channels, plan_.height = spec.height, plan_.width = spec.width;
  plan_.num_classes = spec.num_classes;
  plan_.mean = spec.mean, plan_.std = spec.std;
}

PlanBuilder::~PlanBuilder() = default;

void PlanBuilder::unsupported(const std::string& what) const {
  SC_FAIL("no fast path: ", what);
}

const PlanBuilder::Sym& PlanBuilder::sym(V v) const {
  SC_CHECK(v >= 0 && v < static_cast<V>(syms_.size()), "plan: unknown value ", v);
  if (syms_[static_cast<size_t>(v)].stale)
    unsupported("a value is used again after being fused into a later step");
  return syms_[static_cast<size_t>(v)];
}

PlanBuilder::V PlanBuilder::add_sym(Sym s) {
  syms_.push_back(std::move(s));
  return static_cast<V>(syms_.size()) - 1;
}

// Weights in double [O, KH, KW, C] (already in NHWC tap order) on a Map or the Input.
PlanBuilder::V PlanBuilder::conv_from(V xv, std::vector<double> weight, int64_t O, int64_t KH, int64_t KW,
                                      std::vector<double> bias, const Conv2dParams& p) {
  const Sym x = sym(xv);
  if (p.groups != 1 || p.dilation_h != 1 || p.dilation_w != 1) unsupported("grouped or dilated convolution");
  PlanStep st;
  st.conv.stride_h = p.stride_h, st.conv.stride_w = p.stride_w, st.conv.pad_h = p.pad_h,
  st.conv.pad_w = p.pad_w;
  if (x.kind == Sym::Kind::Input) {
    st.kind = PlanStep::Kind::InputConv;
  } else if (x.kind == Sym::Kind::Map) {
    st.kind = PlanStep::Kind::Conv;
    st.in = x.value;
    take_prologue(st, x);
  } else {
    unsupported("a convolution of a pooled or flattened value");
  }
  close(x.value);
  const int64_t Ho = conv_out_size(x.H, KH, p.stride_h, p.pad_h, 1),
                Wo = conv_out_size(x.W, KW, p.stride_w, p.pad_w, 1);
  if (Ho <= 0 || Wo <= 0) unsupported("a convolution larger than its input");
  plan_.values.push_back({Ho, Wo, O, false});
  st.out = static_cast<int>(plan_.values.size()) - 1;
  if (bias.empty()) bias.assign(static_cast<size_t>(O), 0.0);
  st.weight = to_host_f32(weight, {O, KH, KW, x.C});
  push_step(std::move(st), std::move(weight), std::move(bias));
  Sym y;
  y.kind = Sym::Kind::Map;
  y.C = O, y.H = Ho, y.W = Wo;
  y.value = plan_.steps.back().out;
  y.step = static_cast<int>(plan_.steps.size()) - 1;
  return add_sym(std::move(y));
}

void PlanBuilder::push_step(PlanStep st, std::vector<double> weight, std::vector<double> bias) {
  plan_.steps.push_back(std::move(st));
  weights_.push_back(std::move(weight));
  biases_.push_back(std::move(bias));
}

void PlanBuilder::take_prologue(PlanStep& st, const Sym& x) {
  if (!x.pending()) return;
  std::vector<double> scale = x.scale, shift = x.shift;
  if (scale.empty()) scale.assign(static_cast<size_t>(x.C), 1.0), shift.assign(static_cast<size_t>(x.C), 0.0);
  st.scale = to_host_f32(scale, {x.C});
  st.shift = to_host_f32(shift, {x.C});
  st.conv.prologue_relu = x.relu;
}

void PlanBuilder::close(int value) {
  if (value < 0) return;
  for (Sym& s : syms_)
    if (s.value == value) s.step = -1;
}

PlanBuilder::V PlanBuilder::conv(V x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p) {
  const Sym& s = sym(x);
  const int64_t O = weight.size(0), C = weight.size(1), KH = weight.size(2), KW = weight.size(3);
  if (s.kind != Sym::Kind::Input && s.kind != Sym::Kind::Map) unsupported("a convolution of a non-map value");
  SC_CHECK(C == s.C, "plan: convolution weight ", weight.describe(), " on ", s.C, " channels");
  const std::vector<double> w = to_doubles(weight);
  std::vector<double> nhwc(w.size());  // [O, C, KH, KW] → [O, KH, KW, C]
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = 0; r < KH; ++r)
        for (int64_t q = 0; q < KW; ++q)
          nhwc[static_cast<size_t>(((o * KH + r) * KW + q) * C + c)] =
              w[static_cast<size_t>(((o * C + c) * KH + r) * KW + q)];
  return conv_from(x, std::move(nhwc), O, KH, KW, bias.defined() ? to_doubles(bias) : std::vector<double>{},
                   p);
}

PlanBuilder::V PlanBuilder::batch_norm(V xv, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                                       const Tensor& var, double eps) {
  const Sym x = sym(xv);
  if (x.kind != Sym::Kind::Map) unsupported("BatchNorm of a non-map value");
  const std::vector<double> g = to_doubles(gamma), b = to_doubles(beta), m = to_doubles(mean),
                            v = to_doubles(var);
  SC_CHECK(static_cast<int64_t>(g.size()) == x.C, "plan: BatchNorm of ", g.size(), " channels on ", x.C);
  // BN(v) = a·v + c with a = γ/√(var + eps), c = β − mean·a.
  std::vector<double> a(g.size()), c(g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    a[i] = g[i] / std::sqrt(v[i] + eps);
    c[i] = b[i] - m[i] * a[i];
  }
  if (x.step >= 0) {
    PlanStep& st = plan_.steps[static_cast<size_t>(x.step)];
    if (!st.conv.relu && st.residual < 0) {  // fold into the convolution: w·a, bias·a + c
      std::vector<double>& w = weights_[static_cast<size_t>(x.step)];
      std::vector<double>& bias = biases_[static_cast<size_t>(x.step)];
      const size_t per_out = w.size() / a.size();
      for (size_t o = 0; o < a.size(); ++o) {
        for (size_t k = 0; k < per_out; ++k) w[o * per_out + k] *= a[o];
        bias[o] = bias[o] * a[o] + c[o];
      }
      syms_[static_cast<size_t>(xv)].stale = true;
      Sym y = x;
      return add_sym(y);
    }
  }
  if (x.relu) unsupported("BatchNorm after a ReLU that is not fused into a convolution");
  Sym y = x;
  y.step = -1;
  if (y.scale.empty()) {
    y.scale = a, y.shift = c;
  } else {
    for (size_t i = 0; i < a.size(); ++i) y.scale[i] *= a[i], y.shift[i] = y.shift[i] * a[i] + c[i];
  }
  return add_sym(y);
}

PlanBuilder::V PlanBuilder::relu(V xv) {
  const Sym x = sym(xv);
  if (x.kind != Sym::Kind::Map) unsupported("ReLU of a non-map value");
  Sym y = x;
  if (x.step >= 0) {
    plan_.steps[static_cast<size_t>(x.step)].conv.relu = true;
    syms_[static_cast<size_t>(xv)].stale = true;
    y.step = -1;  // a BatchNorm after the ReLU can no longer fold
  } else {
    y.relu = true;
  }
  return add_sym(y);
}

PlanBuilder::V PlanBuilder::add(V av, V bv) {
  Sym a = sym(av), b = sym(bv);
  // The epilogue goes to the convolution that runs last; the other operand must be stored as it is.
  const auto absorbs = [](const Sym& s) { return s.kind == Sym::Kind::Map && s.step >= 0; };
  const auto stored = [](const Sym& s) {
    return (s.kind == Sym::Kind::Map || s.kind == Sym::Kind::Shortcut) && !s.pending();
  };
  bool swap = false;
  if (absorbs(a) && absorbs(b)) {
    swap = a.step < b.step;
  } else if (absorbs(b)) {
    swap = true;
  }
  if (swap) std::swap(a, b), std::swap(av, bv);
  if (!absorbs(a) || !stored(b))
    unsupported("an addition that is not a residual connection after a convolution");
  PlanStep& st = plan_.steps[static_cast<size_t>(a.step)];
  if (st.conv.relu || st.residual >= 0) unsupported("a residual addition after a ReLU");
  const Sym& base = b.kind == Sym::Kind::Shortcut ? sym(b.base) : b;
  if (b.kind == Sym::Kind::Shortcut && base.pending())
    unsupported("an option-A shortcut of a transformed value");
  if (b.C != a.C || (b.H != a.H || b.W != a.W)) unsupported("a residual addition of different shapes");
  for (size_t i = static_cast<size_t>(a.step) + 1; i < plan_.steps.size(); ++i)
    if (plan_.steps[i].out == base.value)
      unsupported("a residual computed after the convolution it is added to");
  st.residual = base.value;
  st.conv.residual_stride = b.kind == Sym::Kind::Shortcut ? b.stride : 1;
  st.conv.residual_channel_offset = b.kind == Sym::Kind::Shortcut ? b.offset : 0;
  close(base.value);
  syms_[static_cast<size_t>(av)].stale = true;
  Sym y = a;
  return add_sym(y);  // still open: a ReLU may follow
}

PlanBuilder::V PlanBuilder::subsample_pad(V xv, int64_t stride, int64_t pad) {
  const Sym& x = sym(xv);
  if (x.kind != Sym::Kind::Map || x.pending()) unsupported("an option-A shortcut of a transformed value");
  close(x.value);
  Sym y;
  y.kind = Sym::Kind::Shortcut;
  y.C = x.C + 2 * pad, y.H = (x.H + stride - 1) / stride, y.W = (x.W + stride - 1) / stride;
  y.value = x.value, y.base = xv, y.stride = stride, y.offset = pad;
  return add_sym(y);
}

PlanBuilder::V PlanBuilder::max_pool(V xv, const Pool2dParams& p) {
  const Sym x = sym(xv);
  if (x.kind != Sym::Kind::Map || x.pending()) unsupported("max pooling of a transformed value");
  const int64_t Ho = conv_out_size(x.H, p.kernel_h, p.stride_h, p.pad_h, 1);
  const int64_t Wo = conv_out_size(x.W, p.kernel_w, p.stride_w, p.pad_w, 1);
  if (Ho <= 0 || Wo <= 0) unsupported("a pooling window larger than its input");
  close(x.value);
  PlanStep st;
  st.kind = PlanStep::Kind::MaxPool;
  st.in = x.value;
  st.pool = p;
  plan_.values.push_back({Ho, Wo, x.C, false});
  st.out = static_cast<int>(plan_.values.size()) - 1;
  push_step(std::move(st));
  Sym y;
  y.kind = Sym::Kind::Map;
  y.C = x.C, y.H = Ho, y.W = Wo, y.value = plan_.steps.back().out;
  return add_sym(y);
}

PlanBuilder::V PlanBuilder::global_avg_pool(V xv) {
  const Sym& x = sym(xv);
  if (x.kind != Sym::Kind::Map) unsupported("pooling of a non-map value");
  close(x.value);
  Sym y;
  y.kind = Sym::Kind::Pooled;
  y.C = x.C, y.H = 1, y.W = 1, y.value = x.value, y.base = xv;
  return add_sym(y);
}

PlanBuilder::V PlanBuilder::flatten(V xv) {
  const Sym& x = sym(xv);
  if (x.kind == Sym::Kind::Pooled || x.kind == Sym::Kind::Flat) return xv;  // already flat
  if (x.kind != Sym::Kind::Map && x.kind != Sym::Kind::Input) unsupported("flatten of this value");
  close(x.value);
  Sym y = x;
  y.kind = Sym::Kind::Flat;
  y.base = xv;
  y.step = -1;
  return add_sym(y);
}

PlanBuilder::V PlanBuilder::linear(V xv, const Tensor& weight, const Tensor& bias) {
  const Sym x = sym(xv);
  const int64_t O = weight.size(0), F = weight.size(1);
  const std::vector<double> w = to_doubles(weight);
  const std::vector<double> b =
      bias.defined() ? to_doubles(bias) : std::vector<double>(static_cast<size_t>(O), 0.0);
  if (x.kind == Sym::Kind::Pooled) {  // the head: pooling + linear
    const Sym& map = sym(x.base);
    if (F != map.C) unsupported("a linear layer of the wrong width");
    close(map.value);
    PlanStep st;
    st.kind = PlanStep::Kind::Head;
    st.in = map.value;
    st.weight = to_host_f32(w, {O, F});
    st.bias = to_host_f32(b, {O});
    take_prologue(st, map);
    push_step(std::move(st));
    Sym y;
    y.kind = Sym::Kind::Logits;
    y.C = O, y.H = 1, y.W = 1;
    return add_sym(y);
  }
  // Linear of a flattened [C, H, W] map (flatten order c·H·W + h·W + w) = convolution with an H×W kernel.
  const bool flat = x.kind == Sym::Kind::Flat, one_by_one = x.kind == Sym::Kind::Map && x.H == 1 && x.W == 1;
  if (!flat && !one_by_one) unsupported("a linear layer of an unflattened map");
  const int64_t C = x.C, H = x.H, W = x.W;
  if (F != C * H * W) unsupported("a linear layer of the wrong width");
  std::vector<double> nhwc(w.size());
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H * W; ++i)
        nhwc[static_cast<size_t>((o * H * W + i) * C + c)] = w[static_cast<size_t>(o * F + c * H * W + i)];
  return conv_from(flat ? x.base : xv, std::move(nhwc), O, H, W, b, Conv2dParams{});
}

Plan PlanBuilder::finish(V out) {
  const Sym& y = sym(out);
  if (y.kind == Sym::Kind::Map && y.H == 1 && y.W == 1 && !y.pending()) {
    // Logits written by a convolution. A 1×1 convolution without epilogue is a head over a 1×1 map (float32
    // weights and logits); the first convolution may write float32 logits itself.
    PlanStep& st = plan_.steps.back();
    if (st.out != y.value) unsupported("logits that are not the last step's output");
    const bool pointwise = st.weight.size(1) == 1 && st.weight.size(2) == 1 && st.conv.stride_h == 1 &&
                           st.conv.stride_w == 1 && st.conv.pad_h == 0 && st.conv.pad_w == 0;
    if (st.kind == PlanStep::Kind::Conv && pointwise && !st.conv.relu && st.residual < 0) {
      st.kind = PlanStep::Kind::Head;
      st.weight = st.weight.reshape({st.weight.size(0), st.weight.size(3)});
      st.out = -1;
    } else if (st.kind == PlanStep::Kind::InputConv) {
      plan_.values[static_cast<size_t>(st.out)].logits = true;
    } else {
      unsupported("logits from a convolution with an epilogue");
    }
  } else if (y.kind != Sym::Kind::Logits) {
    unsupported("a network that does not end in a linear layer");
  }
  if (y.C != plan_.num_classes)
    unsupported("the network has " + std::to_string(y.C) + " outputs for " +
                std::to_string(plan_.num_classes) + " classes");
  // Final weights: the folded doubles rounded once to float32.
  for (size_t i = 0; i < plan_.steps.size(); ++i) {
    PlanStep& st = plan_.steps[i];
    if (!weights_[i].empty()) st.weight = to_host_f32(weights_[i], st.weight.shape());
    if (!biases_[i].empty()) st.bias = to_host_f32(biases_[i], {static_cast<int64_t>(biases_[i].size())});
  }
  return std::move(plan_);
}

double Plan::flops_per_sample() const {
  double flops = 0;
  for (const PlanStep& st : steps) {
    if (st.kind == PlanStep::Kind::MaxPool) continue;
    // Convolutions: 2·(output elements)·KH·KW·C; the head: 2·K·C (its weight is [K, C]).
    const int64_t outputs = st.kind == PlanStep::Kind::Head ? 1 : values[static_cast<size_t>(st.out)].elems();
    const int64_t per_output = st.weight.numel() / st.weight.size(0);
    flops += 2.0 * static_cast<double>(outputs) * static_cast<double>(per_output) *
             (st.kind == PlanStep::Kind::Head ? static_cast<double>(st.weight.size(0)) : 1.0);
  }
  return flops;
}

std::string Plan::summary() const {
  std::ostringstream os;
  for (size_t i = 0; i < steps.size(); ++i) {
    const PlanStep& s = steps[i];
    os << i << ' ' << kind_name(s.kind);
    if (s.kind == PlanStep::Kind::MaxPool) {
      os << " k" << s.pool.kernel_h << "x" << s.pool.kernel_w << " s" << s.pool.stride_h;
    } else {
      os << " w" << shape_str(s.weight.shape());
      if (s.kind != PlanStep::Kind::Head) os << " s" << s.conv.stride_h << " p" << s.conv.pad_h;
      if (s.scale.defined()) os << (s.conv.prologue_relu ? " pro=bn+relu" : " pro=bn");
      if (s.residual >= 0)
        os << " res=v" << s.residual
           << (s.conv.residual_stride > 1 ? "/" + std::to_string(s.conv.residual_stride) : std::string())
           << (s.conv.residual_channel_offset > 0
                   ? "+" + std::to_string(s.conv.residual_channel_offset) + "ch"
                   : std::string());
      if (s.conv.relu) os << " relu";
    }
    os << "  v" << s.in << " -> " << (s.out >= 0 ? "v" + std::to_string(s.out) : std::string("logits"));
    if (s.out >= 0) {
      const PlanValue& v = values[static_cast<size_t>(s.out)];
      os << " [" << v.H << "x" << v.W << "x" << v.C << "]";
    }
    os << '\n';
  }
  return os.str();
}

namespace {

// A 3×3, stride-1, padding-1 convolution C → C with a ReLU, no prologue, on a map of the input's size.
bool is_same_size_conv3x3(const Plan& plan, const PlanStep& st) {
  if (st.kind != PlanStep::Kind::Conv || st.in < 0 || st.out < 0) return false;
  const PlanValue &in = plan.values[static_cast<size_t>(st.in)],
                  &out = plan.values[static_cast<size_t>(st.out)];
  const FusedConvParams& p = st.conv;
  return st.weight.shape() == Shape{in.C, 3, 3, in.C} && out.C == in.C && out.H == in.H && out.W == in.W &&
         !out.logits && p.stride_h == 1 && p.stride_w == 1 && p.pad_h == 1 && p.pad_w == 1 && p.relu &&
         !p.prologue_relu && !st.scale.defined();
}

}  // namespace

std::vector<ResidualRun> find_residual_runs(const Plan& plan) {
  std::vector<std::vector<int>> readers(plan.values.size());
  for (size_t i = 0; i < plan.steps.size(); ++i)
    for (int v : {plan.steps[i].in, plan.steps[i].residual})
      if (v >= 0) readers[static_cast<size_t>(v)].push_back(static_cast<int>(i));
  const auto read_only_by = [&](int v, std::vector<int> steps) {
    return readers[static_cast<size_t>(v)] == steps;
  };
  // A basic block at steps i, i + 1: its intermediate value is read only by its second convolution.
  const auto block_at = [&](size_t i) {
    if (i + 1 >= plan.steps.size()) return false;
    const PlanStep &a = plan.steps[i], &b = plan.steps[i + 1];
    const int ii = static_cast<int>(i);
    return is_same_size_conv3x3(plan, a) && is_same_size_conv3x3(plan, b) && a.residual < 0 &&
           b.in == a.out && b.residual == a.in && b.conv.residual_stride == 1 &&
           b.conv.residual_channel_offset == 0 && read_only_by(a.out, {ii + 1});
  };
  std::vector<ResidualRun> runs;
  for (size_t i = 0; i < plan.steps.size();) {
    if (!block_at(i)) {
      ++i;
      continue;
    }
    ResidualRun run{static_cast<int>(i), static_cast<int>(i) + 2, plan.steps[i].in, plan.steps[i + 1].out};
    // The next block joins when it reads this one's output and nothing else does.
    while (block_at(static_cast<size_t>(run.end)) && plan.steps[static_cast<size_t>(run.end)].in == run.out &&
           read_only_by(run.out, {run.end, run.end + 1})) {
      run.out = plan.steps[static_cast<size_t>(run.end) + 1].out;
      run.end += 2;
    }
    runs.push_back(run);
    i = static_cast<size_t>(run.end);
  }
  return runs;
}

Plan build_plan(const Classifier& model) {
  PlanBuilder b(model.spec);
  return b.finish(model.net->lower(b, b.input()));
}

bool try_build_plan(const Classifier& model, Plan& plan, std::string& why_not) {
  try {
    plan = build_plan(model);
    return true;
  } catch (const Error& e) {
    why_not = e.what();
    return false;
  }
}

}  // namespace sc
