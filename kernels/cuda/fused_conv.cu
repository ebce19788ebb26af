// fused_conv on CUDA, as an implicit GEMM over NHWC: M = output pixels (rows·Ho·Wo), N = output channels,
// K = KH·KW·C with the channel fastest, so a run of 8 consecutive k is one 16-byte load of one input pixel.
//   - bfloat16/float16 with C % 8 == 0 and O % 8 == 0: tensor cores (mma.sync m16n8k16, float32
//     accumulators), block tiles of BM pixels × BN channels × 32 k through shared memory, fragments by
//     ldmatrix, the next tile's global loads in flight while the current one is multiplied (their tap and
//     channel stepped without division); the prologue is applied before the loads go to shared memory, the
//     epilogue (bias, residual, ReLU or GELU) on the accumulators before the single rounded store.
//   - of those, 3×3 stride-1 layers of 16, 32 or 64 channels in and out: a persistent halo kernel that loads
//     each tile's input rows once and runs the 9 taps from shared memory (below).
//   - of those, with C and O multiples of 64, no prologue and SMOOTHCUDA_WGMMA=1, on an sm_90a build and a
//     compute-capability-9.0 device: Hopper's wgmma from 128-byte swizzled shared memory (below).
//   - float32 with tf32 rounding, C % 4 == 0 and O % 8 == 0: the same tensor-core kernel on TF32 (mma.sync
//     m16n8k8): the 16-byte runs hold 4 floats, rounded to TF32 on their way to shared memory.
//   - anything else (plain float32, odd channel counts): the shared fp32 tile kernel with the same prologue
//     and epilogue as loader/store functors (tf32 rounds both operands as the tensor cores would).
#include <algorithm>
#include <type_traits>

#include "kernels/cuda/async_copy.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv_geometry.cuh"
#include "kernels/cuda/gemm_tile.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/cuda/wgmma.cuh"
#include "kernels/fused_conv.h"
#include "kernels/gelu_formula.h"
#include "kernels/tf32_round.h"
#include "nn/runtime.h"

