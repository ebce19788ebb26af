// noisy_input_conv on CUDA. A block makes one sample's strip of output rows: it first builds the input rows
// the strip needs (noise + normalization, each element once, the noise groups of four shared by neighbours)
// in shared memory as float [C][rows][W], then each thread computes kPixels output pixels for 16 output
// channels at a time from there, with those channels' weights staged in shared memory too.
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

// Output row n of y is row row0 + n of the batch the table describes.
template <typename T>
__global__ void noisy_input_conv_kernel(const StagedNoise* __restrict__ table, int row0,
                                        const float* __restrict__ mean, const float* __restrict__ stdv,
                                        const float* __restrict__ w, const float* __restrict__ bias,
                                        T* __restrict__ y, InputGeom g, bool relu) {
  SC_DYNAMIC_SHARED(float, staged);  // [C][staged_rows][W]
  const int strip = blockIdx.x % g.strips, n = blockIdx.x / g.strips, b = row0 + n;
  int j = 0;
  while (j + 1 < table->count && b >= table->row_start[j + 1]) ++j;
  const uint32_t sample = table->first_sample[j] + static_cast<uint32_t>(b - table->row_start[j]);
  const uint32_t image_id = table->image_id[j], phase = table->phase;
  const uint64_t seed = table->seed;
  const float sigma = table->sigma;
  const long long E = static_cast<long long>(g.C) * g.H * g.W, HW = static_cast<long long>(g.H) * g.W;
  const float* x = table->images + table->slot[j] * E;

  const int oh0 = strip * g.strip_rows;
  const int ih_lo = max(oh0 * g.sh - g.ph, 0);
  const int ih_hi = min((min(oh0 + g.strip_rows, g.Ho) - 1) * g.sh - g.ph + g.KH, g.H);
  // Stage rows [ih_lo, ih_hi) of every channel: element e = c·H·W + ih·W + iw, noise group e / 4.
  const int per_channel = (ih_hi - ih_lo) * g.W;
  const long long groups_per_channel = per_channel / 4 + 2;
  for (long long t = threadIdx.x; t < g.C * groups_per_channel; t += blockDim.x) {
    const int c = static_cast<int>(t / groups_per_channel);
    const long long first = c * HW + static_cast<long long>(ih_lo) * g.W;
    const long long grp = first / 4 + t % groups_per_channel;
    float z[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    if (sigma > 0.0f && 4 * grp < first + per_channel)
      noise::normal4(seed, image_id, phase, sample, static_cast<uint32_t>(grp), z);
#pragma unroll
    for (int q = 0; q < 4; ++q) {
      const long long e = 4 * grp + q;
      if (e < first || e >= first + per_channel) continue;
      float v = sigma > 0.0f ? noise::add(x[e], noise::mul(sigma, z[q])) : x[e];
      if (mean) v = __fdiv_rn(__fsub_rn(v, mean[c]), stdv[c]);  // as channel_normalize, never contracted
      staged[c * (g.staged_rows * g.W) + static_cast<int>(e - first)] = v;
    }
  }
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
      ws[t] = o0 + q < g.O ? w[static_cast<long long>(o0 + q) * K + k] : 0.0f;
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

void noisy_input_conv(const NoisyInput& in, const Tensor& w, const Tensor& bias, const FusedConvParams& p,
                      Tensor& y) {
  InputGeom g{};
  fill_conv_geometry(g, y.size(0), in.images.size(2), in.images.size(3), in.images.size(1), w, y, p);
  // About kPixels output pixels for each of the 256 threads per block (fewer strips also stage fewer rows
  // twice: a 7×7 stride-2 stem restages 5 input rows per strip); the strip's input rows must fit in shared
  // memory.
  g.strip_rows = std::max(1, std::min(g.Ho, 256 * kPixels / std::max(g.Wo, 1)));
  const int max_smem = max_shared_bytes_optin();
  auto smem_bytes = [&] {
    g.staged_rows = std::min((g.strip_rows - 1) * g.sh + g.KH, g.H);
    const size_t weights = 16 * static_cast<size_t>(g.KH) * g.KW * g.C;
    return (static_cast<size_t>(weights_offset(g)) + weights) * sizeof(float);
  };
  while (g.strip_rows > 1 && smem_bytes() > static_cast<size_t>(max_smem)) g.strip_rows /= 2;
  const size_t smem = smem_bytes();
  SC_CHECK(smem <= static_cast<size_t>(max_smem), "noisy_input_conv: ", g.W, "-pixel rows of ", g.C,
           " channels and a ", g.KH, "x", g.KW, " kernel's weights do not fit in shared memory");
  g.strips = (g.Ho + g.strip_rows - 1) / g.strip_rows;
  // Launches of up to kMaxSpans spans, each reading its own table, or one reading the staged batch.
  const auto launch = [&](const StagedNoise* table, int row0, int64_t first_row, int64_t rows) {
    const long long blocks = rows * g.strips;
    SC_CHECK(blocks < (1LL << 31), "noisy_input_conv: batch too large for one launch");
    visit_dtype(y.dtype(), [&]<typename T>() {
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, BFloat16> || std::is_same_v<T, Half>) {
        auto kernel = noisy_input_conv_kernel<T>;
        opt_in_shared_memory(reinterpret_cast<const void*>(kernel), smem);
        SC_LAUNCH(static_cast<unsigned>(blocks), 256, smem, kernel)
        (table, row0, in.mean.defined() ? in.mean.data<float>() : nullptr,
         in.std.defined() ? in.std.data<float>() : nullptr, w.data<float>(),
         bias.defined() ? bias.data<float>() : nullptr, y.data<T>() + first_row * g.Ho * g.Wo * g.O, g,
         p.relu);
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

void stage_noisy_input(const NoisyInput& in, Tensor& table) {
  store_table(describe(in, 0, in.spans.size()), table);
}

}  // namespace sc::cuda
