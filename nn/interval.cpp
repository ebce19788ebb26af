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
  const CentreRadius in = centre_radius(x);
  const Tensor centre = map(in.centre), radius = abs_map(in.radius);
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

CentreRadius centre_radius(const Interval& x) {
  return {ops::affine(ops::add(x.lower, x.upper), 0.5f, 0.0f),
          ops::affine(ops::add(x.upper, ops::affine(x.lower, -1.0f, 0.0f)), 0.5f, 0.0f)};
}

CentreRadius centre_radius_gradients(const Interval& dy) {
  return {ops::add(dy.lower, dy.upper), ops::add(dy.upper, ops::affine(dy.lower, -1.0f, 0.0f))};
}

Interval bound_gradients(const Tensor& d_centre, const Tensor& d_radius) {
  return {ops::affine(ops::add(d_centre, ops::affine(d_radius, -1.0f, 0.0f)), 0.5f, 0.0f),
          ops::affine(ops::add(d_centre, d_radius), 0.5f, 0.0f)};
}

Tensor times_sign_of(const Tensor& g, const Tensor& w) {
  SC_CHECK(g.shape() == w.shape(), "times_sign_of: ", g.describe(), " and ", w.describe());
  std::vector<float> v = g.cpu().to_float_vector();
  const std::vector<float> s = w.cpu().to_float_vector();
  for (size_t k = 0; k < v.size(); ++k) v[k] = s[k] > 0 ? v[k] : s[k] < 0 ? -v[k] : 0.0f;
  return Tensor::from_vector(v, g.shape()).to(g.device());
}

Interval monotone_bounds_backward(const Interval& dy, const Interval& x,
                                  const std::function<Tensor(const Tensor&, const Tensor&)>& backward) {
  return {backward(dy.lower.contiguous(), x.lower), backward(dy.upper.contiguous(), x.upper)};
}

}  // namespace sc