namespace sc::cuda {
namespace {

struct FusedGeom : ConvGeom {
  int Hr, Wr, Cr, rs, roff;  // residual
};

struct Epilogue {
  const float* bias;
  const void* residual;
  bool relu, gelu;
};

// The residual's element of output pixel m (= (n·Ho + oh)·Wo + ow) at output channel roff, the first it adds
// to.
__device__ __forceinline__ long long residual_row(const FusedGeom& g, int m) {
  const int ow = m % g.Wo, oh = (m / g.Wo) % g.Ho, n = m / (g.Wo * g.Ho);
  return ((static_cast<long long>(n) * g.Hr + oh * g.rs) * g.Wr + ow * g.rs) * g.Cr;
}

// bias + residual + ReLU or GELU at channel o of the output pixel whose residual row is res_row.
template <typename T>
__device__ __forceinline__ float epilogue_at(const FusedGeom& g, const Epilogue& e, long long res_row, int o,
                                             float v) {
  if (e.bias) v += e.bias[o];
  if (e.residual && o >= g.roff && o < g.roff + g.Cr)
    v += load_f32(static_cast<const T*>(e.residual) + res_row + (o - g.roff));
  if (e.gelu) return gelu_value(v);
  return e.relu && v < 0.0f ? 0.0f : v;  // NaN passes, as on the CPU
}

template <typename T>
__device__ __forceinline__ float epilogue(const FusedGeom& g, const Epilogue& e, int m, int o, float v) {
  return epilogue_at<T>(g, e, e.residual ? residual_row(g, m) : 0, o, v);
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

template <int MI, int NI>
__device__ __forceinline__ void zero_accumulators(float (&acc)[MI][NI][4]) {
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int j = 0; j < NI; ++j)
#pragma unroll
      for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.0f;
}

// Channels o and o + 1 of one output pixel (accumulators a0, a1) through the epilogue, rounded and stored as
// one word at dst (o even: O % 8 == 0 keeps it aligned).
template <typename T>
__device__ __forceinline__ void store_pair(T* dst, const FusedGeom& g, const Epilogue& e, long long res_row,
                                           int o, float a0, float a1) {
  const float v0 = epilogue_at<T>(g, e, res_row, o, a0), v1 = epilogue_at<T>(g, e, res_row, o + 1, a1);
  if constexpr (std::is_same_v<T, float>) {
    *reinterpret_cast<float2*>(dst) = make_float2(v0, v1);
  } else {
    *reinterpret_cast<uint32_t*>(dst) = pack_pair<T>(v0, v1);
  }
}

// The operands of the tensor-core implicit GEMM, in 16-byte runs of kRun consecutive k (one pixel's
// channels, or one output channel's weights). One mma takes 32 bytes of k, two runs, whose ldmatrix fragments
// are laid out alike for both kinds: 16-bit elements (m16n8k16) and float32 rounded to TF32 (m16n8k8).
template <typename T>
struct MmaOperand {
  static constexpr int kRun = 8;
  static __device__ __forceinline__ void finish(uint4&) {}
  static __device__ __forceinline__ void mma(float d[4], const uint32_t a[4], const uint32_t b[2]) {
    Half16<T>::mma(d, a, b);
  }
};
template <>
struct MmaOperand<float> {
  static constexpr int kRun = 4;
  static __device__ __forceinline__ void finish(uint4& v) {  // to TF32 as the CPU reference rounds
    float* f = reinterpret_cast<float*>(&v);
#pragma unroll
    for (int i = 0; i < 4; ++i) f[i] = round_tf32(f[i]);
  }
  static __device__ __forceinline__ void mma(float d[4], const uint32_t a[4], const uint32_t b[2]) {
    mma_tf32(d, a, b);
  }
};

// A k tile is 4 runs (64 bytes: 32 16-bit k or 16 float k) of each A and B row, stored with one run of
// padding (80-byte rows: the fragment loads avoid bank conflicts).
constexpr int kTileRuns = 4, kMmaThreads = 128;  // 4 warps

// Where a thread's run of consecutive k (from k0 + run·kRun) lies: tap (r, s), channel c, and its offset
// (r·W + s)·C + c from the input pixel at the tap window's corner. Stepped from one k tile to the next
// without a division: c wrapping past C moves to the next tap, which leaves the offset linear in k except
// where s wraps past KW (the next input row: W − KW pixels further).
struct TapCursor {
  int k, c, s, r, off;
  __device__ __forceinline__ void next_tap(const ConvGeom& g) {  // c has passed C
    c -= g.C;
    if (++s == g.KW) {
      s = 0;
      ++r;
      off += (g.W - g.KW) * g.C;
    }
  }
  __device__ __forceinline__ void wrap(const ConvGeom& g) {
    while (c >= g.C) next_tap(g);
  }
  __device__ __forceinline__ void advance(const ConvGeom& g, int dk) {
    k += dk, c += dk, off += dk;
    wrap(g);
  }
  // Where dk divides C (a k tile never spans taps): at most one wrap, and no loop.
  __device__ __forceinline__ void advance_in_taps(const ConvGeom& g, int dk) {
    k += dk, c += dk, off += dk;
    if (c == g.C) next_tap(g);
  }
};

// The input pixel at output pixel m's window corner (tap (0, 0); in the padding, possibly): its element
// offset in x (32-bit, conv_geometry.cuh), row and column. A row past M gets a row that fails the bounds test
// at every tap.
struct WindowCorner {
  int offset, ih, iw;
};
__device__ __forceinline__ WindowCorner window_corner(const ConvGeom& g, long long m, long long M) {
  const int mm = m < M ? static_cast<int>(m) : 0;
  const int ow = mm % g.Wo, oh = (mm / g.Wo) % g.Ho, n = mm / (g.Wo * g.Ho);
  const int ih = oh * g.sh - g.ph, iw = ow * g.sw - g.pw;
  return {((n * g.H + ih) * g.W + iw) * g.C, m < M ? ih : -(1 << 30), iw};
}

// The prologue (the folded BatchNorm before this convolution, and its ReLU) on a 16-byte run of N channels;
// padding stays zero, as in the reference where it pads the activated tensor.
template <typename T, int N>
__device__ __forceinline__ void apply_prologue(uint4& v, const float (&a)[N], const float (&b)[N],
                                               bool relu) {
  static_assert(N * sizeof(T) == sizeof(uint4), "one 16-byte run");
  T* h = reinterpret_cast<T*>(&v);
#pragma unroll
  for (int i = 0; i < N; ++i) {
    float f = a[i] * load_f32(h + i) + b[i];
    if (relu && f < 0.0f) f = 0.0f;
    store_f32(h + i, f);
  }
}

// Blocks per SM each tile width keeps (ptxas holds the registers to it: 65,536 / (blocks · 128 threads)
// each): 2, 3, 4 and 5 at 128, 64, 32 and 16 channels; a spill past that fails the build (CMakeLists.txt).
constexpr int min_blocks_per_sm(int bn) {
  return bn >= 128 ? 2 : bn >= 64 ? 3 : bn >= 32 ? 4 : 5;
}

template <typename T, int BM, int BN, int WARPS_M, int WARPS_N>
__global__ void __launch_bounds__(kMmaThreads, min_blocks_per_sm(BN))
    conv_mma_kernel(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y, FusedGeom g,
                    Epilogue e, const float* __restrict__ scale, const float* __restrict__ shift,
                    bool pro_relu) {
  static_assert(WARPS_M * WARPS_N * 32 == kMmaThreads, "4 warps");
  static_assert(BN / WARPS_N % 16 == 0, "B fragments come in pairs");
  using Op = MmaOperand<T>;
  constexpr int RUN = Op::kRun, BK = kTileRuns * RUN;  // k per run and per tile
  constexpr int WM = BM / WARPS_M, WN = BN / WARPS_N, MI = WM / 16, NI = WN / 8;
  constexpr int A_RUNS = BM * kTileRuns / kMmaThreads;  // 16-byte runs per thread
  constexpr int B_RUNS = (BN * kTileRuns + kMmaThreads - 1) / kMmaThreads;
  // Two stages: tile t + 1 is stored while tile t is multiplied from the other, so one barrier per tile
  // suffices.
  __shared__ uint4 As[2][BM][kTileRuns + 1];
  __shared__ uint4 Bs[2][BN][kTileRuns + 1];

  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32;
  const int wm = warp / WARPS_N, wn = warp % WARPS_N, grp = lane / 4, tig = lane % 4;
  const int tile = lane / 8, tile_row = lane % 8;  // ldmatrix: lane l gives row l % 8 of tile l / 8
  const long long M = static_cast<long long>(g.N) * g.Ho * g.Wo;
  const long long m0 = static_cast<long long>(blockIdx.x) * BM;
  const int n0 = blockIdx.y * BN, K = g.K();

  // Every run this thread loads, of A (rows tid/4 + i·32) and of B (channels n0 + (tid + i·128)/4), is at k
  // offset run·RUN of the k tile: one TapCursor serves them all.
  const int run = tid % kTileRuns;
  TapCursor at{run * RUN, run * RUN, 0, 0, run * RUN};
  at.wrap(g);
  // 32-bit offsets (conv_geometry.cuh): of the input pixel at each A row's window corner (negative in the
  // padding), and of each B row's w[o, run·RUN] (−1 past the block's or the layer's channels).
  int a_pixel[A_RUNS], ih0[A_RUNS], iw0[A_RUNS], b_row[B_RUNS];
#pragma unroll
  for (int i = 0; i < A_RUNS; ++i) {
    const WindowCorner corner = window_corner(g, m0 + tid / 4 + i * (kMmaThreads / 4), M);
    a_pixel[i] = corner.offset, ih0[i] = corner.ih, iw0[i] = corner.iw;
  }
#pragma unroll
  for (int i = 0; i < B_RUNS; ++i) {
    const int id = tid + i * kMmaThreads, o = n0 + id / 4;
    b_row[i] = id < BN * 4 && o < g.O ? o * K + run * RUN : -1;
  }

  uint4 a_reg[A_RUNS], b_reg[B_RUNS];
  unsigned a_in = 0;              // bit i: A run i lies in the image (the rest are padding or past K)
  auto load_tile = [&](int k0) {  // the runs at k = at.k, for k tile k0
    const bool k_ok = at.k < K;
    a_in = 0;
#pragma unroll
    for (int i = 0; i < A_RUNS; ++i) {
      a_reg[i] = make_uint4(0, 0, 0, 0);
      if (k_ok && static_cast<unsigned>(ih0[i] + at.r) < static_cast<unsigned>(g.H) &&
          static_cast<unsigned>(iw0[i] + at.s) < static_cast<unsigned>(g.W)) {
        a_reg[i] = *reinterpret_cast<const uint4*>(x + a_pixel[i] + at.off);
        a_in |= 1u << i;
      }
    }
#pragma unroll
    for (int i = 0; i < B_RUNS; ++i) {
      b_reg[i] = make_uint4(0, 0, 0, 0);
      if (k_ok && b_row[i] >= 0) b_reg[i] = *reinterpret_cast<const uint4*>(w + b_row[i] + k0);
    }
  };
  // The prologue when the loads have landed, after the tile's multiplies: its coefficients (the same RUN
  // channels for every A run) then take registers the fragments have freed.
  auto store_tile = [&](int stage) {
    if (scale && a_in) {
      float pa[RUN], pb[RUN];
#pragma unroll
      for (int j = 0; j < RUN; ++j) pa[j] = scale[at.c + j], pb[j] = shift[at.c + j];
#pragma unroll
      for (int i = 0; i < A_RUNS; ++i)
        if (a_in & (1u << i)) apply_prologue<T>(a_reg[i], pa, pb, pro_relu);
    }
#pragma unroll
    for (int i = 0; i < A_RUNS; ++i) {
      Op::finish(a_reg[i]);
      As[stage][tid / 4 + i * (kMmaThreads / 4)][run] = a_reg[i];
    }
#pragma unroll
    for (int i = 0; i < B_RUNS; ++i) {
      const int id = tid + i * kMmaThreads;
      if (id < BN * 4) {
        Op::finish(b_reg[i]);
        Bs[stage][id / 4][id % 4] = b_reg[i];
      }
    }
  };

  float acc[MI][NI][4];
  zero_accumulators(acc);

  load_tile(0);
  store_tile(0);
  __syncthreads();
  for (int k0 = 0, stage = 0; k0 < K; k0 += BK, stage ^= 1) {
    const bool more = k0 + BK < K;
    if (more) {  // global loads in flight while this tile is multiplied
      at.advance(g, BK);
      load_tile(k0 + BK);
    }
#pragma unroll
    for (int kr = 0; kr < kTileRuns; kr += 2) {
      // One mma step: runs kr (k lo) and kr + 1 (k hi). One ldmatrix.x4 per A fragment (tiles: rows lo/hi ×
      // k lo, then rows lo/hi × k hi) and per pair of B fragments (tiles: channels j × k lo/hi, then j + 1 ×
      // k lo/hi): a quarter of the shared-memory load instructions of 32-bit loads, the same bytes.
      uint32_t af[MI][4], bf[NI / 2][4];
#pragma unroll
      for (int i = 0; i < MI; ++i)
        ldmatrix_x4(af[i], &As[stage][wm * WM + i * 16 + (tile % 2) * 8 + tile_row][kr + tile / 2]);
#pragma unroll
      for (int j = 0; j < NI; j += 2)
        ldmatrix_x4(bf[j / 2], &Bs[stage][wn * WN + (j + tile / 2) * 8 + tile_row][kr + tile % 2]);
#pragma unroll
      for (int i = 0; i < MI; ++i)
#pragma unroll
        for (int j = 0; j < NI; ++j) Op::mma(acc[i][j], af[i], &bf[j / 2][2 * (j % 2)]);
    }
    // The other stage was last read in the previous tile, before the barrier that ended it.
    if (more) store_tile(stage ^ 1);
    __syncthreads();
  }

  // Accumulator (i, j, q): row grp (+8 for q ≥ 2), columns 2·tig and 2·tig + 1. The residual's row offset
  // once per output row, not per element.
#pragma unroll
  for (int i = 0; i < MI; ++i)
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      const long long m = m0 + wm * WM + i * 16 + grp + half * 8;
      if (m >= M) continue;
      const long long res_row = e.residual ? residual_row(g, static_cast<int>(m)) : 0;
#pragma unroll
      for (int j = 0; j < NI; ++j) {
        const int o = n0 + wn * WN + j * 8 + 2 * tig;
        if (o >= g.O) continue;
        store_pair<T>(y + m * g.O + o, g, e, res_row, o, acc[i][j][2 * half], acc[i][j][2 * half + 1]);
      }
    }
}

template <typename T, int BM, int BN, int WARPS_M, int WARPS_N>
void launch_mma(const Tensor& x, const Tensor& w, const float* scale, const float* shift, bool pro_relu,
                const FusedGeom& g, const Epilogue& e, Tensor& y) {
  const long long M = static_cast<long long>(g.N) * g.Ho * g.Wo;
  const dim3 grid(static_cast<unsigned>((M + BM - 1) / BM), static_cast<unsigned>((g.O + BN - 1) / BN));
  SC_CHECK(grid.y <= 65535, "fused_conv: too many output channels");
  SC_LAUNCH(grid, kMmaThreads, 0, conv_mma_kernel<T, BM, BN, WARPS_M, WARPS_N>)
  (x.data<T>(), w.data<T>(), y.data<T>(), g, e, scale, shift, pro_relu);
  SC_CUDA_LAUNCH_CHECK("conv_mma_kernel");
}

// SMOOTHCUDA_WIDE_TILES=0 keeps 128×64 blocks at every width: 128×128 blocks take 244 registers per thread
// (2 blocks per SM) against 168 (3 blocks), so which is faster is for a device to say.
bool wide_tiles() {
  static const bool on = env_switch_on("SMOOTHCUDA_WIDE_TILES");
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
  if (g.O % 128 == 0 && wide_tiles())
    return launch_mma<T, 128, 128, 2, 2>(x, w, scale, shift, pro_relu, g, e, y);
  launch_mma<T, 128, 64, 2, 2>(x, w, scale, shift, pro_relu, g, e, y);
}

// ---- Hopper (sm_90a): the wide 16-bit convolutions on wgmma ----
//
// Where C and O are multiples of 64 and there is no prologue (ResNet-50's and the UNets' convolutions but
// their first): block tiles of 128 output pixels × BN output channels, k in tiles of 64 (one tap, 64
// channels: one 128-byte row per pixel and per output channel). cp.async fills 4 shared-memory stages two k
// tiles ahead, the padding as zero fills; two warpgroups each multiply their 64 pixels by the BN channels
// with wgmma m64nBNk16 straight from shared memory (128-byte swizzle, wgmma.cuh), one k tile's products in
// flight while the next is issued; the epilogue as above on the float32 accumulators. mma.sync (above) needs
// an ldmatrix per fragment and per warp, where wgmma reads its operands itself, once per warpgroup: cuDNN's
// Hopper kernels ran the UNet's shapes 1.6–1.8× faster than the mma.sync kernel (bench/RESULTS.md).
constexpr int kWgmmaThreads = 256, kWgmmaBM = 128, kWgmmaStages = 4, kWgmmaRow = 128;  // bytes per k tile row

template <int BN>
constexpr size_t wgmma_smem_bytes() {  // the stages, and a KiB to align them to the swizzle atom
  return static_cast<size_t>(kWgmmaStages) * (kWgmmaBM + BN) * kWgmmaRow + 1024;
}

template <typename T, int BN>
__global__ void __launch_bounds__(kWgmmaThreads, 1)
    conv_wgmma_kernel(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y, FusedGeom g,
                      Epilogue e) {
#ifdef SC_HAS_WGMMA
  constexpr int A_BYTES = kWgmmaBM * kWgmmaRow, STAGE = (kWgmmaBM + BN) * kWgmmaRow;
  constexpr int A_ROWS = kWgmmaBM / 32, B_ROWS = BN / 32;  // rows per thread: 8 threads per 128-byte row
  SC_DYNAMIC_SHARED(unsigned char, smem_raw);
  unsigned char* smem = smem_raw + ((1024 - (shared_address(smem_raw) & 1023)) & 1023);
  const uint32_t smem_address = shared_address(smem);

  const int tid = threadIdx.x, lane = tid % 32, chunk = tid % 8, row0 = tid / 8;
  const long long M = static_cast<long long>(g.N) * g.Ho * g.Wo;
  const long long m0 = static_cast<long long>(blockIdx.x) * kWgmmaBM;
  const int n0 = blockIdx.y * BN, K = g.K(), k_tiles = K / 64;
  // This thread's 16-byte chunk of rows row0 + 32·i in every stage: rows 32 apart share row % 8, so one
  // swizzled offset serves them all.
  const int chunk_offset = row0 * kWgmmaRow + ((chunk ^ (row0 % 8)) << 4);
  int a_pixel[A_ROWS], ih0[A_ROWS], iw0[A_ROWS];
#pragma unroll
  for (int i = 0; i < A_ROWS; ++i) {
    const WindowCorner corner = window_corner(g, m0 + row0 + 32 * i, M);  // rows past M: zero fills
    a_pixel[i] = corner.offset + chunk * 8, ih0[i] = corner.ih, iw0[i] = corner.iw;
  }
  const T* w_rows = w + static_cast<long long>(n0 + row0) * K + chunk * 8;

  // The next k tile to load (a tap and 64 of its channels), stepped without division.
  TapCursor at{0, 0, 0, 0, 0};
  auto load_tile = [&](int kt) {
    unsigned char* a_dst = smem + (kt % kWgmmaStages) * STAGE + chunk_offset;
#pragma unroll
    for (int i = 0; i < A_ROWS; ++i) {
      const bool inside = static_cast<unsigned>(ih0[i] + at.r) < static_cast<unsigned>(g.H) &&
                          static_cast<unsigned>(iw0[i] + at.s) < static_cast<unsigned>(g.W);
      cp_async_16_or_zero(a_dst + 32 * i * kWgmmaRow, inside ? x + a_pixel[i] + at.off : x, !inside);
    }
#pragma unroll
    for (int i = 0; i < B_ROWS; ++i)
      cp_async_16_or_zero(a_dst + A_BYTES + 32 * i * kWgmmaRow,
                          w_rows + static_cast<long long>(32 * i) * K + kt * 64, false);
    at.advance_in_taps(g, 64);  // C % 64 == 0
  };

  float acc[BN / 2];
#pragma unroll
  for (int i = 0; i < BN / 2; ++i) acc[i] = 0.0f;
  // Tiles 0 and 1 ahead; then each iteration loads tile kt + 2 into the stage tile kt − 2 used, whose
  // products every warpgroup has completed before the barrier (its wait leaves only tile kt − 1's pending).
  // One commit group per tile, empty past the last, so that waiting for all but one means tile kt landed.
  load_tile(0);
  cp_async_commit_group();
  if (k_tiles > 1) load_tile(1);
  cp_async_commit_group();
  const int warpgroup = tid / 128;
  for (int kt = 0; kt < k_tiles; ++kt) {
    cp_async_wait_group<1>();
    fence_proxy_async();  // the copies, generic-proxy writes, before the tensor cores read them
    __syncthreads();
    if (kt + 2 < k_tiles) load_tile(kt + 2);
    cp_async_commit_group();
    const uint32_t a = smem_address + (kt % kWgmmaStages) * STAGE + warpgroup * 64 * kWgmmaRow;
    const uint32_t b = smem_address + (kt % kWgmmaStages) * STAGE + A_BYTES;
    wgmma_fence();
#pragma unroll
    for (int k16 = 0; k16 < 4; ++k16)  // 16 k (32 bytes) further into the swizzled rows
      WgmmaM64<BN, std::is_same_v<T, BFloat16>>::run(acc, swizzle128_descriptor(a + 32 * k16),
                                                     swizzle128_descriptor(b + 32 * k16));
    wgmma_commit_group();
    wgmma_wait_group<1>();
  }
  wgmma_wait_group<0>();
  fence_accumulators(acc);

  // Register 4j + q: pixel 16·(warp % 4) + lane/4 + 8·(q/2) of the warpgroup's 64, channels 8j + 2·(lane % 4)
  // and the next.
  const int quad = lane % 4;
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const long long m = m0 + warpgroup * 64 + 16 * (tid / 32 % 4) + lane / 4 + 8 * half;
    if (m >= M) continue;
    const long long res_row = e.residual ? residual_row(g, static_cast<int>(m)) : 0;
#pragma unroll
    for (int j = 0; j < BN / 8; ++j) {
      const int o = n0 + 8 * j + 2 * quad;
      store_pair<T>(y + m * g.O + o, g, e, res_row, o, acc[4 * j + 2 * half], acc[4 * j + 2 * half + 1]);
    }
  }
#else
  __trap();  // a device pass without sm_90a: the host never launches it (device_has_wgmma)
#endif
}

