#include "kernels/patch_tokens.h"

#include "kernels/cpu/conv_nhwc.h"
#include "kernels/float_dispatch.h"

namespace sc::cpu {

namespace {
template <typename T>
void patch_tokens_typed(const Tensor& patches, const Tensor& cls, const Tensor& pos, bool channels_last,
                        Tensor& tokens) {
  const int64_t B = patches.size(0), C = tokens.size(2), P = tokens.size(1) - 1;
  const T* x = patches.data<T>();
  const float *cp = cls.data<float>(), *pp = pos.data<float>();
  T* out = tokens.data<T>();
  // The patch value (b, p, c) in either layout.
  const int64_t step_c = channels_last ? 1 : P, step_p = channels_last ? C : 1;
  for (int64_t b = 0; b < B; ++b) {
    T* row = out + b * (P + 1) * C;
    const T* xb = x + b * P * C;
    for (int64_t c = 0; c < C; ++c) row[c] = from_f32<T>(cp[c] + pp[c]);
    for (int64_t p = 0; p < P; ++p)
      for (int64_t c = 0; c < C; ++c)
        row[(1 + p) * C + c] = from_f32<T>(to_f32(xb[c * step_c + p * step_p]) + pp[(1 + p) * C + c]);
  }
}
}  // namespace

void patch_tokens(const Tensor& patches, const Tensor& cls, const Tensor& pos, bool channels_last,
                  Tensor& tokens) {
  visit_float_storage(patches.dtype(), "patch_tokens", [&](auto t) {
    patch_tokens_typed<decltype(t)>(patches, cls, pos, channels_last, tokens);
  });
}

void patch_tokens_backward(const Tensor& dy, Tensor& dpatches, Tensor& dpos) {
  const int64_t B = dy.size(0), T = dy.size(1), C = dy.size(2);
  const float* g = dy.data<float>();
  float *dx = dpatches.data<float>(), *dp = dpos.data<float>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t p = 0; p + 1 < T; ++p) dx[(b * C + c) * (T - 1) + p] = g[(b * T + 1 + p) * C + c];
  for (int64_t i = 0; i < T * C; ++i) {
    double sum = 0;
    for (int64_t b = 0; b < B; ++b) sum += g[b * T * C + i];
    dp[i] = static_cast<float>(sum);
  }
}

}  // namespace sc::cpu
