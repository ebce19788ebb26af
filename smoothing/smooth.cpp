#include "smoothing/smooth.h"

#include <algorithm>
#include <cmath>

#include "kernels/class_histogram.h"
#include "kernels/gaussian_noise.h"
#include "smoothing/statistics.h"

namespace sc {

Smooth::Smooth(BaseClassifier& base, double sigma, int64_t batch, uint64_t seed)
    : base_(base), sigma_(sigma), batch_(batch), seed_(seed) {
  SC_CHECK(std::isfinite(sigma) && sigma > 0, "smoothing: sigma must be positive, got ", sigma);
  SC_CHECK(batch > 0, "smoothing: batch must be positive, got ", batch);
}

std::vector<int64_t> Smooth::sample_counts(const Tensor& x, int64_t image, noise::Phase phase, int64_t num) {
  SC_CHECK(num > 0 && num < (int64_t{1} << 32), "smoothing: number of samples must be in [1, 2^32), got ", num);
  SC_CHECK(image >= 0 && image < (int64_t{1} << 32), "smoothing: image index out of range: ", image);
  SC_CHECK(x.shape() == base_.input_shape(), "smoothing: image ", x.describe(), " does not fit the classifier's input ",
           shape_str(base_.input_shape()));
  const Device device = base_.device();
  const Tensor xd = x.contiguous().to(device);
  Tensor counts = Tensor::zeros({base_.num_classes()}, DType::I64, device);
  const NoiseKey key{seed_, static_cast<uint32_t>(image), static_cast<uint32_t>(phase)};
  for (int64_t done = 0; done < num;) {
    const int64_t b = std::min(batch_, num - done);
    const Tensor noisy = ops::add_gaussian_noise(xd, b, static_cast<float>(sigma_), key, static_cast<uint32_t>(done));
    ops::class_histogram_accumulate(base_.predict_labels(noisy), counts);
    done += b;
  }
  samples_ += num;
  const Tensor host = counts.cpu();  // the only transfer back: K integers
  return std::vector<int64_t>(host.data<int64_t>(), host.data<int64_t>() + host.numel());
}

int64_t argmax_count(const std::vector<int64_t>& counts) {
  return static_cast<int64_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
}

Certificate Smooth::certify(const Tensor& x, int64_t image, int64_t n0, int64_t n, double alpha) {
  SC_CHECK(alpha > 0 && alpha < 1, "certify: alpha must be in (0, 1), got ", alpha);
  const int64_t candidate = argmax_count(sample_counts(x, image, noise::kSelection, n0));
  Certificate c;
  c.count = sample_counts(x, image, noise::kEstimation, n)[static_cast<size_t>(candidate)];
  c.p_lower = stats::clopper_pearson_lower(c.count, n, alpha);
  if (c.p_lower < 0.5) return c;  // abstain
  c.prediction = candidate;
  c.radius = sigma_ * stats::normal_ppf(c.p_lower);
  return c;
}

int64_t Smooth::predict(const Tensor& x, int64_t image, int64_t n, double alpha) {
  SC_CHECK(alpha > 0 && alpha < 1, "predict: alpha must be in (0, 1), got ", alpha);
  std::vector<int64_t> counts = sample_counts(x, image, noise::kEstimation, n);
  const int64_t top = argmax_count(counts);
  const int64_t count1 = counts[static_cast<size_t>(top)];
  counts[static_cast<size_t>(top)] = -1;
  const int64_t count2 = counts[static_cast<size_t>(argmax_count(counts))];
  return stats::binomial_test_two_sided(count1, count1 + count2, 0.5) > alpha ? -1 : top;
}

}  // namespace sc
