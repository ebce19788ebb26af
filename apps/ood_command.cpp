// smoothcuda ood IN_DATASET MODEL --ood SETS: how well the classifier's confidence tells its own data from
// other data (out-of-distribution detection, in-distribution = positive): AUROC, conservative AUROC, AUPR-In,
// AUPR-Out and FPR at 95% TPR per OOD set and score, ROC curves and score histograms.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/dataset_logits.h"
#include "apps/image_selection.h"
#include "apps/model_options.h"
#include "apps/progress.h"
#include "attacks/apgd.h"
#include "attacks/monotone_pgd.h"
#include "attacks/score_ascent.h"
#include "io/dataset.h"
#include "io/file_util.h"
#include "kernels/argmax.h"
#include "nn/models/denoisers.h"
#include "nn/parse_number.h"
#include "ood/certified_confidence.h"
#include "ood/distro_certified.h"
#include "ood/joint_model.h"
#include "ood/report.h"
#include "ood/score_bounds.h"
#include "ood/score_objective.h"
#include "ood/scores.h"
#include "smoothing/analysis.h"
#include "smoothing/smooth.h"

namespace sc::app {

namespace {

// "NAME=SPEC" or a bare SPEC (named by itself). A name holds no ':' or '/', so that a path with '=' stays a
// path.
std::pair<std::string, std::string> named_spec(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq != std::string::npos && eq > 0 && text.find_first_of(":/") > eq)
    return {text.substr(0, eq), text.substr(eq + 1)};
  return {text, text};
}

// One evaluated set: its name, the images chosen, their labels, the logits and, with --sigma, each image's
// smoothed confidence (the mean max softmax over its noisy copies).
struct EvaluatedSet {
  std::string name;
  std::vector<int64_t> indices, labels;
  Tensor logits;
  std::vector<double> smoothed;
  std::vector<Certificate> certificates;  // with --distro-certified
  std::vector<double> reconstruction;     // with --autoencoder
  // The OOD sets' scores under attack and their guaranteed bounds ("adversarial_msp", "guaranteed_msp", …).
  std::vector<std::pair<std::string, std::vector<double>>> bounded;
};

// One score per chosen image, `batch` images at a time on `device`: `per_batch(x, ids)` scores a batch.
std::vector<double> batched_scores(
    const io::Dataset& data, const std::vector<int64_t>& indices, int64_t batch, Device device,
    const std::string& label,
    const std::function<std::vector<double>(const Tensor&, const std::vector<int64_t>&)>& per_batch) {
  const int64_t n = static_cast<int64_t>(indices.size());
  std::vector<double> out;
  Progress progress(label, n);
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t b1 = std::min(n, b0 + batch);
    const std::vector<int64_t> ids(indices.begin() + b0, indices.begin() + b1);
    for (double v : per_batch(io::read_batch(data, indices, b0, b1).to(device), ids)) out.push_back(v);
    progress.update(b1);
  }
  progress.finish();
  return out;
}

// The autoencoder's reconstruction score of each chosen image (ood::reconstruction_scores).
std::vector<double> reconstruction_of(const io::Dataset& data, const std::vector<int64_t>& indices,
                                      Classifier& autoencoder, int64_t batch, const std::string& label) {
  return batched_scores(data, indices, batch, autoencoder.device(), label,
                        [&](const Tensor& x, const std::vector<int64_t>&) {
                          return ood::reconstruction_scores(x, autoencoder.net->forward(x));
                        });
}

// One attack of --attack-method: pgd (fixed steps), apgd (APGD's walk) or mpgd (monotone PGD from DISTRO's
// three starts), each with its steps.
struct OodAttack {
  std::string method;
  int steps = 0;
};

