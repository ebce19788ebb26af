// smoothcuda attack DATASET MODEL --attack A[,B,...]: adversarial examples for a classifier (or, with
// smoothadv, for its smoothed version), their accuracy under attack, and the examples themselves as .npy for
// `eval` or `predict`/`certify` (npy:DIR/adversarial.npy:DIR/labels.npy). A list of attacks runs in sequence,
// each after the first on the images the ones before did not fool, as AutoAttack does
// (apgd,apgd-t,fab-t,square).
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
#include "attacks/ddn.h"
#include "attacks/fab.h"
#include "attacks/loss_gradient.h"
#include "attacks/perturbation.h"
#include "attacks/pgd.h"
#include "attacks/smoothadv.h"
#include "attacks/square.h"
#include "io/dataset.h"
#include "io/file_util.h"
#include "io/npy.h"
#include "nn/models/denoisers.h"
#include "nn/models/noisy_network.h"
#include "smoothing/base_classifier.h"
#include "smoothing/smooth.h"

namespace sc::app {

namespace {

struct Row {
  int64_t index, label, clean_prediction = -1, adversarial_prediction = -1;
  bool success = false;
  double linf = 0, l2 = 0, loss = 0;
  std::string by = "-";  // the attack whose image is kept, when it fooled the model
  double budget = -1;    // --eps-step: the smallest budget that fooled it (0: the clean image); −1: none
  // --predict-N: the smoothed classifier's PREDICT on the clean and the attacked image (−1: abstain)
  int64_t smoothed_clean = -1, smoothed_adversarial = -1;
};

// The options of every attack at one budget ε (the rest from the command line).
struct AttackOptions {
  attacks::PgdOptions pgd, apgd_dlr, fgsm;
  attacks::FabOptions fab;
  attacks::DdnOptions ddn;
  attacks::SquareOptions square;
  attacks::SmoothAdvOptions smoothadv;
};

// What the table says after each attack of the sequence, over every image: how many are still classified
// correctly, how many were fooled (or sent to the target), and the sizes of the perturbations kept so far.
struct Stage {
  int64_t correct = 0, fooled = 0;
  double l2_sum = 0, max_linf = 0;
};

const char* const kAttacks[] = {"fgsm", "pgd",   "apgd", "apgd-dlr", "apgd-t",
                                "fab",  "fab-t", "ddn",  "square",   "smoothadv"};

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

// summary.md's part for --eps-step: the share of images fooled (or sent to the target) at each budget or
// below, and the (lower) median smallest budget over all images and over those the attack had to move; an
// image never fooled counts as above --eps.
std::string budget_summary(const std::vector<Row>& rows, const std::vector<double>& budgets, bool targeted,
                           const std::string& step) {
  const auto n = static_cast<int64_t>(rows.size());
  std::ostringstream md;
  md << "\nThe smallest budget that " << (targeted ? "sends each image to the target" : "fools each image")
     << " (" << step << " at a time; 0: the clean image already):\n\n| budget | "
     << (targeted ? "hit target" : "fooled") << " |\n|---:|---:|\n";
  std::vector<double> found;
  for (const Row& r : rows)
    if (r.budget >= 0) found.push_back(r.budget);
  std::sort(found.begin(), found.end());
  std::vector<double> levels = {0.0};
  levels.insert(levels.end(), budgets.begin(), budgets.end());
  for (double level : levels) {
    const auto within = std::upper_bound(found.begin(), found.end(), level * (1 + 1e-12)) - found.begin();
    md << "| " << fmt("%.6g", level) << " (" << fmt("%.3g", level * 255) << "/255) | "
       << fmt("%.2f%%", 100.0 * static_cast<double>(within) / static_cast<double>(n)) << " |\n";
  }
  const auto median = [&](size_t from) {
    const int64_t count = n - static_cast<int64_t>(from), rank = (count - 1) / 2;
    if (count <= 0) return std::string("none");
    return static_cast<int64_t>(found.size() - from) > rank
               ? fmt("%.6g", found[from + static_cast<size_t>(rank)])
               : std::string("above --eps");
  };
  const auto at_zero = static_cast<size_t>(std::upper_bound(found.begin(), found.end(), 0.0) - found.begin());
  md << "\nMedian smallest budget: " << median(0) << "; over the " << n - static_cast<int64_t>(at_zero)
     << " images not fooled clean: " << median(at_zero) << ".\n";
  return md.str();
}

}  // namespace

int attack_command(int argc, char** argv) {
  Args args(
      "attack",
      "Attacks MODEL on DATASET: fgsm, pgd and apgd (cross-entropy or DLR loss, linf or l2 ball, within "
      "[0,1]; apgd: Croce & Hein's APGD, momentum and its own step size; apgd-dlr: apgd on the DLR loss); "
      "apgd-t (AutoAttack's targeted APGD on the targeted DLR loss, one run per class ranked 2nd, 3rd, ... "
      "at the image); fab-t (the targeted Fast Adaptive Boundary attack, a minimum-norm attack, the same "
      "targets); fab (untargeted FAB: at each step the nearest linearized boundary); ddn (Rony et al.'s "
      "Decoupled Direction and Norm, an l2 minimum-norm attack); square "
      "(Andriushchenko et al.'s Square Attack: random search on the margin, no gradients); smoothadv (Salman "
      "et al.: l2 PGD on the smoothed soft classifier, m noise draws per image). A comma list runs the "
      "attacks in sequence, each after the first on the images not yet fooled (AutoAttack's standard run: "
      "apgd,apgd-t,fab-t,square --steps 100; its plus version: apgd,apgd-dlr,fab,square,apgd-t,fab-t). "
      "Writes DIR/attack.tsv (one row per image), "
      "DIR/summary.md, DIR/adversarial.npy and DIR/labels.npy.");
  args.positional("DATASET",
                  "cifar10, cifar100, imagenet, mnist, fashion-mnist, folder:PATH, npy:..., fake:...")
      .positional("MODEL", "a smoothcuda model file (.safetensors) or a PyTorch checkpoint")
      .option(
          "attack", "pgd",
          "fgsm, pgd, apgd, apgd-dlr, apgd-t, fab, fab-t, ddn, square or smoothadv, or a comma list of them")
      .option("norm", "", "linf or l2 (default linf; smoothadv and ddn: l2 only, their default)")
      .option("eps", "8/255", "radius of the ball (a number or a fraction)")
      .option("eps-step", "",
              "with a step S (a number or a fraction): each image's smallest budget S, 2S, ... up to --eps "
              "at which the attack fools it (the OOD lab's FGSM budget, raised 1/255 at a time), in "
              "attack.tsv's budget column and summary.md; one attack, not smoothadv")
      .option("steps", "10",
              "gradient steps of pgd, apgd(-dlr), apgd-t, fab and fab-t (Croce & Hein use 100), ddn (Rony et "
              "al.: 100) and smoothadv (Salman et al.: 20)")
      .option("step-size", "", "pgd step (default eps/4); smoothadv steps 2·eps/steps")
      .option("restarts", "1",
              "pgd/apgd/fab starts, apgd-t/fab-t starts per target (later ones only for images not yet "
              "fooled)")
      .flag("no-random-start", "pgd/apgd/apgd-t start at the image instead of a uniform draw from the ball")
      .option("target", "-1", "targeted attack towards this class (fgsm, pgd, alone); -1: untargeted")
      .option("loss", "ce",
              "the loss fgsm/pgd/apgd climb: ce (cross-entropy) or dlr (Croce & Hein's difference "
              "of logits ratio; untargeted)")
      .option("targets", "9", "apgd-t, fab-t: the classes tried, by rank at the image (AutoAttack: 9)")
      .option("queries", "5000", "square: tries per image after its start (AutoAttack: 5000)")
      .option("p-init", "0.8", "square: the share of the image its first windows cover")
      .option("sigma", "0.25", "smoothadv and --predict-N: the smoothing noise level")
      .option("m", "32", "smoothadv: noise draws per image")
      .option("smoothadv-loss", "soft",
              "smoothadv's loss: soft (the smoothed soft classifier's, Salman et al.'s) or eot (the noisy "
              "copies' mean cross-entropy, the expectation-over-transformation baseline they compare with)")
      .option("smoothadv-method", "pgd",
              "smoothadv's walk: pgd (--steps steps of 2·eps/steps) or ddn (Salman et al.'s SmoothAdv_DDN: "
              "DDN's walk, its budget from eps, the smallest adversarial found scaled into the ball)")
      .option(
          "noise-sd", "0",
          "attack a randomized model: MODEL sees x + N(0, noise-sd^2) with fresh noise at every forward "
          "pass (a classifier trained with Gaussian noise, run with it); each attack's image is judged by "
          "one fresh draw, as AutoAttack judges randomized defenses, and summary.md adds the accuracies "
          "over --noise-draws draws")
      .option("eot", "1",
              "draws per gradient of fgsm, pgd, apgd, apgd-dlr, apgd-t and ddn on a randomized model "
              "(expectation over transformation: the mean gradient of K passes); AutoAttack's rand version "
              "is --attack apgd,apgd-dlr --steps 100 --eot 20")
      .option(
          "predict-N", "0",
          "with N > 0, the smoothed classifier at --sigma judges each clean and attacked image by Cohen et "
          "al.'s PREDICT with N noisy samples (Salman et al. evaluate SmoothAdv with N = 1000): columns in "
          "attack.tsv, its accuracies in summary.md")
      .option("predict-alpha", "0.001", "--predict-N: PREDICT's abstention level")
      .option("noise-draws", "100",
              "with --noise-sd: fresh draws per image for the expected accuracy, clean and under attack")
      .option("seed", "0", "random starts, square's draws, smoothadv noise and the randomized model's noise")
      .option("denoiser", "",
              "a denoiser network (Salman et al.'s DnCNN: its model file or checkpoint) in front of MODEL: "
              "the attacks see classifier(denoiser(x)) and follow the gradient through both (white-box "
              "denoised smoothing; smoothadv then attacks the smoothed denoised classifier)")
      .option("split", "test", "train or test")
      .option("data-dir", "", "dataset root (default $SMOOTHCUDA_DATA)")
      .option("skip", "1", "attack every skip-th image")
      .option("max", "-1", "stop when the index reaches max (-1: all)")
      .option("batch", "100", "images per attack batch (smoothadv: times m rows)")
      .option("device", "cpu", "cpu, cuda or cuda:K")
      .option("out", "", "output folder (required)");
  add_model_options(args);
  if (!args.parse(argc, argv, 2)) return 0;

  const std::vector<std::string> sequence = split_commas(args.get("attack"));
  for (const std::string& kind : sequence)
    SC_CHECK(std::find(std::begin(kAttacks), std::end(kAttacks), kind) != std::end(kAttacks),
             "attack: unknown --attack '", kind,
             "' (fgsm, pgd, apgd, apgd-dlr, apgd-t, fab, fab-t, ddn, square, smoothadv)");
  const bool smoothadv = sequence[0] == "smoothadv";
  SC_CHECK(sequence.size() == 1 || std::find(sequence.begin(), sequence.end(), "smoothadv") == sequence.end(),
           "attack: smoothadv attacks the smoothed classifier and runs alone");
  const std::string out = args.get("out");
  SC_CHECK(!out.empty(), "attack: --out DIR is required");
  const std::string norm_text = args.get("norm");
  const bool ddn = std::find(sequence.begin(), sequence.end(), "ddn") != sequence.end();
  const attacks::Norm norm = attacks::parse_norm(!norm_text.empty() ? norm_text
                                                 : smoothadv || ddn ? "l2"
                                                                    : "linf");
  SC_CHECK(!smoothadv || norm == attacks::Norm::L2, "attack: smoothadv is an l2 attack (--norm l2)");
  SC_CHECK(!ddn || norm == attacks::Norm::L2, "attack: ddn is an l2 attack (--norm l2)");
  const double eps = args.get_fraction("eps", 1e-12, 1e6);
  const int64_t target = args.get_int("target", -1, 1 << 20);
  SC_CHECK(target < 0 || (sequence.size() == 1 && (sequence[0] == "fgsm" || sequence[0] == "pgd")),
           "attack: --target is for fgsm or pgd alone; ", args.get("attack"), " is untargeted");

  const bool custom_step = !args.get("step-size").empty();
  const double step_size = custom_step ? args.get_fraction("step-size", 1e-12, 1e6) : 0;
  const int steps = static_cast<int>(args.get_int("steps", 1, 1 << 20));
  const int restarts = static_cast<int>(args.get_int("restarts", 1, 1 << 20));
  const uint64_t seed = static_cast<uint64_t>(args.get_int("seed", 0, 1LL << 62));
  const std::string loss = args.get("loss");
  SC_CHECK(loss == "ce" || loss == "dlr", "attack: --loss must be ce or dlr, got '", loss, "'");
  SC_CHECK(loss == "ce" || !smoothadv, "attack: smoothadv has its own loss");
  const int targets = static_cast<int>(args.get_int("targets", 1, 1 << 20));
  const int queries = static_cast<int>(args.get_int("queries", 1, 1 << 30));
  const double p_init = args.get_double("p-init", 1e-9, 1);
  const int64_t smoothadv_m = args.get_int("m", 1, 1 << 20);
  const double smoothadv_sigma = args.get_double("sigma", 1e-6, 1e6);
  const std::string smoothadv_loss = args.get("smoothadv-loss");
  const double noise_sd = args.get_double("noise-sd", 0, 1e6);
  const int eot = static_cast<int>(args.get_int("eot", 1, 1 << 20));
  const int64_t noise_draws = args.get_int("noise-draws", 1, 1 << 20);
  SC_CHECK(noise_sd == 0 || !smoothadv,
           "attack: smoothadv draws its own noise (--sigma); --noise-sd is for the other attacks");
  const int64_t predict_n = args.get_int("predict-N", 0, 1LL << 32);
  const double predict_alpha = args.get_double("predict-alpha", 1e-300, 0.5);
  SC_CHECK(
      predict_n == 0 || noise_sd == 0,
      "attack: --predict-N judges the smoothed classifier of MODEL, not of the randomized one of --noise-sd");
  SC_CHECK(eot == 1 || noise_sd > 0,
           "attack: --eot averages gradients over the draws of a randomized model; without --noise-sd every "
           "draw is the same");
  SC_CHECK(smoothadv_loss == "soft" || smoothadv_loss == "eot",
           "attack: --smoothadv-loss must be soft or eot, got '", smoothadv_loss, "'");
  const std::string smoothadv_method = args.get("smoothadv-method");
  SC_CHECK(smoothadv_method == "pgd" || smoothadv_method == "ddn",
           "attack: --smoothadv-method must be pgd or ddn, got '", smoothadv_method, "'");
  // Every attack's options at budget e.
  const auto options_at = [&](double e) {
    AttackOptions o;
    o.pgd.norm = norm;
    o.pgd.eps = e;
    o.pgd.steps = steps;
    o.pgd.step_size = custom_step ? step_size : e / 4;
    o.pgd.restarts = restarts;
    o.pgd.random_start = !args.has_flag("no-random-start");
    o.pgd.targeted = target >= 0;
    o.pgd.seed = seed;
    if (loss == "dlr") o.pgd.loss = attacks::PgdOptions::Loss::Dlr;
    o.pgd.eot = eot;
    // A randomized model: every image takes every step and keeps its last iterate, since one draw that
    // misclassifies an early iterate says little about the next draw.
    o.pgd.stop_at_success = noise_sd == 0;
    attacks::check_options(o.pgd);
    o.apgd_dlr = o.pgd;
    o.apgd_dlr.loss = attacks::PgdOptions::Loss::Dlr;
    o.fgsm = attacks::fgsm_options(norm, e);
    o.fgsm.targeted = o.pgd.targeted, o.fgsm.seed = seed, o.fgsm.loss = o.pgd.loss, o.fgsm.eot = eot;
    o.fgsm.stop_at_success = o.pgd.stop_at_success;
    o.fab.norm = norm, o.fab.eps = e, o.fab.steps = steps, o.fab.targets = targets;
    o.fab.restarts = restarts, o.fab.seed = seed;
    o.ddn.eps = e, o.ddn.steps = steps, o.ddn.eot = eot;
    o.square.norm = norm, o.square.eps = e, o.square.queries = queries, o.square.p_init = p_init;
    o.square.seed = seed;
    o.smoothadv.eps = e, o.smoothadv.steps = steps, o.smoothadv.m = smoothadv_m;
    o.smoothadv.sigma = smoothadv_sigma, o.smoothadv.seed = seed;
    if (smoothadv_loss == "eot") o.smoothadv.loss = attacks::SmoothAdvOptions::Loss::Eot;
    if (smoothadv_method == "ddn") o.smoothadv.method = attacks::SmoothAdvOptions::Method::Ddn;
    return o;
  };
  const AttackOptions full = options_at(eps);
  // The budgets tried: --eps alone, or S, 2S, … and --eps last.
  const double eps_step = args.get("eps-step").empty() ? 0 : args.get_fraction("eps-step", 1e-12, eps);
  SC_CHECK(eps_step == 0 || (sequence.size() == 1 && !smoothadv),
           "attack: --eps-step searches the budget of one attack (not smoothadv), not of ",
           args.get("attack"));
  std::vector<double> budgets;
  if (eps_step > 0)
    for (int64_t k = 1; static_cast<double>(k) * eps_step < eps * (1 - 1e-9); ++k)
      budgets.push_back(static_cast<double>(k) * eps_step);
  budgets.push_back(eps);

  const Device device = Device::parse(args.get("device"));
  auto data = io::open_dataset(args.get("DATASET"), {args.get("split"), args.get("data-dir")});
  auto classifier = load_classifier(args, device, args.get("DATASET"));
  const std::string denoiser_path = args.get("denoiser");
  std::unique_ptr<Classifier> denoiser, denoised;
  if (!denoiser_path.empty()) {
    denoiser = load_denoiser_network(denoiser_path, device, args.get("DATASET"), "attack");
    denoised = denoised_network(*denoiser, *classifier);
  }
  std::unique_ptr<Classifier> randomized;  // --noise-sd: the noise in front of everything
  if (noise_sd > 0) randomized = noisy_network(denoised ? *denoised : *classifier, noise_sd, seed);
  Classifier& model = randomized ? *randomized : denoised ? *denoised : *classifier;  // what the attacks see
  SC_CHECK(data->image_shape() == Shape({model.spec.channels, model.spec.height, model.spec.width}),
           "attack: the images of ", data->name(), " are ", shape_str(data->image_shape()),
           " but the model takes ", model.spec.channels, "x", model.spec.height, "x", model.spec.width);
  SC_CHECK(target < model.spec.num_classes, "attack: --target ", target, " is not one of the model's ",
           model.spec.num_classes, " classes");
  const std::vector<int64_t> indices = select_indices(data->size(), parse_selection(args));
  const int64_t n = static_cast<int64_t>(indices.size()), batch = args.get_int("batch", 1, 1 << 20);
  SC_CHECK(n > 0, "attack: no images selected");
  const Shape img = data->image_shape();
  const int64_t per = numel_of(img);

  // One attack of the sequence on some images (x on the device) with options o.
  const auto run = [&](const std::string& kind, const Tensor& x, const std::vector<int64_t>& labels,
                       const std::vector<int64_t>& ids, const AttackOptions& o) {
    std::vector<int64_t> aim = labels;
    if (target >= 0) std::fill(aim.begin(), aim.end(), target);
    if (kind == "fgsm") return attacks::pgd_attack(model, x, aim, ids, o.fgsm);
    if (kind == "pgd") return attacks::pgd_attack(model, x, aim, ids, o.pgd);
    if (kind == "apgd") return attacks::apgd_attack(model, x, labels, ids, o.pgd);
    if (kind == "apgd-dlr") return attacks::apgd_attack(model, x, labels, ids, o.apgd_dlr);
    if (kind == "apgd-t") return attacks::apgd_targeted_attack(model, x, labels, ids, o.pgd, targets);
    if (kind == "fab-t") return attacks::fab_targeted_attack(model, x, labels, ids, o.fab);
    if (kind == "fab") return attacks::fab_attack(model, x, labels, ids, o.fab);
    if (kind == "ddn") return attacks::ddn_attack(model, x, labels, o.ddn);
    if (kind == "square") return attacks::square_attack(model, x, labels, ids, o.square);
    const auto s = attacks::smoothadv_attack(model, x, labels, ids, o.smoothadv);
    attacks::AttackResult r;
    r.adversarial = s.adversarial;
    r.loss = s.loss;
    r.predictions =
        attacks::loss_gradient(model, s.adversarial, attacks::cross_entropy(labels), false).predictions;
    for (size_t i = 0; i < labels.size(); ++i) r.success.push_back(r.predictions[i] != labels[i]);
    return r;
  };

  // A randomized model's verdict on an attack's images comes from a fresh draw, as AutoAttack's: the draw the
  // attack saw is not the one the defense will make.
  const auto judged = [&](const std::string& kind, const Tensor& x, const std::vector<int64_t>& labels,
                          const std::vector<int64_t>& ids, const AttackOptions& o) {
    attacks::AttackResult r = run(kind, x, labels, ids, o);
    if (!randomized) return r;
    r.predictions =
        attacks::loss_gradient(model, r.adversarial, attacks::cross_entropy(labels), false).predictions;
    for (size_t i = 0; i < labels.size(); ++i)
      r.success[i] = target >= 0 ? r.predictions[i] == target : r.predictions[i] != labels[i];
    return r;
  };
  // --noise-sd: how many of --noise-draws fresh draws classify each image right, summed over the images.
  const auto correct_draws = [&](const std::vector<float>& images, const std::vector<int64_t>& labels) {
    const Tensor xd =
        Tensor::from_vector(images, {static_cast<int64_t>(labels.size()), img[0], img[1], img[2]}).to(device);
    int64_t correct = 0;
    for (int64_t k = 0; k < noise_draws; ++k) {
      const auto p = attacks::loss_gradient(model, xd, attacks::cross_entropy(labels), false).predictions;
      for (size_t i = 0; i < labels.size(); ++i) correct += p[i] == labels[i];
    }
    return correct;
  };
  int64_t clean_draws_correct = 0, attacked_draws_correct = 0;
  // --predict-N: the smoothed classifier of what the attacks saw (the classifier, or denoiser + classifier).
  ArgmaxClassifier base(model);
  Smooth smoothed(base, smoothadv_sigma, std::max<int64_t>(batch, 1000), seed);
  const auto smoothed_predictions = [&](const std::vector<float>& images, const std::vector<int64_t>& ids) {
    std::vector<Tensor> xs;
    for (size_t i = 0; i < ids.size(); ++i)
      xs.push_back(Tensor::from_vector(std::vector<float>(images.begin() + static_cast<int64_t>(i) * per,
                                                          images.begin() + static_cast<int64_t>(i + 1) * per),
                                       img)
                       .to(device));
    return smoothed.predict(xs, ids, predict_n, predict_alpha);
  };

  std::vector<Row> rows;
  std::vector<float> adversarial;
  std::vector<int64_t> labels_out;
  std::vector<Stage> stages(sequence.size());
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
    const std::vector<float> c = x.to_float_vector();
    std::vector<float> a = c;  // the images kept so far
    std::vector<Row> batch_rows;
    const std::vector<int64_t> clean =
        attacks::loss_gradient(model, x.to(device), attacks::cross_entropy(labels), false).predictions;
    for (int64_t i = 0; i < count; ++i) {
      Row row{ids[static_cast<size_t>(i)], labels[static_cast<size_t>(i)]};
      row.clean_prediction = row.adversarial_prediction = clean[static_cast<size_t>(i)];
      if (eps_step > 0 && (target >= 0 ? row.clean_prediction == target : row.clean_prediction != row.label))
        row.success = true, row.budget = 0;  // fooled without a perturbation
      batch_rows.push_back(row);
    }
    for (size_t s = 0; s < sequence.size(); ++s) {
      for (size_t j = 0; j < budgets.size(); ++j) {
        // The first attack at the first budget takes every image (but those fooled clean, when searching
        // budgets); the later ones those not fooled yet.
        std::vector<int64_t> chosen, chosen_labels, chosen_ids;
        for (int64_t i = 0; i < count; ++i)
          if ((s == 0 && j == 0 && eps_step == 0) || !batch_rows[static_cast<size_t>(i)].success)
            chosen.push_back(i), chosen_labels.push_back(labels[static_cast<size_t>(i)]),
                chosen_ids.push_back(ids[static_cast<size_t>(i)]);
        if (chosen.empty()) continue;
        std::vector<float> xs(chosen.size() * static_cast<size_t>(per));
        for (size_t k = 0; k < chosen.size(); ++k)
          std::copy(c.begin() + chosen[k] * per, c.begin() + (chosen[k] + 1) * per,
                    xs.begin() + static_cast<int64_t>(k) * per);
        const Tensor xd =
            Tensor::from_vector(xs, {static_cast<int64_t>(chosen.size()), img[0], img[1], img[2]}).to(device);
        const attacks::AttackResult r = judged(sequence[s], xd, chosen_labels, chosen_ids,
                                               j + 1 < budgets.size() ? options_at(budgets[j]) : full);
        const std::vector<float> found = r.adversarial.cpu().to_float_vector();
        for (size_t k = 0; k < chosen.size(); ++k) {
          Row& row = batch_rows[static_cast<size_t>(chosen[k])];
          std::copy(found.begin() + static_cast<int64_t>(k) * per,
                    found.begin() + static_cast<int64_t>(k + 1) * per, a.begin() + chosen[k] * per);
          row.adversarial_prediction = r.predictions[k];
          row.loss = r.loss[k];
          row.success = r.success[k];
          if (row.success) row.by = sequence[s], row.budget = budgets[j];
        }
      }
      Stage& stage = stages[s];
      for (int64_t i = 0; i < count; ++i) {
        Row& row = batch_rows[static_cast<size_t>(i)];
        std::vector<float> delta(static_cast<size_t>(per));
        for (int64_t e = 0; e < per; ++e) delta[static_cast<size_t>(e)] = a[i * per + e] - c[i * per + e];
        row.linf = attacks::linf_norm(delta.data(), per);
        row.l2 = attacks::l2_norm(delta.data(), per);
        stage.correct += row.adversarial_prediction == row.label;
        stage.fooled += row.success;
        stage.l2_sum += row.l2;
        stage.max_linf = std::max(stage.max_linf, row.linf);
      }
    }
    if (randomized) {
      clean_draws_correct += correct_draws(c, labels);
      attacked_draws_correct += correct_draws(a, labels);
    }
    if (predict_n > 0) {
      const std::vector<int64_t> on_clean = smoothed_predictions(c, ids),
                                 on_attacked = smoothed_predictions(a, ids);
      for (int64_t i = 0; i < count; ++i) {
        batch_rows[static_cast<size_t>(i)].smoothed_clean = on_clean[static_cast<size_t>(i)];
        batch_rows[static_cast<size_t>(i)].smoothed_adversarial = on_attacked[static_cast<size_t>(i)];
      }
    }
    adversarial.insert(adversarial.end(), a.begin(), a.end());
    for (const Row& row : batch_rows) {
      rows.push_back(row);
      labels_out.push_back(row.label);
    }
    progress.update(b1);
  }
  progress.finish();

