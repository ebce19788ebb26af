#include "kernels/patch_tokens.h"

namespace sc::cpu {

void patch_tokens(const Tensor& patches, const Tensor& cls, const Tensor& pos, Tensor& tokens) {
  const int64_t B = patches.size(0), C = patches.size(1), P = patches.size(2);
  const float *x = patches.data<float>(), *cp = cls.data<float>(), *pp = pos.data<float>();
  float* out = tokens.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    float* row = out + b * (P + 1) * C;
    for (int64_t c = 0; c < C; ++c) row[c] = cp[c] + pp[c];
    for (int64_t p = 0; p < P; ++p)
      for (int64_t c = 0; c < C; ++c) row[(1 + p) * C + c] = x[(b * C + c) * P + p] + pp[(1 + p) * C + c];
  }
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
