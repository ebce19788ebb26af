// residual_stage on CUDA: one persistent kernel runs a whole stage of basic blocks. A block takes G samples
// at a time and keeps their map x and the blocks' intermediate t in shared memory, each with a zero one-pixel
// border (the convolutions' padding), through all L convolutions. Only weights move: while a layer computes,
// cp.async fetches the next layer's into the other of two buffers. Device memory sees each sample's map once
// in and once out per stage, where the layer-by-layer path moves it two or three times per convolution.
//
// A convolution is the implicit GEMM of fused_conv's halo kernel: M = the G·H·W output pixels, N = the C
// output channels, K = 9 taps × C. A warp's tile is MI·16 pixels × WN channels; its A fragments come by
// ldmatrix from the map at the tap's offset, its B fragments from the weights, and mma.sync m16n8k16 sums in
// float32 in fused_conv's k order (tap by tap, 16 channels at a time), so each output is the same sum. The
// epilogue adds the bias (and, in a block's second convolution, x), applies the ReLU and writes the rounded
// result in place of t (or x): the thread that writes an element is the one that read it.
//
// Shared-memory layout: a pixel's C channels are C/8 16-byte chunks, and chunk c of halo pixel q is stored at
// chunk c ^ swz(q) of that pixel, swz(q) = (q·(C/8)/8) mod (C/8). The eight rows of an ldmatrix tile (eight
// consecutive pixels, where W is a multiple of 8) then fall on eight different 16-byte bank groups with no
// padding, and so do the epilogue's 4-byte stores.
#include <algorithm>

#include "kernels/cuda/async_copy.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/residual_stage.h"

