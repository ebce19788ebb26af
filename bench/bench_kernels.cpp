// Kernel microbenchmarks at the ResNet-110 certification shapes (batch 1024; 16/32/64 channels at 32/16/8 px):
// hand-written conv2d vs cuDNN, hand-written linear vs cuBLAS, and the elementwise ops, reporting TFLOP/s
// (multiply-adds count 2) and GB/s (each input read once, each output written once). GPU benchmarks time with
// CUDA events (manual time) and skip with a message where no GPU exists; CPU benchmarks time the reference path.
//
//   build/bench/smoothcuda_bench_kernels [--benchmark_filter=conv]
#include <benchmark/benchmark.h>

#include <random>
#include <stdexcept>

#include "kernels/attention_nhwc.h"
#include "kernels/batch_norm.h"
#include "kernels/concat.h"
#include "kernels/conv2d.h"
#include "kernels/elementwise.h"
#include "kernels/fused_conv.h"
#include "kernels/gaussian_noise.h"
#include "kernels/gelu.h"
#include "kernels/group_norm_nhwc.h"
#include "kernels/layer_norm.h"
#include "kernels/linear.h"
#include "kernels/noisy_input_conv.h"
#include "kernels/relu.h"
#include "kernels/residual_stage.h"
#include "kernels/upsample_nearest2x_nhwc.h"
#include "nn/memory.h"
#include "nn/runtime.h"
#include "nn/stream.h"
#ifdef SMOOTHCUDA_HAVE_CUDA
#include "kernels/cuda/vendor_handles.h"
#endif