// The device can run the wgmma kernel: the build has sm_90a code (SC_CUDA_WGMMA, CMakeLists.txt) and the
// current device is compute capability 9.0; the emulator stands for an H100.
bool device_has_wgmma() {
#if defined(SC_SIMT_EMULATOR)
  return true;
#elif defined(SC_CUDA_WGMMA)
  int device = 0, major = 0, minor = 0;
  SC_CUDA_CHECK(cudaGetDevice(&device));
  SC_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
  SC_CUDA_CHECK(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device));
  return major == 9 && minor == 0;
#else
  return false;
#endif
}

// The wgmma kernel's tile width for this convolution, or 0 where it does not take it: 16-bit, C and O
// multiples of 64, no prologue, the switch on (nn/runtime.h) and a device that has wgmma.
int wgmma_tile_width(const FusedGeom& g, bool prologue) {
  if (prologue || g.C % 64 != 0 || g.O % 64 != 0 || !wgmma_conv_enabled() || !device_has_wgmma()) return 0;
  return g.O % 256 == 0 ? 256 : g.O % 128 == 0 ? 128 : 64;
}

template <typename T, int BN>
void launch_wgmma(const Tensor& x, const Tensor& w, const FusedGeom& g, const Epilogue& e, Tensor& y) {
  const long long M = static_cast<long long>(g.N) * g.Ho * g.Wo;
  const dim3 grid(static_cast<unsigned>((M + kWgmmaBM - 1) / kWgmmaBM), static_cast<unsigned>(g.O / BN));
  const auto kernel = conv_wgmma_kernel<T, BN>;
  constexpr size_t smem = wgmma_smem_bytes<BN>();
  opt_in_shared_memory(reinterpret_cast<const void*>(kernel), smem);
  SC_LAUNCH(grid, kWgmmaThreads, smem, kernel)(x.data<T>(), w.data<T>(), y.data<T>(), g, e);
  SC_CUDA_LAUNCH_CHECK("conv_wgmma_kernel");
}

