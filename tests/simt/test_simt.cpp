// The SIMT emulator itself: barriers and shuffles, ldmatrix feeding mma (two layouts of the PTX ISA that must
// compose into a plain matrix product), and the errors it reports instead of hanging or passing silently.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "simt.h"
// simt.h before the project headers; the device helpers go to sc::cuda_emulated, as in emulated_prelude.h
#include "nn/half.h"
#define cuda cuda_emulated
#include "kernels/cuda/async_copy.cuh"
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/half_types.cuh"
#include "kernels/cuda/wgmma.cuh"
#include "kernels/tf32_round.h"

namespace {

// Block sums by a shared-memory tree: needs every __syncthreads to be a real barrier.
__global__ void block_sum_kernel(const float* x, float* sums) {
  __shared__ float s[256];
  const int t = threadIdx.x;
  s[t] = x[blockIdx.x * blockDim.x + t];
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
    if (t < stride) s[t] += s[t + stride];
    __syncthreads();
  }
  if (t == 0) sums[blockIdx.x] = s[0];
}

TEST(Simt, BarriersMakeSharedMemoryWritesVisible) {
  std::vector<float> x(3 * 256), sums(3, NAN);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 101) - 50.0f;
  SC_LAUNCH(3, 256, 0, block_sum_kernel)(x.data(), sums.data());
  for (int b = 0; b < 3; ++b) {
    double want = 0;
    for (int i = 0; i < 256; ++i) want += x[static_cast<size_t>(b * 256 + i)];
    EXPECT_EQ(sums[static_cast<size_t>(b)], want) << "block " << b;
  }
}

__global__ void butterfly_kernel(float* out) {
  float v = static_cast<float>(threadIdx.x * threadIdx.x);
  for (int off = 16; off > 0; off /= 2) v += __shfl_xor_sync(0xffffffffu, v, off);
  out[threadIdx.x] = v;
}

TEST(Simt, ShuffleButterflyGivesEveryLaneTheWarpSum) {
  std::vector<float> out(64, NAN);
  SC_LAUNCH(1, 64, 0, butterfly_kernel)(out.data());
  for (int t = 0; t < 64; ++t) {
    const int w = t / 32;
    float want = 0;
    for (int l = 32 * w; l < 32 * w + 32; ++l) want += static_cast<float>(l * l);
    EXPECT_EQ(out[static_cast<size_t>(t)], want) << "thread " << t;
  }
}

// shfl.down: lane l reads lane l + d, and lanes whose source lies past the warp keep their own value; a
// 64-bit value moves whole.
__global__ void shuffle_down_and_wide_kernel(float* down, long* wide) {
  down[threadIdx.x] = __shfl_down_sync(0xffffffffu, static_cast<float>(threadIdx.x), 5u);
  wide[threadIdx.x] = __shfl_xor_sync(0xffffffffu, (1L << 40) + static_cast<long>(threadIdx.x), 3);
}

TEST(Simt, ShuffleDownAndSixtyFourBitShuffles) {
  std::vector<float> down(64, NAN);
  std::vector<long> wide(64, -1);
  SC_LAUNCH(1, 64, 0, shuffle_down_and_wide_kernel)(down.data(), wide.data());
  for (int t = 0; t < 64; ++t) {
    EXPECT_EQ(down[static_cast<size_t>(t)], static_cast<float>(t % 32 + 5 < 32 ? t + 5 : t))
        << "thread " << t;
    EXPECT_EQ(wide[static_cast<size_t>(t)], (1L << 40) + (t ^ 3)) << "thread " << t;
  }
}

