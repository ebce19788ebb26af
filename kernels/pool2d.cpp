#include "kernels/pool2d.h"

#include <utility>

#include "kernels/conv2d.h"
#include "kernels/dispatch.h"

namespace sc::ops {

namespace {
// The output size of the window over an H × W input, after checking the parameters.
std::pair<int64_t, int64_t> pooled_size(int64_t H, int64_t W, const Pool2dParams& p, const char* name) {
  SC_CHECK(p.kernel_h > 0 && p.kernel_w > 0 && p.stride_h > 0 && p.stride_w > 0, name,
           ": kernel and stride must be positive");
  SC_CHECK(p.pad_h >= 0 && 2 * p.pad_h <= p.kernel_h && p.pad_w >= 0 && 2 * p.pad_w <= p.kernel_w, name,
           ": padding must be between 0 and half the kernel size");
  const int64_t Ho = conv_out_size(H, p.kernel_h, p.stride_h, p.pad_h, 1);
  const int64_t Wo = conv_out_size(W, p.kernel_w, p.stride_w, p.pad_w, 1);
  SC_CHECK(Ho > 0 && Wo > 0, name, ": input ", H, "x", W, " is smaller than the ", p.kernel_h, "x",
           p.kernel_w, " window");
  return {Ho, Wo};
}

Tensor pool2d(PoolKind kind, const Tensor& x, const Pool2dParams& p, const char* name) {
  check_dtype(x, DType::F32, name, "x");
  check_dim(x, 4, name, "x");
  check_contiguous(x, name, "x");
  const auto [Ho, Wo] = pooled_size(x.size(2), x.size(3), p, name);
  Tensor y = Tensor::empty({x.size(0), x.size(1), Ho, Wo}, DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::pool2d(kind, x, p, y), cuda::pool2d(kind, x, p, y));
  return y;
}

Tensor pool2d_backward(PoolKind kind, const Tensor& dy, const Tensor& x, int64_t x_h, int64_t x_w,
                       const Pool2dParams& p, const char* name) {
  check_dtype(dy, DType::F32, name, "dy");
  check_dim(dy, 4, name, "dy");
  check_contiguous(dy, name, "dy");
  const auto [Ho, Wo] = pooled_size(x_h, x_w, p, name);
  SC_CHECK(dy.size(2) == Ho && dy.size(3) == Wo, name, ": a ", x_h, "x", x_w, " input pools to ", Ho, "x", Wo,
           ", but dy is ", dy.describe());
  Tensor dx = Tensor::empty({dy.size(0), dy.size(1), x_h, x_w}, DType::F32, dy.device());
  if (dx.numel() == 0) return dx;
  SC_DISPATCH(dy.device(), cpu::pool2d_backward(kind, dy, x, p, dx),
              cuda::pool2d_backward(kind, dy, x, p, dx));
  return dx;
}
}  // namespace

Tensor avg_pool2d(const Tensor& x, const Pool2dParams& p) { return pool2d(PoolKind::Avg, x, p, "avg_pool2d"); }
Tensor max_pool2d(const Tensor& x, const Pool2dParams& p) { return pool2d(PoolKind::Max, x, p, "max_pool2d"); }

Tensor avg_pool2d_backward(const Tensor& dy, int64_t x_h, int64_t x_w, const Pool2dParams& p) {
  return pool2d_backward(PoolKind::Avg, dy, Tensor(), x_h, x_w, p, "avg_pool2d_backward");
}

Tensor max_pool2d_backward(const Tensor& dy, const Tensor& x, const Pool2dParams& p) {
  const char* name = "max_pool2d_backward";
  check_dtype(x, DType::F32, name, "x");
  check_dim(x, 4, name, "x");
  check_contiguous(x, name, "x");
  check_same_device(dy, x, name);
  SC_CHECK(dy.dim() == 4 && dy.size(0) == x.size(0) && dy.size(1) == x.size(1), name, ": dy ", dy.describe(),
           " does not match x ", x.describe(), " in samples and channels");
  return pool2d_backward(PoolKind::Max, dy, x, x.size(2), x.size(3), p, name);
}

}  // namespace sc::ops
