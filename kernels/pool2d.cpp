#include "kernels/pool2d.h"

#include "kernels/conv2d.h"
#include "kernels/dispatch.h"

namespace sc::ops {

namespace {
Tensor pool2d(PoolKind kind, const Tensor& x, const Pool2dParams& p, const char* name) {
  check_dtype(x, DType::F32, name, "x");
  check_dim(x, 4, name, "x");
  check_contiguous(x, name, "x");
  SC_CHECK(p.kernel_h > 0 && p.kernel_w > 0 && p.stride_h > 0 && p.stride_w > 0, name,
           ": kernel and stride must be positive");
  SC_CHECK(p.pad_h >= 0 && 2 * p.pad_h <= p.kernel_h && p.pad_w >= 0 && 2 * p.pad_w <= p.kernel_w, name,
           ": padding must be between 0 and half the kernel size");
  const int64_t Ho = conv_out_size(x.size(2), p.kernel_h, p.stride_h, p.pad_h, 1);
  const int64_t Wo = conv_out_size(x.size(3), p.kernel_w, p.stride_w, p.pad_w, 1);
  SC_CHECK(Ho > 0 && Wo > 0, name, ": input ", x.describe(), " is smaller than the ", p.kernel_h, "x", p.kernel_w,
           " window");
  Tensor y = Tensor::empty({x.size(0), x.size(1), Ho, Wo}, DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::pool2d(kind, x, p, y), cuda::pool2d(kind, x, p, y));
  return y;
}
}  // namespace

Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p) { return pool2d(PoolKind::Avg, x, p, "avg_pool2d"); }
Tensor max_pool2d(const Tensor& x, const Pool2dParams& p) { return pool2d(PoolKind::Max, x, p, "max_pool2d"); }

}  // namespace sc::ops