  std::filesystem::create_directories(out);
  std::ostringstream tsv;
  tsv << "idx\tlabel\tclean_predict\tadv_predict\tsuccess\tlinf\tl2\tloss\tattack"
      << (eps_step > 0 ? "\tbudget" : "") << (predict_n > 0 ? "\tsmoothed_clean\tsmoothed_adv\n" : "\n");
  int64_t clean_correct = 0, smoothed_clean_correct = 0, smoothed_attacked_correct = 0;
  for (const Row& r : rows) {
    tsv << r.index << '\t' << r.label << '\t' << r.clean_prediction << '\t' << r.adversarial_prediction
        << '\t' << (r.success ? 1 : 0) << '\t' << fmt("%.6g", r.linf) << '\t' << fmt("%.6g", r.l2) << '\t'
        << fmt("%.6g", r.loss) << '\t' << r.by;
    if (eps_step > 0) tsv << '\t' << (r.budget >= 0 ? fmt("%.6g", r.budget) : "-");
    if (predict_n > 0) tsv << '\t' << r.smoothed_clean << '\t' << r.smoothed_adversarial;
    tsv << '\n';
    clean_correct += r.clean_prediction == r.label;
    smoothed_clean_correct += r.smoothed_clean == r.label;
    smoothed_attacked_correct += r.smoothed_adversarial == r.label;
  }
  io::write_file_atomic(out + "/attack.tsv", tsv.str());
  io::write_npy(out + "/adversarial.npy", Tensor::from_vector(adversarial, {n, img[0], img[1], img[2]}));
  io::write_npy(out + "/labels.npy", Tensor::from_vector(labels_out, {n}));

