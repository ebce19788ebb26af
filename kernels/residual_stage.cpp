#include "kernels/residual_stage.h"

#include "kernels/dispatch.h"

namespace sc {
namespace {

// y is x itself or apart from it: a partial overlap would let one sample's output land on another's input.
bool same_or_apart(const Tensor& x, const Tensor& y) {
  const auto* xb = static_cast<const char*>(x.raw_data());
  const auto* yb = static_cast<const char*>(y.raw_data());
  const int64_t bytes = x.numel() * static_cast<int64_t>(dtype_size(x.dtype()));
  return xb == yb || yb + bytes <= xb || xb + bytes <= yb;
}

}  // namespace

namespace ops {

void residual_stage(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  check_defined(x, "residual_stage", "x");
  check_defined(w, "residual_stage", "weight");
  check_defined(bias, "residual_stage", "bias");
  check_defined(y, "residual_stage", "y");
  check_dim(x, 4, "residual_stage", "x");
  check_dim(w, 5, "residual_stage", "weight");
  const DType d = x.dtype();
  SC_CHECK(d == DType::F32 || d == DType::BF16 || d == DType::F16,
           "residual_stage: x must be float32, bfloat16 or float16, got ", x.describe());
  const int64_t L = w.size(0), C = x.size(3);
  SC_CHECK(L >= 2 && L % 2 == 0 && w.size(1) == C && w.size(2) == 3 && w.size(3) == 3 && w.size(4) == C,
           "residual_stage: weight must be [L, ", C, ", 3, 3, ", C, "] with L even and at least 2 (two ",
           "convolutions per block), got ", w.describe());
  SC_CHECK(w.dtype() == d && y.dtype() == d, "residual_stage: x, weight and y must share a dtype, got ",
           x.describe(), ", ", w.describe(), ", ", y.describe());
  check_dtype(bias, DType::F32, "residual_stage", "bias");
  SC_CHECK(bias.dim() == 2 && bias.size(0) == L && bias.size(1) == C, "residual_stage: bias must be [", L,
           ", ", C, "], got ", bias.describe());
  SC_CHECK(y.shape() == x.shape(), "residual_stage: y must be ", x.describe(), ", got ", y.describe());
  check_contiguous(x, "residual_stage", "x");
  check_contiguous(w, "residual_stage", "weight");
  check_contiguous(bias, "residual_stage", "bias");
  check_contiguous(y, "residual_stage", "y");
  check_same_device(x, w, "residual_stage");
  check_same_device(x, bias, "residual_stage");
  check_same_device(x, y, "residual_stage");
  SC_CHECK(x.numel() < (int64_t{1} << 31), "residual_stage: tensors over 2^31 elements: split the batch");
  SC_CHECK(same_or_apart(x, y), "residual_stage: y overlaps x without being x");
  if (x.numel() == 0) return;
  SC_DISPATCH(x.device(), cpu::residual_stage(x, w, bias, y), cuda::residual_stage(x, w, bias, y));
}

bool residual_stage_fused(const Device& device, DType dtype, int64_t H, int64_t W, int64_t C) {
#ifdef SMOOTHCUDA_HAVE_CUDA
  return device.is_cuda() && cuda::residual_stage_fits(dtype, H, W, C);
#else
  (void)device, (void)dtype, (void)H, (void)W, (void)C;
  return false;
#endif
}

}  // namespace ops
}  // namespace sc
