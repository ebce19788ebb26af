#include "apps/dataset_logits.h"

#include <algorithm>

#include "apps/progress.h"
#include "nn/error.h"

namespace sc::app {

Tensor dataset_logits(const io::Dataset& data, const std::vector<int64_t>& indices,
                      BaseClassifier& classifier, int64_t batch, const std::string& label) {
  const Shape img = data.image_shape();
  SC_CHECK(img == classifier.input_shape(), label, ": the images of ", data.name(), " are ", shape_str(img),
           " but the model expects ", shape_str(classifier.input_shape()));
  SC_CHECK(batch >= 1, label, ": the batch must be positive");
  const auto n = static_cast<int64_t>(indices.size());
  const int64_t K = classifier.num_classes();
  Tensor logits = Tensor::empty({n, K});
  Progress progress(label, n);
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t b1 = std::min(n, b0 + batch);
    const Tensor out = classifier.logits(io::read_batch(data, indices, b0, b1).to(classifier.device())).cpu();
    std::copy_n(out.data<float>(), out.numel(), logits.data<float>() + b0 * K);
    progress.update(b1);
  }
  progress.finish();
  return logits;
}

}  // namespace sc::app