namespace {

using namespace sc;

Tensor random_tensor(const Shape& shape, Device device, uint64_t seed) {
  Tensor t = Tensor::empty(shape);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = dist(rng);
  return t.to(device);
}

// Runs `body` per iteration on `device`; on CUDA each iteration is timed with events.
template <typename F>
void run(benchmark::State& state, Device device, F&& body) {
  if (device.is_cuda()) {
    DeviceTimer timer;
    body();  // warm-up: handles, algorithm choice, allocator cache
    synchronize(device);
    for (auto _ : state) {
      timer.start();
      body();
      state.SetIterationTime(timer.stop_seconds());
    }
  } else {
    for (auto _ : state) body();
  }
}

bool skip_without_gpu(benchmark::State& state, Device d) {
  if (d.is_cuda() && !cuda_available()) {
    state.SkipWithError(("no GPU: " + cuda_unavailable_reason()).c_str());
    return true;
  }
  return false;
}

void set_rates(benchmark::State& state, double flops, double bytes) {
  using C = benchmark::Counter;
  state.counters["TFLOP/s"] = C(flops / 1e12, C::kIsIterationInvariantRate);
  state.counters["GB/s"] = C(bytes / 1e9, C::kIsIterationInvariantRate);
}

// Args: batch, in channels, out channels, spatial size, stride; backend and device come from the registration.
void BM_Conv2d(benchmark::State& state, Device device, Backend backend) {
  if (skip_without_gpu(state, device)) return;
  const int64_t N = state.range(0), C = state.range(1), O = state.range(2), H = state.range(3), S = state.range(4);
  const Tensor x = random_tensor({N, C, H, H}, device, 1), w = random_tensor({O, C, 3, 3}, device, 2);
  const auto p = Conv2dParams::square(S, 1);
  const int64_t Ho = conv_out_size(H, 3, S, 1, 1);
  run(state, device, [&] { benchmark::DoNotOptimize(ops::conv2d(x, w, Tensor(), p, backend)); });
  set_rates(state, 2.0 * N * O * Ho * Ho * C * 9, 4.0 * (x.numel() + w.numel() + N * O * Ho * Ho));
}

// The two gradients of BM_Conv2d's convolution (training and attacks): args as BM_Conv2d, then 0 for the
// input gradient, 1 for the weight gradient. The same FLOPs as the forward.
void BM_Conv2dBackward(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const int64_t N = state.range(0), C = state.range(1), O = state.range(2), H = state.range(3),
                S = state.range(4);
  const bool weight = state.range(5) == 1;
  const auto p = Conv2dParams::square(S, 1);
  const int64_t Ho = conv_out_size(H, 3, S, 1, 1);
  const Tensor x = random_tensor({N, C, H, H}, device, 1), w = random_tensor({O, C, 3, 3}, device, 2);
  const Tensor dy = random_tensor({N, O, Ho, Ho}, device, 3);
  run(state, device, [&] {
    if (weight)
      benchmark::DoNotOptimize(ops::conv2d_backward_weight(x, dy, 3, 3, p));
    else
      benchmark::DoNotOptimize(ops::conv2d_backward_input(dy, w, H, H, p));
  });
  set_rates(state, 2.0 * N * O * Ho * Ho * C * 9, 4.0 * (x.numel() + w.numel() + dy.numel()));
}

// Args: rows, in features, out features.
void BM_Linear(benchmark::State& state, Device device, Backend backend) {
  if (skip_without_gpu(state, device)) return;
  const int64_t N = state.range(0), I = state.range(1), O = state.range(2);
  const Tensor x = random_tensor({N, I}, device, 3), w = random_tensor({O, I}, device, 4), b = random_tensor({O}, device, 5);
  run(state, device, [&] { benchmark::DoNotOptimize(ops::linear(x, w, b, backend)); });
  set_rates(state, 2.0 * N * I * O, 4.0 * (N * I + O * I + N * O));
}

// Args: batch, channels, spatial size. Elementwise ops are memory-bound: GB/s is the figure of merit.
void BM_Relu(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const Tensor x = random_tensor({state.range(0), state.range(1), state.range(2), state.range(2)}, device, 6);
  run(state, device, [&] { benchmark::DoNotOptimize(ops::relu(x)); });
  set_rates(state, static_cast<double>(x.numel()), 8.0 * x.numel());
}

void BM_Add(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const Shape s = {state.range(0), state.range(1), state.range(2), state.range(2)};
  const Tensor a = random_tensor(s, device, 7), b = random_tensor(s, device, 8);
  run(state, device, [&] { benchmark::DoNotOptimize(ops::add(a, b)); });
  set_rates(state, static_cast<double>(a.numel()), 12.0 * a.numel());
}

void BM_BatchNorm(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const int64_t C = state.range(1);
  const Tensor x = random_tensor({state.range(0), C, state.range(2), state.range(2)}, device, 9);
  const Tensor g = random_tensor({C}, device, 10), b = random_tensor({C}, device, 11), m = random_tensor({C}, device, 12);
  const Tensor v = Tensor::full({C}, 1.5f, device);
  run(state, device, [&] { benchmark::DoNotOptimize(ops::batch_norm(x, g, b, m, v)); });
  set_rates(state, 4.0 * x.numel(), 8.0 * x.numel());
}

// The fast path's NHWC convolution with the ResNet block epilogue (bias, residual, ReLU), in float32 (fp32
// tile kernel), float32 rounded to TF32 (TF32 tensor cores), bfloat16 and float16 (tensor cores). Args as
// BM_Conv2d; dtype and tf32 from the registration; `wgmma` switches Hopper's wgmma kernel on for the run
// (SMOOTHCUDA_WGMMA; the shape must be one it takes).
void BM_FusedConv(benchmark::State& state, Device device, DType dtype, bool tf32 = false,
                  bool wgmma = false) {
  if (skip_without_gpu(state, device)) return;
  const bool wgmma_before = wgmma_conv_enabled();
  if (wgmma) set_wgmma_conv(true);
  const int64_t N = state.range(0), C = state.range(1), O = state.range(2), H = state.range(3), S = state.range(4);
  const int64_t Ho = conv_out_size(H, 3, S, 1, 1);
  const Tensor x = random_tensor({N, H, H, C}, device, 1).astype(dtype);
  const Tensor w = random_tensor({O, 3, 3, C}, device, 2).astype(dtype), b = random_tensor({O}, device, 3);
  const Tensor res = random_tensor({N, Ho, Ho, O}, device, 4).astype(dtype);
  FusedConvParams p;
  p.stride_h = p.stride_w = S, p.pad_h = p.pad_w = 1, p.relu = true, p.tf32 = tf32;
  Tensor y = Tensor::empty({N, Ho, Ho, O}, dtype, device);
  if (wgmma && !cuda::fused_conv_uses_wgmma(x, w, Tensor(), p, y))
    state.SkipWithError(
        "no wgmma kernel here (an sm_90a build on a compute-capability-9.0 device, C, O % 64)");
  else
    run(state, device, [&] { ops::fused_conv(x, w, b, Tensor(), Tensor(), res, p, y); });
  set_wgmma_conv(wgmma_before);
  const double es = static_cast<double>(dtype_size(dtype));
  set_rates(state, 2.0 * N * O * Ho * Ho * C * 9, es * (x.numel() + w.numel() + 2.0 * y.numel()));
}

// A run of ResNet basic blocks (args: batch, channels, spatial size, blocks): `fused` as one residual_stage
// (the maps on chip through every convolution), else as its fused_conv steps (the halo kernel), into buffers
// allocated beforehand. GB/s counts what each way must move through device memory: the stage's input and
// output (fused), or every convolution's input, output and residual (steps); weights in both.
void BM_ResidualStage(benchmark::State& state, Device device, DType dtype, bool fused) {
  if (skip_without_gpu(state, device)) return;
  const int64_t N = state.range(0), C = state.range(1), H = state.range(2), L = 2 * state.range(3);
  const Tensor x = random_tensor({N, H, H, C}, device, 1).astype(dtype);
  const Tensor w = random_tensor({L, C, 3, 3, C}, device, 2).astype(dtype);
  const Tensor b = random_tensor({L, C}, device, 3);
  if (fused && !ops::residual_stage_fused(device, dtype, H, H, C)) {
    state.SkipWithError("no fused kernel for this shape");
    return;
  }
  Tensor y = Tensor::empty(x.shape(), dtype, device), t = Tensor::empty(x.shape(), dtype, device),
         a = Tensor::empty(x.shape(), dtype, device);
  const auto conv = [](const Tensor& in, const Tensor& wl, const Tensor& bl, const Tensor& residual,
                       const FusedConvParams& p,
                       Tensor& out) { ops::fused_conv(in, wl, bl, Tensor(), Tensor(), residual, p, out); };
  run(state, device, [&] {
    if (fused) return ops::residual_stage(x, w, b, y);
    residual_stage_by_steps(x, w, b, t, a, y, conv);
  });
  const double es = static_cast<double>(dtype_size(dtype)), map = static_cast<double>(x.numel());
  const double moved =
      fused ? 2.0 * map : static_cast<double>(L) * 2.5 * map;  // 2 per conv, + residual every 2nd
  set_rates(state, 2.0 * static_cast<double>(L) * map * C * 9, es * (moved + static_cast<double>(w.numel())));
}

// The fast denoiser's attention over T positions (args: batch, T, heads, head width): float32 on CUDA cores,
// bfloat16/float16 on tensor cores. FLOPs: Q·Kᵀ and P·V, 2·T²·d multiply-adds per sample and head.
void BM_AttentionNhwc(benchmark::State& state, Device device, DType dtype) {
  if (skip_without_gpu(state, device)) return;
  const int64_t N = state.range(0), T = state.range(1), heads = state.range(2), d = state.range(3);
  const Tensor qkv = random_tensor({N, T, 3 * heads * d}, device, 13).astype(dtype);
  Tensor out = Tensor::empty({N, T, heads * d}, dtype, device);
  run(state, device, [&] { ops::attention_nhwc(qkv, heads, out); });
  const double es = static_cast<double>(dtype_size(dtype));
  set_rates(state, 4.0 * N * heads * T * T * d, es * (qkv.numel() + out.numel()));
}

// The fast transformer's linear layers: a 1×1 fused_conv on tokens as one row of an NHWC map [N, 1, T, C] → O
// channels with its bias, plus in the epilogue the residual when args[4] is 1 (proj and fc2) or the GELU when
// it is 2 (fc1). Args: batch, tokens, C, O, epilogue. `wgmma` as BM_FusedConv's.
void BM_TransformerLinear(benchmark::State& state, Device device, DType dtype, bool wgmma = false) {
  if (skip_without_gpu(state, device)) return;
  const bool wgmma_before = wgmma_conv_enabled();
  if (wgmma) set_wgmma_conv(true);
  const int64_t N = state.range(0), T = state.range(1), C = state.range(2), O = state.range(3);
  const Tensor x = random_tensor({N, 1, T, C}, device, 1).astype(dtype);
  const Tensor w = random_tensor({O, 1, 1, C}, device, 2).astype(dtype), b = random_tensor({O}, device, 3);
  const Tensor res = state.range(4) == 1 ? random_tensor({N, 1, T, O}, device, 4).astype(dtype) : Tensor();
  Tensor y = Tensor::empty({N, 1, T, O}, dtype, device);
  FusedConvParams p;
  p.gelu = state.range(4) == 2;
  if (wgmma && !cuda::fused_conv_uses_wgmma(x, w, Tensor(), p, y))
    state.SkipWithError("no wgmma kernel here (an sm_90a build on a compute-capability-9.0 device)");
  else
    run(state, device, [&] { ops::fused_conv(x, w, b, Tensor(), Tensor(), res, p, y); });
  set_wgmma_conv(wgmma_before);
  const double es = static_cast<double>(dtype_size(dtype));
  set_rates(state, 2.0 * N * T * C * O,
            es * (x.numel() + w.numel() + (res.defined() ? 2.0 : 1.0) * static_cast<double>(y.numel())));
}

// attention_nhwc with BEiT's relative position bias (args: batch, grid height, grid width, heads, head width;
// T = gh·gw + 1 tokens). FLOPs as BM_AttentionNhwc's (the bias adds a table read per score).
void BM_AttentionNhwcBias(benchmark::State& state, Device device, DType dtype) {
  if (skip_without_gpu(state, device)) return;
  const int64_t N = state.range(0), gh = state.range(1), gw = state.range(2), heads = state.range(3),
                d = state.range(4), T = gh * gw + 1;
  const Tensor qkv = random_tensor({N, T, 3 * heads * d}, device, 13).astype(dtype);
  const RelativePositionBias bias{random_tensor({relative_position_rows(gh, gw), heads}, device, 17), gh, gw};
  Tensor out = Tensor::empty({N, T, heads * d}, dtype, device);
  run(state, device, [&] { ops::attention_nhwc(qkv, heads, out, bias); });
  const double es = static_cast<double>(dtype_size(dtype));
  set_rates(state, 4.0 * N * heads * T * T * d, es * (qkv.numel() + out.numel()));
}

// The fast transformer's LayerNorm and GELU in 16-bit storage (args: rows, channels): memory-bound, one read
// and one write.
void BM_LayerNormRows(benchmark::State& state, Device device, DType dtype) {
  if (skip_without_gpu(state, device)) return;
  const Tensor x = random_tensor({state.range(0), state.range(1)}, device, 18).astype(dtype);
  const Tensor g = random_tensor({state.range(1)}, device, 19),
               b = random_tensor({state.range(1)}, device, 20);
  run(state, device, [&] { ops::layer_norm(x, g, b, 1e-6); });
  set_rates(state, 8.0 * x.numel(), static_cast<double>(dtype_size(dtype)) * 2.0 * x.numel());
}
void BM_Gelu(benchmark::State& state, Device device, DType dtype) {
  if (skip_without_gpu(state, device)) return;
  const Tensor x = random_tensor({state.range(0), state.range(1)}, device, 21).astype(dtype);
  run(state, device, [&] { ops::gelu(x); });
  set_rates(state, 0.0, static_cast<double>(dtype_size(dtype)) * 2.0 * x.numel());
}

// The Gaussian noise of randomized smoothing (args: batch, elements per image): Philox4x32-10 and Box–Muller
// per group of four elements (smoothing/noise.h), then x + σ·z written out. normals/s counts the draws.
void BM_GaussianNoise(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const Tensor x = random_tensor({state.range(1)}, device, 22);
  run(state, device, [&] { ops::add_gaussian_noise(x, state.range(0), 0.25f, NoiseKey{7, 3, 1}, 0); });
  const double draws = static_cast<double>(state.range(0)) * static_cast<double>(state.range(1));
  set_rates(state, 0.0, 4.0 * draws);
  state.counters["normals/s"] = benchmark::Counter(draws, benchmark::Counter::kIsIterationInvariantRate);
}

// The fast denoiser's GroupNorm + SiLU (32 groups; args: batch, spatial size, channels): memory-bound.
void BM_GroupNormNhwc(benchmark::State& state, Device device, DType dtype) {
  if (skip_without_gpu(state, device)) return;
  const int64_t N = state.range(0), H = state.range(1), C = state.range(2);
  const Tensor x = random_tensor({N, H, H, C}, device, 14).astype(dtype);
  const Tensor g = random_tensor({C}, device, 15), b = random_tensor({C}, device, 16);
  Tensor y = Tensor::empty(x.shape(), dtype, device);
  run(state, device, [&] { ops::group_norm_nhwc(x, 32, g, b, 1e-5, true, y); });
  set_rates(state, 8.0 * x.numel(), static_cast<double>(dtype_size(dtype)) * 2.0 * x.numel());
}

// The first convolution with the noise made inside it (args: batch, channels, spatial size, out channels,
// kernel, stride; padding kernel/2): one image's samples at σ = 0.25, bfloat16 output (or `out`), float32
// FMA or, with `rounded` (round_operands: the 16-bit stem), tensor cores. The FLOPs count the convolution
// only; GB/s the image read once and the output written once.
void BM_NoisyInputConv(benchmark::State& state, Device device, bool rounded, DType out = DType::BF16) {
  if (skip_without_gpu(state, device)) return;
  const int64_t N = state.range(0), C = state.range(1), H = state.range(2), O = state.range(3), K = state.range(4),
                S = state.range(5), Ho = conv_out_size(H, K, S, K / 2, 1);
  NoisyInput in;
  in.images = random_tensor({1, C, H, H}, device, 17);
  in.spans = {{N, 0, 0, 0}};
  in.sigma = 0.25f, in.seed = 1;
  const Tensor w = random_tensor({O, K, K, C}, device, 18), b = random_tensor({O}, device, 19);
  FusedConvParams p;
  p.stride_h = p.stride_w = S, p.pad_h = p.pad_w = K / 2, p.relu = true, p.round_operands = rounded;
  Tensor y = Tensor::empty({N, Ho, Ho, O}, out, device);
  run(state, device, [&] { ops::noisy_input_conv(in, w, b, p, y); });
  set_rates(state, 2.0 * N * O * Ho * Ho * C * K * K,
            4.0 * in.images.numel() + static_cast<double>(dtype_size(out)) * y.numel());
}

// The fast denoiser's data movement in bfloat16: the skip connections' concatenation along the channels (args:
// batch, spatial size, channels of each part) and the nearest 2× upsampling (args: batch, spatial size,
// channels). Memory-bound: GB/s counts every byte read and written once.
void BM_ConcatChannels(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const int64_t N = state.range(0), H = state.range(1);
  const Tensor a = random_tensor({N, H, H, state.range(2)}, device, 20).astype(DType::BF16);
  const Tensor b = random_tensor({N, H, H, state.range(3)}, device, 21).astype(DType::BF16);
  run(state, device, [&] { benchmark::DoNotOptimize(ops::concat({a, b}, 3)); });
  set_rates(state, 0.0, 2.0 * 2.0 * static_cast<double>(a.numel() + b.numel()));
}

void BM_UpsampleNhwc(benchmark::State& state, Device device) {
  if (skip_without_gpu(state, device)) return;
  const int64_t N = state.range(0), H = state.range(1), C = state.range(2);
  const Tensor x = random_tensor({N, H, H, C}, device, 22).astype(DType::BF16);
  Tensor y = Tensor::empty({N, 2 * H, 2 * H, C}, DType::BF16, device);
  run(state, device, [&] { ops::upsample_nearest2x_nhwc(x, y); });
  set_rates(state, 0.0, 2.0 * static_cast<double>(x.numel() + y.numel()));
}

#ifdef SMOOTHCUDA_HAVE_CUDA
// The device's measured peaks, the yardsticks of the kernels above: a large bfloat16 matrix product (cuBLAS,
// float32 accumulation) and a large device-to-device copy (GB/s counts the read and the write).
void BM_PeakBf16Gemm(benchmark::State& state) {
  if (skip_without_gpu(state, Device::cuda(0))) return;
  const int64_t n = state.range(0);
  const Tensor a = random_tensor({n, n}, Device::cuda(0), 5).astype(DType::BF16);
  const Tensor b = random_tensor({n, n}, Device::cuda(0), 6).astype(DType::BF16);
  Tensor c = Tensor::empty({n, n}, DType::BF16, Device::cuda(0));
  const float one = 1.0f, zero = 0.0f;
  const int m = static_cast<int>(n);
  run(state, Device::cuda(0), [&] {
    SC_CUBLAS_CHECK(cublasGemmEx(cuda::cublas_handle(), CUBLAS_OP_N, CUBLAS_OP_N, m, m, m, &one, a.raw_data(),
                                 CUDA_R_16BF, m, b.raw_data(), CUDA_R_16BF, m, &zero, c.raw_data(), CUDA_R_16BF, m,
                                 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  });
  set_rates(state, 2.0 * n * n * n, 2.0 * 3 * n * n);
}

void BM_PeakCopy(benchmark::State& state) {
  if (skip_without_gpu(state, Device::cuda(0))) return;
  const int64_t n = state.range(0);
  const Tensor a = Tensor::zeros({n}, DType::U8, Device::cuda(0));
  Tensor b = Tensor::empty({n}, DType::U8, Device::cuda(0));
  run(state, Device::cuda(0), [&] {
    SC_CUDA_CHECK(cudaMemcpyAsync(b.raw_data(), a.raw_data(), static_cast<size_t>(n), cudaMemcpyDeviceToDevice,
                                  cuda::stream()));
  });
  set_rates(state, 0.0, 2.0 * n);
}
// cuDNN's own tensor-core convolution on the fast path's layout and types (NHWC, bfloat16/float16 storage,
// float32 accumulation), the yardstick of BM_FusedConv. It times the convolution alone, without the fused
// bias, residual and ReLU. Args as BM_Conv2d.
void BM_CudnnConvNhwc(benchmark::State& state, DType dtype) {
  if (skip_without_gpu(state, Device::cuda(0))) return;
  const int64_t N = state.range(0), C = state.range(1), O = state.range(2), H = state.range(3), S = state.range(4);
  const int64_t Ho = conv_out_size(H, 3, S, 1, 1);
  const Tensor x = random_tensor({N, H, H, C}, Device::cuda(0), 1).astype(dtype);
  const Tensor w = random_tensor({O, 3, 3, C}, Device::cuda(0), 2).astype(dtype);
  Tensor y = Tensor::empty({N, Ho, Ho, O}, dtype, Device::cuda(0));
  const cudnnDataType_t dt = dtype == DType::BF16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_HALF;
  const auto i32 = [](int64_t v) { return static_cast<int>(v); };
  cudnnTensorDescriptor_t xd, yd;
  cudnnFilterDescriptor_t wd;
  cudnnConvolutionDescriptor_t cd;
  SC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&xd));
  SC_CUDNN_CHECK(cudnnCreateTensorDescriptor(&yd));
  SC_CUDNN_CHECK(cudnnCreateFilterDescriptor(&wd));
  SC_CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&cd));
  SC_CUDNN_CHECK(cudnnSetTensor4dDescriptor(xd, CUDNN_TENSOR_NHWC, dt, i32(N), i32(C), i32(H), i32(H)));
  SC_CUDNN_CHECK(cudnnSetTensor4dDescriptor(yd, CUDNN_TENSOR_NHWC, dt, i32(N), i32(O), i32(Ho), i32(Ho)));
  SC_CUDNN_CHECK(cudnnSetFilter4dDescriptor(wd, dt, CUDNN_TENSOR_NHWC, i32(O), i32(C), 3, 3));
  SC_CUDNN_CHECK(cudnnSetConvolution2dDescriptor(cd, 1, 1, i32(S), i32(S), 1, 1, CUDNN_CROSS_CORRELATION,
                                                 CUDNN_DATA_FLOAT));
  SC_CUDNN_CHECK(cudnnSetConvolutionMathType(cd, CUDNN_TENSOR_OP_MATH));
  cudnnHandle_t h = cuda::cudnn_handle();
  cudnnConvolutionFwdAlgoPerf_t perf[8];
  int found = 0;
  SC_CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, xd, wd, cd, yd, 8, &found, perf));
  int pick = -1;  // the fastest by cuDNN's heuristics that it can run
  for (int i = 0; i < found && pick < 0; ++i)
    if (perf[i].status == CUDNN_STATUS_SUCCESS) pick = i;
  try {
    if (pick < 0) throw std::runtime_error("cuDNN offers no algorithm for this shape");
    const cudnnConvolutionFwdAlgo_t algo = perf[pick].algo;
    size_t ws_bytes = 0;
    SC_CUDNN_CHECK(cudnnGetConvolutionForwardWorkspaceSize(h, xd, wd, cd, yd, algo, &ws_bytes));
    Buffer workspace(ws_bytes, Device::cuda(0));
    const float one = 1.0f, zero = 0.0f;
    run(state, Device::cuda(0), [&] {
      SC_CUDNN_CHECK(cudnnConvolutionForward(cuda::cudnn_handle(), &one, xd, x.raw_data(), wd, w.raw_data(), cd,
                                             algo, workspace.data(), ws_bytes, &zero, yd, y.raw_data()));
    });
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
  cudnnDestroyTensorDescriptor(xd);
  cudnnDestroyTensorDescriptor(yd);
  cudnnDestroyFilterDescriptor(wd);
  cudnnDestroyConvolutionDescriptor(cd);
  const double es = static_cast<double>(dtype_size(dtype));
  set_rates(state, 2.0 * N * O * Ho * Ho * C * 9, es * (x.numel() + w.numel() + y.numel()));
}

