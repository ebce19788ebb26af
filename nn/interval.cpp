#include "nn/interval.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/elementwise.h"

namespace sc {

Interval linf_box(const Tensor& x, double eps) {
  SC_CHECK(std::isfinite(eps) && eps >= 0, "interval bounds: eps must be finite and non-negative, got ", eps);
  std::vector<float> lo = x.cpu().to_float_vector(), hi = lo;
  for (size_t i = 0; i < lo.size(); ++i) {
    lo[i] = static_cast<float>(std::max(0.0, lo[i] - eps));
    hi[i] = static_cast<float>(std::min(1.0, hi[i] + eps));
  }
  return {Tensor::from_vector(lo, x.shape()).to(x.device()),
          Tensor::from_vector(hi, x.shape()).to(x.device())};
}

// By add and affine, which pass NaN on (combine's clamp would turn it into a finite bound): a bound that
// overflowed becomes ±inf, inf − inf becomes NaN, and NaN then marks every value it reaches.
Interval affine_bounds(const Interval& x, const std::function<Tensor(const Tensor&)>& map,
                       const std::function<Tensor(const Tensor&)>& abs_map) {
  const Tensor centre = map(ops::affine(ops::add(x.lower, x.upper), 0.5f, 0.0f));
  const Tensor radius =
      abs_map(ops::affine(ops::add(x.upper, ops::affine(x.lower, -1.0f, 0.0f)), 0.5f, 0.0f));
  return {ops::add(centre, ops::affine(radius, -1.0f, 0.0f)), ops::add(centre, radius)};
}

Interval monotone_bounds(const Interval& x, const std::function<Tensor(const Tensor&)>& map) {
  return {map(x.lower), map(x.upper)};
}

Interval add_bounds(const Interval& a, const Interval& b) {
  return {ops::add(a.lower, b.lower), ops::add(a.upper, b.upper)};
}

Tensor abs_values(const Tensor& t) {
  std::vector<float> v = t.cpu().to_float_vector();
  for (float& f : v) f = std::fabs(f);
  return Tensor::from_vector(v, t.shape()).to(t.device());
}

}  // namespace sc