// One 16×8×16 product the way the kernels build it: A (row-major) by plain ldmatrix, B once from its
// transpose (rows n, plain ldmatrix) and once from B itself (rows k, .trans), then mma. The emulator's
// ldmatrix and mma layouts are written independently from the PTX ISA; they must compose into the plain
// product.
template <typename T>
__global__ void mma_tile_kernel(const uint16_t* a_global, const uint16_t* bt_global, const uint16_t* b_global,
                                float* d_plain, float* d_trans) {
  __shared__ __align__(16) uint16_t A[16][16], Bt[8][16], B[16][8];
  const int lane = threadIdx.x;
  for (int i = lane; i < 256; i += 32) A[i / 16][i % 16] = a_global[i];
  for (int i = lane; i < 128; i += 32) Bt[i / 16][i % 16] = bt_global[i], B[i / 8][i % 8] = b_global[i];
  __syncthreads();
  const int tile = lane / 8, row = lane % 8;
  uint32_t a[4], bt[4], b[4];
  // A's quadrants in fragment order: (rows 0–7, k 0–7), (rows 8–15, k 0–7), (rows 0–7, k 8–15), (8–15, 8–15).
  sc::cuda::ldmatrix_x4(a, &A[row + 8 * (tile % 2)][8 * (tile / 2)]);
  sc::cuda::ldmatrix_x4(bt, &Bt[row][8 * (tile % 2)]);          // (n, k 0–7), (n, k 8–15), twice
  sc::cuda::ldmatrix_x4_trans(b, &B[row + 8 * (tile % 2)][0]);  // (k 0–7, n), (k 8–15, n), twice
  float d0[4] = {1.0f, 2.0f, 3.0f, 4.0f}, d1[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  sc::cuda::Half16<T>::mma(d0, a, bt);
  sc::cuda::Half16<T>::mma(d1, a, b);
  for (int q = 0; q < 4; ++q) {  // accumulator q: row lane/4 (+8 for q ≥ 2), column 2·(lane%4) + q%2
    const int r = lane / 4 + 8 * (q / 2), n = 2 * (lane % 4) + q % 2;
    d_plain[r * 8 + n] = d0[q];
    d_trans[r * 8 + n] = d1[q];
  }
}

template <typename T>
void check_mma_tile() {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<uint16_t> a(256), bt(128), b(128);
  std::vector<double> af(256), bf(128);
  for (int i = 0; i < 256; ++i) {
    a[static_cast<size_t>(i)] = sc::cuda::Half16<T>::from_float(normal(rng));
    af[static_cast<size_t>(i)] = sc::cuda::Half16<T>::to_float(a[static_cast<size_t>(i)]);
  }
  for (int k = 0; k < 16; ++k)
    for (int n = 0; n < 8; ++n) {
      const uint16_t v = sc::cuda::Half16<T>::from_float(normal(rng));
      b[static_cast<size_t>(k * 8 + n)] = bt[static_cast<size_t>(n * 16 + k)] = v;
      bf[static_cast<size_t>(k * 8 + n)] = sc::cuda::Half16<T>::to_float(v);
    }
  std::vector<float> plain(128, NAN), trans(128, NAN);
  SC_LAUNCH(1, 32, 0, mma_tile_kernel<T>)(a.data(), bt.data(), b.data(), plain.data(), trans.data());
  for (int r = 0; r < 16; ++r)
    for (int n = 0; n < 8; ++n) {
      double want = 1 + n % 2 + (r >= 8 ? 2 : 0);  // the initial accumulators
      for (int k = 0; k < 16; ++k)
        want += af[static_cast<size_t>(r * 16 + k)] * bf[static_cast<size_t>(k * 8 + n)];
      EXPECT_NEAR(plain[static_cast<size_t>(r * 8 + n)], want, 1e-5 * (1 + std::fabs(want))) << r << "," << n;
      EXPECT_NEAR(trans[static_cast<size_t>(r * 8 + n)], want, 1e-5 * (1 + std::fabs(want))) << r << "," << n;
    }
}

TEST(Simt, LdmatrixFragmentsMultiplyAsPlainMatrices) {
  check_mma_tile<sc::BFloat16>();
  check_mma_tile<sc::Half>();
}

// The TF32 product m16n8k8 fed by the same ldmatrix on rows of 4 floats (16 bytes): A (16×8, row-major) and
// B from its transpose (rows n), as the implicit GEMM stores both.
__global__ void mma_tf32_tile_kernel(const float* a_global, const float* bt_global, float* d_out) {
  __shared__ __align__(16) float A[16][8], Bt[8][8];
  const int lane = threadIdx.x;
  for (int i = lane; i < 128; i += 32) A[i / 8][i % 8] = a_global[i];
  for (int i = lane; i < 64; i += 32) Bt[i / 8][i % 8] = bt_global[i];
  __syncthreads();
  const int tile = lane / 8, row = lane % 8;
  uint32_t a[4], bt[4];
  sc::cuda::ldmatrix_x4(a, &A[row + 8 * (tile % 2)][4 * (tile / 2)]);  // (rows lo/hi, k 0–3), then k 4–7
  sc::cuda::ldmatrix_x4(bt, &Bt[row][4 * (tile % 2)]);                 // (n, k 0–3), (n, k 4–7), twice
  float d[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  sc::cuda::mma_tf32(d, a, bt);
  for (int q = 0; q < 4; ++q) d_out[(lane / 4 + 8 * (q / 2)) * 8 + 2 * (lane % 4) + q % 2] = d[q];
}

TEST(Simt, Tf32FragmentsFromLdmatrixMultiplyAsPlainMatrices) {
  std::mt19937 rng(8);
  std::normal_distribution<float> normal;
  std::vector<float> a(128), bt(64);
  for (float& v : a) v = sc::round_tf32(normal(rng));
  for (float& v : bt) v = sc::round_tf32(normal(rng));
  std::vector<float> d(128, NAN);
  SC_LAUNCH(1, 32, 0, mma_tf32_tile_kernel)(a.data(), bt.data(), d.data());
  for (int r = 0; r < 16; ++r)
    for (int n = 0; n < 8; ++n) {
      double want = 1 + n % 2 + (r >= 8 ? 2 : 0);  // the initial accumulators
      for (int k = 0; k < 8; ++k)
        want += static_cast<double>(a[static_cast<size_t>(r * 8 + k)]) * bt[static_cast<size_t>(n * 8 + k)];
      EXPECT_NEAR(d[static_cast<size_t>(r * 8 + n)], want, 1e-5 * (1 + std::fabs(want))) << r << "," << n;
    }
}

__global__ void divergent_shuffle_kernel(float* out) {
  if (threadIdx.x % 32 < 16) out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
}
__global__ void divergent_barrier_kernel(float* out) {  // half a warp at a shuffle, half at a barrier
  if (threadIdx.x < 16)
    out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, 1.0f, 1);
  else
    __syncthreads();
}
__global__ void misaligned_ldmatrix_kernel(float* out) {
  __shared__ __align__(16) uint16_t s[8][16];
  uint32_t r[4];
  sc::cuda::ldmatrix_x4(r, &s[threadIdx.x % 8][1]);
  out[threadIdx.x] = static_cast<float>(r[0]);
}

TEST(Simt, ReportsWhatWouldHangOrFaultOnTheDevice) {
  std::vector<float> out(64);
  try {
    SC_LAUNCH(1, 32, 0, divergent_shuffle_kernel)(out.data());
    ADD_FAILURE() << "a shuffle with half the warp exited ran";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("deadlock"), std::string::npos) << e.what();
  }
  try {
    SC_LAUNCH(1, 32, 0, divergent_barrier_kernel)(out.data());
    ADD_FAILURE() << "divergent barriers ran";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("deadlock"), std::string::npos) << e.what();
  }
  EXPECT_THROW(SC_LAUNCH(1, 32, 0, misaligned_ldmatrix_kernel)(out.data()), std::runtime_error);
  EXPECT_THROW(SC_LAUNCH(1, 2048, 0, butterfly_kernel)(out.data()), std::invalid_argument);
  EXPECT_THROW(SC_LAUNCH(1, 32, 64 * 1024, butterfly_kernel)(out.data()), std::invalid_argument);
}

