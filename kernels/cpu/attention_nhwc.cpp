#include "kernels/attention_nhwc.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/cpu/conv_nhwc.h"
#include "kernels/float_dispatch.h"

namespace sc::cpu {
namespace {

template <typename T>
void attention_nhwc_typed(const Tensor& qkv, int64_t heads, Tensor& out) {
  const int64_t N = qkv.size(0), T_ = qkv.size(1), C = qkv.size(2) / 3, d = C / heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  const T* in = qkv.data<T>();
  T* op = out.data<T>();
#pragma omp parallel for collapse(2) schedule(dynamic)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < heads; ++h) {
      const T* base = in + n * T_ * 3 * C + h * 3 * d;  // q of position t at base + t·3C
      std::vector<double> w(static_cast<size_t>(T_));
      for (int64_t t = 0; t < T_; ++t) {
        double m = -INFINITY;
        for (int64_t s = 0; s < T_; ++s) {
          double acc = 0;
          for (int64_t j = 0; j < d; ++j)
            acc += static_cast<double>(to_f32(base[t * 3 * C + j])) * to_f32(base[s * 3 * C + d + j]);
          w[static_cast<size_t>(s)] = acc * scale;
          m = std::max(m, w[static_cast<size_t>(s)]);
        }
        double sum = 0;
        for (auto& x : w) {
          x = std::exp(x - m);
          if constexpr (!std::is_same_v<T, float>) x = to_f32(from_f32<T>(static_cast<float>(x)));
          sum += x;
        }
        for (int64_t j = 0; j < d; ++j) {
          double acc = 0;
          for (int64_t s = 0; s < T_; ++s)
            acc += w[static_cast<size_t>(s)] * to_f32(base[s * 3 * C + 2 * d + j]);
          op[(n * T_ + t) * C + h * d + j] = from_f32<T>(static_cast<float>(acc / sum));
        }
      }
    }
}

}  // namespace

void attention_nhwc(const Tensor& qkv, int64_t heads, Tensor& out) {
  visit_float_storage(qkv.dtype(), "attention_nhwc",
                      [&](auto t) { attention_nhwc_typed<decltype(t)>(qkv, heads, out); });
}

}  // namespace sc::cpu