BENCHMARK(BM_PeakBf16Gemm)->Arg(8192)->UseManualTime();
BENCHMARK(BM_PeakCopy)->Arg(1LL << 30)->UseManualTime();
#endif

// ResNet-110 stage shapes at batch 1024: {N, C, O, H, stride}.
void ResNetConvShapes(benchmark::internal::Benchmark* b) {
  b->Args({1024, 16, 16, 32, 1})->Args({1024, 32, 32, 16, 1})->Args({1024, 64, 64, 8, 1})->Args({1024, 16, 32, 32, 2})
      ->Args({1024, 3, 16, 32, 1});
}
// The 52M CIFAR-10 UNet's 3×3 convolutions at batch 128: 128 channels at 32 px, 256 at 16 px and 8 px.
void UNetConvShapes(benchmark::internal::Benchmark* b) {
  b->Args({128, 128, 128, 32, 1})->Args({128, 256, 256, 16, 1})->Args({128, 256, 256, 8, 1});
}
// ResNet-50's 3×3 convolutions at batch 128: 64, 128, 256 and 512 channels at 56, 28, 14 and 7 px.
void ResNet50ConvShapes(benchmark::internal::Benchmark* b) {
  b->Args({128, 64, 64, 56, 1})
      ->Args({128, 128, 128, 28, 1})
      ->Args({128, 256, 256, 14, 1})
      ->Args({128, 512, 512, 7, 1});
}
void ElementwiseShapes(benchmark::internal::Benchmark* b) {
  b->Args({1024, 16, 32})->Args({1024, 32, 16})->Args({1024, 64, 8});
}

