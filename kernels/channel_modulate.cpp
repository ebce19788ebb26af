#include "kernels/channel_modulate.h"

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor channel_modulate(const Tensor& x, const Tensor& scale, const Tensor& shift) {
  check_dtype(x, DType::F32, "channel_modulate", "x");
  check_contiguous(x, "channel_modulate", "x");
  SC_CHECK(x.dim() >= 2, "channel_modulate: x must be [N, C, ...], got ", x.describe());
  for (const Tensor* t : {&scale, &shift}) {
    if (t == &scale && !scale.defined()) continue;
    check_dtype(*t, DType::F32, "channel_modulate", t == &scale ? "scale" : "shift");
    check_contiguous(*t, "channel_modulate", "scale/shift");
    check_same_device(x, *t, "channel_modulate");
    SC_CHECK(t->dim() == 2 && t->size(0) == x.size(0) && t->size(1) == x.size(1), "channel_modulate: scale/shift must be [",
             x.size(0), ", ", x.size(1), "], got ", t->describe());
  }
  Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
  if (y.numel() == 0) return y;
  SC_DISPATCH(x.device(), cpu::channel_modulate(x, scale, shift, y), cuda::channel_modulate(x, scale, shift, y));
  return y;
}

}  // namespace sc::ops