template <typename T>
void run_wgmma(int bn, const Tensor& x, const Tensor& w, const FusedGeom& g, const Epilogue& e, Tensor& y) {
  if (bn == 256) return launch_wgmma<T, 256>(x, w, g, e, y);
  if (bn == 128) return launch_wgmma<T, 128>(x, w, g, e, y);
  launch_wgmma<T, 64>(x, w, g, e, y);
}

// ---- 3×3 stride-1 convolutions of 16, 32 or 64 channels in and out (the CIFAR ResNets' stages) ----
//
// The implicit GEMM above gathers each tap's input again from global memory (9 loads per input element) and
// spends ~30–60 issued instructions per mma on it at these widths, where the output tile is only 16–64
// channels wide. Here a block keeps the layer's weights in shared memory for all its tiles (a persistent
// grid), and per tile of BM output pixels (BM / Wo whole output rows of one sample) loads the input rows they
// need, with a zero border, once; the 9 taps then read their A fragments from that halo by ldmatrix at fixed
// offsets. Per warp and tap: MI ldmatrix for A, CH / 16 for B, MI · CH / 8 mma.

constexpr int kHaloPad = 8;  // bf16 elements after each pixel's channels: conflict-free ldmatrix rows

template <int CH>
constexpr int halo_row_elems() {  // one pixel (CH channels) in shared memory
  return CH + kHaloPad;
}
template <int CH>
constexpr int weight_row_elems() {  // one output channel's 9·CH weights
  return 9 * CH + kHaloPad;
}
template <int CH>
size_t halo_smem_bytes(int BM, int Wo) {
  const int pixels = (BM / Wo + 2) * (Wo + 2);
  return sizeof(uint16_t) * (static_cast<size_t>(CH) * weight_row_elems<CH>() +
                             static_cast<size_t>(pixels) * halo_row_elems<CH>());
}

