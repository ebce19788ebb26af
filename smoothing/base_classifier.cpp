#include "smoothing/base_classifier.h"

#include "kernels/argmax.h"

namespace sc {

Tensor ArgmaxClassifier::predict_labels(const Tensor& x) { return ops::argmax(model_.forward(x)); }

}  // namespace sc
