// smoothcuda attack DATASET MODEL --attack fgsm|pgd|smoothadv: adversarial examples for a classifier (or,
// with smoothadv, for its smoothed version), their accuracy under attack, and the examples themselves as .npy
// for `eval` or `predict`/`certify` (npy:DIR/adversarial.npy:DIR/labels.npy).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/dataset_logits.h"
#include "apps/image_selection.h"
#include "apps/model_options.h"
#include "apps/progress.h"
#include "attacks/apgd.h"
#include "attacks/loss_gradient.h"
#include "attacks/perturbation.h"
#include "attacks/pgd.h"
#include "attacks/smoothadv.h"
#include "io/dataset.h"
#include "io/file_util.h"
#include "io/npy.h"

namespace sc::app {

namespace {

struct Row {
  int64_t index, label, clean_prediction = -1, adversarial_prediction = -1;
  bool success = false;
  double linf = 0, l2 = 0, loss = 0;
};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

}  // namespace

int attack_command(int argc, char** argv) {
  Args args(
      "attack",
      "Attacks MODEL on DATASET: fgsm, pgd and apgd (cross-entropy, linf or l2 ball, within [0,1]; apgd: "
      "Croce & Hein's APGD-CE, momentum and its own step size) on the classifier; smoothadv (Salman et al.: "
      "l2 PGD on the smoothed soft classifier, m noise draws per "
      "image). Writes DIR/attack.tsv (one row per image), DIR/summary.md, DIR/adversarial.npy and "
      "DIR/labels.npy.");
  args.positional("DATASET",
                  "cifar10, cifar100, imagenet, mnist, fashion-mnist, folder:PATH, npy:..., fake:...")
      .positional("MODEL", "a smoothcuda model file (.safetensors) or a PyTorch checkpoint")
      .option("attack", "pgd", "fgsm, pgd, apgd or smoothadv")
      .option("norm", "", "linf or l2 (default linf; smoothadv: l2 only)")
      .option("eps", "8/255", "radius of the ball (a number or a fraction)")
      .option("steps", "10",
              "gradient steps of pgd, apgd (Croce & Hein use 100) and smoothadv (Salman et al.: 20)")
      .option("step-size", "", "pgd step (default eps/4); smoothadv steps 2·eps/steps")
      .option("restarts", "1", "pgd/apgd random starts (later ones only for images not yet fooled)")
      .flag("no-random-start", "pgd/apgd start at the image instead of a uniform draw from the ball")
      .option("target", "-1", "targeted attack towards this class (fgsm, pgd); -1: untargeted")
      .option("loss", "ce",
              "the loss fgsm/pgd/apgd climb: ce (cross-entropy) or dlr (Croce & Hein's difference "
              "of logits ratio; untargeted)")
      .option("sigma", "0.25", "smoothadv: the smoothing noise level")
      .option("m", "32", "smoothadv: noise draws per image")
      .option("seed", "0", "random starts and smoothadv noise")
      .option("split", "test", "train or test")
      .option("data-dir", "", "dataset root (default $SMOOTHCUDA_DATA)")
      .option("skip", "1", "attack every skip-th image")
      .option("max", "-1", "stop when the index reaches max (-1: all)")
      .option("batch", "100", "images per attack batch (smoothadv: times m rows)")
      .option("device", "cpu", "cpu, cuda or cuda:K")
      .option("out", "", "output folder (required)");
  add_model_options(args);
  if (!args.parse(argc, argv, 2)) return 0;

  const std::string kind = args.get("attack");
  SC_CHECK(kind == "fgsm" || kind == "pgd" || kind == "apgd" || kind == "smoothadv",
           "attack: unknown --attack '", kind, "' (fgsm, pgd, apgd, smoothadv)");
  const std::string out = args.get("out");
  SC_CHECK(!out.empty(), "attack: --out DIR is required");
  const std::string norm_text = args.get("norm");
  const attacks::Norm norm = attacks::parse_norm(!norm_text.empty()    ? norm_text
                                                 : kind == "smoothadv" ? "l2"
                                                                       : "linf");
  SC_CHECK(kind != "smoothadv" || norm == attacks::Norm::L2, "attack: smoothadv is an l2 attack (--norm l2)");
  const double eps = args.get_fraction("eps", 1e-12, 1e6);
  const int64_t target = args.get_int("target", -1, 1 << 20);
  SC_CHECK(target < 0 || (kind != "smoothadv" && kind != "apgd"), "attack: ", kind, " is untargeted");

  attacks::PgdOptions pgd = kind == "fgsm" ? attacks::fgsm_options(norm, eps) : attacks::PgdOptions();
  if (kind == "pgd" || kind == "apgd") {
    pgd.norm = norm;
    pgd.eps = eps;
    pgd.steps = static_cast<int>(args.get_int("steps", 1, 1 << 20));
    pgd.step_size = args.get("step-size").empty() ? eps / 4 : args.get_fraction("step-size", 1e-12, 1e6);
    pgd.restarts = static_cast<int>(args.get_int("restarts", 1, 1 << 20));
    pgd.random_start = !args.has_flag("no-random-start");
  }
  pgd.targeted = target >= 0;
  pgd.seed = static_cast<uint64_t>(args.get_int("seed", 0, 1LL << 62));
  const std::string loss = args.get("loss");
  SC_CHECK(loss == "ce" || loss == "dlr", "attack: --loss must be ce or dlr, got '", loss, "'");
  SC_CHECK(loss == "ce" || kind != "smoothadv", "attack: smoothadv has its own loss");
  if (loss == "dlr") pgd.loss = attacks::PgdOptions::Loss::Dlr;
  attacks::check_options(pgd);
  attacks::SmoothAdvOptions sa;
  sa.eps = eps;
  sa.steps = static_cast<int>(args.get_int("steps", 1, 1 << 20));
  sa.m = args.get_int("m", 1, 1 << 20);
  sa.sigma = args.get_double("sigma", 1e-6, 1e6);
  sa.seed = pgd.seed;

  const Device device = Device::parse(args.get("device"));
  auto data = io::open_dataset(args.get("DATASET"), {args.get("split"), args.get("data-dir")});
  auto model = load_any_model(args.get("MODEL"), device, model_options(args, args.get("DATASET")));
  SC_CHECK(data->image_shape() == Shape({model->spec.channels, model->spec.height, model->spec.width}),
           "attack: the images of ", data->name(), " are ", shape_str(data->image_shape()),
           " but the model takes ", model->spec.channels, "x", model->spec.height, "x", model->spec.width);
  SC_CHECK(target < model->spec.num_classes, "attack: --target ", target, " is not one of the model's ",
           model->spec.num_classes, " classes");
  const std::vector<int64_t> indices =
      select_indices(data->size(), args.get_int("skip", 1, 1LL << 40), args.get_int("max", -1, 1LL << 40));
  const int64_t n = static_cast<int64_t>(indices.size()), batch = args.get_int("batch", 1, 1 << 20);
  SC_CHECK(n > 0, "attack: no images selected");
  const Shape img = data->image_shape();
  const int64_t per = numel_of(img);

  std::vector<Row> rows;
  std::vector<float> adversarial;
  std::vector<int64_t> labels_out;
  Progress progress("attack", n);
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t b1 = std::min(n, b0 + batch), count = b1 - b0;
    const Tensor x = io::read_batch(*data, indices, b0, b1);
    std::vector<int64_t> labels, ids;
    for (int64_t k = b0; k < b1; ++k) {
      const int64_t idx = indices[static_cast<size_t>(k)];
      labels.push_back(data->label(idx));
      ids.push_back(idx);
      SC_CHECK(labels.back() >= 0, "attack: image ", idx, " of ", data->name(), " has no label");
    }
    const Tensor xd = x.to(device);
    const auto predictions = [&](const Tensor& images) {
      return attacks::loss_gradient(*model, images, attacks::cross_entropy(labels), false).predictions;
    };
    const std::vector<int64_t> clean = predictions(xd);
    Tensor adv;
    std::vector<int64_t> aim = labels;
    if (target >= 0) std::fill(aim.begin(), aim.end(), target);
    attacks::AttackResult r;
    if (kind == "smoothadv") {
      const auto s = attacks::smoothadv_attack(*model, xd, labels, ids, sa);
      adv = s.adversarial;
      r.loss = s.loss;
      r.predictions = predictions(adv);
    } else {
      r = kind == "apgd" ? attacks::apgd_attack(*model, xd, labels, ids, pgd)
                         : attacks::pgd_attack(*model, xd, aim, ids, pgd);
      adv = r.adversarial;
    }
    const std::vector<float> a = adv.cpu().to_float_vector(), c = x.to_float_vector();
    adversarial.insert(adversarial.end(), a.begin(), a.end());
    for (int64_t i = 0; i < count; ++i) {
      Row row{ids[static_cast<size_t>(i)], labels[static_cast<size_t>(i)]};
      row.clean_prediction = clean[static_cast<size_t>(i)];
      row.adversarial_prediction = r.predictions[static_cast<size_t>(i)];
      row.success =
          target >= 0 ? row.adversarial_prediction == target : row.adversarial_prediction != row.label;
      std::vector<float> delta(static_cast<size_t>(per));
      for (int64_t e = 0; e < per; ++e) delta[static_cast<size_t>(e)] = a[i * per + e] - c[i * per + e];
      row.linf = attacks::linf_norm(delta.data(), per);
      row.l2 = attacks::l2_norm(delta.data(), per);
      row.loss = r.loss[static_cast<size_t>(i)];
      rows.push_back(row);
      labels_out.push_back(row.label);
    }
    progress.update(b1);
  }
  progress.finish();

