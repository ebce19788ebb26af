#include "kernels/layer_norm.h"

#include "kernels/dispatch.h"

namespace sc::ops {

namespace {
// x contiguous with a last dimension C ≥ 1; γ (and β) float32 [C] on x's device.
void check_layer_norm(const Tensor& x, const Tensor& weight, const Tensor* bias, double eps, const char* op) {
  check_contiguous(x, op, "x");
  SC_CHECK(x.dim() >= 1 && x.size(-1) > 0, op, ": x ", x.describe(), " has no channels to normalize over");
  for (const auto& [t, name] : {std::pair{&weight, "weight"}, std::pair{bias, "bias"}}) {
    if (t == nullptr) continue;
    check_dtype(*t, DType::F32, op, name);
    check_contiguous(*t, op, name);
    check_same_device(x, *t, op);
    SC_CHECK(t->dim() == 1 && t->size(0) == x.size(-1), op, ": ", name, " must be [", x.size(-1), "], got ",
             t->describe());
  }
  SC_CHECK(eps > 0, op, ": eps must be positive, got ", eps);
}
}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check_layer_norm(x, weight, &bias, eps, "layer_norm");
  SC_CHECK(x.dtype() == DType::F32 || x.dtype() == DType::BF16 || x.dtype() == DType::F16,
           "layer_norm: x must be float32, bfloat16 or float16, got ", x.describe());
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::layer_norm(x, weight, bias, eps, y),
              cuda::layer_norm(x, weight, bias, eps, y));
  return y;
}

LayerNormGradients layer_norm_backward(const Tensor& dy, const Tensor& x, const Tensor& weight, double eps) {
  const char* op = "layer_norm_backward";
  check_layer_norm(x, weight, nullptr, eps, op);
  check_dtype(x, DType::F32, op, "x");
  check_dtype(dy, DType::F32, op, "dy");
  check_contiguous(dy, op, "dy");
  check_same_device(x, dy, op);
  SC_CHECK(dy.shape() == x.shape(), op, ": dy ", dy.describe(), " and x ", x.describe(), " differ in shape");
  const int64_t C = x.size(-1);
  LayerNormGradients g{Tensor::empty(x.shape(), DType::F32, x.device()),
                       Tensor::empty({C}, DType::F32, x.device()),
                       Tensor::empty({C}, DType::F32, x.device())};
  SC_DISPATCH(x.device(), cpu::layer_norm_backward(dy, x, weight, eps, g),
              cuda::layer_norm_backward(dy, x, weight, eps, g));
  return g;
}

}  // namespace sc::ops
