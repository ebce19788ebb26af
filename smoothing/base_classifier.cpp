#include "smoothing/base_classifier.h"

#include "kernels/argmax.h"
#include "kernels/class_histogram.h"
#include "kernels/concat.h"
#include "kernels/gaussian_noise.h"

namespace sc {

namespace {
// The noisy samples `in` describes, one batch [rows, C, H, W] on the images' device.
Tensor noisy_batch(const NoisyInput& in, const Shape& input_shape) {
  std::vector<Tensor> parts;
  const Tensor images = in.images.contiguous();
  for (const SampleSpan& s : in.spans) {
    const Tensor image = images.slice(0, s.slot, s.slot + 1).reshape(input_shape);
    if (in.sigma > 0) {
      parts.push_back(ops::add_gaussian_noise(image, s.rows, in.sigma,
                                              NoiseKey{in.seed, s.image_id, in.phase}, s.first_sample));
    } else {
      SC_CHECK(s.rows == 1, "noisy input: a span of ", s.rows, " rows without noise");
      parts.push_back(image.reshape({1, input_shape[0], input_shape[1], input_shape[2]}));
    }
  }
  return parts.size() == 1 ? parts[0] : ops::concat(parts, 0);
}
}  // namespace

Tensor BaseClassifier::predict_noisy_labels(const NoisyInput& in) {
  return predict_labels(noisy_batch(in, input_shape()));
}

Tensor BaseClassifier::logits(const Tensor&) {
  SC_FAIL("this base classifier gives labels only, no logits");
}

Tensor BaseClassifier::logits(const NoisyInput& in) {
  return logits(noisy_batch(in, input_shape()));
}

void BaseClassifier::accumulate_noisy_counts(const NoisyInput& in, Tensor& counts) {
  const Tensor labels = predict_noisy_labels(in);
  int64_t offset = 0;
  for (const SampleSpan& s : in.spans) {
    Tensor image_counts = counts.slice(0, s.slot, s.slot + 1).reshape({counts.size(1)});
    ops::class_histogram_accumulate(labels.slice(0, offset, offset + s.rows), image_counts);
    offset += s.rows;
  }
}

Tensor ArgmaxClassifier::predict_labels(const Tensor& x) {
  return ops::argmax(model_.forward(x));
}

}  // namespace sc