  std::ostringstream md;
  md << "| attack | norm | eps | steps | images | clean accuracy | accuracy under attack | "
     << (target >= 0 ? "hit target" : "fooled")
     << " | mean l2 | max linf |\n|---|---|---|---|---|---|---|---|---|---|\n";
  for (size_t s = 0; s < sequence.size(); ++s) {
    const std::string& kind = sequence[s];
    const std::string steps =
        kind == "fgsm"     ? "1"
        : kind == "square" ? std::to_string(full.square.queries) + " queries"
        : kind == "apgd-t" || kind == "fab-t"
            ? std::to_string(full.pgd.steps) + " × " +
                  std::to_string(std::min<int64_t>(targets, model.spec.num_classes - 1)) + " targets"
            : std::to_string(full.pgd.steps);
    const Stage& st = stages[s];
    const bool dlr = full.pgd.loss == attacks::PgdOptions::Loss::Dlr &&
                     (kind == "fgsm" || kind == "pgd" || kind == "apgd");
    md << "| " << (s > 0 ? "+ " : "") << kind << (dlr ? " (dlr)" : "")
       << (target >= 0 ? " (target " + std::to_string(target) + ")" : "") << " | " << attacks::norm_name(norm)
       << " | " << args.get("eps") << " | " << steps << " | " << n << " | "
       << fmt("%.2f%%", 100.0 * clean_correct / n) << " | " << fmt("%.2f%%", 100.0 * st.correct / n) << " | "
       << fmt("%.2f%%", 100.0 * st.fooled / n) << " | " << fmt("%.4f", st.l2_sum / n) << " | "
       << fmt("%.4f", st.max_linf) << " |\n";
  }
  if (sequence.size() > 1)
    md << "\nEach attack after the first ran on the images the ones above it did not fool; each row is the "
          "result of the sequence up to it.\n";
  if (eps_step > 0) md << budget_summary(rows, budgets, target >= 0, args.get("eps-step"));
  if (smoothadv && predict_n == 0)
    md << "\nThe accuracy columns are the base classifier's on the attacked images without noise; the "
          "smoothed classifier's verdict: `smoothcuda predict npy:"
       << out << "/adversarial.npy:" << out << "/labels.npy MODEL " << full.smoothadv.sigma
       << " OUTFILE --N 1000" << (denoised ? " --denoiser " + denoiser_path : "")
       << "`, or --predict-N 1000.\n";
  if (predict_n > 0)
    md << "\nThe smoothed classifier (sigma = " << fmt("%g", smoothadv_sigma)
       << ", Cohen et al.'s PREDICT with N = " << predict_n << ", alpha = " << fmt("%g", predict_alpha)
       << ", abstentions wrong): " << fmt("%.2f%%", 100.0 * smoothed_clean_correct / n) << " clean, "
       << fmt("%.2f%%", 100.0 * smoothed_attacked_correct / n) << " on the attacked images.\n";
  if (randomized) {
    const double draws = static_cast<double>(n * noise_draws);
    md << "\nThe model was randomized: it classified x + N(0, " << fmt("%g", noise_sd)
       << "^2) with fresh noise at every pass"
       << (eot > 1 ? ", and each gradient was the mean of " + std::to_string(eot) + " draws" : std::string())
       << ". The columns above judge each image by one draw; over " << noise_draws
       << " fresh draws per image the accuracy is " << fmt("%.2f%%", 100.0 * clean_draws_correct / draws)
       << " clean and " << fmt("%.2f%%", 100.0 * attacked_draws_correct / draws) << " under attack.\n";
  }
  if (denoised)
    md << "\nThe attacks saw the classifier behind the denoiser " << denoiser->spec.arch << " ("
       << denoiser_path << ") and followed the gradient through both.\n";
  io::write_file_atomic(out + "/summary.md", md.str());
  std::printf("%s", md.str().c_str());
  return 0;
}

}  // namespace sc::app