const Device kGpu = Device::cuda(0), kCpu = Device::cpu();

BENCHMARK_CAPTURE(BM_Conv2d, cuda_handwritten, kGpu, Backend::Handwritten)->Apply(ResNetConvShapes)->UseManualTime();
BENCHMARK_CAPTURE(BM_Conv2d, cuda_cudnn, kGpu, Backend::Vendor)->Apply(ResNetConvShapes)->UseManualTime();
BENCHMARK_CAPTURE(BM_Linear, cuda_handwritten, kGpu, Backend::Handwritten)
    ->Args({1024, 64, 10})->Args({4096, 4096, 4096})->UseManualTime();
BENCHMARK_CAPTURE(BM_Linear, cuda_cublas, kGpu, Backend::Vendor)
    ->Args({1024, 64, 10})->Args({4096, 4096, 4096})->UseManualTime();
BENCHMARK_CAPTURE(BM_FusedConv, cuda_f32, kGpu, DType::F32)->Apply(ResNetConvShapes)->UseManualTime();
BENCHMARK_CAPTURE(BM_FusedConv, cuda_tf32, kGpu, DType::F32, true)->Apply(ResNetConvShapes)->UseManualTime();
BENCHMARK_CAPTURE(BM_FusedConv, cuda_bf16, kGpu, DType::BF16)->Apply(ResNetConvShapes)->UseManualTime();
BENCHMARK_CAPTURE(BM_FusedConv, cuda_f16, kGpu, DType::F16)->Apply(ResNetConvShapes)->UseManualTime();
// ResNet-110's stage-1 convolution at other batches: its input, residual and output take 96 KB a sample, so
// at 256 they stay in an H100's 50 MB L2 between iterations and at 1024 (above) and 4096 they do not. The
// difference is what cache blocking (engine/schedule.h) can gain.
BENCHMARK_CAPTURE(BM_FusedConv, cuda_bf16_batch, kGpu, DType::BF16)
    ->Args({256, 16, 16, 32, 1})
    ->Args({4096, 16, 16, 32, 1})
    ->UseManualTime();
