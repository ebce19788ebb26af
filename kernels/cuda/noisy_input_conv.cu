// noisy_input_conv on CUDA. A block makes one sample's strip of output rows: it first builds the input rows
// the strip needs (noise + normalization, each element once, the noise groups of four shared by neighbours)
// in shared memory, then computes the strip's outputs from there with the weights staged in shared memory
// too: in float32 FMAs, each thread kPixels output pixels × 16 channels at a time (float [C][rows][W]), or,
// with p.round_operands, on tensor cores from 16-bit rows with a zero border ([rows][columns][4 channels]).
#include <algorithm>
#include <type_traits>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/conv_geometry.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/noisy_input_conv.h"
#include "smoothing/noise.h"

namespace sc::cuda {
namespace {

struct InputGeom : ConvGeom {
  int strip_rows, strips, staged_rows;
  int columns, k_steps, w_pitch;  // the tensor-core kernel's: staged columns, k16 steps, weight row pitch
};

// Where the weights start in shared memory, in floats: after the staged input rows, 16-byte aligned.
__host__ __device__ inline int weights_offset(const InputGeom& g) {
  return (g.C * g.staged_rows * g.W + 3) / 4 * 4;
}

// The batch description goes to device memory by a launch of its own, which carries it as an argument: in
// stream order, with no pinned host buffer to keep alive and no synchronization.
__global__ void store_noise_table_kernel(StagedNoise table, StagedNoise* __restrict__ out) {
  *out = table;
}

// Output pixels per thread and group of 16 output channels: each weight loaded from shared memory feeds this
// many pixels' FMAs. With one pixel, 16 FMAs took 4 broadcast weight loads and a 2-way conflicted input load,
// ~6 shared-memory wavefronts against 4 issue cycles of FMA per SM; ResNet-50's stem measured 12.3 TFLOP/s,
// under a fifth of an H100's FP32 peak (bench/RESULTS.md).
constexpr int kPixels = 4;

// Row b of the batch the table describes: its image (C·H·W floats) and its sample's noise indices.
struct NoisySample {
  const float* image;
  uint32_t sample, image_id;
};
__device__ inline NoisySample find_sample(const StagedNoise* __restrict__ table, int b, long long E) {
  int j = 0;
  while (j + 1 < table->count && b >= table->row_start[j + 1]) ++j;
  return {table->images + table->slot[j] * E,
          table->first_sample[j] + static_cast<uint32_t>(b - table->row_start[j]), table->image_id[j]};
}

// Makes input rows [ih_lo, ih_hi) of every channel of the sample (noise + normalization) and hands each
// element to store(c, (ih − ih_lo)·W + iw, v). Element e = c·H·W + ih·W + iw, noise group e / 4: a thread
// makes one group's four normals and the elements of it inside the rows.
template <typename Store>
__device__ inline void make_input_rows(const StagedNoise* __restrict__ table, NoisySample src,
                                       const float* __restrict__ mean, const float* __restrict__ stdv,
                                       const ConvGeom& g, int ih_lo, int ih_hi, Store store) {
  const uint32_t phase = table->phase;
  const uint64_t seed = table->seed;
  const float sigma = table->sigma;
  const long long HW = static_cast<long long>(g.H) * g.W;
  const int per_channel = (ih_hi - ih_lo) * g.W;
  const long long groups_per_channel = per_channel / 4 + 2;
  for (long long t = threadIdx.x; t < g.C * groups_per_channel; t += blockDim.x) {
    const int c = static_cast<int>(t / groups_per_channel);
    const long long first = c * HW + static_cast<long long>(ih_lo) * g.W;
    const long long grp = first / 4 + t % groups_per_channel;
    float z[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (sigma > 0.0f && 4 * grp < first + per_channel)
      noise::normal4(seed, src.image_id, phase, src.sample, static_cast<uint32_t>(grp), z);
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const long long e = 4 * grp + q;
      if (e < first || e >= first + per_channel) continue;
      float v = sigma > 0.0f ? noise::add(src.image[e], noise::mul(sigma, z[q])) : src.image[e];
      if (mean) v = __fdiv_rn(__fsub_rn(v, mean[c]), stdv[c]);  // as channel_normalize, never contracted
      store(c, static_cast<int>(e - first), v);
    }
  }
}

// Output row n of y is row row0 + n of the batch the table describes. With `round`, the input and the weights
// are rounded to T before the products (round_operands where the tensor-core kernel does not apply).
template <typename T>
__global__ void noisy_input_conv_kernel(const StagedNoise* __restrict__ table, int row0,
                                        const float* __restrict__ mean, const float* __restrict__ stdv,
                                        const float* __restrict__ w, const float* __restrict__ bias,
                                        T* __restrict__ y, InputGeom g, bool relu, bool round) {
  SC_DYNAMIC_SHARED(float, staged);  // [C][staged_rows][W]
  const int strip = blockIdx.x % g.strips, n = blockIdx.x / g.strips;
  const NoisySample src = find_sample(table, row0 + n, static_cast<long long>(g.C) * g.H * g.W);
  const int oh0 = strip * g.strip_rows;
  const int ih_lo = max(oh0 * g.sh - g.ph, 0);
  const int ih_hi = min((min(oh0 + g.strip_rows, g.Ho) - 1) * g.sh - g.ph + g.KH, g.H);
  make_input_rows(table, src, mean, stdv, g, ih_lo, ih_hi, [&](int c, int offset, float v) {
    staged[c * (g.staged_rows * g.W) + offset] = round ? round_to<T>(v) : v;
  });
  __syncthreads();

  // The weights of 16 output channels at a time, as [k][16] behind the input rows (16-byte aligned): the 16
  // weights of one tap and channel are four broadcast 16-byte shared loads, which serve kPixels output pixels'
  // 16 FMAs each (where a cached global load per weight cost ~10 instructions per FMA). Channels past O get
  // zero weights and are not stored. A thread's pixels are kPixels columns of one output row, `groups` apart,
  // so that neighbouring lanes read neighbouring input columns; each output is the same FMAs in the same order
  // whichever thread makes it.
  float* ws = staged + weights_offset(g);
  const int groups = (g.Wo + kPixels - 1) / kPixels;
  const int items = min(g.strip_rows, g.Ho - oh0) * groups;
  const int K = g.KH * g.KW * g.C, plane = g.staged_rows * g.W;
  for (int o0 = 0; o0 < g.O; o0 += 16) {
    if (o0 > 0) __syncthreads();  // every thread is done with the previous channels' weights
    for (int t = threadIdx.x; t < 16 * K; t += blockDim.x) {
      const int k = t / 16, q = t % 16;
      const float v = o0 + q < g.O ? w[static_cast<long long>(o0 + q) * K + k] : 0.0f;
      ws[t] = round ? round_to<T>(v) : v;
    }
    __syncthreads();
    for (int item = threadIdx.x; item < items; item += blockDim.x) {
      const int oh = oh0 + item / groups, column = item % groups;
      int iw0[kPixels];
      bool in_row[kPixels];  // the pixel exists (the row's last group may be partial)
#pragma unroll
      for (int j = 0; j < kPixels; ++j) {
        in_row[j] = column + j * groups < g.Wo;
        iw0[j] = (column + j * groups) * g.sw - g.pw;
      }
      float acc[kPixels][16];
#pragma unroll
      for (int q = 0; q < 16; ++q) {
        const float b0 = (bias && o0 + q < g.O) ? bias[o0 + q] : 0.0f;
#pragma unroll
        for (int j = 0; j < kPixels; ++j) acc[j][q] = b0;
      }
      for (int r = 0; r < g.KH; ++r) {
        const int ih = oh * g.sh - g.ph + r;
        if (ih < 0 || ih >= g.H) continue;
        const float* in = staged + (ih - ih_lo) * g.W;
        for (int s = 0; s < g.KW; ++s) {
          // Pixel j's input column, where the tap lies in the image (else the padding adds nothing: its FMAs
          // are skipped, and it reads column 0 to keep the loads unconditional).
          bool tap[kPixels];
          const float* col[kPixels];
#pragma unroll
          for (int j = 0; j < kPixels; ++j) {
            tap[j] = in_row[j] && iw0[j] + s >= 0 && iw0[j] + s < g.W;
            col[j] = in + (tap[j] ? iw0[j] + s : 0);
          }
          const float4* wk = reinterpret_cast<const float4*>(ws + (r * g.KW + s) * g.C * 16);
          for (int c = 0; c < g.C; ++c) {
            float v[kPixels];
#pragma unroll
            for (int j = 0; j < kPixels; ++j) v[j] = col[j][c * plane];
#pragma unroll
            for (int q4 = 0; q4 < 4; ++q4) {
              const float4 w4 = wk[c * 4 + q4];
#pragma unroll
              for (int j = 0; j < kPixels; ++j) {
                if (!tap[j]) continue;
                acc[j][4 * q4 + 0] = fmaf(w4.x, v[j], acc[j][4 * q4 + 0]);
                acc[j][4 * q4 + 1] = fmaf(w4.y, v[j], acc[j][4 * q4 + 1]);
                acc[j][4 * q4 + 2] = fmaf(w4.z, v[j], acc[j][4 * q4 + 2]);
                acc[j][4 * q4 + 3] = fmaf(w4.w, v[j], acc[j][4 * q4 + 3]);
              }
            }
          }
        }
      }
#pragma unroll
      for (int j = 0; j < kPixels; ++j) {
        if (!in_row[j]) continue;
        T* out = y + ((static_cast<long long>(n) * g.Ho + oh) * g.Wo + column + j * groups) * g.O;
#pragma unroll
        for (int q = 0; q < 16; ++q)
          if (o0 + q < g.O) store_f32(out + o0 + q, relu && acc[j][q] < 0.0f ? 0.0f : acc[j][q]);
      }
    }
  }
}

// ---- round_operands on tensor cores (16-bit y, C ≤ 4, O = 16, 32 or a multiple of 64) ----
//
// The strip's input as T in [staged rows][columns][4 channels] with the zero padding in place (channels past
// C zero too), so tap (r, s) of output pixel (oh, ow) is the 8 bytes at ((oh − oh0)·sh + r, ow·sw + s), no
// bounds to test. k runs over taps × 4 channels, and mma m16n8k16 takes 4 taps per step: lane l's A registers
// of a row (k = 2(l%4), +1 and 2(l%4) + 8, +9) hold the 4 channels of tap 4·step + l%4, one 8-byte load, and
// its B registers the same tap's weights, staged in that order (the same products as k in order; only the
// float32 sum's order is the tensor cores'). Taps past KH·KW read tap 0's input with zero weights. Each warp
// makes 64 output pixels × 8·NT channels at a time: per step 8 A loads and NT B loads for 4·NT mma.
constexpr int kStemThreads = 128, kStemWarpPixels = 64;

template <typename T, int NT>
__global__ void __launch_bounds__(kStemThreads)
    noisy_input_conv_mma_kernel(const StagedNoise* __restrict__ table, int row0,
                                const float* __restrict__ mean, const float* __restrict__ stdv,
                                const float* __restrict__ w, const float* __restrict__ bias,
                                T* __restrict__ y, InputGeom g, bool relu) {
  SC_DYNAMIC_SHARED(uint16_t, stem_smem);
  uint16_t* tile = stem_smem;                                         // [staged_rows][columns][4]
  uint16_t* ws = tile + g.staged_rows * g.columns * 4;                // [8·NT][w_pitch]
  int* tap_offset = reinterpret_cast<int*>(ws + 8 * NT * g.w_pitch);  // [4·k_steps], in elements of tile
  const int tid = threadIdx.x, strip = blockIdx.x % g.strips, n = blockIdx.x / g.strips;
  const NoisySample src = find_sample(table, row0 + n, static_cast<long long>(g.C) * g.H * g.W);
  const int oh0 = strip * g.strip_rows, rows = min(g.strip_rows, g.Ho - oh0);
  const int ih_first = oh0 * g.sh - g.ph;  // staged row 0's image row (the border's rows are zero)
  const int staged_rows = (rows - 1) * g.sh + g.KH;
  for (int i = tid; i < staged_rows * g.columns; i += kStemThreads)
    reinterpret_cast<uint2*>(tile)[i] = make_uint2(0u, 0u);
  for (int t = tid; t < 4 * g.k_steps; t += kStemThreads)
    tap_offset[t] = t < g.KH * g.KW ? (t / g.KW * g.columns + t % g.KW) * 4 : 0;
  __syncthreads();
  const int ih_lo = max(ih_first, 0), ih_hi = min(ih_first + staged_rows, g.H);
  make_input_rows(table, src, mean, stdv, g, ih_lo, ih_hi, [&](int c, int offset, float v) {
    const int r = offset / g.W, column = offset - r * g.W + g.pw;
    if (column < g.columns)  // (columns no output reads are not staged)
      tile[((ih_lo - ih_first + r) * g.columns + column) * 4 + c] = Half16<T>::from_float(v);
  });

  const int lane = tid % 32, grp = lane / 4, quad = lane % 4, pixels = rows * g.Wo;
  const int K = g.KH * g.KW * g.C;
  for (int o0 = 0; o0 < g.O; o0 += 8 * NT) {
    __syncthreads();  // the rows are staged; every warp is done with the previous channels' weights
    for (int t = tid; t < 8 * NT * 16 * g.k_steps; t += kStemThreads) {
      const int o = t / (16 * g.k_steps), k = t % (16 * g.k_steps), tap = k / 4, c = k % 4;
      const float v =
          tap < g.KH * g.KW && c < g.C ? w[static_cast<long long>(o0 + o) * K + tap * g.C + c] : 0.0f;
      ws[o * g.w_pitch + k] = Half16<T>::from_float(v);
    }
    __syncthreads();
    for (int base = tid / 32 * kStemWarpPixels; base < pixels; base += kStemThreads / 32 * kStemWarpPixels) {
      // This lane's rows of the warp's four m16 tiles (pixels past the strip read pixel 0).
      int a_offset[4][2];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int px = base + 16 * i + grp + 8 * h, p = px < pixels ? px : 0, r = p / g.Wo;
          a_offset[i][h] = (r * g.sh * g.columns + (p - r * g.Wo) * g.sw) * 4;
        }
      float acc[4][NT][4];
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < NT; ++j)
#pragma unroll
          for (int v = 0; v < 4; ++v) acc[i][j][v] = 0.0f;
      for (int step = 0; step < g.k_steps; ++step) {
        const int tap = tap_offset[4 * step + quad];
        uint32_t a[4][4];
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const uint2 top = *reinterpret_cast<const uint2*>(tile + a_offset[i][0] + tap);
          const uint2 bottom = *reinterpret_cast<const uint2*>(tile + a_offset[i][1] + tap);
          a[i][0] = top.x, a[i][1] = bottom.x, a[i][2] = top.y, a[i][3] = bottom.y;
        }
#pragma unroll
        for (int j = 0; j < NT; ++j) {
          const uint2 bw =
              *reinterpret_cast<const uint2*>(ws + (8 * j + grp) * g.w_pitch + 16 * step + 4 * quad);
          const uint32_t b[2] = {bw.x, bw.y};
#pragma unroll
          for (int i = 0; i < 4; ++i) Half16<T>::mma(acc[i][j], a[i], b);
        }
      }
      // Register v of tile (i, j): pixel 16i + grp + 8·(v/2), channel o0 + 8j + 2·quad + v%2.
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int px = base + 16 * i + grp + 8 * h;
          if (px >= pixels) continue;
          const int r = px / g.Wo;
          T* out = y + ((static_cast<long long>(n) * g.Ho + oh0 + r) * g.Wo + px - r * g.Wo) * g.O;
#pragma unroll
          for (int j = 0; j < NT; ++j) {
            const int o = o0 + 8 * j + 2 * quad;
            float v0 = acc[i][j][2 * h] + (bias ? bias[o] : 0.0f);
            float v1 = acc[i][j][2 * h + 1] + (bias ? bias[o + 1] : 0.0f);
            if (relu) v0 = v0 < 0.0f ? 0.0f : v0, v1 = v1 < 0.0f ? 0.0f : v1;  // NaN stays NaN
            *reinterpret_cast<uint32_t*>(out + o) = pack_pair<T>(v0, v1);
          }
        }
    }
  }
}

