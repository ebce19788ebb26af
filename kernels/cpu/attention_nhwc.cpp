#include "kernels/attention_nhwc.h"

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernels/cpu/conv_nhwc.h"
#include "kernels/float_dispatch.h"

namespace sc::cpu {
namespace {

// Per (sample, head): its queries, keys and values copied to float rows [T, d] first, so that the dot
// products and the weighted sums of values run over contiguous channels (vectorized); sums in double.
template <typename T>
void attention_nhwc_typed(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias, Tensor& out) {
  const int64_t N = qkv.size(0), T_ = qkv.size(1), C = qkv.size(2) / 3, d = C / heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  const T* in = qkv.data<T>();
  T* op = out.data<T>();
  const float* table = bias.table.defined() ? bias.table.data<float>() : nullptr;
#pragma omp parallel for collapse(2) schedule(dynamic)
  for (int64_t n = 0; n < N; ++n)
    for (int64_t h = 0; h < heads; ++h) {
      const T* base = in + n * T_ * 3 * C + h * 3 * d;  // q of position t at base + t·3C, then k, v
      std::vector<float> q(static_cast<size_t>(T_ * d)), k(q.size()), v(q.size());
      for (int64_t t = 0; t < T_; ++t)
        for (int64_t j = 0; j < d; ++j) {
          const size_t i = static_cast<size_t>(t * d + j);
          q[i] = to_f32(base[t * 3 * C + j]);
          k[i] = to_f32(base[t * 3 * C + d + j]);
          v[i] = to_f32(base[t * 3 * C + 2 * d + j]);
        }
      std::vector<double> w(static_cast<size_t>(T_)), o(static_cast<size_t>(d));
      for (int64_t t = 0; t < T_; ++t) {
        const float* qt = q.data() + t * d;
        double m = -INFINITY;
        for (int64_t s = 0; s < T_; ++s) {
          const float* ks = k.data() + s * d;
          double acc = 0;
#pragma omp simd reduction(+ : acc)
          for (int64_t j = 0; j < d; ++j) acc += static_cast<double>(qt[j]) * ks[j];
          w[static_cast<size_t>(s)] = acc * scale;
          if (table)
            w[static_cast<size_t>(s)] +=
                table[relative_position_index(t, s, bias.grid_h, bias.grid_w) * heads + h];
          m = std::max(m, w[static_cast<size_t>(s)]);
        }
        double sum = 0;
        for (auto& x : w) {
          x = std::exp(x - m);
          if constexpr (!std::is_same_v<T, float>) x = to_f32(from_f32<T>(static_cast<float>(x)));
          sum += x;
        }
        std::fill(o.begin(), o.end(), 0.0);
        for (int64_t s = 0; s < T_; ++s) {
          const double ws = w[static_cast<size_t>(s)];
          const float* vs = v.data() + s * d;
#pragma omp simd
          for (int64_t j = 0; j < d; ++j) o[static_cast<size_t>(j)] += ws * vs[j];
        }
        for (int64_t j = 0; j < d; ++j)
          op[(n * T_ + t) * C + h * d + j] = from_f32<T>(static_cast<float>(o[static_cast<size_t>(j)] / sum));
      }
    }
}

}  // namespace

void attention_nhwc(const Tensor& qkv, int64_t heads, const RelativePositionBias& bias, Tensor& out) {
  visit_float_storage(qkv.dtype(), "attention_nhwc",
                      [&](auto t) { attention_nhwc_typed<decltype(t)>(qkv, heads, bias, out); });
}

}  // namespace sc::cpu
