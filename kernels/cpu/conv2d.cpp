// CPU convolution: for each image and group, unfold the input into columns (im2col: one row per
// (channel, kernel tap), one column per output pixel), then one matrix product with the weights.
#include "kernels/conv2d.h"

#include <vector>

#include "kernels/cpu/gemm.h"

namespace sc::cpu {

void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, Tensor& y) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), KH = w.size(2), KW = w.size(3);
  const int64_t Ho = y.size(2), Wo = y.size(3), G = p.groups;
  const int64_t Cg = C / G, Og = O / G, K = Cg * KH * KW, P = Ho * Wo;
  const float* xp = x.data<float>();
  const float* wp = w.data<float>();
  const float* bp = bias.defined() ? bias.data<float>() : nullptr;
  float* yp = y.data<float>();

#pragma omp parallel
  {
    std::vector<float> col(static_cast<size_t>(K * P));
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t g = 0; g < G; ++g) {
        for (int64_t c = 0; c < Cg; ++c) {
          const float* xc = xp + ((n * C) + g * Cg + c) * H * W;
          for (int64_t r = 0; r < KH; ++r) {
            for (int64_t s = 0; s < KW; ++s) {
              float* row = col.data() + ((c * KH + r) * KW + s) * P;
              for (int64_t oh = 0; oh < Ho; ++oh) {
                const int64_t ih = oh * p.stride_h - p.pad_h + r * p.dilation_h;
                for (int64_t ow = 0; ow < Wo; ++ow) {
                  const int64_t iw = ow * p.stride_w - p.pad_w + s * p.dilation_w;
                  row[oh * Wo + ow] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? xc[ih * W + iw] : 0.0f;
                }
              }
            }
          }
        }
        float* yg = yp + (n * O + g * Og) * P;
        sgemm(Og, P, K, wp + g * Og * K, K, col.data(), P, yg, P, false);
        if (bp)
          for (int64_t o = 0; o < Og; ++o)
            for (int64_t i = 0; i < P; ++i) yg[o * P + i] += bp[g * Og + o];
      }
    }
  }
}

}  // namespace sc::cpu