// Spans [first, first + count) of `in`, their rows numbered from 0.
StagedNoise describe(const NoisyInput& in, size_t first, size_t count) {
  StagedNoise t{};
  t.images = in.images.data<float>();
  t.seed = in.seed;
  t.sigma = in.sigma;
  t.phase = in.phase;
  t.count = static_cast<int>(count);
  int64_t rows = 0;
  for (int i = 0; i < t.count; ++i) {
    const SampleSpan& s = in.spans[first + static_cast<size_t>(i)];
    t.row_start[i] = static_cast<int>(rows);
    t.slot[i] = static_cast<int>(s.slot);
    t.image_id[i] = s.image_id;
    t.first_sample[i] = s.first_sample;
    rows += s.rows;
  }
  t.row_start[t.count] = static_cast<int>(rows);
  return t;
}

void store_table(const StagedNoise& t, Tensor& table) {
  SC_LAUNCH(1, 1, 0, store_noise_table_kernel)(t, reinterpret_cast<StagedNoise*>(table.data<uint8_t>()));
  SC_CUDA_LAUNCH_CHECK("store_noise_table_kernel");
}

}  // namespace

// The tensor-core kernel's n8 tiles per pass (NT), or 0 where it does not apply.
int stem_mma_tiles(int64_t C, int64_t O, DType y, bool round_operands) {
  if (!round_operands || y == DType::F32 || C > 4) return 0;
  return O == 16 ? 2 : O == 32 ? 4 : O % 64 == 0 ? 8 : 0;
}