// ResNet-110's three stages after their first block, at batch 1024: fused against step by step.
void ResNetStageShapes(benchmark::internal::Benchmark* b) {
  b->Args({1024, 16, 32, 18})->Args({1024, 32, 16, 17})->Args({1024, 64, 8, 17});
}
BENCHMARK_CAPTURE(BM_ResidualStage, cuda_bf16_fused, kGpu, DType::BF16, true)
    ->Apply(ResNetStageShapes)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_ResidualStage, cuda_bf16_steps, kGpu, DType::BF16, false)
    ->Apply(ResNetStageShapes)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_Conv2d, cuda_cudnn_unet, kGpu, Backend::Vendor)->Apply(UNetConvShapes)->UseManualTime();
#ifdef SMOOTHCUDA_HAVE_CUDA
BENCHMARK_CAPTURE(BM_CudnnConvNhwc, bf16, DType::BF16)
    ->Apply(ResNetConvShapes)
    ->Apply(UNetConvShapes)
    ->Apply(ResNet50ConvShapes)
    ->UseManualTime();
#endif
BENCHMARK_CAPTURE(BM_FusedConv, cuda_tf32_unet, kGpu, DType::F32, true)
    ->Apply(UNetConvShapes)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_FusedConv, cuda_bf16_unet, kGpu, DType::BF16)->Apply(UNetConvShapes)->UseManualTime();