namespace sc::cuda {
namespace {

constexpr int kStageThreads = 256, kStageWarps = kStageThreads / 32;
constexpr int kWeightPad = 8;       // elements after each output channel's 9·C weights: conflict-free B rows
constexpr int kTargetPixels = 256;  // output pixels per convolution that give 8 warps a tile each, or more

template <int C>
struct StageShape {
  static constexpr int kChunks = C / 8;  // 16-byte chunks per pixel
  static constexpr int kSwizzleShift = C == 16 ? 2 : C == 32 ? 1 : 0;
  static constexpr int kWarpChannels = C == 64 ? 32 : C;  // a warp tile: kMi·16 pixels × kWarpChannels
  static constexpr int kMi = C == 16 ? 4 : 2;
  static constexpr int kNi = kWarpChannels / 8;
  static constexpr int kWeightRow = 9 * C + kWeightPad;  // one output channel's weights, [tap][c]
  static constexpr int kLayerElems = C * kWeightRow;
};

// The element offset of chunk c of halo pixel q in a map.
template <int C>
__device__ __forceinline__ int chunk_at(int q, int c) {
  using S = StageShape<C>;
  return q * C + ((c ^ ((q >> S::kSwizzleShift) & (S::kChunks - 1))) << 3);
}

struct StageGeom {
  int N, H, W, L, G;          // samples, map, convolutions, samples per block
  FastDivisor by_plane, by_W;  // p / (H·W) and r / W in the pixel mapping below, each taken 12 times per tile
  __device__ __forceinline__ int plane() const { return H * W; }
  __device__ __forceinline__ int halo_plane() const { return (H + 2) * (W + 2); }
  // Output pixel p of a block's samples (sample-major) → its pixel in the bordered maps.
  __device__ __forceinline__ int halo_pixel(int p) const {
    const int g = by_plane.div(p), r = p - g * plane(), h = by_W.div(r);
    return g * halo_plane() + (h + 1) * (W + 2) + (r - h * W) + 1;
  }
};

// Shared memory of a block: two layers' weights and the bordered maps x and t of G samples.
size_t stage_smem_bytes(int64_t C, int64_t G, int64_t H, int64_t W) {
  return sizeof(uint16_t) * static_cast<size_t>(2 * C * (9 * C + kWeightPad) + 2 * G * (H + 2) * (W + 2) * C);
}

template <typename T, int C>
__global__ void __launch_bounds__(kStageThreads)
    residual_stage_kernel(const T* x, const T* __restrict__ w, const float* __restrict__ bias, T* y,
                          StageGeom s) {
  using S = StageShape<C>;
  constexpr int TM = S::kMi * 16, TN = S::kWarpChannels, NT = C / TN;
  SC_DYNAMIC_SHARED(uint16_t, smem);
  uint16_t* const wbuf = smem;                             // [2][C][kWeightRow]
  uint16_t* const xmap = smem + 2 * S::kLayerElems;        // [G][(H + 2)(W + 2)][C], swizzled
  uint16_t* const tmap = xmap + s.G * s.halo_plane() * C;  // the same for t
  const int tid = threadIdx.x, lane = tid % 32, warp = tid / 32, grp = lane / 4, tig = lane % 4;
  const int tile = lane / 8, tile_row = lane % 8;  // ldmatrix: lane l gives row l % 8 of tile l / 8
  const int groups = (s.N + s.G - 1) / s.G;

  // The borders stay zero: the convolutions write only the interior.
  for (int i = tid; i < s.G * s.halo_plane(); i += kStageThreads) {
    const int r = i % s.halo_plane(), h = r / (s.W + 2), c = r % (s.W + 2);
    if (h == 0 || h == s.H + 1 || c == 0 || c == s.W + 1)
#pragma unroll
      for (int k = 0; k < S::kChunks; ++k) {
        reinterpret_cast<uint4*>(xmap + i * C)[k] = make_uint4(0, 0, 0, 0);
        reinterpret_cast<uint4*>(tmap + i * C)[k] = make_uint4(0, 0, 0, 0);
      }
  }
  const auto fetch_weights = [&](int layer, int buffer) {
    const T* src = w + static_cast<long long>(layer) * C * 9 * C;
    uint16_t* dst = wbuf + buffer * S::kLayerElems;
    for (int i = tid; i < C * 9 * S::kChunks; i += kStageThreads) {
      const int o = i / (9 * S::kChunks), k = (i - o * 9 * S::kChunks) * 8;
      cp_async_16(dst + o * S::kWeightRow + k, src + o * 9 * C + k);
    }
  };
  const auto fetch_input = [&](int n0, int pixels) {
    for (int i = tid; i < pixels * S::kChunks; i += kStageThreads) {
      const int p = i / S::kChunks, c = i % S::kChunks;
      cp_async_16(xmap + chunk_at<C>(s.halo_pixel(p), c),
                  x + (static_cast<long long>(n0) * s.plane() + p) * C + c * 8);
    }
  };
  const auto store_output = [&](int n0, int pixels) {
    for (int i = tid; i < pixels * S::kChunks; i += kStageThreads) {
      const int p = i / S::kChunks, c = i % S::kChunks;
      *reinterpret_cast<uint4*>(y + (static_cast<long long>(n0) * s.plane() + p) * C + c * 8) =
          *reinterpret_cast<const uint4*>(xmap + chunk_at<C>(s.halo_pixel(p), c));
    }
  };
  // Convolution `layer` over the block's `pixels` output pixels with weights wl: x → t (even layers), or
  // t → x with x added (odd layers, a block's second convolution).
  const auto convolve = [&](int layer, const uint16_t* wl, int pixels) {
    const bool second = layer % 2 == 1;
    const uint16_t* src = second ? tmap : xmap;
    uint16_t* dst = second ? xmap : tmap;
    const float* bl = bias + layer * C;
    const int tiles = (pixels + TM - 1) / TM * NT;
    for (int t = warp; t < tiles; t += kStageWarps) {
      const int p0 = t / NT * TM, n0 = t % NT * TN;
      int qa[S::kMi];  // this lane's ldmatrix row of each A fragment, at the centre tap (past the end: the
                       // last)
#pragma unroll
      for (int i = 0; i < S::kMi; ++i)
        qa[i] = s.halo_pixel(min(p0 + i * 16 + (tile % 2) * 8 + tile_row, pixels - 1));
      float acc[S::kMi][S::kNi][4];
#pragma unroll
      for (int i = 0; i < S::kMi; ++i)
#pragma unroll
        for (int j = 0; j < S::kNi; ++j)
#pragma unroll
          for (int q = 0; q < 4; ++q) acc[i][j][q] = 0.0f;
#pragma unroll
      for (int tap = 0; tap < 9; ++tap) {
        const int dq = (tap / 3 - 1) * (s.W + 2) + tap % 3 - 1;
#pragma unroll
        for (int kc = 0; kc < C; kc += 16) {
          uint32_t af[S::kMi][4], bf[S::kNi / 2][4];
#pragma unroll
          for (int i = 0; i < S::kMi; ++i)
            ldmatrix_x4(af[i], src + chunk_at<C>(qa[i] + dq, kc / 8 + tile / 2));
#pragma unroll
          for (int j = 0; j < S::kNi; j += 2)
            ldmatrix_x4(bf[j / 2], wl + (n0 + (j + tile / 2) * 8 + tile_row) * S::kWeightRow + tap * C + kc +
                                       (tile % 2) * 8);
#pragma unroll
          for (int i = 0; i < S::kMi; ++i)
#pragma unroll
            for (int j = 0; j < S::kNi; ++j) Half16<T>::mma(acc[i][j], af[i], &bf[j / 2][2 * (j % 2)]);
        }
      }
      // Accumulator (i, j, q): pixel p0 + 16i + grp (+8 for q ≥ 2), channels o and o + 1, o = n0 + 8j +
      // 2·tig.
#pragma unroll
      for (int i = 0; i < S::kMi; ++i)
#pragma unroll
        for (int half = 0; half < 2; ++half) {
          const int p = p0 + i * 16 + grp + half * 8;
          if (p >= pixels) continue;
          const int q = s.halo_pixel(p);
#pragma unroll
          for (int j = 0; j < S::kNi; ++j) {
            const int o = n0 + j * 8 + 2 * tig;
            auto* cell = reinterpret_cast<uint32_t*>(dst + chunk_at<C>(q, o / 8) + o % 8);
            float v0 = acc[i][j][2 * half] + __ldg(bl + o), v1 = acc[i][j][2 * half + 1] + __ldg(bl + o + 1);
            if (second) {
              const uint32_t r = *cell;
              v0 += Half16<T>::to_float(static_cast<uint16_t>(r & 0xFFFFu));
              v1 += Half16<T>::to_float(static_cast<uint16_t>(r >> 16));
            }
            v0 = v0 < 0.0f ? 0.0f : v0;  // NaN passes, as in fused_conv
            v1 = v1 < 0.0f ? 0.0f : v1;
            *cell = pack_pair<T>(v0, v1);
          }
        }
    }
  };

  // Layer after layer, group after group: `seq` counts this block's convolutions, whose weights alternate
  // between the two buffers.
  if (static_cast<int>(blockIdx.x) < groups) fetch_weights(0, 0);
  int seq = 0;
  for (int g = blockIdx.x; g < groups; g += gridDim.x) {
    const int n0 = g * s.G, pixels = min(s.G, s.N - n0) * s.plane();
    fetch_input(n0, pixels);
    for (int l = 0; l < s.L; ++l, ++seq) {
      cp_async_wait_all();
      // Every thread's copies have landed, and the previous layer is done with its maps and weight buffer.
      __syncthreads();
      if (l + 1 < s.L || g + static_cast<int>(gridDim.x) < groups)
        fetch_weights((l + 1) % s.L, (seq + 1) % 2);
      convolve(l, wbuf + (seq % 2) * S::kLayerElems, pixels);
    }
    __syncthreads();  // the last layer's x is written
    store_output(n0, pixels);
    // Each thread overwrites (fetch_input) only the chunks it has just read (store_output maps chunks to
    // threads alike), so this barrier orders nothing today (the race detector agrees:
    // scripts/emulator-sanitizer.sh thread); it keeps a change of either mapping from racing, at one barrier
    // per group of samples.
    __syncthreads();
  }
}

// Samples per block: enough for kTargetPixels output pixels as shared memory allows, preferring a count whose
// tiles come in whole rounds of the 8 warps.
template <int C>
int samples_per_block(int H, int W, int N) {
  using S = StageShape<C>;
  const size_t limit = static_cast<size_t>(max_shared_bytes_optin());
  int most = std::max(1, std::min(N, (kTargetPixels + H * W - 1) / (H * W)));
  while (most > 1 && stage_smem_bytes(C, most, H, W) > limit) --most;
  const auto tiles = [&](int g) {
    return (g * H * W + S::kMi * 16 - 1) / (S::kMi * 16) * (C / S::kWarpChannels);
  };
  for (int g = most; g >= 1; --g)
    if (tiles(g) % kStageWarps == 0) return g;
  return most;
}

template <typename T, int C>
void launch_stage(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  StageGeom s{};
  s.N = static_cast<int>(x.size(0)), s.H = static_cast<int>(x.size(1)), s.W = static_cast<int>(x.size(2));
  s.L = static_cast<int>(w.size(0));
  s.G = samples_per_block<C>(s.H, s.W, s.N);
  s.by_plane = FastDivisor(s.H * s.W), s.by_W = FastDivisor(s.W);
  const size_t smem = stage_smem_bytes(C, s.G, s.H, s.W);
  const auto kernel = residual_stage_kernel<T, C>;
  const auto occupancy = [&](int* per_sm) {
    return cudaOccupancyMaxActiveBlocksPerMultiprocessor(per_sm, kernel, kStageThreads, smem);
  };
  const int resident =
      resident_blocks(reinterpret_cast<const void*>(kernel), smem, occupancy, "residual_stage");
  const int blocks = std::max(1, std::min((s.N + s.G - 1) / s.G, resident));
  SC_LAUNCH(blocks, kStageThreads, smem, kernel)
  (x.data<T>(), w.data<T>(), bias.data<float>(), y.data<T>(), s);
  SC_CUDA_LAUNCH_CHECK("residual_stage_kernel");
}

template <typename T>
void run_stage(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  switch (x.size(3)) {
    case 16:
      return launch_stage<T, 16>(x, w, bias, y);
    case 32:
      return launch_stage<T, 32>(x, w, bias, y);
    default:
      return launch_stage<T, 64>(x, w, bias, y);
  }
}

}  // namespace

bool residual_stage_fits(DType dtype, int64_t H, int64_t W, int64_t C) {
  if (dtype != DType::BF16 && dtype != DType::F16) return false;
  if (C != 16 && C != 32 && C != 64) return false;
  return H >= 1 && W >= 1 && stage_smem_bytes(C, 1, H, W) <= static_cast<size_t>(max_shared_bytes_optin());
}

void residual_stage(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& y) {
  SC_CHECK(
      residual_stage_fits(x.dtype(), x.size(1), x.size(2), x.size(3)),
      "residual_stage on CUDA takes bfloat16 or float16 maps of 16, 32 or 64 channels that fit a block's "
      "shared memory, got ",
      x.describe(), " (run its convolutions with fused_conv)");
  auto aligned = [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()) % 16 == 0; };
  SC_CHECK(aligned(x) && aligned(w) && aligned(y),
           "residual_stage: tensors must start on 16-byte boundaries");
  if (x.dtype() == DType::BF16) return run_stage<BFloat16>(x, w, bias, y);
  run_stage<Half>(x, w, bias, y);
}

}  // namespace sc::cuda
