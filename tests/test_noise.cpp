// The counter-based noise: Philox known answers, the polynomial log and sin/cos, the CPU's vectorized loops
// against the scalar function, the Gaussian distribution, and regenerating any sample from its indices.
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/normal_noise.h"
#include "kernels/gaussian_noise.h"
#include "smoothing/noise.h"
#include "smoothing/statistics.h"
#include "test_util.h"

namespace sc::test {
namespace {

TEST(Noise, PhiloxKnownAnswers) {
  // Random123's known-answer tests for philox4x32-10.
  struct Kat {
    uint32_t ctr[4], key[2], out[4];
  };
  const Kat kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const auto& k : kats) {
    uint32_t out[4];
    noise::philox4x32_10(k.ctr, k.key, out);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out[i], k.out[i]) << std::hex << "word " << i << " of ctr " << k.ctr[0];
  }
}

TEST(Noise, PolynomialLogAndSinCosAreAccurate) {
  double worst_log = 0, worst_trig = 0;
  for (int i = 1; i <= 200000; ++i) {
    const float u = static_cast<float>(i) / 200000.0f;
    const float tiny = std::ldexp(static_cast<float>(i), -24);
    for (float v : {u, tiny}) {
      const double exact = std::log(static_cast<double>(v));
      worst_log = std::max(worst_log, std::fabs(noise::log_unit(v) - exact) / std::max(1.0, std::fabs(exact)));
    }
    float s, c;
    const float t = static_cast<float>(i - 1) / 200000.0f;
    noise::sincos_turns(t, s, c);
    const double a = 2 * M_PI * static_cast<double>(t);
    worst_trig = std::max({worst_trig, std::fabs(s - std::sin(a)), std::fabs(c - std::cos(a))});
  }
  EXPECT_LT(worst_log, 5e-7);
  EXPECT_LT(worst_trig, 5e-7);
}

TEST(Noise, EachCpuVariantGivesTheScalarFunctionsBits) {
  // An odd count of groups (vector remainders), a first group near 2^32 (the counter wraps), two keys; 2^16
  // groups reach both halves of log_unit's mantissa split and all four quarters of sincos_turns many times.
  struct Case {
    uint64_t seed;
    uint32_t image, phase, sample, first_group;
    int64_t groups;
  };
  const Case cases[] = {{0x0123456789abcdefull, 7, noise::kEstimation, 3, 0, 65537},
                        {42, 0, noise::kSelection, 99999, 0xfffffff0u, 37},
                        {42, 5, noise::kAttack, 0, 11, 1}};
  for (const cpu::SampleNormalsVariant& variant : cpu::sample_normals_variants())
    for (const Case& c : cases) {
      std::vector<float> got(static_cast<size_t>(4 * c.groups + 1), std::nanf("")), want(4);
      variant.run(c.seed, c.image, c.phase, c.sample, c.first_group, c.groups, got.data());
      int64_t mismatches = 0;
      for (int64_t g = 0; g < c.groups; ++g) {
        noise::normal4(c.seed, c.image, c.phase, c.sample, c.first_group + static_cast<uint32_t>(g),
                       want.data());
        mismatches += std::memcmp(got.data() + 4 * g, want.data(), 4 * sizeof(float)) != 0;
      }
      EXPECT_EQ(mismatches, 0) << variant.name << ", " << c.groups << " groups from " << c.first_group;
      EXPECT_TRUE(std::isnan(got.back())) << variant.name << " wrote past its groups";
    }
}

TEST(Noise, SamplesAreStandardNormal) {
  const NoiseKey key{12345, 7, noise::kEstimation};
  const Tensor x = randn({3, 5, 7}, 1);  // 105 elements: the last group of four is partial
  const Tensor noisy = ops::add_gaussian_noise(x, 20000, 1.0f, key, 0);
  const float* p = noisy.data<float>();
  const int64_t E = x.numel(), n = noisy.numel();
  double sum = 0, sum2 = 0, sum4 = 0;
  std::vector<double> z(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    z[static_cast<size_t>(i)] = p[i] - x.data<float>()[i % E];
    sum += z[static_cast<size_t>(i)];
    sum2 += z[static_cast<size_t>(i)] * z[static_cast<size_t>(i)];
    sum4 += std::pow(z[static_cast<size_t>(i)], 4);
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  EXPECT_LT(std::fabs(mean), 5.0 / std::sqrt(static_cast<double>(n)));
  EXPECT_NEAR(var, 1.0, 0.005);
  EXPECT_NEAR(sum4 / n, 3.0, 0.03);  // Gaussian kurtosis
  // Kolmogorov–Smirnov distance to Φ on 2.1M draws: the 1e-3 critical value is 1.95/√n ≈ 1.3e-3.
  std::sort(z.begin(), z.end());
  double ks = 0;
  for (size_t i = 0; i < z.size(); i += 97)
    ks = std::max(ks, std::fabs(stats::normal_cdf(z[i]) - static_cast<double>(i) / static_cast<double>(z.size())));
  EXPECT_LT(ks, 1.95 / std::sqrt(static_cast<double>(n)));
}

TEST(Noise, EverySampleCanBeRegeneratedAndStreamsDiffer) {
  const Tensor x = randn({2, 9}, 2);
  const NoiseKey key{99, 3, noise::kSelection};
  const Tensor all = ops::add_gaussian_noise(x, 40, 0.5f, key, 100);
  const Tensor one = ops::add_gaussian_noise(x, 1, 0.5f, key, 117);  // sample 117 = row 17
  EXPECT_TRUE(allclose(one.reshape({18}), all.slice(0, 17, 18).reshape({18}), 0));
  // Another phase, image or seed gives unrelated noise (correlation near zero).
  for (NoiseKey other : {NoiseKey{99, 3, noise::kEstimation}, NoiseKey{99, 4, noise::kSelection},
                         NoiseKey{100, 3, noise::kSelection}}) {
    const Tensor b = ops::add_gaussian_noise(x, 40, 0.5f, other, 100);
    double dot = 0, na = 0, nb = 0;
    for (int64_t i = 0; i < all.numel(); ++i) {
      const double u = all.data<float>()[i] - x.data<float>()[i % 18], v = b.data<float>()[i] - x.data<float>()[i % 18];
      dot += u * v, na += u * u, nb += v * v;
    }
    EXPECT_LT(std::fabs(dot / std::sqrt(na * nb)), 0.15);
  }
  EXPECT_ERROR_MENTIONS(ops::add_gaussian_noise(x, 2, -1.0f, key, 0), "sigma");
}

}  // namespace
}  // namespace sc::test
