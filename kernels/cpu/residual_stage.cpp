// CPU reference of residual_stage: the chain of fused_conv steps it stands for, block by block.
#include "kernels/residual_stage.h"

#include <utility>

#include "kernels/fused_conv.h"

namespace sc::cpu {

void residual_stage(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  FusedConvParams p;
  p.pad_h = p.pad_w = 1;
  p.relu = true;
  Tensor cur = x.clone(), t = Tensor::empty(x.shape(), x.dtype()), next = Tensor::empty(x.shape(), x.dtype());
  const int64_t C = x.size(3);
  const auto layer_w = [&](int64_t l) { return w.slice(0, l, l + 1).reshape({C, 3, 3, C}); };
  const auto layer_b = [&](int64_t l) { return bias.slice(0, l, l + 1).reshape({C}); };
  for (int64_t l = 0; l < w.size(0); l += 2) {
    cpu::fused_conv(cur, layer_w(l), layer_b(l), Tensor(), Tensor(), Tensor(), p, t);
    cpu::fused_conv(t, layer_w(l + 1), layer_b(l + 1), Tensor(), Tensor(), cur, p, next);
    std::swap(cur, next);
  }
  y.copy_(cur);
}

}  // namespace sc::cpu