template <typename T, int CH, int BM>
__global__ void __launch_bounds__(kMmaThreads)
    conv3x3_halo_kernel(const T* __restrict__ x, const T* __restrict__ w, T* __restrict__ y, FusedGeom g,
                        Epilogue e, const float* __restrict__ scale, const float* __restrict__ shift,
                        bool pro_relu, int tiles) {
  constexpr int WM = BM / 4, MI = WM / 16, NI = CH / 8, RUNS = CH / 8;  // 4 warps side by side in M
  constexpr int PIX = halo_row_elems<CH>(), WROW = weight_row_elems<CH>();
  SC_DYNAMIC_SHARED(uint16_t, smem);
  uint16_t* ws = smem;                // [CH][WROW]: w[o][tap][c]
  uint16_t* halo = smem + CH * WROW;  // [rows + 2][Wo + 2][PIX]
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32, grp = lane / 4, tig = lane % 4;
  const int tile = lane / 8, tile_row = lane % 8;
  const int Wo = g.Wo, rows = BM / Wo, hw = Wo + 2, plane = g.Ho * Wo;

  for (int i = tid; i < CH * RUNS * 9; i += kMmaThreads) {  // the weights, once per block
    const int o = i / (RUNS * 9), k = (i % (RUNS * 9)) * 8;
    *reinterpret_cast<uint4*>(ws + o * WROW + k) = *reinterpret_cast<const uint4*>(w + o * 9 * CH + k);
  }
  // This lane's ldmatrix rows: output pixel p of the tile sits at halo pixel (p / Wo, p % Wo) for tap (0, 0).
  int a_off[MI];
#pragma unroll
  for (int i = 0; i < MI; ++i) {
    const int p = warp * WM + i * 16 + (tile % 2) * 8 + tile_row;
    a_off[i] = ((p / Wo) * hw + p % Wo) * PIX + (tile / 2) * 8;
  }

  for (int t = blockIdx.x; t < tiles; t += gridDim.x) {
    const int m0 = t * BM, n = m0 / plane, oh0 = m0 % plane / Wo;
    __syncthreads();  // the previous tile's fragments are read
    // Input rows oh0 − 1 … oh0 + rows of sample n, columns −1 … Wo, in 16-byte runs; the border is zero.
    for (int i = tid; i < (rows + 2) * hw * RUNS; i += kMmaThreads) {
      const int j = i / (hw * RUNS), q = (i - j * hw * RUNS) / RUNS, run = i % RUNS;
      const int ih = oh0 - 1 + j, iw = q - 1;
      uint4 v = make_uint4(0, 0, 0, 0);
      if (static_cast<unsigned>(ih) < static_cast<unsigned>(g.H) &&
          static_cast<unsigned>(iw) < static_cast<unsigned>(g.W)) {
        v = *reinterpret_cast<const uint4*>(x + ((n * g.H + ih) * g.W + iw) * CH + run * 8);
        if (scale) {
          float pa[8], pb[8];
#pragma unroll
          for (int c = 0; c < 8; ++c) pa[c] = scale[run * 8 + c], pb[c] = shift[run * 8 + c];
          apply_prologue<T>(v, pa, pb, pro_relu);
        }
      }
      *reinterpret_cast<uint4*>(halo + (j * hw + q) * PIX + run * 8) = v;
    }
    __syncthreads();

    float acc[MI][NI][4];
    zero_accumulators(acc);
#pragma unroll
    for (int tap = 0; tap < 9; ++tap) {
      const int tap_off = ((tap / 3) * hw + tap % 3) * PIX;
#pragma unroll
      for (int kc = 0; kc < CH; kc += 16) {
        uint32_t af[MI][4], bf[NI / 2][4];
#pragma unroll
        for (int i = 0; i < MI; ++i) ldmatrix_x4(af[i], halo + a_off[i] + tap_off + kc);
#pragma unroll
        for (int j = 0; j < NI; j += 2)
          ldmatrix_x4(bf[j / 2],
                      ws + ((j + tile / 2) * 8 + tile_row) * WROW + tap * CH + kc + (tile % 2) * 8);
#pragma unroll
        for (int i = 0; i < MI; ++i)
#pragma unroll
          for (int j = 0; j < NI; ++j) Half16<T>::mma(acc[i][j], af[i], &bf[j / 2][2 * (j % 2)]);
      }
    }
#pragma unroll
    for (int i = 0; i < MI; ++i)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int m = m0 + warp * WM + i * 16 + grp + half * 8;
        const long long res_row = e.residual ? residual_row(g, m) : 0;
#pragma unroll
        for (int j = 0; j < NI; ++j) {
          const int o = j * 8 + 2 * tig;
          store_pair<T>(y + static_cast<long long>(m) * CH + o, g, e, res_row, o, acc[i][j][2 * half],
                        acc[i][j][2 * half + 1]);
        }
      }
  }
}