// A uint4 load off a 16-byte boundary faults on the device ("misaligned address") but not on x86: the
// emulated kernel files are built with UBSan's alignment check, which stops the process there.
__global__ void misaligned_vector_load_kernel(const float* x, float* out) {
  const uint4 v = *reinterpret_cast<const uint4*>(x + 1 + 4 * threadIdx.x);
  out[threadIdx.x] = static_cast<float>(v.x);
}

TEST(SimtDeathTest, MisalignedVectorLoadStopsTheProcess) {
  alignas(16) float x[4 * 32 + 4] = {};
  std::vector<float> out(32);
  EXPECT_DEATH(SC_LAUNCH(1, 32, 0, misaligned_vector_load_kernel)(x, out.data()), "misaligned address");
  SC_LAUNCH(1, 32, 0, misaligned_vector_load_kernel)(x + 3, out.data());  // x + 4: aligned, runs
}

// Static shared memory starts every block as NaN, like the device's undefined contents: the second block
// reads what only the first block wrote.
__global__ void read_before_write_kernel(float* out) {
  __shared__ float s[32];
  if (blockIdx.x == 0) s[threadIdx.x] = 1.0f;
  __syncthreads();
  out[blockIdx.x * 32 + threadIdx.x] = s[threadIdx.x];
}

