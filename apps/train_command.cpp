// smoothcuda train DATASET OUTDIR: trains a classifier (from scratch or from a model), with Gaussian noise
// augmentation for randomized smoothing, writing a model file certify can read, the training log and a
// checkpoint after every epoch (--resume continues an interrupted run where it stopped).
// smoothcuda train-denoiser DATASET OUTDIR: the same for a denoiser (Salman et al.'s denoised smoothing).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/image_selection.h"
#include "apps/model_options.h"
#include "apps/progress.h"
#include "io/dataset.h"
#include "io/dataset_presets.h"
#include "io/file_util.h"
#include "nn/models/denoisers.h"
#include "nn/models/model_file.h"
#include "nn/models/random_init.h"
#include "nn/state_dict.h"
#include "smoothing/results_file.h"
#include "training/checkpoint.h"
#include "training/denoiser_training.h"
#include "training/trainer.h"

namespace sc::app {

namespace {

const char* kLogHeader =
    "epoch\ttime\tlr\ttrain loss\ttrain acc\ttestloss\ttest acc";  // Cohen's train.py log

// The options both commands take (add_run_options): epochs, batch, the SGD step and its schedule, noise,
// crops and flips, seed.
training::TrainOptions schedule_options(const Args& args, const Shape& image) {
  training::TrainOptions o;
  o.epochs = args.get_int("epochs", 1, 1 << 20);
  o.batch = args.get_int("batch", 2, 1 << 20);
  o.sgd.lr = args.get_double("lr", 0, 1e6);
  o.sgd.momentum = args.get_double("momentum", 0, 0.999999);
  o.sgd.weight_decay = args.get_double("weight-decay", 0, 1e6);
  o.sgd.nesterov = args.has_flag("nesterov");
  o.lr_step = args.get_int("lr-step-size", 1, 1 << 20);
  o.gamma = args.get_double("gamma", 1e-12, 1e6);
  o.noise_sd = args.get_double("noise-sd", 0, 1e6);
  o.seed = static_cast<uint64_t>(args.get_int("seed", 0, 1LL << 62));
  const std::string augment = args.get("augment");
  SC_CHECK(augment == "auto" || augment == "crop-flip" || augment == "none",
           "train: --augment must be auto, crop-flip or none, got '", augment, "'");
  // auto: the CIFAR scripts' random crop (padding 4) and flip for 3×32×32 images, nothing for others.
  const bool crop_flip = augment == "crop-flip" || (augment == "auto" && image == Shape{3, 32, 32});
  o.crop_pad = crop_flip ? args.get_int("crop-padding", 0, 1024) : 0;
  o.flip = crop_flip;
  return o;
}

training::TrainOptions train_options(const Args& args, const Shape& image) {
  training::TrainOptions o = schedule_options(args, image);
  const std::string attack = args.get("adversarial");
  SC_CHECK(attack.empty() || attack == "fgsm" || attack == "pgd" || attack == "smoothadv",
           "train: --adversarial must be fgsm, pgd or smoothadv, got '", attack, "'");
  if (attack == "smoothadv") {
    o.adversarial = training::TrainOptions::Adversarial::SmoothAdv;
    o.smoothadv.eps = args.get_fraction("attack-eps", 0, 1e6);
    o.smoothadv.steps = static_cast<int>(args.get_int("attack-steps", 1, 1 << 20));
    // With --consistency the term needs two copies at least: Jeong & Shin's default m then.
    o.smoothadv.m = args.get_double("consistency", 0, 1e6) > 0 ? 2 : 1;
    if (!args.get("m").empty()) o.smoothadv.m = args.get_int("m", 1, 1 << 16);
    o.smoothadv_warmup = args.get_int("attack-warmup", 0, 1 << 20);
    const std::string method = args.get("smoothadv-method");
    SC_CHECK(method == "pgd" || method == "ddn", "train: --smoothadv-method must be pgd or ddn, got '",
             method, "'");
    if (method == "ddn") o.smoothadv.method = attacks::SmoothAdvOptions::Method::Ddn;
  } else if (!attack.empty()) {
    o.adversarial = training::TrainOptions::Adversarial::Pgd;
    const attacks::Norm norm = attacks::parse_norm(args.get("attack-norm"));
    const double eps = args.get_fraction("attack-eps", 0, 1e6);
    if (attack == "fgsm") {
      o.attack = attacks::fgsm_options(norm, eps);
    } else {
      o.attack.norm = norm, o.attack.eps = eps;
      o.attack.steps = static_cast<int>(args.get_int("attack-steps", 1, 1 << 20));
      o.attack.step_size =
          args.get("attack-step-size").empty() ? eps / 4 : args.get_fraction("attack-step-size", 0, 1e6);
    }
    o.attack.stop_at_success = false;
  }
  o.smoothadv_first_copy = args.has_flag("smoothadv-first-copy");
  o.ibp_eps = args.get_fraction("ibp-eps", 0, 1e6);
  o.ibp_weight = args.get_double("ibp-weight", 0, 1e6);
  o.ibp_warmup = args.get_double("ibp-warmup", 0, 1e6);
  o.consistency_lambda = args.get_double("consistency", 0, 1e6);
  o.consistency_eta = args.get_double("consistency-eta", 0, 1e6);
  o.macer_lambda = args.get_double("macer", 0, 1e6);
  o.macer_gamma = args.get_double("macer-gamma", 1e-12, 1e6);
  o.macer_beta = args.get_double("macer-beta", 1e-12, 1e6);
  if (!args.get("m").empty()) o.copies = args.get_int("m", 1, 1 << 16);
  o.check();
  return o;
}

std::string log_row(int64_t epoch, double seconds, double lr, const training::LossAccuracy& train,
                    const training::LossAccuracy* test) {
  std::string row = std::to_string(epoch) + "\t" + format_3g(seconds) + "\t" + format_3g(lr) + "\t" +
                    format_3g(train.loss) + "\t" + format_3g(train.accuracy);
  row += test ? "\t" + format_3g(test->loss) + "\t" + format_3g(test->accuracy) : "\t-\t-";
  return row;
}

// The options of both commands that are not about the method: data, schedule, noise, output.
void add_run_options(Args& args, const char* lr_default) {
  args.option("test", "",
              "the test images (default: DATASET's test split; folder: and npy: need it; none: skip)")
      .option("data-dir", "", "dataset root (default $SMOOTHCUDA_DATA)")
      .option("epochs", "90", "passes over the training images")
      .option("batch", "256", "images per step")
      .option("lr", lr_default, "initial learning rate")
      .option("lr-step-size", "30", "epochs between learning-rate drops (StepLR)")
      .option("gamma", "0.1", "learning-rate factor at each drop")
      .option("momentum", "0.9", "SGD momentum (train-denoiser's Adam takes --beta1)")
      .option("weight-decay", "1e-4", "L2 weight decay")
      .flag("nesterov", "Nesterov momentum")
      .option("noise-sd", "0.0",
              "standard deviation of the Gaussian noise added to the [0, 1] training inputs")
      .option(
          "augment", "auto",
          "crop-flip (random crop with zero padding, horizontal flip), none, or auto: crop-flip for 3x32x32 "
          "images")
      .option("crop-padding", "4", "padding of the random crop")
      .option("skip", "1", "train on every skip-th training image")
      .option("max", "-1", "train on the training images with index below max (-1: all)")
      .option("test-skip", "1", "evaluate every test-skip-th test image")
      .option("test-max", "-1", "evaluate the test images with index below test-max (-1: all)")
      .option("seed", "0", "initialization, image order, crops and noise")
      .option("device", "cpu", "cpu, cuda or cuda:K")
      .flag("resume",
            "continue the run in OUTDIR from its checkpoint (the same options; --epochs may be larger)")
      .flag("overwrite", "start over, replacing what OUTDIR holds");
}

// The training and test images the options select.
struct RunData {
  std::unique_ptr<io::Dataset> train, test;  // test null with --test none
  std::vector<int64_t> train_ids, test_ids;
};

RunData open_run_data(const Args& args, const std::string& command) {
  RunData d;
  const std::string dataset = args.get("DATASET"), test = args.get("test");
  d.train = io::open_dataset(dataset, {"train", args.get("data-dir")});
  if (test != "none") {
    const bool own_split = dataset.rfind("folder:", 0) != 0 && dataset.rfind("npy:", 0) != 0;
    SC_CHECK(!test.empty() || own_split, command, ": ", dataset,
             " has no test split: name the test images with --test (or --test none)");
    d.test = io::open_dataset(test.empty() ? dataset : test, {"test", args.get("data-dir")});
  }
  d.train_ids = select_indices(d.train->size(), parse_selection(args));
  if (d.test) d.test_ids = select_indices(d.test->size(), parse_selection(args, "test-"));
  SC_CHECK(!d.train_ids.empty(), command, ": no training images selected");
  SC_CHECK(!d.test || !d.test_ids.empty(), command, ": no test images selected");
  return d;
}

// OUTDIR's files, and the checkpoint to resume from (--resume; checked against this run's options).
struct RunFiles {
  std::string checkpoint, model, log;
  std::optional<training::TrainingCheckpoint> resumed;
};

RunFiles open_run_files(const Args& args, const std::string& command, const std::string& options,
                        int64_t epochs, Device device) {
  const std::filesystem::path out(args.get("OUTDIR"));
  std::filesystem::create_directories(out);
  RunFiles f{(out / "checkpoint.safetensors").string(), (out / "model.safetensors").string(),
             (out / "log.tsv").string(), std::nullopt};
  if (!args.has_flag("resume")) {
    for (const std::string& p : {f.checkpoint, f.model, f.log})
      SC_CHECK(!std::filesystem::exists(p) || args.has_flag("overwrite"), command, ": ", p,
               " exists (--resume continues that run, --overwrite starts over)");
    return f;
  }
  SC_CHECK(std::filesystem::exists(f.checkpoint), command, ": --resume: ", f.checkpoint, " does not exist");
  f.resumed = training::load_checkpoint(f.checkpoint, device);
  SC_CHECK(f.resumed->options == options, command, ": --resume: the checkpoint was made with options '",
           f.resumed->options, "', this run asks for '", options, "'");
  SC_CHECK(f.resumed->epochs_done <= epochs, command, ": --resume: the checkpoint has ",
           f.resumed->epochs_done, " epochs done, more than --epochs ", epochs);
  std::fprintf(stderr, "%s: resuming after epoch %lld of %lld\n", command.c_str(),
               static_cast<long long>(f.resumed->epochs_done), static_cast<long long>(epochs));
  return f;
}

void check_image_shape(const RunData& d, const Classifier& model, const std::string& command) {
  const Shape want{model.spec.channels, model.spec.height, model.spec.width};
  SC_CHECK(d.train->image_shape() == want, command, ": the images of ", d.train->name(), " are ",
           shape_str(d.train->image_shape()), " but the model expects ", shape_str(want));
  SC_CHECK(!d.test || d.test->image_shape() == want, command, ": the test images of ", d.test->name(),
           " are ", shape_str(d.test->image_shape()), " but the model expects ", shape_str(want));
}

// Epochs from the checkpoint's (or 0) to --epochs: `epoch_row` trains and evaluates one and returns its log
// row; after each, the checkpoint (first: it holds the log, so a run stopped between the writes loses
// nothing), the model file and the log.
void run_epochs(const RunFiles& files, const std::string& header, Classifier& model,
                const training::Optimizer& optimizer, const std::string& options, int64_t epochs,
                const std::map<std::string, std::string>& model_metadata,
                const std::function<std::string(int64_t)>& epoch_row) {
  std::string log = files.resumed ? files.resumed->log : "";
  io::write_file_atomic(files.log, header + "\n" + log);
  std::printf("%s\n%s", header.c_str(), log.c_str());
  for (int64_t epoch = files.resumed ? files.resumed->epochs_done : 0; epoch < epochs; ++epoch) {
    const std::string row = epoch_row(epoch);
    log += row + "\n";
    training::save_checkpoint(files.checkpoint, model, optimizer, epoch + 1, options, log);
    auto metadata = model_metadata;
    metadata["train.epochs_done"] = std::to_string(epoch + 1);
    metadata["train.options"] = options;
    save_model(files.model, model, metadata);
    io::write_file_atomic(files.log, header + "\n" + log);
    std::printf("%s\n", row.c_str());
    std::fflush(stdout);
  }
}

void require_denoiser(const std::string& arch) {
  SC_CHECK(
      is_denoiser_arch(arch), "train-denoiser: ", arch,
      " is not a denoiser (dncnn, cifar_dncnn, cifar_dncnn_wide, imagenet_dncnn, memnet, imagenet_memnet, "
      "conv_autoencoder); "
      "train classifiers with "
      "`smoothcuda train`");
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int train_command(int argc, char** argv) {
  Args args(
      "train",
      "Trains a classifier with SGD on DATASET (Gaussian noise augmentation for randomized smoothing with "
      "--noise-sd) and writes OUTDIR/model.safetensors, OUTDIR/log.tsv and OUTDIR/checkpoint.safetensors "
      "after every epoch.");
  args.positional("DATASET",
                  "the training images: cifar10, cifar100, mnist, fashion-mnist, folder:PATH, npy:..., "
                  "fake:N:C:H:W, or inout:IN+OUT to train a binary detector for `ood --detector` (IN's "
                  "images class 1, OUT's class 0) (read with --split train)")
      .positional("OUTDIR", "output folder")
      .option("init", "",
              "start from this model (a model file or PyTorch checkpoint) instead of --arch's "
              "initialization")
      .option(
          "adversarial", "",
          "adversarial training: each batch replaced by fgsm or pgd examples (Madry et al.), or smoothadv "
          "(Salman et al.: l2 attack on the smoothed classifier, training on its noisy copies; needs "
          "--noise-sd)")
      .option("m", "",
              "noise draws per image, the batch holding m copies of each: smoothadv (default 1, or 2 with "
              "--consistency), --consistency (default 2) and --macer (default 16)")
      .option("attack-norm", "linf", "fgsm/pgd training's ball: linf or l2 (smoothadv: l2)")
      .option("attack-eps", "8/255", "its radius (a number or a fraction)")
      .option("attack-steps", "7", "pgd steps")
      .option("attack-step-size", "", "pgd step (default eps/4)")
      .option("smoothadv-method", "pgd",
              "smoothadv's attack: pgd (--attack-steps steps of 2·eps/steps) or ddn (Salman et al.'s "
              "SmoothAdv_DDN, their default: DDN's walk from a budget of eps)")
      .flag("smoothadv-first-copy",
            "smoothadv: train on the first noisy copy of each adversarial image only (Salman et al.'s "
            "default; without it, on all m, their --train-multi-noise); the attack still uses all m")
      .option("attack-warmup", "0",
              "smoothadv: epoch e attacks within min(eps, (e + 1)·eps/E) (Salman et al.'s warm-up; Jeong & "
              "Shin use 10)")
      .option("ibp-eps", "0",
              "with ε > 0, a detector (2 classes, as from an inout: set) learns ProoD's guarantee: each "
              "class-0 (out) image adds --ibp-weight × the cross-entropy of its worst-case logits over its "
              "linf ball of radius ε, from interval bound propagation (a number or a fraction)")
      .option("ibp-weight", "1", "the weight of that worst-case term (ProoD's kappa)")
      .option("ibp-warmup", "0", "epochs over which ε grows linearly from 0 to --ibp-eps")
      .option("consistency", "0",
              "with λ > 0, consistency regularization (Jeong & Shin 2020): m noisy copies of each image "
              "(--noise-sd), and the loss adds λ × the mean KL divergence from their mean prediction to each "
              "copy's + eta × that mean's entropy (Jeong & Shin: λ = 10 or 20, m = 2); with --adversarial "
              "smoothadv, over the noisy copies of each adversarial image")
      .option("consistency-eta", "0.5", "the weight of the entropy term of --consistency")
      .option(
          "macer", "0",
          "with λ > 0, MACER (Zhai et al. 2020): m noisy copies of each image (--noise-sd), and the loss is "
          "the cross-entropy of their mean softmax + λ × a hinge on the smoothed classifier's certified "
          "radius (Zhai et al. on CIFAR-10: λ = 12 at σ = 0.25 and 0.5, 4 at σ = 1; m = 16; from scratch a "
          "large λ can collapse a small network onto one class: fine-tune a noise-trained one with --init)")
      .option("macer-gamma", "8", "the hinge of --macer: Φ⁻¹ gaps beyond gamma no longer count")
      .option("macer-beta", "16", "the inverse temperature of --macer's radius term");
  add_run_options(args, "0.1");
  add_model_options(args);
  if (!args.parse(argc, argv, 2)) return 0;

  const Device device = Device::parse(args.get("device"));
  const std::string dataset = args.get("DATASET");
  RunData data = open_run_data(args, "train");
  const training::TrainOptions options = train_options(args, data.train->image_shape());
  RunFiles files = open_run_files(args, "train", options.describe(), options.epochs, device);
  std::unique_ptr<Classifier> model;
  training::Sgd sgd(options.sgd);
  if (files.resumed) {
    model = std::move(files.resumed->model);
    sgd.load_state(files.resumed->optimizer_state, *model);
  } else {
    // A detector trained on inout:IN+OUT takes IN's preset (shape, normalization) and two classes.
    const bool detector = dataset.rfind("inout:", 0) == 0;
    ConvertOptions mo = model_options(args, detector ? dataset.substr(6, dataset.find('+') - 6) : dataset);
    if (detector && mo.num_classes < 0) mo.num_classes = 2;
    if (!args.get("init").empty()) {
      model = load_any_model(args.get("init"), Device::cpu(), mo);
    } else {
      SC_CHECK(!mo.arch.empty(), "train: give --arch (", "see `smoothcuda info`) or --init MODEL");
      model = build_model(make_spec(mo.arch, mo, "train"));
      initialize_for_training(*model, options.seed);
    }
    model->to(device);
  }
  SC_CHECK(!is_denoiser_arch(model->spec.arch), "train: ", model->spec.arch,
           " is a denoiser; train it with `smoothcuda train-denoiser`");
  SC_CHECK(model->spec.num_classes >= data.train->num_classes(), "train: ", data.train->name(), " has ",
           data.train->num_classes(), " classes but the model ", model->spec.num_classes);
  check_image_shape(data, *model, "train");
  std::fprintf(stderr, "train: %s (%lld parameters) on %s, %zu training images, %zu test images; %s\n",
               model->spec.arch.c_str(), static_cast<long long>(model->parameter_count()),
               device.str().c_str(), data.train_ids.size(), data.test_ids.size(), options.describe().c_str());
  run_epochs(files, kLogHeader, *model, sgd, options.describe(), options.epochs,
             {{"train.dataset", data.train->name()}}, [&](int64_t epoch) {
               const auto t0 = std::chrono::steady_clock::now();
               Progress bar("epoch " + std::to_string(epoch), static_cast<int64_t>(data.train_ids.size()));
               const training::LossAccuracy train =
                   training::train_epoch(*model, sgd, *data.train, data.train_ids, options, epoch,
                                         [&](int64_t done, int64_t) { bar.update(done); });
               bar.finish();
               training::LossAccuracy tested;
               if (data.test) tested = training::evaluate(*model, *data.test, data.test_ids, options, epoch);
               const double lr =
                   training::step_learning_rate(options.sgd.lr, options.gamma, options.lr_step, epoch);
               return log_row(epoch, seconds_since(t0), lr, train, data.test ? &tested : nullptr);
             });
  return 0;
}

int train_denoiser_command(int argc, char** argv) {
  Args args(
      "train-denoiser",
      "Trains a denoiser for denoised smoothing (Salman et al. 2020, train_denoiser.py) on DATASET + "
      "N(0, noise-sd²): --objective denoising (mean squared error to the clean image), classification "
      "(a frozen classifier's cross-entropy on the denoised image against the label) or stability "
      "(against the classifier's prediction on the clean image). With --arch conv_autoencoder and "
      "--noise-sd 0 it trains the OOD lab's autoencoder (ood --autoencoder). Writes "
      "OUTDIR/model.safetensors (for certify --denoiser), OUTDIR/log.tsv and OUTDIR/checkpoint.safetensors "
      "after every epoch.");
  args.positional("DATASET",
                  "the training images: cifar10, cifar100, mnist, fashion-mnist, folder:PATH, npy:..., "
                  "fake:N:C:H:W (read with --split train)")
      .positional("OUTDIR", "output folder")
      .option(
          "init", "",
          "start from this denoiser (a model file, or a checkpoint naming its arch such as Salman et al.'s) "
          "instead of --arch's initialization: the classifier objectives start from a denoising one")
      .option("objective", "denoising", "denoising, classification or stability")
      .option(
          "classifier", "",
          "the classifier the classification and stability objectives train through (a model file or a "
          "checkpoint naming its arch; not trained); several, A,B,...: they take turns, one per batch, as "
          "Salman et al. train through surrogate models")
      .option("test-classifier", "", "the classifier of the test column (default: the first of --classifier)")
      .option("depth", "", "the DnCNN's layers (default 17, Salman et al.'s)")
      .option("width", "",
              "the DnCNN's or MemNet's channels (default 64; cifar_dncnn_wide 128), conv_autoencoder's first "
              "(default 32)")
      .option("memory-blocks", "", "MemNet's memory blocks (default 3, Salman et al.'s)")
      .option("residual-blocks", "", "MemNet's residual blocks per memory block (default 6)")
      .option("optimizer", "adam", "adam (Salman et al.'s) or sgd")
      .option("beta1", "0.9", "Adam's first-moment decay")
      .option("beta2", "0.999", "Adam's second-moment decay")
      .option("adam-eps", "1e-8", "Adam's eps");
  add_run_options(args, "1e-3");
  add_model_options(args);
  if (!args.parse(argc, argv, 2)) return 0;

  const Device device = Device::parse(args.get("device"));
  RunData data = open_run_data(args, "train-denoiser");
  training::DenoiserTrainOptions options;
  options.schedule = schedule_options(args, data.train->image_shape());
  options.objective = training::parse_objective(args.get("objective"));
  const std::string optimizer_name = args.get("optimizer");
  SC_CHECK(optimizer_name == "adam" || optimizer_name == "sgd",
           "train-denoiser: --optimizer must be adam or sgd, got '", optimizer_name, "'");
  options.adam = optimizer_name == "adam";
  options.adam_params.beta1 = args.get_double("beta1", 0, 0.999999999);
  options.adam_params.beta2 = args.get_double("beta2", 0, 0.999999999);
  options.adam_params.eps = args.get_double("adam-eps", 1e-300, 1);
  options.check();
  // The classifiers to train through (several take turns per batch) and the one the test column uses.
  ConvertOptions co;
  if (io::dataset_preset(args.get("DATASET"))) co.dataset = args.get("DATASET");
  auto load = [&](const std::string& path, const char* option) {
    auto c = load_any_model(path, device, co);
    SC_CHECK(!is_denoiser_arch(c->spec.arch), "train-denoiser: --", option, " ", path, " is a denoiser");
    return c;
  };
  std::vector<std::unique_ptr<Classifier>> owned;
  std::vector<Classifier*> classifiers;
  for (const std::string& path :
       args.get("classifier").empty() ? std::vector<std::string>{} : split_commas(args.get("classifier"))) {
    SC_CHECK(!path.empty(), "train-denoiser: --classifier '", args.get("classifier"), "' has an empty item");
    owned.push_back(load(path, "classifier"));
    classifiers.push_back(owned.back().get());
  }
  Classifier* test_classifier = classifiers.empty() ? nullptr : classifiers[0];
  if (!args.get("test-classifier").empty()) {
    owned.push_back(load(args.get("test-classifier"), "test-classifier"));
    test_classifier = owned.back().get();
  }
  SC_CHECK(
      options.objective != training::DenoiserTrainOptions::Objective::Denoising || owned.empty(),
      "train-denoiser: the denoising objective uses no classifier; --classifier goes with classification "
      "or stability");
  // A resumed run continues with the classifiers it started with: their weights are part of the options.
  std::string described = options.describe();
  const auto named = [](Classifier& c) { return c.spec.arch + "@" + state_fingerprint(c); };
  for (size_t i = 0; i < classifiers.size(); ++i)
    described += (i == 0 ? " classifiers=" : ",") + named(*classifiers[i]);
  if (!args.get("test-classifier").empty()) described += " test_classifier=" + named(*test_classifier);
  RunFiles files = open_run_files(args, "train-denoiser", described, options.schedule.epochs, device);
  std::unique_ptr<Classifier> denoiser;
  std::unique_ptr<training::Optimizer> optimizer = training::make_optimizer(options);
  if (files.resumed) {
    denoiser = std::move(files.resumed->model);
    optimizer->load_state(files.resumed->optimizer_state, *denoiser);
  } else {
    ConvertOptions mo = model_options(args, args.get("DATASET"));
    for (const std::string flag : {"depth", "width", "memory-blocks", "residual-blocks"}) {
      std::string key = flag;  // the model flag: memory_blocks, residual_blocks
      std::replace(key.begin(), key.end(), '-', '_');
      if (!args.get(flag).empty()) mo.flags[key] = std::to_string(args.get_int(flag, 1, 4096));
    }
    if (!args.get("init").empty()) {
      denoiser = load_any_model(args.get("init"), Device::cpu(), mo);
    } else {
      SC_CHECK(!mo.arch.empty(),
               "train-denoiser: give --arch (dncnn, cifar_dncnn, cifar_dncnn_wide, "
               "imagenet_dncnn, memnet, imagenet_memnet, conv_autoencoder) or --init DENOISER");
      require_denoiser(mo.arch);
      denoiser = build_model(make_spec(mo.arch, mo, "train-denoiser"));
      initialize_denoiser_for_training(*denoiser, options.schedule.seed);
    }
    denoiser->to(device);
  }
  require_denoiser(denoiser->spec.arch);
  SC_CHECK(
      options.schedule.noise_sd > 0 || denoiser->spec.arch == "conv_autoencoder", "train-denoiser: a ",
      denoiser->spec.arch,
      " learns to remove noise: give --noise-sd (only conv_autoencoder trains without it, to reconstruct)");
  check_image_shape(data, *denoiser, "train-denoiser");
  std::fprintf(stderr,
               "train-denoiser: %s (%lld parameters) on %s, %zu training images, %zu test images; %s\n",
               denoiser->spec.arch.c_str(), static_cast<long long>(denoiser->parameter_count()),
               device.str().c_str(), data.train_ids.size(), data.test_ids.size(), described.c_str());
  auto three = [](double v) { return v < 0 ? std::string("NA") : format_3g(v); };
  // Salman et al.'s log: testAcc NA for the denoising objective.
  run_epochs(files, "epoch\ttime\tlr\ttrainloss\ttestloss\ttestAcc", *denoiser, *optimizer, described,
             options.schedule.epochs,
             {{"train.dataset", data.train->name()},
              {"denoiser.noise_sd", format_3g(options.schedule.noise_sd)},
              {"denoiser.objective", training::objective_name(options.objective)}},
             [&](int64_t epoch) {
               const auto t0 = std::chrono::steady_clock::now();
               Progress bar("epoch " + std::to_string(epoch), static_cast<int64_t>(data.train_ids.size()));
               const training::DenoiserLoss train = training::train_denoiser_epoch(
                   *denoiser, *optimizer, classifiers, *data.train, data.train_ids, options, epoch,
                   [&](int64_t done, int64_t) { bar.update(done); });
               bar.finish();
               std::string tested = "-\t-";
               if (data.test) {
                 const training::DenoiserLoss t = training::evaluate_denoiser(
                     *denoiser, test_classifier, *data.test, data.test_ids, options, epoch);
                 tested = three(t.loss) + "\t" + three(t.accuracy);
               }
               const training::TrainOptions& o = options.schedule;
               return std::to_string(epoch) + "\t" + format_3g(seconds_since(t0)) + "\t" +
                      format_3g(training::step_learning_rate(o.sgd.lr, o.gamma, o.lr_step, epoch)) + "\t" +
                      three(train.loss) + "\t" + tested;
             });
  return 0;
}

}  // namespace sc::app