BENCHMARK_CAPTURE(BM_FusedConv, cuda_f16_unet, kGpu, DType::F16)->Apply(UNetConvShapes)->UseManualTime();
// The wide convolutions on Hopper's wgmma kernel against the mma.sync implicit GEMM (and cuDNN, above).
BENCHMARK_CAPTURE(BM_FusedConv, cuda_bf16_unet_wgmma, kGpu, DType::BF16, false, true)
    ->Apply(UNetConvShapes)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_FusedConv, cuda_bf16_resnet50, kGpu, DType::BF16)
    ->Apply(ResNet50ConvShapes)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_FusedConv, cuda_bf16_resnet50_wgmma, kGpu, DType::BF16, false, true)
    ->Apply(ResNet50ConvShapes)
    ->UseManualTime();
// The UNet's attention layers at batch 128: 256 positions (16 px) and 64 (8 px), 4 heads of 64 channels.
BENCHMARK_CAPTURE(BM_AttentionNhwc, cuda_f32, kGpu, DType::F32)->Args({128, 256, 4, 64})->Args({128, 64, 4, 64})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_AttentionNhwc, cuda_bf16, kGpu, DType::BF16)->Args({128, 256, 4, 64})->Args({128, 64, 4, 64})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_AttentionNhwc, cuda_f16, kGpu, DType::F16)->Args({128, 256, 4, 64})->Args({128, 64, 4, 64})
    ->UseManualTime();
