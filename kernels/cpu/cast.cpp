#include "kernels/cast.h"

namespace sc::cpu {

namespace {
// Every element passes through double, which holds f32, f16, bf16, i32 and u8 exactly
// (i64 beyond 2^53 is the one lossy case, and no model data lives there).
template <typename T>
double load(const T& v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
    return v.to_float();
  else
    return static_cast<double>(v);
}
template <typename T>
T store(double v) {
  if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
    return T::from_float(static_cast<float>(v));
  else
    return static_cast<T>(v);
}

template <typename S, typename D>
void cast_typed(const Tensor& src, Tensor& dst) {
  const S* s = src.data<S>();
  D* d = dst.data<D>();
  const int64_t n = src.numel();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) d[i] = store<D>(load<S>(s[i]));
}

template <typename S>
void cast_from(const Tensor& src, Tensor& dst) {
  switch (dst.dtype()) {
    case DType::F32: return cast_typed<S, float>(src, dst);
    case DType::F16: return cast_typed<S, Half>(src, dst);
    case DType::BF16: return cast_typed<S, BFloat16>(src, dst);
    case DType::I32: return cast_typed<S, int32_t>(src, dst);
    case DType::I64: return cast_typed<S, int64_t>(src, dst);
    case DType::U8: return cast_typed<S, uint8_t>(src, dst);
  }
}
}  // namespace

void cast(const Tensor& src, Tensor& dst) {
  switch (src.dtype()) {
    case DType::F32: return cast_from<float>(src, dst);
    case DType::F16: return cast_from<Half>(src, dst);
    case DType::BF16: return cast_from<BFloat16>(src, dst);
    case DType::I32: return cast_from<int32_t>(src, dst);
    case DType::I64: return cast_from<int64_t>(src, dst);
    case DType::U8: return cast_from<uint8_t>(src, dst);
  }
}

}  // namespace sc::cpu