// --attack-method METHOD[:STEPS],...: the steps default to --attack-steps.
std::vector<OodAttack> parse_ood_attacks(const std::string& text, int default_steps) {
  std::vector<OodAttack> out;
  for (const std::string& item : split_commas(text)) {
    const size_t colon = item.find(':');
    OodAttack a{item.substr(0, colon), default_steps};
    SC_CHECK(a.method == "pgd" || a.method == "apgd" || a.method == "mpgd",
             "ood: --attack-method takes pgd, apgd or mpgd (each optionally :STEPS), comma-separated; got '",
             item, "'");
    if (colon != std::string::npos) {
      const std::optional<int64_t> steps = parse_int64(item.substr(colon + 1));
      SC_CHECK(steps && *steps >= 1 && *steps <= (1 << 20), "ood: --attack-method: the steps in '", item,
               "' must be a whole number from 1 to 2^20");
      a.steps = static_cast<int>(*steps);
    }
    out.push_back(a);
  }
  SC_CHECK(!out.empty(), "ood: --attack-method names no attack");
  return out;
}

// The highest `kind` score that each chosen image reaches within the attack's ball over every attack of
// `runs` (projected gradient ascent, attacks/score_ascent.h; APGD's walk, attacks/apgd.h; monotone PGD,
// attacks/monotone_pgd.h), `batch` images at a time. `o` holds the ball, pgd's step, the restarts of pgd and
// apgd, and the seed; `mpgd_step` is monotone PGD's first rate.
std::vector<double> adversarial_scores(const io::Dataset& data, const std::vector<int64_t>& indices,
                                       Classifier& model, ood::Score kind, double temperature,
                                       const attacks::PgdOptions& o, const std::vector<OodAttack>& runs,
                                       double mpgd_step, int64_t batch, const std::string& label) {
  const attacks::LogitsLoss objective = ood::score_objective(kind, temperature);
  return batched_scores(
      data, indices, batch, model.device(), label, [&](const Tensor& x, const std::vector<int64_t>& ids) {
        std::vector<double> best(ids.size(), -1e300);
        for (const OodAttack& run : runs) {
          attacks::AscentResult r;
          if (run.method == "mpgd") {
            attacks::MonotonePgdOptions m;
            m.norm = o.norm, m.eps = o.eps, m.steps = run.steps, m.step_size = mpgd_step;
            m.seed = o.seed;
            r = attacks::monotone_pgd_maximize(model, x, ids, objective, m);
          } else {
            attacks::PgdOptions p = o;
            p.steps = run.steps;
            r = run.method == "apgd" ? attacks::apgd_maximize_objective(model, x, ids, objective, p)
                                     : attacks::maximize_objective(model, x, ids, objective, p);
          }
          for (size_t k = 0; k < best.size(); ++k) best[k] = std::max(best[k], r.value[k]);
        }
        return best;
      });
}

// How the adversarial table's header describes the attacks: "APGD, 40 steps, 1 start", or the highest of
// several ("highest of: monotone PGD, 200 steps from 0.1, 3 starts; APGD, 500 steps, 5 starts").
std::string describe_ood_attacks(const std::vector<OodAttack>& runs, const attacks::PgdOptions& o,
                                 double mpgd_step) {
  std::string text = runs.size() > 1 ? "highest of: " : "";
  for (size_t i = 0; i < runs.size(); ++i) {
    char one[160];
    const OodAttack& a = runs[i];
    const int starts =
        a.method == "mpgd" ? static_cast<int>(attacks::MonotonePgdOptions().starts.size()) : o.restarts;
    if (a.method == "apgd")
      std::snprintf(one, sizeof one, "APGD, %d steps", a.steps);
    else if (a.method == "mpgd")
      std::snprintf(one, sizeof one, "monotone PGD, %d steps from %g", a.steps, mpgd_step);
    else
      std::snprintf(one, sizeof one, "%d steps of %g", a.steps, o.step_size);
    text += (i > 0 ? "; " : "") + std::string(one) + ", " + std::to_string(starts) + " start" +
            (starts > 1 ? "s" : "");
  }
  return text;
}

