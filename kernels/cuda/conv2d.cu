// Hand-written conv2d as an implicit GEMM per group: M = output channels of the group, N = batch × output
// pixels, K = input channels of the group × kernel taps. The im2col matrix is never stored: B(k, n) reads x.
// The input gradient is the same tile product transposed: M = input channels of the group, N = batch × input
// pixels, K = output channels of the group × taps; B(k, n) reads the dy entry whose window put that tap on
// the input pixel, or 0 where the stride skips it. The weight gradient is a third tile product: M = output
// channels of the group, N = input channels of the group × taps, K = batch × output pixels. K is long and M,
// N small, so K is split over blocks (blockIdx.z = group × splits + split), each writing a partial product,
// and a second kernel sums the partials in split order (no atomics: the same sums every run).
#include "kernels/conv2d.h"
#include "kernels/cuda/gemm_tile.cuh"

namespace sc::cuda {

namespace {
struct ConvGeometry {
  int C, H, W, Cg, Og, KH, KW, Ho, Wo, sh, sw, ph, pw, dh, dw;
};

struct LoadWeight {
  const float* w;
  int Og, K;
  __device__ float operator()(int g, int m, int k) const { return w[(static_cast<long long>(g) * Og + m) * K + k]; }
};

struct LoadIm2col {
  const float* x;
  ConvGeometry c;
  __device__ float operator()(int g, int k, int n) const {
    const int s = k % c.KW, r = (k / c.KW) % c.KH, ci = k / (c.KW * c.KH);
    const int ow = n % c.Wo, oh = (n / c.Wo) % c.Ho, b = n / (c.Wo * c.Ho);
    const int ih = oh * c.sh - c.ph + r * c.dh, iw = ow * c.sw - c.pw + s * c.dw;
    if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) return 0.0f;
    return x[((static_cast<long long>(b) * c.C + g * c.Cg + ci) * c.H + ih) * c.W + iw];
  }
};

struct StoreConv {
  float* y;
  const float* bias;
  int O, Og, P;  // P = Ho·Wo
  __device__ void operator()(int g, int m, int n, float v) const {
    const int o = g * Og + m, b = n / P, pix = n % P;
    y[(static_cast<long long>(b) * O + o) * P + pix] = v + (bias ? bias[o] : 0.0f);
  }
};
struct LoadWeightTransposed {  // A(g, c, k = (o, r, s)) = w[g·Og + o, c, r, s]
  const float* w;
  int Cg, Og, taps;
  __device__ float operator()(int g, int m, int k) const {
    const int o = k / taps, t = k % taps;
    return w[((static_cast<long long>(g) * Og + o) * Cg + m) * taps + t];
  }
};

struct LoadOutputGradient {  // B(g, (o, r, s), (b, ih, iw)) = dy[b, g·Og + o, oh, ow] for the window that
                             // reads ih, iw
  const float* dy;
  ConvGeometry c;
  int O;
  __device__ float operator()(int g, int k, int n) const {
    const int s = k % c.KW, r = (k / c.KW) % c.KH, o = k / (c.KW * c.KH);
    const int iw = n % c.W, ih = (n / c.W) % c.H, b = n / (c.W * c.H);
    const int th = ih + c.ph - r * c.dh, tw = iw + c.pw - s * c.dw;
    if (th < 0 || tw < 0 || th % c.sh != 0 || tw % c.sw != 0) return 0.0f;
    const int oh = th / c.sh, ow = tw / c.sw;
    if (oh >= c.Ho || ow >= c.Wo) return 0.0f;
    return dy[((static_cast<long long>(b) * O + g * c.Og + o) * c.Ho + oh) * c.Wo + ow];
  }
};

struct SplitK {
  int splits, chunk, total;  // the reduction [0, total) in `splits` pieces of `chunk`
  __device__ int global(int z, int k) const { return (z % splits) * chunk + k; }
};

struct LoadOutputGradientByPixel {  // A(z, o, k = (b, oh, ow)) = dy[b, g·Og + o, oh, ow]
  const float* dy;
  SplitK split;
  int O, Og, P;
  __device__ float operator()(int z, int m, int k) const {
    const int kg = split.global(z, k), g = z / split.splits;
    if (kg >= split.total) return 0.0f;
    const int b = kg / P, pix = kg % P;
    return dy[(static_cast<long long>(b) * O + g * Og + m) * P + pix];
  }
};

struct LoadIm2colTransposed {  // B(z, k = (b, oh, ow), n = (c, r, s)): the im2col entry of tap n at pixel k
  LoadIm2col im2col;
  SplitK split;
  __device__ float operator()(int z, int k, int n) const {
    const int kg = split.global(z, k);
    return kg < split.total ? im2col(z / split.splits, n, kg) : 0.0f;
  }
};

struct StorePartial {
  float* partial;
  int Og, Kw;
  __device__ void operator()(int z, int m, int n, float v) const {
    partial[(static_cast<long long>(z) * Og + m) * Kw + n] = v;
  }
};

// dw[g, m, n] = Σ_split partial[g·splits + split, m, n], in split order.
__global__ void sum_partials_kernel(const float* partial, float* dw, int splits, int per_group, long long n) {
  SC_GRID_STRIDE_LOOP(i, n) {
    const long long g = i / per_group, j = i % per_group;
    const float* p = partial + g * splits * per_group + j;
    float sum = 0.0f;
    for (int s = 0; s < splits; ++s) sum += p[static_cast<long long>(s) * per_group];
    dw[i] = sum;
  }
}

ConvGeometry conv_geometry(const Tensor& x, const Tensor& w, const Tensor& y, const Conv2dParams& p) {
  ConvGeometry c{};
  c.C = static_cast<int>(x.size(1));
  c.H = static_cast<int>(x.size(2));
  c.W = static_cast<int>(x.size(3));
  c.Cg = c.C / static_cast<int>(p.groups);
  c.Og = static_cast<int>(w.size(0) / p.groups);
  c.KH = static_cast<int>(w.size(2));
  c.KW = static_cast<int>(w.size(3));
  c.Ho = static_cast<int>(y.size(2));
  c.Wo = static_cast<int>(y.size(3));
  c.sh = static_cast<int>(p.stride_h);
  c.sw = static_cast<int>(p.stride_w);
  c.ph = static_cast<int>(p.pad_h);
  c.pw = static_cast<int>(p.pad_w);
  c.dh = static_cast<int>(p.dilation_h);
  c.dw = static_cast<int>(p.dilation_w);
  return c;
}
}  // namespace

void conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, const Conv2dParams& p, Tensor& y) {
  const long long total = y.numel();
  SC_CHECK(total < (1LL << 31) && x.numel() < (1LL << 31),
           "conv2d (CUDA): tensors over 2^31 elements: split the batch");
  const ConvGeometry c = conv_geometry(x, w, y, p);
  const int K = c.Cg * c.KH * c.KW;
  const int N = static_cast<int>(x.size(0)) * c.Ho * c.Wo;
  LoadWeight la{w.data<float>(), c.Og, K};
  LoadIm2col lb{x.data<float>(), c};
  StoreConv st{y.data<float>(), bias.defined() ? bias.data<float>() : nullptr, static_cast<int>(w.size(0)), c.Og,
               c.Ho * c.Wo};
  launch_gemm_tile<false>(c.Og, N, K, static_cast<int>(p.groups), la, lb, st, "conv2d gemm_tile_kernel");
}

void conv2d_backward_input(const Tensor& dy, const Tensor& w, const Conv2dParams& p, Tensor& dx) {
  SC_CHECK(dy.numel() < (1LL << 31) && dx.numel() < (1LL << 31),
           "conv2d_backward_input (CUDA): tensors over 2^31 elements: split the batch");
  const ConvGeometry c = conv_geometry(dx, w, dy, p);
  const int taps = c.KH * c.KW, O = static_cast<int>(w.size(0));
  const int N = static_cast<int>(dx.size(0)) * c.H * c.W;
  LoadWeightTransposed la{w.data<float>(), c.Cg, c.Og, taps};
  LoadOutputGradient lb{dy.data<float>(), c, O};
  StoreConv st{dx.data<float>(), nullptr, c.C, c.Cg, c.H * c.W};
  launch_gemm_tile<false>(c.Cg, N, c.Og * taps, static_cast<int>(p.groups), la, lb, st,
                          "conv2d_backward_input gemm_tile_kernel");
}

void conv2d_backward_weight(const Tensor& x, const Tensor& dy, const Conv2dParams& p, Tensor& dw) {
  SC_CHECK(dy.numel() < (1LL << 31) && x.numel() < (1LL << 31),
           "conv2d_backward_weight (CUDA): tensors over 2^31 elements: split the batch");
  const ConvGeometry c = conv_geometry(x, dw, dy, p);
  const int G = static_cast<int>(p.groups), O = static_cast<int>(dw.size(0)), P = c.Ho * c.Wo;
  const int Kw = c.Cg * c.KH * c.KW, total = static_cast<int>(x.size(0)) * P;
  // Enough splits for ~1024 blocks, each at least 256 reduction steps long.
  const int tiles = ((c.Og + kTileM - 1) / kTileM) * ((Kw + kTileN - 1) / kTileN) * G;
  const int most = std::max(1, std::min((total + 255) / 256, 65535 / G));
  const int wanted = std::clamp((1024 + tiles - 1) / tiles, 1, most);
  const int chunk = ((total + wanted - 1) / wanted + kTileK - 1) / kTileK * kTileK;
  const SplitK split{(total + chunk - 1) / chunk, chunk, total};
  Tensor partial =
      Tensor::empty({static_cast<int64_t>(G) * split.splits * c.Og * Kw}, DType::F32, x.device());
  LoadOutputGradientByPixel la{dy.data<float>(), split, O, c.Og, P};
  LoadIm2colTransposed lb{LoadIm2col{x.data<float>(), c}, split};
  StorePartial st{partial.data<float>(), c.Og, Kw};
  launch_gemm_tile<false>(c.Og, Kw, chunk, G * split.splits, la, lb, st,
                          "conv2d_backward_weight gemm_tile_kernel");
  const long long n = dw.numel();
  SC_LAUNCH(grid_for(n), kThreads, 0, sum_partials_kernel)
  (partial.data<float>(), dw.data<float>(), split.splits, c.Og * Kw, n);
  SC_CUDA_LAUNCH_CHECK("sum_partials_kernel");
}

}  // namespace sc::cuda