// SMOOTHCUDA_HALO_CONV=0 sends these layers to the implicit GEMM too (gpu-check times both).
bool halo_conv_enabled() {
  static const bool on = env_switch_on("SMOOTHCUDA_HALO_CONV");
  return on;
}

// Output pixels per tile for the halo kernel, or 0 where it does not apply: 3×3, stride 1, padding 1,
// 16/32/64 channels in and out, and tiles of 128 (else 64) pixels made of whole output rows of one sample.
int halo_tile_pixels(const FusedGeom& g) {
  const bool shape = g.KH == 3 && g.KW == 3 && g.sh == 1 && g.sw == 1 && g.ph == 1 && g.pw == 1 &&
                     g.C == g.O && (g.C == 16 || g.C == 32 || g.C == 64) && g.Ho == g.H && g.Wo == g.W;
  if (!shape || !halo_conv_enabled()) return 0;
  for (int bm : {128, 64})
    if (bm % g.Wo == 0 && (g.Ho * g.Wo) % bm == 0) return bm;
  return 0;
}

template <typename T, int CH, int BM>
void launch_halo(const Tensor& x, const Tensor& w, const float* scale, const float* shift, bool pro_relu,
                 const FusedGeom& g, const Epilogue& e, Tensor& y) {
  const size_t smem = halo_smem_bytes<CH>(BM, g.Wo);
  const auto kernel = conv3x3_halo_kernel<T, CH, BM>;
  const int tiles = g.N * g.Ho * g.Wo / BM;
  // A persistent grid: the weights are loaded once per block, so exactly the blocks that stay resident, each
  // looping over tiles.
  const auto occupancy = [&](int* per_sm) {
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(per_sm, kernel, kMmaThreads, smem);
  };
  const int resident = resident_blocks(reinterpret_cast<const void*>(kernel), smem, occupancy,
                                       "fused_conv: the 3×3 halo tile");
  const int blocks = std::max(1, std::min(tiles, resident));
  SC_LAUNCH(blocks, kMmaThreads, smem, kernel)
  (x.data<T>(), w.data<T>(), y.data<T>(), g, e, scale, shift, pro_relu, tiles);
  SC_CUDA_LAUNCH_CHECK("conv3x3_halo_kernel");
}

