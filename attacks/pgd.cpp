#include "attacks/pgd.h"

#include <algorithm>
#include <cmath>

#include "attacks/attack_state.h"
#include "nn/error.h"

namespace sc::attacks {

Norm parse_norm(const std::string& s) {
  if (s == "linf") return Norm::Linf;
  if (s == "l2") return Norm::L2;
  SC_FAIL("unknown norm '", s, "' (linf, l2)");
}

const char* norm_name(Norm n) {
  return n == Norm::Linf ? "linf" : "l2";
}

PgdOptions fgsm_options(Norm norm, double eps) {
  PgdOptions o;
  o.norm = norm;
  o.eps = eps;
  o.steps = 1;
  o.step_size = eps;
  o.random_start = false;
  o.restarts = 1;
  return o;
}

void check_options(const PgdOptions& o) {
  SC_CHECK(std::isfinite(o.eps) && o.eps > 0, "attack: --eps must be positive, got ", o.eps);
  SC_CHECK(o.steps >= 1, "attack: --steps must be at least 1, got ", o.steps);
  SC_CHECK(std::isfinite(o.step_size) && o.step_size > 0, "attack: --step-size must be positive, got ",
           o.step_size);
  SC_CHECK(o.restarts >= 1, "attack: --restarts must be at least 1, got ", o.restarts);
  SC_CHECK(o.eot >= 1, "attack: --eot must be at least 1, got ", o.eot);
  SC_CHECK(!o.targeted || o.loss == PgdOptions::Loss::CrossEntropy, "attack: the DLR loss is untargeted");
}

LogitsLoss attack_loss(const PgdOptions& o, const std::vector<int64_t>& labels) {
  return o.loss == PgdOptions::Loss::Dlr ? dlr(labels) : cross_entropy(labels);
}

AttackResult pgd_attack(Classifier& model, const Tensor& x, const std::vector<int64_t>& labels,
                        const std::vector<int64_t>& image_ids, const PgdOptions& o) {
  AttackState a("pgd_attack", x, labels, image_ids, o);
  for (int restart = 0; restart < o.restarts && a.start(restart); ++restart) {
    // Evaluate at the start and after each step; an image fooled at an iterate keeps it and stops.
    for (int step = 0; step <= o.steps; ++step) {
      const bool last = step == o.steps;
      const LossGradient lg = eot_loss_gradient(model, a.iterate(), attack_loss(o, labels), o.eot, !last);
      a.record(lg);
      if (last || !a.any_active()) break;
      const std::vector<float> g = lg.grad.cpu().to_float_vector();
      for (int64_t i = 0; i < a.n; ++i) {
        if (!a.active[static_cast<size_t>(i)]) continue;
        float* di = a.delta.data() + i * a.d;
        ascent_step(a.ball, g.data() + i * a.d, o.targeted ? -o.step_size : o.step_size, di, a.d);
        project(a.ball, di, a.d);
        clip_to_box(a.clean.data() + i * a.d, di, a.d);
      }
    }
  }
  return a.result();
}

}  // namespace sc::attacks