TEST(Simt, StaticSharedMemoryStartsEveryBlockPoisoned) {
  std::vector<float> out(64, 0.0f);
  SC_LAUNCH(2, 32, 0, read_before_write_kernel)(out.data());
  for (int t = 0; t < 32; ++t) {
    EXPECT_EQ(out[static_cast<size_t>(t)], 1.0f) << "thread " << t;
    EXPECT_TRUE(std::isnan(out[static_cast<size_t>(32 + t)])) << "thread " << t;
  }
}

// Under the race detector (scripts/emulator-sanitizer.sh thread: the emulator with ThreadSanitizer) a racy
// kernel stops the process with the detector's report; elsewhere the emulator's schedules show the race in
// the values.
#if defined(__SANITIZE_THREAD__)
constexpr bool kRaceDetector = true;
#else
constexpr bool kRaceDetector = false;
#endif
#define EXPECT_RACE_REPORT(launch) EXPECT_DEATH(launch, "ThreadSanitizer: data race")

// A missing barrier: each thread reads its neighbour's shared write with no __syncthreads between. The
// shuffled schedule runs some readers before their neighbours, so stale values show.
__global__ void missing_barrier_kernel(int* out) {
  __shared__ int s[128];
  s[threadIdx.x] = static_cast<int>(threadIdx.x) + 1000 * static_cast<int>(blockIdx.x + 1);
  out[blockIdx.x * 128 + threadIdx.x] = s[(threadIdx.x + 1) % 128];
}

TEST(Simt, ShuffledScheduleExposesAMissingBarrier) {
  std::vector<int> out(256, -1);
  if (kRaceDetector) {
    EXPECT_RACE_REPORT(SC_LAUNCH(2, 128, 0, missing_barrier_kernel)(out.data()));
    return;
  }
  SC_LAUNCH(2, 128, 0, missing_barrier_kernel)(out.data());
  int stale = 0;
  for (int b = 0; b < 2; ++b)
    for (int t = 0; t < 128; ++t)
      stale += out[static_cast<size_t>(b * 128 + t)] != (t + 1) % 128 + 1000 * (b + 1);
  EXPECT_GT(stale, 10);
}

// FastDivisor against the division for every divisor up to 5000 and the 31-bit limits, on numerators near
// multiples of the divisor (where a quotient off by one would show) and the largest numerator.
TEST(Simt, FastDivisorDividesLikeTheDivision) {
  int64_t checked = 0;
  for (int d : {1, 2, 3, 7, 10, 34, 1024, 1156, 4096, 65535, 65536, 1 << 30, (1 << 30) + 1, 2147483647}) {
    const sc::cuda_emulated::FastDivisor by(d);
    for (int64_t k : {int64_t{0}, int64_t{1}, int64_t{12345}, int64_t{2147483647} / d})
      for (int64_t delta = -2; delta <= 2; ++delta) {
        const int64_t n = k * d + delta;
        if (n < 0 || n > 2147483647) continue;
        ASSERT_EQ(by.div(static_cast<int>(n)), n / d) << n << " / " << d;
        ++checked;
      }
  }
  std::mt19937 rng(5);
  for (int d = 1; d <= 5000; ++d) {
    const sc::cuda_emulated::FastDivisor by(d);
    for (int i = 0; i < 40; ++i) {
      const int n = static_cast<int>(rng() >> 1);  // 31 bits
      ASSERT_EQ(by.div(n), n / d) << n << " / " << d;
      ASSERT_EQ(by.div(2147483647), 2147483647 / d) << d;
    }
    checked += 80;
  }
  EXPECT_GT(checked, 400000);
  EXPECT_THROW(sc::cuda_emulated::FastDivisor(0), sc::Error);
}

// cp.async: every thread copies one 16-byte run into shared memory and reads its neighbour's. With the wait
// and a barrier every run has landed; without the wait some have not (the emulator lands a copy at once or at
// the wait, by a coin), so the old bytes (the 0xFF poison) show.
__global__ void async_copy_kernel(const uint4* src, uint4* out, bool wait) {
  __shared__ uint4 s[128];
  sc::cuda_emulated::cp_async_16(&s[threadIdx.x], &src[threadIdx.x]);
  if (wait) sc::cuda_emulated::cp_async_wait_all();
  __syncthreads();
  out[threadIdx.x] = s[(threadIdx.x + 1) % 128];
}