// Strips of about `pixels` output pixels whose staged bytes (rows of `row_bytes`, plus `fixed`) fit in shared
// memory; sets strip_rows, staged_rows and strips and returns the bytes.
size_t fit_strips(InputGeom& g, int pixels, size_t row_bytes, size_t fixed) {
  g.strip_rows = std::max(1, std::min(g.Ho, pixels / std::max(g.Wo, 1)));
  const size_t max_smem = static_cast<size_t>(max_shared_bytes_optin());
  auto bytes = [&] {
    g.staged_rows = (g.strip_rows - 1) * g.sh + g.KH;
    return static_cast<size_t>(g.staged_rows) * row_bytes + fixed;
  };
  while (g.strip_rows > 1 && bytes() > max_smem) g.strip_rows /= 2;
  const size_t smem = bytes();
  SC_CHECK(smem <= max_smem, "noisy_input_conv: ", g.W, "-pixel rows of ", g.C, " channels and a ", g.KH, "x",
           g.KW, " kernel's weights do not fit in shared memory");
  g.strips = (g.Ho + g.strip_rows - 1) / g.strip_rows;
  return smem;
}

template <typename T, int NT>
void launch_stem_mma(const StagedNoise* table, int row0, const NoisyInput& in, const Tensor& w,
                     const Tensor& bias, T* y, const InputGeom& g, size_t smem, long long blocks, bool relu) {
  auto kernel = noisy_input_conv_mma_kernel<T, NT>;
  opt_in_shared_memory(reinterpret_cast<const void*>(kernel), smem);
  SC_LAUNCH(static_cast<unsigned>(blocks), kStemThreads, smem, kernel)
  (table, row0, in.mean.defined() ? in.mean.data<float>() : nullptr,
   in.std.defined() ? in.std.data<float>() : nullptr, w.data<float>(),
   bias.defined() ? bias.data<float>() : nullptr, y, g, relu);
  SC_CUDA_LAUNCH_CHECK("noisy_input_conv_mma_kernel");
}

