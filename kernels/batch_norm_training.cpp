#include "kernels/batch_norm_training.h"

#include "kernels/dispatch.h"
#include "kernels/per_channel_check.h"

namespace sc::ops {

Tensor batch_norm_statistics(const Tensor& x) {
  check_per_channel(x, {}, "batch_norm_statistics");
  SC_CHECK(x.numel() > 0, "batch_norm_statistics: x ", x.describe(), " has no values to take statistics of");
  Tensor stats = Tensor::empty({2, x.size(1)}, DType::F32, x.device());
  SC_DISPATCH(x.device(), cpu::batch_norm_statistics(x, stats), cuda::batch_norm_statistics(x, stats));
  return stats;
}

BatchNormGradients batch_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight,
                                       const Tensor& stats, double eps) {
  const char* op = "batch_norm_backward";
  check_per_channel(x, {{&weight, "weight"}}, op);
  check_per_channel(dy, {}, op);
  check_same_device(x, dy, op);
  SC_CHECK(dy.shape() == x.shape(), op, ": dy ", dy.describe(), " and x ", x.describe(), " differ in shape");
  check_dtype(stats, DType::F32, op, "stats");
  check_contiguous(stats, op, "stats");
  check_same_device(x, stats, op);
  SC_CHECK(stats.dim() == 2 && stats.size(0) == 2 && stats.size(1) == x.size(1), op, ": stats must be [2, ",
           x.size(1), "] (batch_norm_statistics), got ", stats.describe());
  SC_CHECK(eps > 0, op, ": eps must be positive, got ", eps);
  SC_CHECK(x.numel() > 0, op, ": x ", x.describe(), " is empty");
  BatchNormGradients g{Tensor::empty(x.shape(), DType::F32, x.device()),
                       Tensor::empty({x.size(1)}, DType::F32, x.device()),
                       Tensor::empty({x.size(1)}, DType::F32, x.device())};
  SC_DISPATCH(x.device(), cpu::batch_norm_backward(dy, x, weight, stats, eps, g),
              cuda::batch_norm_backward(dy, x, weight, stats, eps, g));
  return g;
}

}  // namespace sc::ops
