#include "kernels/gaussian_noise.h"

#include <cmath>

#include "kernels/dispatch.h"

namespace sc::ops {

Tensor add_gaussian_noise(const Tensor& x, int64_t batch, float sigma, NoiseKey key, uint32_t first_sample) {
  check_dtype(x, DType::F32, "add_gaussian_noise", "x");
  check_contiguous(x, "add_gaussian_noise", "x");
  SC_CHECK(batch >= 0, "add_gaussian_noise: negative batch");
  SC_CHECK(std::isfinite(sigma) && sigma >= 0, "add_gaussian_noise: sigma must be finite and >= 0, got ", sigma);
  SC_CHECK(static_cast<uint64_t>(first_sample) + static_cast<uint64_t>(batch) <= (1ULL << 32),
           "add_gaussian_noise: sample indices beyond 2^32");
  SC_CHECK(x.numel() <= (int64_t{1} << 34), "add_gaussian_noise: image too large for the noise counter");
  Shape s = x.shape();
  s.insert(s.begin(), batch);
  Tensor out = Tensor::empty(s, DType::F32, x.device());
  if (out.numel() == 0) return out;
  SC_DISPATCH(x.device(), cpu::add_gaussian_noise(x, sigma, key, first_sample, out),
              cuda::add_gaussian_noise(x, sigma, key, first_sample, out));
  return out;
}

}  // namespace sc::ops
