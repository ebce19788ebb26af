// CPU convolution: for each image and group, unfold the input into columns (im2col: one row per
// (channel, kernel tap), one column per output pixel), then one matrix product with the weights. The input
// gradient runs the other way: the transposed weights times dy give the columns, which fold back (col2im) by
// adding each column entry into the input pixel it was read from. The weight gradient is dy times the columns
// transposed (computed as its transpose, the columns times dyᵀ), summed over the images: per chunk of images
// in float, the chunks then in double, in a fixed order, so that the result does not depend on the number of
// threads.
#include "kernels/conv2d.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/row_runs.h"

namespace sc::cpu {

namespace {

// One channel group of one image and the convolution's geometry.
struct Geometry {
  int64_t H, W, Cg, KH, KW, Ho, Wo;
  const Conv2dParams& p;
  int64_t P() const { return Ho * Wo; }
};

// Calls f(c, row, ih, lo, hi, offset) for every (channel c, kernel tap, output row) of the columns: row is
// the output row's Wo entries in col's row (c·KH + r)·KW + s, ih the input row it reads (or −1 in the
// padding), [lo, hi) its entries inside the image, each ow reading input column ow·sw + offset. In (c, r, s,
// oh) order, the order of the loops of a plain im2col.
template <typename Float, typename F>
void each_column_row(const Geometry& g, Float* col, F f) {
  const Conv2dParams& p = g.p;
  for (int64_t c = 0; c < g.Cg; ++c)
    for (int64_t r = 0; r < g.KH; ++r)
      for (int64_t s = 0; s < g.KW; ++s) {
        Float* row = col + ((c * g.KH + r) * g.KW + s) * g.P();
        const int64_t offset = s * p.dilation_w - p.pad_w;
        int64_t lo = 0, hi = 0;
        inside_columns(g.W, g.Wo, p.stride_w, offset, lo, hi);
        for (int64_t oh = 0; oh < g.Ho; ++oh, row += g.Wo) {
          const int64_t ih = oh * p.stride_h - p.pad_h + r * p.dilation_h;
          f(c, row, ih >= 0 && ih < g.H ? ih : -1, lo, hi, offset);
        }
      }
}

// im2col: col[(c·KH + r)·KW + s][oh·Wo + ow] = x[c, ih, iw] inside the image, 0 in the padding. The inside
// runs are copies (contiguous at stride 1), so that no element tests its own bounds.
void unfold(const float* __restrict x, const Geometry& g, float* __restrict col) {
  const int64_t sw = g.p.stride_w;
  each_column_row(g, col, [&](int64_t c, float* row, int64_t ih, int64_t lo, int64_t hi, int64_t offset) {
    if (ih < 0) return std::fill(row, row + g.Wo, 0.0f);
    const float* in = x + (c * g.H + ih) * g.W;
    std::fill(row, row + lo, 0.0f);
    if (sw == 1)
      copy_floats(row + lo, in + lo + offset, hi - lo);
    else
      for (int64_t ow = lo; ow < hi; ++ow) row[ow] = in[ow * sw + offset];
    std::fill(row + hi, row + g.Wo, 0.0f);
  });
}

// col2im: dx[c, ih, iw] += each column entry read from it, in the unfold's order. dx must start at zero.
void fold(const float* __restrict col, const Geometry& g, float* __restrict dx) {
  const int64_t sw = g.p.stride_w;
  each_column_row(g, col,
                  [&](int64_t c, const float* row, int64_t ih, int64_t lo, int64_t hi, int64_t offset) {
                    if (ih < 0) return;
                    float* __restrict out = dx + (c * g.H + ih) * g.W;
                    if (sw == 1)
                      for (int64_t ow = lo; ow < hi; ++ow) out[ow + offset] += row[ow];
                    else
                      for (int64_t ow = lo; ow < hi; ++ow) out[ow * sw + offset] += row[ow];
                  });
}

}  // namespace

void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, Tensor& y) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), KH = w.size(2), KW = w.size(3);
  const int64_t Ho = y.size(2), Wo = y.size(3), G = p.groups;
  const int64_t Cg = C / G, Og = O / G, K = Cg * KH * KW, P = Ho * Wo;
  const Geometry geo{H, W, Cg, KH, KW, Ho, Wo, p};
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
        unfold(xp + (n * C + g * Cg) * H * W, geo, col.data());
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
  const Geometry geo{H, W, Cg, KH, KW, Ho, Wo, p};
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
        float* dxg = dxp + (n * C + g * Cg) * H * W;
        std::fill(dxg, dxg + Cg * H * W, 0.0f);
        fold(col.data(), geo, dxg);
      }
    }
  }
}

void conv2d_backward_weight(const Tensor& x, const Tensor& dy, const Conv2dParams& p, Tensor& dw) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = dw.size(0), KH = dw.size(2), KW = dw.size(3);
  const int64_t Ho = dy.size(2), Wo = dy.size(3), G = p.groups;
  const int64_t Cg = C / G, Og = O / G, K = Cg * KH * KW, P = Ho * Wo;
  const Geometry geo{H, W, Cg, KH, KW, Ho, Wo, p};
  constexpr int64_t kImagesPerChunk = 4;
  const int64_t chunks = (N + kImagesPerChunk - 1) / kImagesPerChunk;
  std::vector<float> partial(static_cast<size_t>(chunks * O * K));
  const float* xp = x.data<float>();
  const float* dyp = dy.data<float>();

#pragma omp parallel
  {
    // The chunk's gradient transposed, dwᵀ[k][o] = Σ_pixels col[k][pixel] · dyᵀ[pixel][o]: the columns come
    // from the forward's im2col and only dy (as small as the output) is transposed. Each element is the same
    // products summed in the same pixel order as dy · colᵀ would give.
    std::vector<float> col(static_cast<size_t>(K * P)), dyt(static_cast<size_t>(P * Og)),
        dwt(static_cast<size_t>(K * Og));
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t chunk = 0; chunk < chunks; ++chunk) {
      for (int64_t g = 0; g < G; ++g) {
        const int64_t first = chunk * kImagesPerChunk, last = std::min(N, first + kImagesPerChunk);
        for (int64_t n = first; n < last; ++n) {
          unfold(xp + (n * C + g * Cg) * H * W, geo, col.data());
          const float* dyg = dyp + (n * O + g * Og) * P;
          for (int64_t o = 0; o < Og; ++o)
            for (int64_t i = 0; i < P; ++i) dyt[static_cast<size_t>(i * Og + o)] = dyg[o * P + i];
          sgemm(K, Og, P, col.data(), P, dyt.data(), Og, dwt.data(), Og, n > first);
        }
        float* out = partial.data() + (chunk * O + g * Og) * K;
        for (int64_t o = 0; o < Og; ++o)
          for (int64_t k = 0; k < K; ++k) out[o * K + k] = dwt[static_cast<size_t>(k * Og + o)];
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
