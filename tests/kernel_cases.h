// The shapes and inputs of the fast path's kernel tests, shared by the GPU tests (tests/gpu, CUDA against the
// CPU) and the emulated-kernel tests (tests/simt, the same CUDA kernels run on the CPU), so that both check
// the same cases. Inputs are CPU tensors; the GPU tests copy them over.
#pragma once
#include <array>
#include <ostream>
#include <string>
#include <vector>

#include "kernels/fused_conv.h"
#include "kernels/noisy_input_conv.h"
#include "kernels/pooled_linear.h"
#include "kernels/residual_stage.h"
#include "nn/runtime.h"
#include "nn/tensor.h"

namespace sc::test {

// fused_conv: every tensor-core tile width, partial tiles in M, N and K, prologue, residuals, and the
// fallback.
struct ConvCase {
  int64_t N, H, W, C, O, K, stride, pad;
  bool prologue, relu;
  int64_t res_stride, res_offset, res_channels;
  bool gelu = false;  // on the output instead of the ReLU
};
void PrintTo(const ConvCase& c, std::ostream* os);
const std::vector<ConvCase>& fused_conv_cases();

struct FusedConvInputs {
  Tensor x, w, bias, scale, shift, residual;  // scale/shift/residual undefined when the case has none
  FusedConvParams params;
  Shape out_shape;
};
FusedConvInputs fused_conv_inputs(const ConvCase& k, DType dtype, bool tf32);
double fused_conv_tolerance(DType dtype);  // relative, against the CPU reference

// Hopper's wgmma convolutions on or off for a scope (nn/runtime.h); the setting before comes back after.
class WgmmaConvSwitch {
 public:
  explicit WgmmaConvSwitch(bool on) : before_(wgmma_conv_enabled()) { set_wgmma_conv(on); }
  ~WgmmaConvSwitch() { set_wgmma_conv(before_); }
  WgmmaConvSwitch(const WgmmaConvSwitch&) = delete;
  WgmmaConvSwitch& operator=(const WgmmaConvSwitch&) = delete;

 private:
  bool before_;
};

// residual_stage: N samples of H×W×C through L convolutions (L/2 blocks). Cases: CIFAR stage maps of 16, 32
// and 64 channels, maps whose width is not a multiple of 8 and samples that leave a partial last group.
struct StageCase {
  int64_t N, H, W, C, L;
};
void PrintTo(const StageCase& c, std::ostream* os);
const std::vector<StageCase>& residual_stage_cases();
// Weights of standard deviation 1/√(9C), so the maps keep their scale through the blocks.
struct StageInputs {
  Tensor x, w, bias;
};
StageInputs residual_stage_inputs(const StageCase& c, DType dtype);
// The stage as its chain of fused_conv steps (residual_stage_by_steps) by `conv` (cpu::, cuda:: or the
// emulator's fused_conv), in scratch maps on x's device.
template <typename FusedConv>
Tensor residual_stage_by_steps(const StageInputs& in, FusedConv conv) {
  const auto map = [&] { return Tensor::empty(in.x.shape(), in.x.dtype(), in.x.device()); };
  Tensor t = map(), a = map(), b = map();
  return sc::residual_stage_by_steps(in.x, in.w, in.bias, t, a, b, conv);
}

// noisy_input_conv: CIFAR, ImageNet-like (strips with halos), LeNet, whole-image, odd-size and tall stems and
// the tensor-core kernel's shapes (with round_operands), 71 spans.
struct NoisyConvCase {
  std::string name;
  NoisyInput in;
  Tensor w, bias;
  FusedConvParams params;
  Shape out_shape;  // without the dtype: float32 or bfloat16 outputs
};
std::vector<NoisyConvCase> noisy_input_conv_cases();

// pooled_linear_vote: `runs` runs over K classes from C channels, with rows 3 and 7 of w tied (an exact tie).
struct VoteCase {
  Tensor x, w, bias;
  std::vector<RowRun> runs;
  int64_t slots, classes;
};
VoteCase vote_case(int64_t classes, int64_t channels, int64_t runs);
// The votes the logits [rows, K] give (the first maximum per row), and how many rows chose class 3.
std::vector<int64_t> votes_of_logits(const VoteCase& c, const Tensor& logits, int64_t* ties);

// group_norm_nhwc: {N, H, W, C, G}; inputs of mean 3.
const std::vector<std::array<int64_t, 5>>& group_norm_cases();
struct GroupNormInputs {
  Tensor x, gamma, beta;
  int64_t groups;
};
GroupNormInputs group_norm_inputs(const std::array<int64_t, 5>& c, DType dtype);
// attention_nhwc: {positions, heads, head channels} and the spread of the qkv values.
struct AttentionCase {
  int64_t T, heads, d;
  float spread;
};
const std::vector<AttentionCase>& attention_cases();
Tensor attention_input(const AttentionCase& c, DType dtype);  // qkv [2, T, 3·heads·d]

}  // namespace sc::test