  std::filesystem::create_directories(out);
  std::ostringstream tsv;
  tsv << "idx\tlabel\tclean_predict\tadv_predict\tsuccess\tlinf\tl2\tloss\n";
  int64_t clean_correct = 0, adv_correct = 0, fooled = 0;
  double mean_l2 = 0, max_linf = 0;
  for (const Row& r : rows) {
    tsv << r.index << '\t' << r.label << '\t' << r.clean_prediction << '\t' << r.adversarial_prediction
        << '\t' << (r.success ? 1 : 0) << '\t' << fmt("%.6g", r.linf) << '\t' << fmt("%.6g", r.l2) << '\t'
        << fmt("%.6g", r.loss) << '\n';
    clean_correct += r.clean_prediction == r.label;
    adv_correct += r.adversarial_prediction == r.label;
    fooled += r.success;
    mean_l2 += r.l2 / n;
    max_linf = std::max(max_linf, r.linf);
  }
  io::write_file_atomic(out + "/attack.tsv", tsv.str());
  io::write_npy(out + "/adversarial.npy", Tensor::from_vector(adversarial, {n, img[0], img[1], img[2]}));
  io::write_npy(out + "/labels.npy", Tensor::from_vector(labels_out, {n}));

  std::ostringstream md;
  const std::string budget = args.get("eps");
  md << "| attack | norm | eps | steps | images | clean accuracy | accuracy under attack | "
     << (target >= 0 ? "hit target" : "fooled")
     << " | mean l2 | max linf |\n|---|---|---|---|---|---|---|---|---|---|\n"
     << "| " << kind << (target >= 0 ? " (target " + std::to_string(target) + ")" : "") << " | "
     << attacks::norm_name(norm) << " | " << budget << " | "
     << (kind == "fgsm"        ? 1
         : kind == "smoothadv" ? sa.steps
                               : pgd.steps)
     << " | " << n << " | " << fmt("%.2f%%", 100.0 * clean_correct / n) << " | "
     << fmt("%.2f%%", 100.0 * adv_correct / n) << " | " << fmt("%.2f%%", 100.0 * fooled / n) << " | "
     << fmt("%.4f", mean_l2) << " | " << fmt("%.4f", max_linf) << " |\n";
  if (kind == "smoothadv")
    md << "\nThe accuracy columns are the base classifier's on the attacked images without noise; the "
          "smoothed "
          "classifier's verdict: `smoothcuda predict npy:"
       << out << "/adversarial.npy:" << out << "/labels.npy MODEL " << sa.sigma << " OUTFILE --N 1000`.\n";
  io::write_file_atomic(out + "/summary.md", md.str());
  std::printf("%s", md.str().c_str());
  return 0;
}

}  // namespace sc::app