// ViT-B/16 at 224² (197 tokens, 768 channels, MLP 3072; batch 128): qkv, proj (+ residual), fc1, fc2 (+
// residual); its attention (12 heads of 64), BEiT-L/16 at 512² (32×32 patches, 16 heads of 64; batch 8) with
// relative position biases; LayerNorm and GELU on its rows.
void VitLinearShapes(benchmark::internal::Benchmark* b) {
  b->Args({128, 197, 768, 2304, 0})
      ->Args({128, 197, 768, 768, 1})
      ->Args({128, 197, 768, 3072, 2})
      ->Args({128, 197, 3072, 768, 1});
}
BENCHMARK_CAPTURE(BM_TransformerLinear, cuda_bf16, kGpu, DType::BF16)
    ->Apply(VitLinearShapes)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_TransformerLinear, cuda_f16, kGpu, DType::F16)->Apply(VitLinearShapes)->UseManualTime();
BENCHMARK_CAPTURE(BM_TransformerLinear, cuda_bf16_wgmma, kGpu, DType::BF16, true)
    ->Apply(VitLinearShapes)
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_Linear, cuda_cublas_vit, kGpu, Backend::Vendor)
    ->Args({25216, 768, 3072})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_AttentionNhwc, cuda_f16_vit, kGpu, DType::F16)
    ->Args({128, 197, 12, 64})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_AttentionNhwcBias, cuda_f16, kGpu, DType::F16)
    ->Args({128, 14, 14, 12, 64})
    ->Args({8, 32, 32, 16, 64})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_LayerNormRows, cuda_f16, kGpu, DType::F16)->Args({25216, 768})->UseManualTime();