// Runs `per_group(images, ids)` on the chosen images, some at a time (so that their noisy samples share
// batches), and concatenates what it returns, with a progress bar.
template <class T>
std::vector<T> over_image_groups(
    const io::Dataset& data, const std::vector<int64_t>& indices, const std::string& label,
    const std::function<std::vector<T>(const std::vector<Tensor>&, const std::vector<int64_t>&)>& per_group) {
  constexpr size_t kImagesAtOnce = 64;
  std::vector<T> out;
  Progress progress(label, static_cast<int64_t>(indices.size()));
  for (size_t b = 0; b < indices.size(); b += kImagesAtOnce) {
    const std::vector<int64_t> ids(
        indices.begin() + static_cast<std::ptrdiff_t>(b),
        indices.begin() + static_cast<std::ptrdiff_t>(std::min(indices.size(), b + kImagesAtOnce)));
    std::vector<Tensor> xs;
    for (int64_t i : ids) {
      Tensor x = Tensor::empty(data.image_shape());
      data.read_image(i, x.data<float>());
      xs.push_back(std::move(x));
    }
    for (T& v : per_group(xs, ids)) out.push_back(std::move(v));
    progress.update(static_cast<int64_t>(out.size()));
  }
  progress.finish();
  return out;
}

// The mean max softmax of `n` noisy copies (noise phase kConfidence, noise index = the dataset index) of each
// chosen image.
std::vector<double> smoothed_confidence(const io::Dataset& data, const std::vector<int64_t>& indices,
                                        Smooth& smooth, int64_t n, const std::string& label) {
  const Smooth::RowScores msp = [](const Tensor& logits) {
    return ood::scores(logits, ood::Score::MaxSoftmax);
  };
  return over_image_groups<double>(data, indices, label,
                                   [&](const std::vector<Tensor>& xs, const std::vector<int64_t>& ids) {
                                     return smooth.mean_scores(xs, ids, noise::kConfidence, n, msp);
                                   });
}

// Cohen's CERTIFY for each chosen image (DISTRO's certified score).
std::vector<Certificate> certificates_of(const io::Dataset& data, const std::vector<int64_t>& indices,
                                         Smooth& smooth, int64_t n0, int64_t n, double alpha,
                                         const std::string& label) {
  return over_image_groups<Certificate>(data, indices, label,
                                        [&](const std::vector<Tensor>& xs, const std::vector<int64_t>& ids) {
                                          return smooth.certify(xs, ids, n0, n, alpha);
                                        });
}

// scores.tsv: a row per image of every set (set, idx, label, predict, each score; with --sigma the smoothed
// confidence and its Hoeffding bounds; with --distro-certified the certificate; with --autoencoder the
// reconstruction score; with --attack-eps and --ibp-eps each OOD image's score under attack and its
// guaranteed bound, "-" for the in-distribution images), scores with 17 significant digits.
std::string scores_tsv(const std::vector<EvaluatedSet>& sets, double temperature, int64_t n_noisy,
                       double alpha) {
  std::string tsv = "set\tidx\tlabel\tpredict";
  for (ood::Score kind : ood::all_scores()) tsv += "\t" + ood::score_name(kind);
  if (!sets[0].smoothed.empty()) tsv += "\tsmoothed_msp\tsmoothed_lower\tsmoothed_upper";
  if (!sets[0].certificates.empty()) tsv += "\tcertified_class\tcertified_radius";
  if (!sets[0].reconstruction.empty()) tsv += "\treconstruction";
  const auto& bounded = sets.back().bounded;  // every OOD set has the same columns; the images in, "-"
  for (const auto& [name, values] : bounded) tsv += "\t" + name;
  tsv += "\n";
  for (const EvaluatedSet& e : sets) {
    std::vector<std::vector<double>> columns;
    for (ood::Score kind : ood::all_scores()) columns.push_back(ood::scores(e.logits, kind, temperature));
    const Tensor pred = ops::argmax(e.logits);
    for (size_t i = 0; i < e.indices.size(); ++i) {
      char row[128];
      std::snprintf(row, sizeof row, "\t%lld\t%lld\t%lld", static_cast<long long>(e.indices[i]),
                    static_cast<long long>(e.labels[i]), static_cast<long long>(pred.data<int64_t>()[i]));
      tsv += e.name + row;
      for (const auto& column : columns) {
        std::snprintf(row, sizeof row, "\t%.17g", column[i]);
        tsv += row;
      }
      if (!e.smoothed.empty()) {
        const ood::ConfidenceInterval c = ood::hoeffding_interval(e.smoothed[i], n_noisy, alpha);
        std::snprintf(row, sizeof row, "\t%.17g\t%.17g\t%.17g", c.mean, c.lower, c.upper);
        tsv += row;
      }
      if (!e.certificates.empty()) {  // Cohen's CERTIFY (--distro-certified): −1 abstains
        std::snprintf(row, sizeof row, "\t%lld\t%.17g", static_cast<long long>(e.certificates[i].prediction),
                      e.certificates[i].radius);
        tsv += row;
      }
      if (!e.reconstruction.empty()) {
        std::snprintf(row, sizeof row, "\t%.17g", e.reconstruction[i]);
        tsv += row;
      }
      for (size_t c = 0; c < bounded.size(); ++c) {
        if (e.bounded.empty()) {
          tsv += "\t-";
          continue;
        }
        std::snprintf(row, sizeof row, "\t%.17g", e.bounded[c].second[i]);
        tsv += row;
      }
      tsv += "\n";
    }
  }
  return tsv;
}

