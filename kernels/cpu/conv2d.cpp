// CPU convolution: for each image and group, unfold the input into columns (im2col: one row per
// (channel, kernel tap), one column per output pixel), then one matrix product with the weights. The input
// gradient runs the other way: the transposed weights times dy give the columns, which fold back (col2im) by
// adding each column entry into the input pixel it was read from. The weight gradient is dy times the columns
// transposed, summed over the images: per chunk of images in float, the chunks then in double, in a fixed
// order, so that the result does not depend on the number of threads.
#include "kernels/conv2d.h"

#include <algorithm>
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

void conv2d_backward_input(const Tensor& dy, const Tensor& w, const Conv2dParams& p, Tensor& dx) {
  const int64_t N = dx.size(0), C = dx.size(1), H = dx.size(2), W = dx.size(3);
  const int64_t O = w.size(0), KH = w.size(2), KW = w.size(3);
  const int64_t Ho = dy.size(2), Wo = dy.size(3), G = p.groups;
  const int64_t Cg = C / G, Og = O / G, K = Cg * KH * KW, P = Ho * Wo;
  // wt[g] = (w's group g as [Og, K])ᵀ, so that the columns are one row-major product.
  std::vector<float> wt(static_cast<size_t>(G * K * Og));
  const float* wp = w.data<float>();
  for (int64_t g = 0; g < G; ++g)
    for (int64_t o = 0; o < Og; ++o)
      for (int64_t k = 0; k < K; ++k) wt[(g * K + k) * Og + o] = wp[(g * Og + o) * K + k];
  const float* dyp = dy.data<float>();
  float* dxp = dx.data<float>();

#pragma omp parallel
  {
    std::vector<float> col(static_cast<size_t>(K * P));
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t g = 0; g < G; ++g) {
        sgemm(K, P, Og, wt.data() + g * K * Og, Og, dyp + (n * O + g * Og) * P, P, col.data(), P, false);
        for (int64_t c = 0; c < Cg; ++c) {
          float* dxc = dxp + ((n * C) + g * Cg + c) * H * W;
          std::fill(dxc, dxc + H * W, 0.0f);
          for (int64_t r = 0; r < KH; ++r) {
            for (int64_t s = 0; s < KW; ++s) {
              const float* row = col.data() + ((c * KH + r) * KW + s) * P;
              for (int64_t oh = 0; oh < Ho; ++oh) {
                const int64_t ih = oh * p.stride_h - p.pad_h + r * p.dilation_h;
                if (ih < 0 || ih >= H) continue;
                for (int64_t ow = 0; ow < Wo; ++ow) {
                  const int64_t iw = ow * p.stride_w - p.pad_w + s * p.dilation_w;
                  if (iw >= 0 && iw < W) dxc[ih * W + iw] += row[oh * Wo + ow];
                }
              }
            }
          }
        }
      }
    }
  }
}

void conv2d_backward_weight(const Tensor& x, const Tensor& dy, const Conv2dParams& p, Tensor& dw) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = dw.size(0), KH = dw.size(2), KW = dw.size(3);
  const int64_t Ho = dy.size(2), Wo = dy.size(3), G = p.groups;
  const int64_t Cg = C / G, Og = O / G, K = Cg * KH * KW, P = Ho * Wo;
  constexpr int64_t kImagesPerChunk = 4;
  const int64_t chunks = (N + kImagesPerChunk - 1) / kImagesPerChunk;
  std::vector<float> partial(static_cast<size_t>(chunks * O * K));
  const float* xp = x.data<float>();
  const float* dyp = dy.data<float>();

#pragma omp parallel
  {
    std::vector<float> colt(static_cast<size_t>(P * K));  // [output pixel][(c, r, s)]
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      for (int64_t g = 0; g < G; ++g) {
        float* out = partial.data() + (chunk * O + g * Og) * K;
        const int64_t first = chunk * kImagesPerChunk, last = std::min(N, first + kImagesPerChunk);
        for (int64_t n = first; n < last; ++n) {
          for (int64_t c = 0; c < Cg; ++c) {
            const float* xc = xp + ((n * C) + g * Cg + c) * H * W;
            for (int64_t r = 0; r < KH; ++r)
              for (int64_t s = 0; s < KW; ++s) {
                const int64_t k = (c * KH + r) * KW + s;
                for (int64_t oh = 0; oh < Ho; ++oh) {
                  const int64_t ih = oh * p.stride_h - p.pad_h + r * p.dilation_h;
                  for (int64_t ow = 0; ow < Wo; ++ow) {
                    const int64_t iw = ow * p.stride_w - p.pad_w + s * p.dilation_w;
                    colt[(oh * Wo + ow) * K + k] =
                        (ih >= 0 && ih < H && iw >= 0 && iw < W) ? xc[ih * W + iw] : 0.0f;
                  }
                }
              }
          }
          sgemm(Og, K, P, dyp + (n * O + g * Og) * P, P, colt.data(), K, out, K, n > first);
        }
      }
    }
  }
  float* dwp = dw.data<float>();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < O * K; ++i) {
    double sum = 0.0;
    for (int64_t chunk = 0; chunk < chunks; ++chunk) sum += partial[chunk * O * K + i];
    dwp[i] = static_cast<float>(sum);
  }
}

}  // namespace sc::cpu
