#include "kernels/pooled_linear.h"

#include <algorithm>
#include <vector>

#include "kernels/argmax_order.h"
#include "kernels/cpu/conv_nhwc.h"
#include "kernels/float_dispatch.h"

namespace sc::cpu {
namespace {

template <typename T>
void pooled_linear_typed(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                         const Tensor& shift, bool prologue_relu, Tensor& logits) {
  const int64_t N = x.size(0), P = x.size(1) * x.size(2), C = x.size(3), K = w.size(0);
  const T* xp = x.data<T>();
  const float* wp = w.data<float>();
  const float* bp = bias.defined() ? bias.data<float>() : nullptr;
  const float* sc = scale.defined() ? scale.data<float>() : nullptr;
  const float* sh = shift.defined() ? shift.data<float>() : nullptr;
  float* out = logits.data<float>();
#pragma omp parallel
  {
    std::vector<float> pooled(static_cast<size_t>(C));
#pragma omp for schedule(static)
    for (int64_t n = 0; n < N; ++n) {
      std::fill(pooled.begin(), pooled.end(), 0.0f);
      for (int64_t i = 0; i < P; ++i) {
        const T* px = xp + (n * P + i) * C;
        for (int64_t c = 0; c < C; ++c) {
          float v = to_f32(px[c]);
          if (sc) v = sc[c] * v + sh[c];
          if (prologue_relu) v = std::max(v, 0.0f);
          pooled[static_cast<size_t>(c)] += v;
        }
      }
      for (float& v : pooled) v /= static_cast<float>(P);
      for (int64_t k = 0; k < K; ++k) {
        float acc = bp ? bp[k] : 0.0f;
        for (int64_t c = 0; c < C; ++c) acc += wp[k * C + c] * pooled[static_cast<size_t>(c)];
        out[n * K + k] = acc;
      }
    }
  }
}

}  // namespace

void pooled_linear(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                   const Tensor& shift, bool prologue_relu, Tensor& logits) {
  visit_float_storage(x.dtype(), "pooled_linear", [&](auto t) {
    pooled_linear_typed<decltype(t)>(x, w, bias, scale, shift, prologue_relu, logits);
  });
}

// The logits of the batch, then each row's label counted: the reference the fused CUDA kernel is checked
// against.
void pooled_linear_vote(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                        const Tensor& shift, bool prologue_relu, const std::vector<RowRun>& runs,
                        Tensor& counts) {
  const int64_t K = w.size(0);
  Tensor logits = Tensor::empty({x.size(0), K});
  pooled_linear(x, w, bias, scale, shift, prologue_relu, logits);
  const float* lp = logits.data<float>();
  int64_t* cp = counts.data<int64_t>();
  int64_t n = 0;
  for (const RowRun& r : runs)
    for (int64_t i = 0; i < r.rows; ++i, ++n) {
      int64_t best = 0;
      for (int64_t k = 1; k < K; ++k)
        if (argmax_better(lp[n * K + k], k, lp[n * K + best], best)) best = k;
      ++cp[r.slot * K + best];
    }
}

}  // namespace sc::cpu