TEST(Simt, AsyncCopiesLandByTheWait) {
  std::vector<uint4> src(128), out(128);
  for (unsigned i = 0; i < 128; ++i) src[i] = make_uint4(i, 3 * i, 5 * i + 1, 7 * i + 2);
  for (bool wait : {true, false}) {
    if (!wait && kRaceDetector) {  // the copies that land after the barrier race with the neighbours' reads
      EXPECT_RACE_REPORT(SC_LAUNCH(1, 128, 0, async_copy_kernel)(src.data(), out.data(), wait));
      return;
    }
    SC_LAUNCH(1, 128, 0, async_copy_kernel)(src.data(), out.data(), wait);
    int landed = 0;
    for (unsigned t = 0; t < 128; ++t) {
      const uint4 want = src[(t + 1) % 128], got = out[t];
      landed += got.x == want.x && got.y == want.y && got.z == want.z && got.w == want.w;
    }
    if (wait) {
      EXPECT_EQ(landed, 128);
    } else {
      EXPECT_LT(landed, 120);
      EXPECT_GT(landed, 8);  // some copies land at once
    }
  }
}

// wgmma: A (64×64) and B (64 rows × 64 k) stored by plain stores in 128-byte swizzled rows (wgmma.cuh), then
// one m64n64k16 product of their second 16-deep k slice (the descriptors 32 bytes into the rows). Read after
// the wait, every accumulator is the plain product; read before it, some are not there yet (the emulator
// completes a product at once or at the wait, by a coin).
__global__ void wgmma_kernel(const uint16_t* a, const uint16_t* b, float* out, bool wait_before_read) {
  namespace cu = sc::cuda_emulated;
  SC_DYNAMIC_SHARED(unsigned char, raw);
  unsigned char* tiles = raw + ((1024 - (cu::shared_address(raw) & 1023)) & 1023);
  for (int i = threadIdx.x; i < 2 * 64 * 8; i += blockDim.x) {  // 16-byte chunks of A's rows, then B's
    const int row = i / 8 % 64, chunk = i % 8;
    const uint16_t* src = (i < 64 * 8 ? a : b) + row * 64 + chunk * 8;
    std::memcpy(tiles + (i / (64 * 8)) * 8192 + row * 128 + ((chunk ^ (row % 8)) << 4), src, 16);
  }
  cu::fence_proxy_async();
  __syncthreads();
  float d[32] = {};
  const uint32_t base = cu::shared_address(tiles);
  cu::wgmma_fence();
  cu::WgmmaM64<64, true>::run(d, cu::swizzle128_descriptor(base + 32),
                              cu::swizzle128_descriptor(base + 8192 + 32));
  cu::wgmma_commit_group();
  if (wait_before_read) cu::wgmma_wait_group<0>();
  for (int i = 0; i < 32; ++i) out[threadIdx.x * 32 + i] = d[i];
  cu::wgmma_wait_group<0>();
}

TEST(Simt, WgmmaMultipliesSwizzledTilesByTheWait) {
  std::vector<uint16_t> a(64 * 64), b(64 * 64);
  for (int i = 0; i < 64 * 64; ++i) {  // small integers: every sum exact
    a[static_cast<size_t>(i)] = sc::BFloat16::from_float(static_cast<float>((i * 7) % 11) - 5.0f).bits;
    b[static_cast<size_t>(i)] = sc::BFloat16::from_float(static_cast<float>((i * 5) % 9) - 4.0f).bits;
  }
  const auto value = [](const std::vector<uint16_t>& m, int row, int k) {
    return static_cast<double>(sc::BFloat16{m[static_cast<size_t>(row * 64 + k)]}.to_float());
  };
  for (bool wait : {true, false}) {
    std::vector<float> out(128 * 32, NAN);
    SC_LAUNCH(1, 128, 2 * 8192 + 1024, wgmma_kernel)(a.data(), b.data(), out.data(), wait);
    int equal = 0;
    for (int t = 0; t < 128; ++t)
      for (int r = 0; r < 32; ++r) {
        const int row = 16 * (t / 32) + t % 32 / 4 + 8 * (r % 4 / 2), col = 8 * (r / 4) + 2 * (t % 4) + r % 2;
        double want = 0;
        for (int k = 16; k < 32; ++k) want += value(a, row, k) * value(b, col, k);
        equal += out[static_cast<size_t>(t * 32 + r)] == static_cast<float>(want);
      }
    if (wait) {
      EXPECT_EQ(equal, 128 * 32);
    } else {
      EXPECT_LT(equal, 128 * 32 - 256);
      EXPECT_GT(equal, 256);  // some products complete at once
    }
  }
}

}  // namespace