template <typename T>
void run_halo(int bm, const Tensor& x, const Tensor& w, const float* scale, const float* shift, bool pro_relu,
              const FusedGeom& g, const Epilogue& e, Tensor& y) {
  const auto go = [&](auto channels) {
    constexpr int CH = decltype(channels)::value;
    if (bm == 128) return launch_halo<T, CH, 128>(x, w, scale, shift, pro_relu, g, e, y);
    launch_halo<T, CH, 64>(x, w, scale, shift, pro_relu, g, e, y);
  };
  if (g.C == 16) return go(std::integral_constant<int, 16>{});
  if (g.C == 32) return go(std::integral_constant<int, 32>{});
  go(std::integral_constant<int, 64>{});
}

// Which kernel takes a convolution, and its tile (halo: pixels per tile; wgmma: channels per tile).
enum class ConvKernel { Tile, Mma, Halo, Wgmma };
struct ConvRoute {
  ConvKernel kernel;
  int tile;
};

ConvRoute choose_kernel(const Tensor& x, const Tensor& w, const Tensor& y, bool prologue, bool tf32,
                        const FusedGeom& g) {
  const auto aligned = [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()) % 16 == 0; };
  // The tensor cores take 16-byte runs of channels: 8 16-bit ones, or 4 floats.
  const int run = static_cast<int>(16 / dtype_size(x.dtype()));
  const bool tensor_cores = g.C % run == 0 && g.O % 8 == 0 && aligned(x) && aligned(w) && aligned(y);
  if (x.dtype() == DType::F32) return {tf32 && tensor_cores ? ConvKernel::Mma : ConvKernel::Tile, 0};
  if (!tensor_cores) return {ConvKernel::Tile, 0};
  if (const int halo = halo_tile_pixels(g)) return {ConvKernel::Halo, halo};
  if (const int bn = wgmma_tile_width(g, prologue)) return {ConvKernel::Wgmma, bn};
  return {ConvKernel::Mma, 0};
}

