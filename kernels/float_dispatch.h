// Dispatch on the fast path's storage types: calls f(T{}) with T = float, BFloat16 or Half for DType F32,
// BF16 or F16; any other dtype is an error naming the op. Host code of both back ends (.cpp and .cu) uses it.
#pragma once
#include "nn/dtype.h"
#include "nn/error.h"
#include "nn/half.h"

namespace sc {

template <typename F>
void visit_float_storage(DType dtype, const char* op, F&& f) {
  switch (dtype) {
    case DType::F32:
      return f(float{});
    case DType::BF16:
      return f(BFloat16{});
    case DType::F16:
      return f(Half{});
    default:
      SC_FAIL(op, ": unsupported dtype ", dtype_name(dtype));
  }
}

}  // namespace sc
