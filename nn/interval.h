// Interval bound propagation (IBP; Gowal et al. 2018): elementwise bounds lower ≤ f(x) ≤ upper that hold for
// every input inside a box, pushed through a network layer by layer. An affine map y = W·x + b sends the
// box's centre c and radius r to W·c + b and |W|·r; a monotone map (ReLU, max pooling) sends each bound
// through itself. Computed in float32 like the forward pass, so the bounds hold up to its rounding. Deep
// networks not trained for it get boxes that grow layer by layer until they overflow: such a value ends as
// ±inf or NaN (never a finite wrong bound), and its users must read non-finite bounds as "unbounded".
#pragma once
#include <functional>

#include "nn/tensor.h"

namespace sc {

struct Interval {
  Tensor lower, upper;  // same shape, lower ≤ upper
};

// The image box [x − ε, x + ε] ∩ [0, 1] (ε ≥ 0).
Interval linf_box(const Tensor& x, double eps);

// W·c + b and |W|·r through the caller's maps: `map` applies the layer (with its bias) to the centre,
// `abs_map` the layer with |W| and no bias to the radius.
Interval affine_bounds(const Interval& x, const std::function<Tensor(const Tensor&)>& map,
                       const std::function<Tensor(const Tensor&)>& abs_map);
// A monotone non-decreasing map applied to both bounds.
Interval monotone_bounds(const Interval& x, const std::function<Tensor(const Tensor&)>& map);
// The sum of two boxes.
Interval add_bounds(const Interval& a, const Interval& b);

// |t| elementwise (a new tensor on t's device): the weights of the radius' map.
Tensor abs_values(const Tensor& t);

}  // namespace sc