FusedGeom fused_geometry(const Tensor& x, const Tensor& w, const Tensor& residual, const FusedConvParams& p,
                         const Tensor& y) {
  FusedGeom g{};
  fill_conv_geometry(g, x.size(0), x.size(1), x.size(2), x.size(3), w, y, p);
  if (residual.defined()) {
    g.Hr = static_cast<int>(residual.size(1));
    g.Wr = static_cast<int>(residual.size(2));
    g.Cr = static_cast<int>(residual.size(3));
    g.rs = static_cast<int>(p.residual_stride);
    g.roff = static_cast<int>(p.residual_channel_offset);
  }
  return g;
}

template <typename T>
void run_route(const ConvRoute& route, const Tensor& x, const Tensor& w, const float* scale,
               const float* shift, const FusedConvParams& p, const FusedGeom& g, const Epilogue& e,
               Tensor& y) {
  switch (route.kernel) {
    case ConvKernel::Halo:
      if constexpr (!std::is_same_v<T, float>)
        return run_halo<T>(route.tile, x, w, scale, shift, p.prologue_relu, g, e, y);
      break;
    case ConvKernel::Wgmma:
      if constexpr (!std::is_same_v<T, float>) return run_wgmma<T>(route.tile, x, w, g, e, y);
      break;
    case ConvKernel::Mma:
      return run_mma<T>(x, w, scale, shift, p.prologue_relu, g, e, y);
    case ConvKernel::Tile:
      return run_tile<T>(x, w, scale, shift, p, g, e, y);
  }
  SC_FAIL("fused_conv: no such kernel for ", dtype_name(x.dtype()));
}

}  // namespace

bool fused_conv_uses_wgmma(const Tensor& x, const Tensor& w, const Tensor& scale, const FusedConvParams& p,
                           const Tensor& y) {
  const FusedGeom g = fused_geometry(x, w, Tensor(), p, y);
  return choose_kernel(x, w, y, scale.defined(), p.tf32, g).kernel == ConvKernel::Wgmma;
}

void fused_conv(const Tensor& x, const Tensor& w, const Tensor& bias, const Tensor& scale,
                const Tensor& shift, const Tensor& residual, const FusedConvParams& p, Tensor& y) {
  const FusedGeom g = fused_geometry(x, w, residual, p, y);
  const Epilogue e{bias.defined() ? bias.data<float>() : nullptr,
                   residual.defined() ? residual.raw_data() : nullptr, p.relu, p.gelu};
  const float* sc = scale.defined() ? scale.data<float>() : nullptr;
  const float* sh = shift.defined() ? shift.data<float>() : nullptr;
  const ConvRoute route = choose_kernel(x, w, y, sc != nullptr, p.tf32, g);
  switch (x.dtype()) {
    case DType::F32:
      return run_route<float>(route, x, w, sc, sh, p, g, e, y);
    case DType::BF16:
      return run_route<BFloat16>(route, x, w, sc, sh, p, g, e, y);
    case DType::F16:
      return run_route<Half>(route, x, w, sc, sh, p, g, e, y);
    default:
      SC_FAIL("fused_conv: unsupported dtype ", dtype_name(x.dtype()));
  }
}

}  // namespace sc::cuda
