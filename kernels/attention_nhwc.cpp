#include "kernels/attention_nhwc.h"

#include "kernels/dispatch.h"

namespace sc::ops {

bool attention_nhwc_supports(int64_t d) {
  return d == 16 || d == 32 || d == 64;
}

void attention_nhwc(const Tensor& qkv, int64_t heads, Tensor& out, const RelativePositionBias& bias) {
  const char* op = "attention_nhwc";
  check_dim(qkv, 3, op, "qkv");
  check_contiguous(qkv, op, "qkv");
  check_contiguous(out, op, "out");
  check_same_device(qkv, out, op);
  SC_CHECK(qkv.dtype() == DType::F32 || qkv.dtype() == DType::BF16 || qkv.dtype() == DType::F16, op,
           ": qkv must be float32, bfloat16 or float16, got ", qkv.describe());
  SC_CHECK(heads > 0 && qkv.size(2) % (3 * heads) == 0, op, ": ", heads, " heads do not split qkv ",
           qkv.describe(), " into [q|k|v] blocks");
  const int64_t C = qkv.size(2) / 3;
  SC_CHECK(out.dtype() == qkv.dtype() && out.shape() == Shape({qkv.size(0), qkv.size(1), C}), op,
           ": out must be [", qkv.size(0), ", ", qkv.size(1), ", ", C, "] of qkv's dtype, got ",
           out.describe());
  SC_CHECK(qkv.size(1) > 0, op, ": no positions");
  SC_CHECK(qkv.device().is_cpu() || attention_nhwc_supports(C / heads), op, ": head width ", C / heads,
           " is not one of 16, 32, 64 on CUDA");
  SC_CHECK(qkv.numel() < (int64_t{1} << 31), op, ": tensors over 2^31 elements: split the batch");
  check_relative_position_bias(qkv, heads, bias, op);
  if (out.numel() == 0) return;
  SC_DISPATCH(qkv.device(), cpu::attention_nhwc(qkv, heads, bias, out),
              cuda::attention_nhwc(qkv, heads, bias, out));
}

}  // namespace sc::ops
