#include "smoothing/smooth.h"

#include <algorithm>
#include <cmath>

#include "kernels/concat.h"
#include "smoothing/statistics.h"

namespace sc {

Smooth::Smooth(BaseClassifier& base, double sigma, int64_t batch, uint64_t seed)
    : base_(base), sigma_(sigma), batch_(batch), seed_(seed) {
  SC_CHECK(std::isfinite(sigma) && sigma > 0, "smoothing: sigma must be positive, got ", sigma);
  SC_CHECK(batch > 0, "smoothing: batch must be positive, got ", batch);
}

std::vector<int64_t> Smooth::sample_counts(const Tensor& x, int64_t image, noise::Phase phase, int64_t num) {
  return sample_counts(std::vector<Tensor>{x}, std::vector<int64_t>{image}, phase, num)[0];
}

void Smooth::for_each_batch(const std::vector<Tensor>& xs, const std::vector<int64_t>& images,
                            noise::Phase phase, int64_t num,
                            const std::function<void(const NoisyInput&)>& run) {
  SC_CHECK(xs.size() == images.size() && !xs.empty(), "smoothing: one image index per image");
  SC_CHECK(num > 0 && num < (int64_t{1} << 32), "smoothing: number of samples must be in [1, 2^32), got ",
           num);
  const Device device = base_.device();
  const int64_t n_img = static_cast<int64_t>(xs.size());
  std::vector<Tensor> on_device;
  for (size_t i = 0; i < xs.size(); ++i) {
    SC_CHECK(images[i] >= 0 && images[i] < (int64_t{1} << 32),
             "smoothing: image index out of range: ", images[i]);
    SC_CHECK(xs[i].shape() == base_.input_shape(), "smoothing: image ", xs[i].describe(),
             " does not fit the classifier's input ", shape_str(base_.input_shape()));
    on_device.push_back(
        xs[i].contiguous().to(device).reshape({1, xs[i].size(0), xs[i].size(1), xs[i].size(2)}));
  }
  NoisyInput in;
  in.images = on_device.size() == 1 ? on_device[0] : ops::concat(on_device, 0);
  in.sigma = static_cast<float>(sigma_);
  in.seed = seed_;
  in.phase = static_cast<uint32_t>(phase);
  // Walk through (image, sample) pairs in order, filling batches of up to batch_ samples.
  int64_t img = 0, done = 0;
  while (img < n_img) {
    in.spans.clear();
    int64_t room = batch_;
    while (room > 0 && img < n_img) {
      const int64_t take = std::min(room, num - done);
      in.spans.push_back(
          {take, img, static_cast<uint32_t>(images[static_cast<size_t>(img)]), static_cast<uint32_t>(done)});
      room -= take;
      done += take;
      if (done == num) ++img, done = 0;
    }
    run(in);
  }
  samples_ += num * n_img;
}

std::vector<std::vector<int64_t>> Smooth::sample_counts(const std::vector<Tensor>& xs,
                                                        const std::vector<int64_t>& images,
                                                        noise::Phase phase, int64_t num) {
  const int64_t K = base_.num_classes(), n_img = static_cast<int64_t>(xs.size());
  // One count vector per image, side by side on the device; only they come back to the host.
  Tensor counts = Tensor::zeros({n_img, K}, DType::I64, base_.device());
  for_each_batch(xs, images, phase, num,
                 [&](const NoisyInput& in) { base_.accumulate_noisy_counts(in, counts); });
  const Tensor host = counts.cpu();
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(n_img));
  for (int64_t i = 0; i < n_img; ++i)
    out[static_cast<size_t>(i)].assign(host.data<int64_t>() + i * K, host.data<int64_t>() + (i + 1) * K);
  return out;
}

std::vector<double> Smooth::mean_scores(const std::vector<Tensor>& xs, const std::vector<int64_t>& images,
                                        noise::Phase phase, int64_t num, const RowScores& score) {
  std::vector<double> sums(xs.size(), 0.0);
  for_each_batch(xs, images, phase, num, [&](const NoisyInput& in) {
    const std::vector<double> rows = score(base_.logits(in).cpu().contiguous());
    size_t row = 0;
    for (const SampleSpan& s : in.spans)
      for (int64_t r = 0; r < s.rows; ++r) sums[static_cast<size_t>(s.slot)] += rows.at(row++);
    SC_CHECK(row == rows.size(), "mean_scores: ", rows.size(), " scores for ", row, " noisy samples");
  });
  for (double& s : sums) s /= static_cast<double>(num);
  return sums;
}

int64_t argmax_count(const std::vector<int64_t>& counts) {
  return static_cast<int64_t>(std::max_element(counts.begin(), counts.end()) - counts.begin());
}

Certificate Smooth::certify(const Tensor& x, int64_t image, int64_t n0, int64_t n, double alpha) {
  return certify(std::vector<Tensor>{x}, std::vector<int64_t>{image}, n0, n, alpha)[0];
}

std::vector<Certificate> Smooth::certify(const std::vector<Tensor>& xs, const std::vector<int64_t>& images,
                                         int64_t n0, int64_t n, double alpha) {
  SC_CHECK(alpha > 0 && alpha < 1, "certify: alpha must be in (0, 1), got ", alpha);
  const auto selection = sample_counts(xs, images, noise::kSelection, n0);
  const auto estimation = sample_counts(xs, images, noise::kEstimation, n);
  std::vector<Certificate> out(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    const int64_t candidate = argmax_count(selection[i]);
    Certificate& c = out[i];
    c.count = estimation[i][static_cast<size_t>(candidate)];
    c.p_lower = stats::clopper_pearson_lower(c.count, n, alpha);
    if (c.p_lower < 0.5) continue;  // abstain
    c.prediction = candidate;
    c.radius = sigma_ * stats::normal_ppf(c.p_lower);
  }
  return out;
}

int64_t Smooth::predict(const Tensor& x, int64_t image, int64_t n, double alpha) {
  return predict(std::vector<Tensor>{x}, std::vector<int64_t>{image}, n, alpha)[0];
}

std::vector<int64_t> Smooth::predict(const std::vector<Tensor>& xs, const std::vector<int64_t>& images,
                                     int64_t n, double alpha) {
  SC_CHECK(alpha > 0 && alpha < 1, "predict: alpha must be in (0, 1), got ", alpha);
  std::vector<int64_t> out;
  for (std::vector<int64_t>& counts : sample_counts(xs, images, noise::kEstimation, n)) {
    const int64_t top = argmax_count(counts);
    const int64_t count1 = counts[static_cast<size_t>(top)];
    counts[static_cast<size_t>(top)] = -1;
    const int64_t count2 = counts[static_cast<size_t>(argmax_count(counts))];
    out.push_back(stats::binomial_test_two_sided(count1, count1 + count2, 0.5) > alpha ? -1 : top);
  }
  return out;
}

}  // namespace sc
