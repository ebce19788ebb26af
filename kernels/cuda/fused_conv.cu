// fused_conv on CUDA, as an implicit GEMM over NHWC: M = output pixels (rows·Ho·Wo), N = output channels,
// K = KH·KW·C with the channel fastest, so a run of 8 consecutive k is one 16-byte load of one input pixel.
//   - bfloat16/float16 with C % 8 == 0 and O % 8 == 0: tensor cores (mma.sync m16n8k16, float32
//     accumulators), block tiles of BM pixels × BN channels × 32 k through shared memory, the next tile's
//     global loads in flight while the current one is multiplied; the prologue is applied while loading, the
//     epilogue (bias, residual, ReLU) on the accumulators before the single rounded store.
//   - anything else (float32, tf32, odd channel counts): the shared fp32 tile kernel with the same prologue
//     and epilogue as loader/store functors (tf32 rounds both operands as the tensor cores would).
#include <cstdlib>
#include <string>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv_geometry.cuh"
#include "kernels/cuda/gemm_tile.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/fused_conv.h"
#include "kernels/tf32_round.h"

namespace sc::cuda {
namespace {

struct FusedGeom : ConvGeom {
  int Hr, Wr, Cr, rs, roff;  // residual
};

struct Epilogue {
  const float* bias;
  const void* residual;
  bool relu;
};

// bias + residual + ReLU for output pixel m (= (n·Ho + oh)·Wo + ow), channel o.
template <typename T>
__device__ __forceinline__ float epilogue(const FusedGeom& g, const Epilogue& e, int m, int o, float v) {
  if (e.bias) v += e.bias[o];
  if (e.residual && o >= g.roff && o < g.roff + g.Cr) {
    const int ow = m % g.Wo, oh = (m / g.Wo) % g.Ho, n = m / (g.Wo * g.Ho);
    const long long idx =
        ((static_cast<long long>(n) * g.Hr + oh * g.rs) * g.Wr + ow * g.rs) * g.Cr + (o - g.roff);
    v += load_f32(static_cast<const T*>(e.residual) + idx);
  }
  return e.relu && v < 0.0f ? 0.0f : v;  // NaN passes, as on the CPU
}

// ---- generic path: the fp32 tile kernel with functors ----

template <typename T>
struct LoadPixels {  // A(m, k): the transformed input of output pixel m at tap/channel k
  const T* x;
  const float *scale, *shift;
  bool pro_relu, tf32;
  ConvGeom g;
  __device__ float operator()(int, int m, int k) const {
    const int c = k % g.C, tap = k / g.C, s = tap % g.KW, r = tap / g.KW;
    const int ow = m % g.Wo, oh = (m / g.Wo) % g.Ho, n = m / (g.Wo * g.Ho);
    const int ih = oh * g.sh - g.ph + r, iw = ow * g.sw - g.pw + s;
    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return 0.0f;
    float v = load_f32(x + ((static_cast<long long>(n) * g.H + ih) * g.W + iw) * g.C + c);
    if (scale) v = scale[c] * v + shift[c];
    if (pro_relu && v < 0.0f) v = 0.0f;
    return tf32 ? round_tf32(v) : v;
  }
};

template <typename T>
struct LoadWeights {  // B(k, o) = w[o, k]
  const T* w;
  int K;
  bool tf32;
  __device__ float operator()(int, int k, int o) const {
    const float v = load_f32(w + static_cast<long long>(o) * K + k);
    return tf32 ? round_tf32(v) : v;
  }
};

template <typename T>
struct StoreOutput {
  T* y;
  FusedGeom g;
  Epilogue e;
  __device__ void operator()(int, int m, int o, float v) const {
    store_f32(y + static_cast<long long>(m) * g.O + o, epilogue<T>(g, e, m, o, v));
  }
};

template <typename T>
void run_tile(const Tensor& x, const Tensor& w, const float* scale, const float* shift,
              const FusedConvParams& p, const FusedGeom& g, const Epilogue& e, Tensor& y) {
  const int M = g.N * g.Ho * g.Wo;
  LoadPixels<T> la{x.data<T>(), scale, shift, p.prologue_relu, p.tf32, g};
  LoadWeights<T> lb{w.data<T>(), g.K(), p.tf32};
  StoreOutput<T> st{y.data<T>(), g, e};
  launch_gemm_tile<true>(M, g.O, g.K(), 1, la, lb, st, "fused_conv gemm_tile_kernel");
}

// ---- tensor-core path ----

constexpr int kBK = 32, kPad = 8, kMmaThreads = 128;  // 4 warps

// One 16-byte run of 8 consecutive k (channels) of one input pixel, with the prologue applied.
template <typename T>
__device__ __forceinline__ uint4 load_run(const T* x, const ConvGeom& g, long long pixel_base, int ih0,
                                          int iw0, bool row_ok, int k, const float* scale, const float* shift,
                                          bool pro_relu) {
  uint4 v = make_uint4(0, 0, 0, 0);
  const int K = g.K();
  if (!row_ok || k >= K) return v;
  const int tap = k / g.C, c = k - tap * g.C, r = tap / g.KW, s = tap - r * g.KW;
  const int ih = ih0 + r, iw = iw0 + s;
  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return v;
  v = *reinterpret_cast<const uint4*>(x + pixel_base + (static_cast<long long>(ih) * g.W + iw) * g.C + c);
  if (scale) {
    uint16_t* h = reinterpret_cast<uint16_t*>(&v);
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      float f = scale[c + i] * Half16<T>::to_float(h[i]) + shift[c + i];
      if (pro_relu && f < 0.0f) f = 0.0f;
      h[i] = Half16<T>::from_float(f);
    }
  }
  return v;
}

template <typename T, int BM, int BN, int WARPS_M, int WARPS_N>
__global__ void __launch_bounds__(kMmaThreads)
    conv_mma_kernel(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y, FusedGeom g,
                    Epilogue e, const float* __restrict__ scale, const float* __restrict__ shift,
                    bool pro_relu) {
  static_assert(WARPS_M * WARPS_N * 32 == kMmaThreads, "4 warps");
  constexpr int WM = BM / WARPS_M, WN = BN / WARPS_N, MI = WM / 16, NI = WN / 8;
  constexpr int A_RUNS = BM * (kBK / 8) / kMmaThreads;  // 16-byte runs per thread
  constexpr int B_RUNS = (BN * (kBK / 8) + kMmaThreads - 1) / kMmaThreads;
  __shared__ __align__(16)
      uint16_t As[BM][kBK + kPad];  // row stride 80 bytes: fragment loads avoid conflicts
  __shared__ __align__(16) uint16_t Bs[BN][kBK + kPad];

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int wm = warp / WARPS_N, wn = warp % WARPS_N, grp = lane / 4, tig = lane % 4;
  const long long M = static_cast<long long>(g.N) * g.Ho * g.Wo;
  const long long m0 = static_cast<long long>(blockIdx.x) * BM;
  const int n0 = blockIdx.y * BN, K = g.K();

  // The A rows this thread loads: row = tid/4 + i·32, always at run tid%4 of the k tile.
  long long pix_base[A_RUNS];
  int ih0[A_RUNS], iw0[A_RUNS];
  bool row_ok[A_RUNS];
#pragma unroll
  for (int i = 0; i < A_RUNS; ++i) {
    const long long m = m0 + tid / 4 + i * (kMmaThreads / 4);
    row_ok[i] = m < M;
    const int mm = row_ok[i] ? static_cast<int>(m) : 0;
    const int ow = mm % g.Wo, oh = (mm / g.Wo) % g.Ho, n = mm / (g.Wo * g.Ho);
    pix_base[i] = static_cast<long long>(n) * g.H * g.W * g.C;
    ih0[i] = oh * g.sh - g.ph;
    iw0[i] = ow * g.sw - g.pw;
  }
  const int run = tid % 4;

  uint4 a_reg[A_RUNS], b_reg[B_RUNS];
  auto load_tile = [&](int k0) {
#pragma unroll
    for (int i = 0; i < A_RUNS; ++i)
      a_reg[i] =
          load_run<T>(x, g, pix_base[i], ih0[i], iw0[i], row_ok[i], k0 + run * 8, scale, shift, pro_relu);
#pragma unroll
    for (int i = 0; i < B_RUNS; ++i) {
      const int id = tid + i * kMmaThreads, o = n0 + id / 4, k = k0 + (id % 4) * 8;
      b_reg[i] = make_uint4(0, 0, 0, 0);
      if (id < BN * 4 && o < g.O && k < K)
        b_reg[i] = *reinterpret_cast<const uint4*>(w + static_cast<long long>(o) * K + k);
    }
  };
  auto store_tile = [&]() {
#pragma unroll
    for (int i = 0; i < A_RUNS; ++i)
      *reinterpret_cast<uint4*>(&As[tid / 4 + i * (kMmaThreads / 4)][run * 8]) = a_reg[i];
#pragma unroll
    for (int i = 0; i < B_RUNS; ++i) {
      const int id = tid + i * kMmaThreads;
      if (id < BN * 4) *reinterpret_cast<uint4*>(&Bs[id / 4][(id % 4) * 8]) = b_reg[i];
    }
  };

  float acc[MI][NI][4];
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.0f;

  load_tile(0);
  store_tile();
  __syncthreads();
  for (int k0 = 0; k0 < K; k0 += kBK) {
    const bool more = k0 + kBK < K;
    if (more) load_tile(k0 + kBK);  // global loads in flight while this tile is multiplied
#pragma unroll
    for (int kk = 0; kk < kBK; kk += 16) {
      uint32_t af[MI][4], bf[NI][2];
#pragma unroll
      for (int i = 0; i < MI; ++i) {
        const int r = wm * WM + i * 16 + grp;
        af[i][0] = *reinterpret_cast<const uint32_t*>(&As[r][kk + 2 * tig]);
        af[i][1] = *reinterpret_cast<const uint32_t*>(&As[r + 8][kk + 2 * tig]);
        af[i][2] = *reinterpret_cast<const uint32_t*>(&As[r][kk + 2 * tig + 8]);
        af[i][3] = *reinterpret_cast<const uint32_t*>(&As[r + 8][kk + 2 * tig + 8]);
      }
#pragma unroll
      for (int j = 0; j < NI; ++j) {
        const int c = wn * WN + j * 8 + grp;
        bf[j][0] = *reinterpret_cast<const uint32_t*>(&Bs[c][kk + 2 * tig]);
        bf[j][1] = *reinterpret_cast<const uint32_t*>(&Bs[c][kk + 2 * tig + 8]);
      }
#pragma unroll
      for (int i = 0; i < MI; ++i)
#pragma unroll
        for (int j = 0; j < NI; ++j) Half16<T>::mma(acc[i][j], af[i], bf[j]);
    }
    __syncthreads();
    if (more) {
      store_tile();
      __syncthreads();
    }
  }

  // Accumulator (i, j, q): row grp (+8 for q ≥ 2), columns 2·tig and 2·tig + 1.
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const long long m = m0 + wm * WM + i * 16 + grp + half * 8;
        const int o = n0 + wn * WN + j * 8 + 2 * tig;
        if (m >= M || o >= g.O) continue;
        const float v0 = epilogue<T>(g, e, static_cast<int>(m), o, acc[i][j][2 * half]);
        const float v1 = epilogue<T>(g, e, static_cast<int>(m), o + 1, acc[i][j][2 * half + 1]);
        const uint32_t packed = static_cast<uint32_t>(Half16<T>::from_float(v0)) |
                                (static_cast<uint32_t>(Half16<T>::from_float(v1)) << 16);
        *reinterpret_cast<uint32_t*>(y + m * g.O + o) = packed;  // O % 8 == 0: o even, 4-byte aligned
      }
}