// A missing barrier after a barrier: every thread reads a shared slot that warp 0 then overwrites, with only
// warp-level work between (as in a block reduction reused without its trailing __syncthreads). Schedules
// that let one warp run on past a completed barrier show the overwrite to the other warps.
__global__ void overwrite_after_barrier_kernel(float* out) {
  __shared__ float slot;
  if (threadIdx.x == 0) slot = 1.0f;
  __syncthreads();
  const float seen = slot;
  const float warp_total = __shfl_xor_sync(0xffffffffu, seen, 1);
  if (threadIdx.x == 0) slot = -warp_total;
  out[blockIdx.x * 128 + threadIdx.x] = seen;
}

TEST(Simt, SchedulesLetAWarpRunPastABarrier) {
  std::vector<float> out(4 * 128, NAN);
  if (kRaceDetector) {
    EXPECT_RACE_REPORT(SC_LAUNCH(4, 128, 0, overwrite_after_barrier_kernel)(out.data()));
    return;
  }
  SC_LAUNCH(4, 128, 0, overwrite_after_barrier_kernel)(out.data());  // one block per schedule
  int overwritten = 0;
  for (float v : out) overwritten += v != 1.0f;
  EXPECT_GT(overwritten, 0);
}

// The accesses the emulator makes in a thread's name, each raced by another warp with no barrier between:
// ldmatrix's rows, a cp.async (declared from its issue on; the copies the coin lands at once also race where
// they land, so this case does not isolate the declaration at issue), and a wgmma's operands while the
// product is in flight. Only the race detector sees these.
__global__ void ldmatrix_race_kernel(float* out) {
  __shared__ __align__(16) uint16_t s[8][8];
  if (threadIdx.x >= 32) s[threadIdx.x % 8][threadIdx.x / 8 % 8] = 1;  // warp 1 writes the tile warp 0 loads
  if (threadIdx.x < 32) {
    uint32_t r[4];
    sc::cuda::ldmatrix_x4(r, &s[threadIdx.x % 8][0]);
    out[threadIdx.x] = static_cast<float>(r[0]);
  }
}
__global__ void async_copy_race_kernel(const uint4* src, uint4* out) {
  __shared__ uint4 s[64];
  s[threadIdx.x] = make_uint4(0, 0, 0, 0);
  __syncthreads();
  const uint4 old = s[(threadIdx.x + 32) % 64];  // the other warp's slot, which it overwrites below
  sc::cuda_emulated::cp_async_16(&s[threadIdx.x], &src[threadIdx.x]);
  __syncthreads();
  sc::cuda_emulated::cp_async_wait_all();
  out[threadIdx.x] = old;
}
__global__ void wgmma_race_kernel(float* out) {
  namespace cu = sc::cuda_emulated;
  SC_DYNAMIC_SHARED(unsigned char, raw);
  unsigned char* tiles = raw + ((1024 - (cu::shared_address(raw) & 1023)) & 1023);
  for (int i = threadIdx.x; i < 2 * 8192; i += blockDim.x) tiles[i] = 0;
  cu::fence_proxy_async();
  __syncthreads();
  float d[32] = {};
  const uint32_t base = cu::shared_address(tiles);
  cu::wgmma_fence();
  cu::WgmmaM64<64, true>::run(d, cu::swizzle128_descriptor(base), cu::swizzle128_descriptor(base + 8192));
  cu::wgmma_commit_group();
  if (threadIdx.x == 127) tiles[8192] = 1;  // B's first row, before the other warps' products are done
  cu::wgmma_wait_group<0>();
  out[threadIdx.x] = d[0];
}

TEST(Simt, RaceDetectorSeesTheEmulatorsOwnAccesses) {
  if (!kRaceDetector)
    GTEST_SKIP() << "only the race detector (scripts/emulator-sanitizer.sh thread) reports these";
  std::vector<float> out(128);
  std::vector<uint4> src(64), copies(64);
  EXPECT_RACE_REPORT(SC_LAUNCH(1, 64, 0, ldmatrix_race_kernel)(out.data()));
  EXPECT_RACE_REPORT(SC_LAUNCH(1, 64, 0, async_copy_race_kernel)(src.data(), copies.data()));
  EXPECT_RACE_REPORT(SC_LAUNCH(1, 128, 2 * 8192 + 1024, wgmma_race_kernel)(out.data()));
}
