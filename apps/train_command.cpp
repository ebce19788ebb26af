// smoothcuda train DATASET OUTDIR: trains a classifier (from scratch or from a model), with Gaussian noise
// augmentation for randomized smoothing, writing a model file certify can read, the training log and a
// checkpoint after every epoch (--resume continues an interrupted run where it stopped).
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "apps/args.h"
#include "apps/commands.h"
#include "apps/image_selection.h"
#include "apps/model_options.h"
#include "apps/progress.h"
#include "io/dataset.h"
#include "io/file_util.h"
#include "nn/models/model_file.h"
#include "nn/models/random_init.h"
#include "smoothing/results_file.h"
#include "training/checkpoint.h"
#include "training/trainer.h"

namespace sc::app {

namespace {

const char* kLogHeader =
    "epoch\ttime\tlr\ttrain loss\ttrain acc\ttestloss\ttest acc";  // Cohen's train.py log

training::TrainOptions train_options(const Args& args, const Shape& image) {
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
      .option("test", "",
              "the test images (default: DATASET's test split; folder: and npy: need it; none: skip)")
      .option("data-dir", "", "dataset root (default $SMOOTHCUDA_DATA)")
      .option("init", "",
              "start from this model (a model file or PyTorch checkpoint) instead of --arch's "
              "initialization")
      .option("epochs", "90", "passes over the training images")
      .option("batch", "256", "images per SGD step")
      .option("lr", "0.1", "initial learning rate")
      .option("lr-step-size", "30", "epochs between learning-rate drops (StepLR)")
      .option("gamma", "0.1", "learning-rate factor at each drop")
      .option("momentum", "0.9", "SGD momentum")
      .option("weight-decay", "1e-4", "L2 weight decay")
      .flag("nesterov", "Nesterov momentum")
      .option("noise-sd", "0.0",
              "standard deviation of the Gaussian noise added to the [0, 1] training inputs")
      .option("augment", "auto",
              "crop-flip (random crop with zero padding, horizontal flip), none, or auto: "
              "crop-flip for 3x32x32 images")
      .option("crop-padding", "4", "padding of the random crop")
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
      .option("macer-beta", "16", "the inverse temperature of --macer's radius term")
      .option("skip", "1", "train on every skip-th training image")
      .option("max", "-1", "train on the training images with index below max (-1: all)")
      .option("test-skip", "1", "evaluate every test-skip-th test image")
      .option("test-max", "-1", "evaluate the test images with index below test-max (-1: all)")
      .option("seed", "0", "initialization, image order, crops and noise")
      .option("device", "cpu", "cpu, cuda or cuda:K")
      .flag("resume",
            "continue the run in OUTDIR from its checkpoint (the same options; --epochs may be larger)")
      .flag("overwrite", "start over, replacing what OUTDIR holds");
  add_model_options(args);
  if (!args.parse(argc, argv, 2)) return 0;

  const Device device = Device::parse(args.get("device"));
  const std::string dataset = args.get("DATASET");
  auto train_data = io::open_dataset(dataset, {"train", args.get("data-dir")});
  std::unique_ptr<io::Dataset> test_data;
  const std::string test = args.get("test");
  if (test != "none") {
    const bool own_split = dataset.rfind("folder:", 0) != 0 && dataset.rfind("npy:", 0) != 0;
    SC_CHECK(!test.empty() || own_split, "train: ", dataset,
             " has no test split: name the test images with --test "
             "(or --test none)");
    test_data = io::open_dataset(test.empty() ? dataset : test, {"test", args.get("data-dir")});
  }
  const training::TrainOptions options = train_options(args, train_data->image_shape());
  const std::vector<int64_t> train_ids = select_indices(
      train_data->size(), args.get_int("skip", 1, 1LL << 40), args.get_int("max", -1, 1LL << 40));
  std::vector<int64_t> test_ids;
  if (test_data)
    test_ids = select_indices(test_data->size(), args.get_int("test-skip", 1, 1LL << 40),
                              args.get_int("test-max", -1, 1LL << 40));
  SC_CHECK(!train_ids.empty(), "train: no training images selected");
  SC_CHECK(!test_data || !test_ids.empty(), "train: no test images selected");

  const std::filesystem::path out(args.get("OUTDIR"));
  std::filesystem::create_directories(out);
  const std::string checkpoint_path = (out / "checkpoint.safetensors").string();
  const std::string model_path = (out / "model.safetensors").string(), log_path = (out / "log.tsv").string();
  std::unique_ptr<Classifier> model;
  training::Sgd sgd(options.sgd);
  int64_t start = 0;
  std::string log;
  if (args.has_flag("resume")) {
    SC_CHECK(std::filesystem::exists(checkpoint_path), "train: --resume: ", checkpoint_path,
             " does not exist");
    training::TrainingCheckpoint c = training::load_checkpoint(checkpoint_path, device);
    SC_CHECK(c.options == options.describe(), "train: --resume: the checkpoint was made with options '",
             c.options, "', this run asks for '", options.describe(), "'");
    SC_CHECK(c.epochs_done <= options.epochs, "train: --resume: the checkpoint has ", c.epochs_done,
             " epochs done, more than --epochs ", options.epochs);
    model = std::move(c.model);
    sgd.load_state(c.momentum, *model);
    start = c.epochs_done, log = c.log;
    std::fprintf(stderr, "train: resuming after epoch %lld of %lld\n", static_cast<long long>(start),
                 static_cast<long long>(options.epochs));
  } else {
    for (const std::string& p : {checkpoint_path, model_path, log_path})
      SC_CHECK(!std::filesystem::exists(p) || args.has_flag("overwrite"), "train: ", p,
               " exists (--resume continues that run, --overwrite starts over)");
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
  SC_CHECK(model->spec.num_classes >= train_data->num_classes(), "train: ", train_data->name(), " has ",
           train_data->num_classes(), " classes but the model ", model->spec.num_classes);
  const Shape want{model->spec.channels, model->spec.height, model->spec.width};
  SC_CHECK(train_data->image_shape() == want, "train: the images of ", train_data->name(), " are ",
           shape_str(train_data->image_shape()), " but the model expects ", shape_str(want));
  SC_CHECK(!test_data || test_data->image_shape() == want, "train: the test images of ", test_data->name(),
           " are ", shape_str(test_data->image_shape()), " but the model expects ", shape_str(want));
  std::fprintf(stderr, "train: %s (%lld parameters) on %s, %zu training images, %zu test images; %s\n",
               model->spec.arch.c_str(), static_cast<long long>(model->parameter_count()),
               device.str().c_str(), train_ids.size(), test_ids.size(), options.describe().c_str());
  io::write_file_atomic(log_path, std::string(kLogHeader) + "\n" + log);
  std::printf("%s\n%s", kLogHeader, log.c_str());
  for (int64_t epoch = start; epoch < options.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    Progress bar("epoch " + std::to_string(epoch), static_cast<int64_t>(train_ids.size()));
    const training::LossAccuracy train =
        training::train_epoch(*model, sgd, *train_data, train_ids, options, epoch,
                              [&](int64_t done, int64_t) { bar.update(done); });
    bar.finish();
    training::LossAccuracy tested;
    if (test_data) tested = training::evaluate(*model, *test_data, test_ids, options, epoch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double lr = training::step_learning_rate(options.sgd.lr, options.gamma, options.lr_step, epoch);
    const std::string row = log_row(epoch, seconds, lr, train, test_data ? &tested : nullptr);
    log += row + "\n";
    // The checkpoint first: it holds the log, so a run stopped between the writes loses nothing.
    training::save_checkpoint(checkpoint_path, *model, sgd, epoch + 1, options.describe(), log);
    save_model(model_path, *model,
               {{"train.epochs_done", std::to_string(epoch + 1)},
                {"train.options", options.describe()},
                {"train.dataset", train_data->name()}});
    io::write_file_atomic(log_path, std::string(kLogHeader) + "\n" + log);
    std::printf("%s\n", row.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace sc::app
