#include "kernels/fill.h"

#include <algorithm>

namespace sc::cpu {

namespace {
template <typename T>
void fill_as(Tensor& t, T v) {
  std::fill_n(t.data<T>(), t.numel(), v);
}
}  // namespace

void fill(Tensor& t, float value) {
  switch (t.dtype()) {
    case DType::F32: fill_as<float>(t, value); break;
    case DType::F16: fill_as<Half>(t, Half::from_float(value)); break;
    case DType::BF16: fill_as<BFloat16>(t, BFloat16::from_float(value)); break;
    case DType::I32: fill_as<int32_t>(t, static_cast<int32_t>(value)); break;
    case DType::I64: fill_as<int64_t>(t, static_cast<int64_t>(value)); break;
    case DType::U8: fill_as<uint8_t>(t, static_cast<uint8_t>(value)); break;
  }
}

void increment(Tensor& t, int64_t by) {
  int64_t* p = t.data<int64_t>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] += by;
}

}  // namespace sc::cpu
