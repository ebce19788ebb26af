// A classifier lowered to the fast path ("plan"): a straight list of fused steps on NHWC activations.
//   - BatchNorm after a convolution is folded into its weights and bias (in double, once, at build time);
//   - ReLU and the residual add (identity, projection or option-A shortcut) run in the convolution's
//   epilogue;
//   - BatchNorm + ReLU before a convolution (pre-activation blocks) run in its input load (prologue);
//   - the first convolution reads the clean images and makes the noisy, normalized samples while loading
//   them;
//   - global average pooling and the final linear layer are one head step; a Linear after Flatten is a
//     convolution whose kernel covers the whole map (so no NCHW flatten order is needed).
// Modules describe themselves through Module::lower (nn/module.h); a model with a module that cannot be
// lowered has no plan and runs on the generic path.
#pragma once
#include <string>
#include <vector>

#include "kernels/fused_conv.h"
#include "kernels/pool2d.h"
#include "nn/models/registry.h"

namespace sc {

struct PlanValue {  // an activation map of the plan, per sample [H, W, C]
  int64_t H = 0, W = 0, C = 0;
  bool logits = false;  // the plan's output when a convolution produces the logits: kept float32
  int64_t elems() const { return H * W * C; }
};

struct PlanStep {
  enum class Kind { InputConv, Conv, MaxPool, Head };
  Kind kind = Kind::Conv;
  int in = -1;           // value read (−1: the network input, for InputConv)
  int out = -1;          // value written (−1: the logits, for Head)
  int residual = -1;     // value added in the epilogue (Conv)
  FusedConvParams conv;  // InputConv, Conv (stride, padding, relu, prologue relu, residual stride/offset)
  Pool2dParams pool;     // MaxPool
  Tensor weight, bias;  // host float32: [O, KH, KW, C] (convolutions) or [K, C] (Head); bias may be undefined
  Tensor scale, shift;  // host float32 [C] prologue (Conv, Head) or undefined
};

struct Plan {
  std::vector<PlanStep> steps;
  std::vector<PlanValue> values;
  int64_t channels = 0, height = 0, width = 0, num_classes = 0;  // the input and output
  std::vector<float> mean, std;                                  // input normalization (empty: none)
  // Where the values live and in what chunks of rows the steps run: engine/schedule.h.
  std::string summary() const;  // one line per step, for the tests and error messages
  // Multiply-adds ×2 of the convolutions and the head, per sample (what TFLOP/s figures count).
  double flops_per_sample() const;
};

// A run of post-activation basic blocks in a plan, which ops::residual_stage runs as one op: steps
// [begin, end) in pairs of 3×3, stride-1, padding-1 convolutions of C channels in and out with a ReLU and
// no prologue, the second of each pair adding the pair's input (an identity shortcut); the values between
// are read only inside the run. `in` is the first pair's input, `out` the last pair's output.
struct ResidualRun {
  int begin = 0, end = 0;
  int in = -1, out = -1;
};
// The plan's maximal runs of at least one block, in step order.
std::vector<ResidualRun> find_residual_runs(const Plan& plan);

// Throws sc::Error naming the first module or pattern the fast path does not handle.
Plan build_plan(const Classifier& model);
// The same, returning false and the reason instead of throwing.
bool try_build_plan(const Classifier& model, Plan& plan, std::string& why_not);

// What Module::lower implementations call. Values are symbolic handles; each call returns a new one.
class PlanBuilder {
 public:
  using V = int;
  explicit PlanBuilder(const ModelSpec& spec);
  ~PlanBuilder();
  V input() const { return 0; }
  V conv(V x, const Tensor& weight, const Tensor& bias, const Conv2dParams& p);
  V batch_norm(V x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
               double eps);
  V relu(V x);
  V add(V a, V b);
  V max_pool(V x, const Pool2dParams& p);
  V global_avg_pool(V x);  // [C, H, W] → [C] (flattened)
  V flatten(V x);
  V linear(V x, const Tensor& weight, const Tensor& bias);
  V subsample_pad(V x, int64_t stride,
                  int64_t pad);  // option-A shortcut: x[:, :, ::s, ::s], pad zero channels
  [[noreturn]] void unsupported(const std::string& what) const;
  Plan finish(V logits);

 private:
  struct Sym;
  std::vector<Sym> syms_;
  Plan plan_;
  // Per step, the convolution's weights and bias in double while BatchNorms are folded in.
  std::vector<std::vector<double>> weights_, biases_;
  void push_step(PlanStep st, std::vector<double> weight = {}, std::vector<double> bias = {});
  void close(int value);  // a later step reads the value: its epilogue can no longer change
  static void take_prologue(PlanStep& st, const Sym& x);  // x's pending BN/ReLU becomes st's input transform
  const Sym& sym(V v) const;
  V add_sym(Sym s);
  V conv_from(V x, std::vector<double> weight, int64_t O, int64_t KH, int64_t KW, std::vector<double> bias,
              const Conv2dParams& p);
};

}  // namespace sc