// Interval bound propagation of each chosen image's ℓ∞ box of radius eps (in [0, 1]) through the model:
// bounds on its logits [n, K] (CPU), `batch` images at a time.
Interval logit_bounds(const io::Dataset& data, const std::vector<int64_t>& indices, Classifier& model,
                      double eps, int64_t batch) {
  const int64_t n = static_cast<int64_t>(indices.size());
  std::vector<float> lower, upper;
  int64_t classes = 0;
  for (int64_t b0 = 0; b0 < n; b0 += batch) {
    const int64_t b1 = std::min(n, b0 + batch);
    const Interval b = model.bounds(linf_box(io::read_batch(data, indices, b0, b1).to(model.device()), eps));
    classes = b.lower.size(1);
    for (const auto& [from, to] : {std::pair{&b.lower, &lower}, std::pair{&b.upper, &upper}}) {
      const std::vector<float> v = from->cpu().to_float_vector();
      to->insert(to->end(), v.begin(), v.end());
    }
  }
  return {Tensor::from_vector(lower, {n, classes}), Tensor::from_vector(upper, {n, classes})};
}

}  // namespace

int ood_command(int argc, char** argv) {
  Args args(
      "ood",
      "Out-of-distribution detection with the classifier's own confidence: scores every image of IN_DATASET "
      "and of each OOD set, and prints, per score, AUROC, conservative AUROC (ties count against), AUPR-In, "
      "AUPR-Out and FPR at 95% TPR (in percent, in-distribution = positive, an Average row over the sets). "
      "With --out also writes table.md, scores.tsv, roc_SCORE.svg and hist_SCORE.svg there, and with --sigma "
      "certified_auroc.svg.");
  args.positional("IN_DATASET",
                  "[NAME=]dataset the model was trained on (cifar10, folder:PATH, npy:..., fake:...)")
      .positional("MODEL", "smoothcuda model file or PyTorch checkpoint")
      .option("ood", "",
              "the OOD sets: [NAME=]DATASET[,[NAME=]DATASET...], e.g. "
              "isun=folder:data/isun,noise=fake:1000:3:32:32")
      .option("score", "all", "msp (max softmax), maxlogit, energy, or all")
      .option("temperature", "1", "the energy score's temperature T: T·log Σ exp(logit/T)")
      .option("skip", "1", "use every skip-th image of each set")
      .option("max", "-1", "stop at this index in each set (-1: all)")
      .option("split", "test", "train or test (for the datasets that have both)")
      .option("data-dir", "", "dataset root (default $SMOOTHCUDA_DATA)")
      .option("batch", "256", "images (or noisy samples, with --sigma) per forward pass")
      .option("device", "cpu", "cpu, cuda or cuda:K")
      .option("out", "", "folder for table.md, scores.tsv and the plots")
      .option("sigma", "0",
              "with σ > 0, also the smoothed confidence (max softmax averaged over N noisy copies, noise "
              "N(0, σ²)) and its certified AUROC/FPR95 at --radii")
      .option("N", "10000", "noisy copies per image (--sigma)")
      .option("alpha", "0.01", "each Hoeffding bound on a smoothed confidence fails with probability alpha")
      .option("radii", "0,0.12,0.25,0.5", "l2 radii of the certified tables: a,b,c or START:STOP:STEP")
      .flag("distro-certified",
            "with --sigma, also DISTRO's certified table as its code computes it: Cohen's CERTIFY (--N0, "
            "--N, --alpha) on every image, scored softmax(logits)[c_A] + sqrt(2/pi)·R where r <= R, else 0 "
            "(not a bound: for comparison with DISTRO's published numbers)")
      .option("N0", "100", "CERTIFY's selection samples (--distro-certified)")
      .option(
          "autoencoder", "",
          "an image-to-image model file (conv_autoencoder, as train-denoiser makes it with --noise-sd 0; or "
          "a DnCNN/MemNet): adds the OOD lab's reconstruction score, minus the mean squared error of its "
          "reconstruction of each image")
      .option("seed", "0", "noise seed (--sigma) and the attack's random restarts")
      .option("attack-eps", "0",
              "with ε > 0, also the adversarial tables: each OOD image moved within the ball of radius ε "
              "(a number or a fraction like 8/255) to the highest score PGD finds from it")
      .option("attack-norm", "linf", "linf or l2")
      .option("attack-method", "pgd",
              "pgd (fixed steps), apgd (Croce & Hein's step-size schedule with momentum) or mpgd (monotone "
              "PGD: momentum on the raw gradient, steps that lower the score undone, from DISTRO's three "
              "starts); several, comma-separated, keep each image's highest score, and METHOD:STEPS sets "
              "one's steps (DISTRO: mpgd:200,apgd:500 with --attack-restarts 5 at ε = 0.01)")
      .option("attack-steps", "40", "gradient steps per start")
      .option("attack-step-size", "",
              "pgd's step (default: ε/10) and mpgd's first rate (default: 0.1, DISTRO's); apgd sets its own")
      .option("attack-restarts", "1", "pgd's and apgd's starts: the image, then uniform draws in the ball")
      .option("detector", "",
              "a binary in/out detector model (1 output d, or 2 with class 1 = in, as `train` makes from an "
              "inout: dataset): every path then runs on ProoD's joint model p(y|x) = σ(d)·softmax(f)_y + "
              "(1 − σ(d))/K, whose msp is the joint confidence and whose --ibp-eps bound is ProoD's "
              "σ(ū) + (1 − σ(ū))/K")
      .option(
          "denoiser", "",
          "a diffusion model file: every image (and noisy copy) is denoised one-shot at --sigma before the "
          "classifier, as DISTRO does (DDS); or a denoiser network (DnCNN or MemNet, which --attack-eps "
          "attacks through and --ibp-eps bounds through)")
      .option("ibp-eps", "0",
              "with ε > 0, also the guaranteed tables: each OOD image's score replaced by its upper bound "
              "over the "
              "linf ball of radius ε, by interval bound propagation (a number or a fraction)");
  add_model_options(args);
  add_engine_options(args);
  if (!args.parse(argc, argv, 2)) return 0;
  SC_CHECK(!args.get("ood").empty(), "ood: name the out-of-distribution sets with --ood");
  const std::vector<ood::Score> kinds = args.get("score") == "all"
                                            ? ood::all_scores()
                                            : std::vector<ood::Score>{ood::parse_score(args.get("score"))};
  const double temperature = args.get_double("temperature", 1e-6, 1e6);
  const Selection selection = parse_selection(args);
  const int64_t batch = args.get_int("batch", 1, 1 << 20);
  const Device device = Device::parse(args.get("device"));
  const io::DatasetOptions data_options{args.get("split"), args.get("data-dir")};
  const double sigma = args.get_double("sigma", 0, 1e3), alpha = args.get_double("alpha", 1e-300, 0.5);
  const int64_t n_noisy = args.get_int("N", 1, (1LL << 32) - 1);
  const uint64_t seed = static_cast<uint64_t>(args.get_int("seed", 0, (1LL << 62)));
  const std::vector<double> radii = parse_radii(args.get("radii"));
  const bool distro_certified = args.has_flag("distro-certified");
  const int64_t n0 = args.get_int("N0", 1, (1LL << 32) - 1);
  SC_CHECK(!distro_certified || sigma > 0, "ood: --distro-certified smooths at --sigma: give --sigma");
  attacks::PgdOptions attack;
  const double attack_eps = args.get_fraction("attack-eps", 0, 1e6);
  const std::vector<OodAttack> attack_runs = parse_ood_attacks(
      args.get("attack-method"), static_cast<int>(args.get_int("attack-steps", 1, 1 << 20)));
  // --attack-step-size: pgd's step (default ε/10) and monotone PGD's first rate (default 0.1, DISTRO's).
  const double given_step =
      args.get("attack-step-size").empty() ? 0 : args.get_fraction("attack-step-size", 1e-12, 1e6);
  const double mpgd_step = given_step > 0 ? given_step : 0.1;
  if (attack_eps > 0) {  // each run of attack_runs sets its own steps (adversarial_scores)
    attack.norm = attacks::parse_norm(args.get("attack-norm"));
    attack.eps = attack_eps;
    attack.step_size = given_step > 0 ? given_step : attack_eps / 10;
    attack.restarts = static_cast<int>(args.get_int("attack-restarts", 1, 1 << 20));
    attack.seed = seed;
  }

  // Every set is opened (and so checked) before any is evaluated.
  const auto [in_name, in_spec] = named_spec(args.get("IN_DATASET"));
  std::vector<std::pair<std::string, std::unique_ptr<io::Dataset>>> sets;
  sets.emplace_back(in_name, io::open_dataset(in_spec, data_options));
  for (const std::string& item : split_commas(args.get("ood"))) {
    SC_CHECK(!item.empty(), "--ood: an empty entry in '", args.get("ood"), "'");
    const auto [name, spec] = named_spec(item);
    sets.emplace_back(name, io::open_dataset(spec, data_options));
  }
  std::unique_ptr<Classifier> model = load_classifier(args, device, in_spec);
  if (const std::string& detector = args.get("detector"); !detector.empty()) {
    SC_CHECK(!is_torch_checkpoint_path(detector), "--detector: ", detector,
             " is a PyTorch checkpoint; convert it first (smoothcuda convert CHECKPOINT OUT --arch ARCH "
             "--num-classes 1 or 2 ...)");
    model = ood::make_joint_classifier(std::move(model), load_any_model(detector, device, {}));
  }
  // DISTRO: the diffusion denoiser in front (DDS at σ), for the scores and the smoothed confidence; a
  // denoiser network also for the attacks and the bounds (`through`: the classifier behind it).
  const double ibp_eps = args.get_fraction("ibp-eps", 0, 1e6);
  std::unique_ptr<BaseClassifier> base;
  std::unique_ptr<Classifier> through;
  if (args.get("denoiser").empty()) {
    base = make_classifier(args, *model, device);
  } else {
    SC_CHECK(sigma > 0, "ood: --denoiser denoises at the noise level of --sigma: give --sigma");
    std::unique_ptr<ImageDenoiser> denoiser =
        load_denoiser(args, args.get("denoiser"), device, sigma, in_spec);
    if (attack_eps > 0 || ibp_eps > 0) {
      SC_CHECK(denoiser->network() != nullptr,
               "ood: --attack-eps and --ibp-eps with --denoiser need the gradient and the bounds through the "
               "denoiser: a denoiser network (DnCNN, MemNet) has them, the diffusion UNet does not here");
      through = denoised_network(*denoiser->network(), *model);
    }
    base = make_denoised_classifier(args, std::move(denoiser), *model, device, sets[0].second->image_shape());
  }

  std::unique_ptr<Classifier> autoencoder;
  if (const std::string& path = args.get("autoencoder"); !path.empty()) {
    SC_CHECK(std::filesystem::is_regular_file(path), "ood: --autoencoder '", path, "' is not a file");
    autoencoder = load_any_model(path, device, {});
    SC_CHECK(is_denoiser_arch(autoencoder->spec.arch), "ood: --autoencoder '", path,
             "' holds the classifier '", autoencoder->spec.arch,
             "', not an image-to-image network (conv_autoencoder, DnCNN, MemNet)");
  }
  std::vector<EvaluatedSet> evaluated;
  for (const auto& [name, data] : sets) {
    EvaluatedSet e;
    e.name = name, e.indices = select_indices(data->size(), selection);
    SC_CHECK(!e.indices.empty(), "ood: no images selected from ", name);
    for (int64_t i : e.indices) e.labels.push_back(data->label(i));
    e.logits = dataset_logits(*data, e.indices, *base, batch, "ood " + name);
    if (sigma > 0) {  // each set its own noise stream
      Smooth smooth(*base, sigma, batch, seed + evaluated.size());
      e.smoothed = smoothed_confidence(*data, e.indices, smooth, n_noisy, "ood " + name + " smoothed");
      if (distro_certified)
        e.certificates =
            certificates_of(*data, e.indices, smooth, n0, n_noisy, alpha, "ood " + name + " certify");
    }
    if (autoencoder)
      e.reconstruction =
          reconstruction_of(*data, e.indices, *autoencoder, batch, "ood " + name + " autoencoder");
    evaluated.push_back(std::move(e));
  }
  const EvaluatedSet& in = evaluated[0];
  const Tensor in_pred = ops::argmax(in.logits);
  int64_t correct = 0;
  for (size_t k = 0; k < in.indices.size(); ++k) correct += in_pred.data<int64_t>()[k] == in.labels[k];
  std::printf("model %s (%s) on %s; in-distribution %s: %zu images, accuracy %.4f\n",
              args.get("MODEL").c_str(), model->spec.arch.c_str(), device.str().c_str(), in.name.c_str(),
              in.indices.size(), static_cast<double>(correct) / static_cast<double>(in.indices.size()));

  auto scores_of = [&](const EvaluatedSet& e, ood::Score kind) {
    return ood::scores(e.logits, kind, temperature);
  };

  const std::string out = args.get("out");
  if (!out.empty()) std::filesystem::create_directories(out);
  std::string md;
  // The clean tables: each score of the logits, then the autoencoder's.
  std::vector<std::string> names;
  for (ood::Score kind : kinds) names.push_back(ood::score_name(kind));
  if (autoencoder) names.push_back("reconstruction");
  for (size_t k = 0; k < names.size(); ++k) {
    const auto of = [&](const EvaluatedSet& e) {
      return k < kinds.size() ? scores_of(e, kinds[k]) : e.reconstruction;
    };
    const ood::NamedScores in_scores{in.name, of(in)};
    std::vector<ood::NamedScores> out_scores;
    for (size_t s = 1; s < evaluated.size(); ++s) out_scores.push_back({evaluated[s].name, of(evaluated[s])});
    const std::string& name = names[k];
    md += "\n### score: " + name +
          (k < kinds.size() ? "" : " (minus the mean squared error of the autoencoder's reconstruction)") +
          "\n\n" + ood::metrics_markdown(ood::evaluate(in_scores, out_scores));
    if (!out.empty()) {
      io::write_file_atomic(out + "/roc_" + name + ".svg",
                            ood::roc_svg(in_scores, out_scores, "ROC, " + name + " score, in: " + in.name));
      io::write_file_atomic(out + "/hist_" + name + ".svg",
                            ood::histogram_svg(in_scores, out_scores, name + " scores", name + " score"));
    }
  }
  if (attack_eps > 0) {
    // Clean in-distribution scores against the OOD images' scores after the attack.
    for (ood::Score kind : kinds) {
      std::vector<ood::NamedScores> out_scores;
      for (size_t s = 1; s < evaluated.size(); ++s) {
        out_scores.push_back(
            {evaluated[s].name,
             adversarial_scores(*sets[s].second, evaluated[s].indices, through ? *through : *model, kind,
                                temperature, attack, attack_runs, mpgd_step, batch,
                                "ood " + evaluated[s].name + " attack")});
        evaluated[s].bounded.emplace_back("adversarial_" + ood::score_name(kind), out_scores.back().scores);
      }
      const std::string head = "\n### adversarial: score " + ood::score_name(kind) +
                               ", OOD images moved within " + attacks::norm_name(attack.norm) +
                               " ε = " + args.get("attack-eps") + " (" +
                               describe_ood_attacks(attack_runs, attack, mpgd_step) + ")\n\n";
      md += head + ood::metrics_markdown(ood::evaluate({in.name, scores_of(in, kind)}, out_scores));
    }
  }
  if (ibp_eps > 0) {
    std::vector<Interval> bounds;  // per OOD set
    for (size_t s = 1; s < evaluated.size(); ++s)
      bounds.push_back(
          logit_bounds(*sets[s].second, evaluated[s].indices, through ? *through : *model, ibp_eps, batch));
    for (ood::Score kind : kinds) {
      std::vector<ood::NamedScores> out_scores;
      for (size_t s = 1; s < evaluated.size(); ++s) {
        out_scores.push_back(
            {evaluated[s].name,
             ood::score_upper_bounds(bounds[s - 1].lower, bounds[s - 1].upper, kind, temperature)});
        evaluated[s].bounded.emplace_back("guaranteed_" + ood::score_name(kind), out_scores.back().scores);
      }
      md += "\n### guaranteed: score " + ood::score_name(kind) +
            ", OOD scores raised to their upper bound within linf ε = " + args.get("ibp-eps") +
            " (interval bound propagation)\n\n" +
            ood::metrics_markdown(ood::evaluate({in.name, scores_of(in, kind)}, out_scores));
    }
  }
  if (sigma > 0) {
    // The in-distribution images' estimated confidence against each OOD image's Hoeffding upper bound, itself
    // and raised to the most any ℓ2 perturbation within r can reach.
    const ood::NamedScores in_scores{in.name, in.smoothed};
    std::vector<ood::NamedScores> out_scores, out_upper;
    for (size_t s = 1; s < evaluated.size(); ++s) {
      ood::NamedScores upper{evaluated[s].name, {}};
      for (double m : evaluated[s].smoothed)
        upper.scores.push_back(ood::hoeffding_interval(m, n_noisy, alpha).upper);
      out_scores.push_back({evaluated[s].name, evaluated[s].smoothed});
      out_upper.push_back(std::move(upper));
    }
    char head[320];
    std::snprintf(head, sizeof head, "\n### smoothed confidence: σ = %g, N = %lld\n\n", sigma,
                  static_cast<long long>(n_noisy));
    md += head + ood::metrics_markdown(ood::evaluate(in_scores, out_scores));
    std::snprintf(
        head, sizeof head,
        "\n### certified: OOD confidences raised to their bound within an l2 ball (σ = %g, N = %lld, "
        "α = %g)\n\n",
        sigma, static_cast<long long>(n_noisy), alpha);
    md += head + ood::certified_markdown(in_scores, out_upper, radii, sigma);
    if (distro_certified) {
      std::vector<std::vector<ood::NamedScores>> outs;
      for (size_t s = 1; s < evaluated.size(); ++s) {
        std::vector<ood::NamedScores> by_radius;
        for (auto& scores :
             ood::distro_certified_scores(evaluated[s].certificates, evaluated[s].logits, radii, temperature))
          by_radius.push_back({evaluated[s].name, std::move(scores)});
        outs.push_back(std::move(by_radius));
      }
      std::snprintf(head, sizeof head,
                    "\n### DISTRO's certified score (σ = %g, N0 = %lld, N = %lld, α = %g): softmax of the "
                    "certified class + √(2/π)·R where r ≤ R, else 0, for every image (DISTRO's code; not a "
                    "bound)\n\n",
                    sigma, static_cast<long long>(n0), static_cast<long long>(n_noisy), alpha);
      md += head +
            ood::radius_scores_markdown(
                ood::distro_certified_scores(in.certificates, in.logits, radii, temperature), outs, radii);
    }
    const double max_radius = *std::max_element(radii.begin(), radii.end());
    if (!out.empty() && max_radius > 0)
      io::write_file_atomic(out + "/certified_auroc.svg",
                            ood::certified_auroc_svg(in_scores, out_upper, max_radius, sigma));
  }
  std::fputs(md.c_str(), stdout);
  if (!out.empty()) {
    io::write_file_atomic(out + "/table.md", md);
    io::write_file_atomic(out + "/scores.tsv", scores_tsv(evaluated, temperature, n_noisy, alpha));
    std::printf("\nwrote %s/table.md, scores.tsv, roc_*.svg, hist_*.svg%s\n", out.c_str(),
                sigma > 0 ? ", certified_auroc.svg" : "");
  }
  return 0;
}

}  // namespace sc::app
