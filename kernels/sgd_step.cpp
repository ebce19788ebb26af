#include "kernels/sgd_step.h"

#include <cmath>

#include "kernels/dispatch.h"

namespace sc::ops {

void sgd_step(Tensor& param, const Tensor& grad, Tensor& buffer, const SgdParams& p) {
  const char* op = "sgd_step";
  SC_CHECK(std::isfinite(p.lr) && p.lr >= 0, op, ": the learning rate must be finite and ≥ 0, got ", p.lr);
  SC_CHECK(std::isfinite(p.momentum) && p.momentum >= 0, op, ": momentum must be finite and ≥ 0, got ",
           p.momentum);
  SC_CHECK(std::isfinite(p.weight_decay) && p.weight_decay >= 0, op,
           ": weight decay must be finite and ≥ 0, got ", p.weight_decay);
  SC_CHECK(!p.nesterov || p.momentum > 0, op, ": Nesterov momentum needs a momentum above 0");
  check_dtype(param, DType::F32, op, "param");
  check_dtype(grad, DType::F32, op, "grad");
  check_contiguous(param, op, "param");
  check_contiguous(grad, op, "grad");
  check_same_device(param, grad, op);
  SC_CHECK(grad.shape() == param.shape(), op, ": grad ", grad.describe(), " and param ", param.describe(),
           " differ in shape");
  if (p.momentum > 0) {
    check_dtype(buffer, DType::F32, op, "momentum buffer");
    check_contiguous(buffer, op, "momentum buffer");
    check_same_device(param, buffer, op);
    SC_CHECK(buffer.shape() == param.shape(), op, ": momentum buffer ", buffer.describe(), " and param ",
             param.describe(), " differ in shape");
  }
  if (param.numel() == 0) return;
  SC_DISPATCH(param.device(), cpu::sgd_step(param, grad, buffer, p), cuda::sgd_step(param, grad, buffer, p));
}

}  // namespace sc::ops
