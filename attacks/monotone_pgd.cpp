#include "attacks/monotone_pgd.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "attacks/perturbation.h"
#include "nn/error.h"

namespace sc::attacks {

namespace {

void check_monotone_options(const MonotonePgdOptions& o) {
  SC_CHECK(std::isfinite(o.eps) && o.eps > 0, "monotone PGD: ε must be positive, got ", o.eps);
  SC_CHECK(o.steps >= 0, "monotone PGD: steps must be at least 0, got ", o.steps);
  SC_CHECK(std::isfinite(o.step_size) && o.step_size > 0,
           "monotone PGD: the step size must be positive, got ", o.step_size);
  SC_CHECK(o.momentum >= 0 && o.momentum < 1, "monotone PGD: momentum must be in [0, 1), got ", o.momentum);
  SC_CHECK(o.decay > 0 && o.decay <= 1 && o.gain >= 1 && std::isfinite(o.gain),
           "monotone PGD: the rate's decay must be in (0, 1] and its gain at least 1");
  SC_CHECK(!o.starts.empty(), "monotone PGD: no starts");
}

}  // namespace

std::vector<float> monotone_start(MonotoneStart kind, const MonotonePgdOptions& o, const float* x, int64_t d,
                                  uint64_t image_id, int start) {
  std::vector<float> delta(static_cast<size_t>(d));
  switch (kind) {
    case MonotoneStart::Decontrast: {
      double mean = 0;
      for (int64_t e = 0; e < d; ++e) mean += x[e];
      mean /= static_cast<double>(d);
      for (int64_t e = 0; e < d; ++e)
        delta[static_cast<size_t>(e)] = static_cast<float>(std::clamp(mean - x[e], -o.eps, o.eps));
      break;
    }
    case MonotoneStart::Uniform:
      random_start({o.norm, o.eps}, o.seed, image_id, start + 1, delta.data(), d);
      break;
    case MonotoneStart::Normal: {
      std::seed_seq seq{static_cast<uint32_t>(o.seed),   static_cast<uint32_t>(o.seed >> 32),
                        static_cast<uint32_t>(image_id), static_cast<uint32_t>(image_id >> 32),
                        static_cast<uint32_t>(start),    0x6E6F726Du};  // "norm": not random_start's stream
      std::mt19937_64 rng(seq);
      std::normal_distribution<double> z(0.0, o.normal_sigma);
      for (float& v : delta) v = static_cast<float>(z(rng));
      break;
    }
  }
  return delta;
}

AscentResult monotone_pgd_maximize(Classifier& model, const Tensor& x, const std::vector<int64_t>& image_ids,
                                   const LogitsLoss& objective, const MonotonePgdOptions& o) {
  check_monotone_options(o);
  PgdOptions ball_options;  // what the tracker needs: the ball and the seed
  ball_options.norm = o.norm, ball_options.eps = o.eps, ball_options.seed = o.seed;
  AscentTracker t("monotone_pgd_maximize", x, image_ids, ball_options);
  const auto n = static_cast<size_t>(t.n), d = static_cast<size_t>(t.d);
  t.start(0);
  t.record(loss_gradient(model, t.iterate(), objective, false));  // the image itself: never below its value
  for (size_t s = 0; s < o.starts.size(); ++s) {
    t.start(0);
    for (size_t i = 0; i < n; ++i) {
      float* di = t.delta.data() + i * d;
      const std::vector<float> start =
          monotone_start(o.starts[s], o, t.clean.data() + i * d, t.d, static_cast<uint64_t>(image_ids[i]),
                         static_cast<int>(s));
      std::copy(start.begin(), start.end(), di);
      clip_to_box(t.clean.data() + i * d, di, t.d);
      project(t.ball, di, t.d);
    }
    std::vector<float> accepted = t.delta, velocity(n * d, 0.0f), accepted_velocity(n * d, 0.0f);
    std::vector<double> accepted_value(n, -std::numeric_limits<double>::infinity()), rate(n, o.step_size);
    for (int step = 0; step <= o.steps; ++step) {
      const bool last = step == o.steps;
      const LossGradient lg = loss_gradient(model, t.iterate(), objective, !last);
      t.record(lg);
      const std::vector<float> g = last ? std::vector<float>() : lg.grad.cpu().to_float_vector();
      for (size_t i = 0; i < n; ++i) {
        float* di = t.delta.data() + i * d;
        float* vi = velocity.data() + i * d;
        const bool rejected = lg.loss[i] < accepted_value[i];
        if (rejected) {
          std::copy(accepted.begin() + static_cast<std::ptrdiff_t>(i * d),
                    accepted.begin() + static_cast<std::ptrdiff_t>((i + 1) * d), di);
          std::copy(accepted_velocity.begin() + static_cast<std::ptrdiff_t>(i * d),
                    accepted_velocity.begin() + static_cast<std::ptrdiff_t>((i + 1) * d), vi);
        } else {
          accepted_value[i] = lg.loss[i];
          std::copy(di, di + d, accepted.begin() + static_cast<std::ptrdiff_t>(i * d));
          std::copy(vi, vi + d, accepted_velocity.begin() + static_cast<std::ptrdiff_t>(i * d));
        }
        if (step > 0) rate[i] *= rejected ? o.decay : o.gain;
        if (last) continue;
        // The gradient where it was evaluated, the rejected point included (as the reference does).
        const float* gi = g.data() + i * d;
        for (size_t e = 0; e < d; ++e) {
          vi[e] = static_cast<float>(o.momentum * vi[e] + gi[e]);
          di[e] = static_cast<float>(di[e] + rate[i] * vi[e]);
        }
        project(t.ball, di, t.d);
        clip_to_box(t.clean.data() + i * d, di, t.d);
      }
    }
  }
  return t.result();
}

}  // namespace sc::attacks