BENCHMARK_CAPTURE(BM_Gelu, cuda_f16, kGpu, DType::F16)->Args({25216, 3072})->UseManualTime();
BENCHMARK_CAPTURE(BM_GaussianNoise, cuda, kGpu)->Args({1000, 3072})->UseManualTime();
BENCHMARK_CAPTURE(BM_GroupNormNhwc, cuda_bf16, kGpu, DType::BF16)->Args({128, 32, 128})->Args({128, 16, 256})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_NoisyInputConv, cuda, kGpu, false)->Args({1024, 3, 32, 16, 3, 1})->Args({128, 3, 224, 64, 7, 2})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_NoisyInputConv, cuda_stem16, kGpu, true)->Args({1024, 3, 32, 16, 3, 1})
    ->Args({128, 3, 224, 64, 7, 2})->UseManualTime();
BENCHMARK_CAPTURE(BM_ConcatChannels, cuda_bf16, kGpu)->Args({128, 32, 128, 128})->Args({128, 16, 256, 256})
    ->UseManualTime();
BENCHMARK_CAPTURE(BM_UpsampleNhwc, cuda_bf16, kGpu)->Args({128, 16, 256})->Args({128, 8, 256})->UseManualTime();
BENCHMARK_CAPTURE(BM_Relu, cuda, kGpu)->Apply(ElementwiseShapes)->UseManualTime();
BENCHMARK_CAPTURE(BM_Add, cuda, kGpu)->Apply(ElementwiseShapes)->UseManualTime();
BENCHMARK_CAPTURE(BM_BatchNorm, cuda, kGpu)->Apply(ElementwiseShapes)->UseManualTime();

// The CPU reference path at a small batch (what a machine without a GPU certifies with).
BENCHMARK_CAPTURE(BM_Conv2d, cpu, kCpu, Backend::Handwritten)->Args({16, 16, 16, 32, 1})->Args({16, 64, 64, 8, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Conv2dBackward, cpu, kCpu)
    ->Args({16, 16, 16, 32, 1, 0})
    ->Args({16, 16, 16, 32, 1, 1})
    ->Args({16, 16, 32, 32, 2, 0})
    ->Args({16, 16, 32, 32, 2, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_FusedConv, cpu, kCpu, DType::F32)->Args({16, 16, 16, 32, 1})->Args({16, 64, 64, 8, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_Linear, cpu, kCpu, Backend::Handwritten)->Args({256, 256, 256})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_TransformerLinear, cpu, kCpu, DType::F32)->Args({4, 65, 64, 256, 1})->UseRealTime();
BENCHMARK_CAPTURE(BM_AttentionNhwcBias, cpu, kCpu, DType::F32)->Args({2, 8, 8, 2, 32})->UseRealTime();
BENCHMARK_CAPTURE(BM_LayerNormRows, cpu, kCpu, DType::BF16)->Args({260, 64})->UseRealTime();
BENCHMARK_CAPTURE(BM_Gelu, cpu, kCpu, DType::BF16)->Args({260, 256})->UseRealTime();
// LeNet's first layer on Fashion-MNIST (the README's demo on the CPU): 1 → 6 channels, 5 × 5, 28 × 28.
BENCHMARK_CAPTURE(BM_NoisyInputConv, cpu_f32, kCpu, false, DType::F32)
    ->Args({100, 1, 28, 6, 5, 1})
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_GaussianNoise, cpu, kCpu)->Args({100, 784})->Args({100, 3072})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
