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
// The sum of two boxes (and of two boxes' gradients, lower with lower and upper with upper).
Interval add_bounds(const Interval& a, const Interval& b);

// |t| elementwise (a new tensor on t's device): the weights of the radius' map.
Tensor abs_values(const Tensor& t);

// Backward through the bounds (IBP training: a loss of the output bounds, differentiated with respect to
// the parameters). A box is also its centre c = (l + u)/2 and radius r = (u − l)/2.
struct CentreRadius {
  Tensor centre, radius;
};
CentreRadius centre_radius(const Interval& x);
// The gradients with respect to the centre and the radius from those with respect to the lower and upper
// bounds (l = c − r, u = c + r): (g_l + g_u, g_u − g_l).
CentreRadius centre_radius_gradients(const Interval& dy);
// And back: the gradients with respect to the lower and upper bounds of a box whose centre and radius have
// gradients g_c and g_r: ((g_c − g_r)/2, (g_c + g_r)/2).
Interval bound_gradients(const Tensor& d_centre, const Tensor& d_radius);
// g · sign(w) elementwise, 0 where w = 0 (|w|'s subgradient there): the radius path's weight gradient, as
// abs_values on the host (parameter-sized tensors).
Tensor times_sign_of(const Tensor& g, const Tensor& w);
// A monotone map's bounds backward: its ordinary backward at each bound, `backward(dy, at)`.
Interval monotone_bounds_backward(const Interval& dy, const Interval& x,
                                  const std::function<Tensor(const Tensor&, const Tensor&)>& backward);

}  // namespace sc