template <typename T, int BM, int BN, int WARPS_M, int WARPS_N>
void launch_mma(const Tensor& x, const Tensor& w, const float* scale, const float* shift, bool pro_relu,
                const FusedGeom& g, const Epilogue& e, Tensor& y) {
  const long long M = static_cast<long long>(g.N) * g.Ho * g.Wo;
  const dim3 grid(static_cast<unsigned>((M + BM - 1) / BM), static_cast<unsigned>((g.O + BN - 1) / BN));
  SC_CHECK(grid.y <= 65535, "fused_conv: too many output channels");
  SC_LAUNCH(grid, kMmaThreads, 0, conv_mma_kernel<T, BM, BN, WARPS_M, WARPS_N>)(
      x.data<T>(), w.data<T>(), y.data<T>(), g, e, scale, shift, pro_relu);
  SC_CUDA_LAUNCH_CHECK("conv_mma_kernel");
}

// SMOOTHCUDA_WIDE_TILES=0 keeps 128×64 blocks at every width: 128×128 blocks take 250 registers per thread
// (2 blocks per SM) against 164 (3 blocks), so which is faster is for a device to say (scripts/gpu-check.sh
// times both).
bool wide_tiles() {
  static const bool on = [] {
    const char* v = std::getenv("SMOOTHCUDA_WIDE_TILES");
    return v == nullptr || std::string(v) != "0";
  }();
  return on;
}