void noisy_input_conv(const NoisyInput& in, const Tensor& w, const Tensor& bias, const FusedConvParams& p,
                      Tensor& y) {
  InputGeom g{};
  fill_conv_geometry(g, y.size(0), in.images.size(2), in.images.size(3), in.images.size(1), w, y, p);
  const int nt = stem_mma_tiles(g.C, g.O, y.dtype(), p.round_operands);
  size_t smem = 0;
  if (nt > 0) {
    // About 1024 output pixels per block (4 rounds of the 4 warps' 64); each staged row is `columns` pixels
    // of 4 16-bit channels.
    g.columns = (g.Wo - 1) * g.sw + g.KW;
    g.k_steps = (g.KH * g.KW + 3) / 4;
    // Weight rows 16 elements (32 bytes) past a multiple of 128 bytes apart: the 4 rows that a half-warp's
    // 8-byte B loads read (4 lanes each) then cover the 32 banks once.
    g.w_pitch = (16 * g.k_steps - 16 + 63) / 64 * 64 + 16;
    const size_t fixed = (8 * nt * static_cast<size_t>(g.w_pitch) * 2) + 4 * g.k_steps * sizeof(int);
    smem = fit_strips(g, 1024, static_cast<size_t>(g.columns) * 8, fixed);
  } else {
    // About kPixels output pixels for each of the 256 threads per block (fewer strips also stage fewer rows
    // twice: a 7×7 stride-2 stem restages 5 input rows per strip); float rows of every channel, then the
    // weights of 16 output channels 16-byte aligned (weights_offset).
    smem = fit_strips(g, 256 * kPixels, static_cast<size_t>(g.C) * g.W * sizeof(float),
                      (16 * static_cast<size_t>(g.KH) * g.KW * g.C + 4) * sizeof(float));
    g.staged_rows = std::min(g.staged_rows, g.H);
  }
  // Launches of up to kMaxSpans spans, each reading its own table, or one reading the staged batch.
  const auto launch = [&](const StagedNoise* table, int row0, int64_t first_row, int64_t rows) {
    const long long blocks = rows * g.strips;
    SC_CHECK(blocks < (1LL << 31), "noisy_input_conv: batch too large for one launch");
    visit_dtype(y.dtype(), [&]<typename T>() {
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, BFloat16> || std::is_same_v<T, Half>) {
        T* out = y.data<T>() + first_row * g.Ho * g.Wo * g.O;
        if constexpr (!std::is_same_v<T, float>) {
          if (nt == 2) return launch_stem_mma<T, 2>(table, row0, in, w, bias, out, g, smem, blocks, p.relu);
          if (nt == 4) return launch_stem_mma<T, 4>(table, row0, in, w, bias, out, g, smem, blocks, p.relu);
          if (nt == 8) return launch_stem_mma<T, 8>(table, row0, in, w, bias, out, g, smem, blocks, p.relu);
        }
        auto kernel = noisy_input_conv_kernel<T>;
        opt_in_shared_memory(reinterpret_cast<const void*>(kernel), smem);
        SC_LAUNCH(static_cast<unsigned>(blocks), 256, smem, kernel)
        (table, row0, in.mean.defined() ? in.mean.data<float>() : nullptr,
         in.std.defined() ? in.std.data<float>() : nullptr, w.data<float>(),
         bias.defined() ? bias.data<float>() : nullptr, out, g, p.relu, p.round_operands);
        SC_CUDA_LAUNCH_CHECK("noisy_input_conv_kernel");
      } else {
        SC_FAIL("noisy_input_conv: unsupported output dtype");
      }
    });
  };
  if (in.staged.defined())
    return launch(reinterpret_cast<const StagedNoise*>(in.staged.data<uint8_t>()),
                  static_cast<int>(in.staged_row0), 0, y.size(0));
  int64_t row = 0;
  for (size_t first = 0; first < in.spans.size(); first += StagedNoise::kMaxSpans) {
    const size_t count = std::min<size_t>(StagedNoise::kMaxSpans, in.spans.size() - first);
    Tensor table = Tensor::empty({static_cast<int64_t>(sizeof(StagedNoise))}, DType::U8, y.device());
    const StagedNoise t = describe(in, first, count);
    store_table(t, table);
    launch(reinterpret_cast<const StagedNoise*>(table.data<uint8_t>()), 0, row, t.row_start[t.count]);
    row += t.row_start[t.count];
  }
}

bool noisy_input_conv_uses_mma(const NoisyInput& in, const Tensor& w, const FusedConvParams& p,
                               const Tensor& y) {
  return stem_mma_tiles(in.images.size(1), w.size(0), y.dtype(), p.round_operands) > 0;
}

void stage_noisy_input(const NoisyInput& in, Tensor& table) {
  store_table(describe(in, 0, in.spans.size()), table);
}

}  // namespace sc::cuda