// Tile shapes by output width: narrow layers (16 or 32 channels, CIFAR ResNets) waste no tensor work on
// padding columns; widths that are multiples of 128 (the UNet's 128 and 256, ResNet-50's stages) take 128×128
// blocks of 64×64 warp tiles, which read a third fewer shared-memory bytes per multiply-add than 64×32.
template <typename T>
void run_mma(const Tensor& x, const Tensor& w, const float* scale, const float* shift, bool pro_relu,
             const FusedGeom& g, const Epilogue& e, Tensor& y) {
  if (g.O <= 16) return launch_mma<T, 128, 16, 4, 1>(x, w, scale, shift, pro_relu, g, e, y);
  if (g.O <= 32) return launch_mma<T, 128, 32, 4, 1>(x, w, scale, shift, pro_relu, g, e, y);
  if (g.O % 128 == 0 && wide_tiles()) return launch_mma<T, 128, 128, 2, 2>(x, w, scale, shift, pro_relu, g, e, y);
  launch_mma<T, 128, 64, 2, 2>(x, w, scale, shift, pro_relu, g, e, y);
}

}  // namespace

void fused_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                const Tensor& shift, const Tensor& residual, const FusedConvParams& p, Tensor& y) {
  FusedGeom g{};
  fill_conv_geometry(g, x.size(0), x.size(1), x.size(2), x.size(3), w, y, p);
  if (residual.defined()) {
    g.Hr = static_cast<int>(residual.size(1));
    g.Wr = static_cast<int>(residual.size(2));
    g.Cr = static_cast<int>(residual.size(3));
    g.rs = static_cast<int>(p.residual_stride);
    g.roff = static_cast<int>(p.residual_channel_offset);
  }
  const Epilogue e{bias.defined() ? bias.data<float>() : nullptr,
                   residual.defined() ? residual.raw_data() : nullptr, p.relu};
  const float* sc = scale.defined() ? scale.data<float>() : nullptr;
  const float* sh = shift.defined() ? shift.data<float>() : nullptr;
  const auto aligned = [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()) % 16 == 0; };
  const bool tensor_cores = g.C % 8 == 0 && g.O % 8 == 0 && aligned(x) && aligned(w) && aligned(y);
  switch (x.dtype()) {
    case DType::F32:
      return run_tile<float>(x, w, sc, sh, p, g, e, y);
    case DType::BF16:
      if (tensor_cores) return run_mma<BFloat16>(x, w, sc, sh, p.prologue_relu, g, e, y);
      return run_tile<BFloat16>(x, w, sc, sh, p, g, e, y);
    case DType::F16:
      if (tensor_cores) return run_mma<Half>(x, w, sc, sh, p.prologue_relu, g, e, y);
      return run_tile<Half>(x, w, sc, sh, p, g, e, y);
    default:
      SC_FAIL("fused_conv: unsupported dtype ", dtype_name(x.dtype()));
  }
}

}  // namespace sc::cuda
