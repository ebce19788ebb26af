// The smoothcuda command line as users run it: certify/predict output, --resume after an interruption, refusal to
// overwrite results, analyze/visualize outputs, convert + eval, and one-line errors with a non-zero exit code.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include "attacks/loss_gradient.h"
#include "engine/fast_classifier.h"
#include "io/dataset.h"
#include "io/file_util.h"
#include "io/image.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "kernels/argmax.h"
#include "nn/models/denoisers.h"
#include "nn/models/model_file.h"
#include "nn/models/random_init.h"
#include "nn/state_dict.h"
#include "ood/certified_confidence.h"
#include "ood/distro_certified.h"
#include "ood/metrics.h"
#include "ood/scores.h"
#include "smoothing/noise.h"
#include "test_util.h"
#include "weights_tools/convert.h"

namespace sc::test {
namespace {

struct CliRun {
  int code;
  std::string out, err;
};

CliRun smoothcuda(const std::string& args) {
  const std::string out = temp_path("cli_stdout.txt"), err = temp_path("cli_stderr.txt");
  const std::string cmd = std::string(SC_BINARY_DIR) + "/smoothcuda " + args + " >" + out + " 2>" + err;
  const int status = std::system(cmd.c_str());
  return {WEXITSTATUS(status), io::read_file(out), io::read_file(err)};
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> v;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) v.push_back(l);
  return v;
}

std::string without_time(const std::string& row) { return row.substr(0, row.rfind('\t')); }

// The narrow improved-diffusion fixture (iddpm_narrow.pt) converted to a diffusion model file named `name`.
std::string narrow_unet(const std::string& name) {
  const std::string unet = temp_path(name);
  const CliRun r =
      smoothcuda("convert " + fixture_dir() + "/checkpoints/iddpm_narrow.pt " + unet +
                 " --arch iddpm_unet --image_size 32 --num_channels 32 --num_res_blocks 1 --num_heads 2 "
                 "--learn_sigma True --dropout 0.3 --diffusion_steps 4000 --noise_schedule cosine");
  EXPECT_EQ(r.code, 0) << r.err;
  return unet;
}

const std::string kCertify = "certify fake:40:1:28:28 " + fixture_dir() + "/models/lenet_28.safetensors 0.5 ";
const std::string kOptions = " --N0 50 --N 500 --batch 128 --skip 3 --seed 4";

// --batch auto picks the batch (on the CPU Cohen's 1000: nothing to fill) and, batches being invisible in
// the results, gives the rows of any other batch size.
TEST(Cli, BatchAutoGivesTheSameRows) {
  const std::string fixed = temp_path("b128.tsv"), chosen = temp_path("bauto.tsv");
  ASSERT_EQ(smoothcuda(kCertify + fixed + kOptions + " --max 9").code, 0);
  CliRun r = smoothcuda(kCertify + chosen + " --N0 50 --N 500 --batch auto --skip 3 --seed 4 --max 9");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("--batch auto: 1000 noisy samples"), std::string::npos) << r.err;
  const auto a = lines(io::read_file(fixed)), b = lines(io::read_file(chosen));
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(without_time(b[i]), without_time(a[i])) << "row " << i;
  r = smoothcuda(kCertify + temp_path("bad.tsv") + " --batch lots");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--batch: expected a number of noisy samples or auto, got 'lots'"), std::string::npos)
      << r.err;
}

TEST(Cli, CertifyResumesAfterAnInterruptionWithIdenticalRows) {
  const std::string full = temp_path("full.tsv"), part = temp_path("part.tsv");
  // Cohen's semantics: indices i with i % skip == 0, stopping when i == max (so 0, 3, ..., 27 here).
  CliRun r = smoothcuda(kCertify + full + kOptions + " --max 30");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto a = lines(io::read_file(full));
  ASSERT_EQ(a.size(), 11u);
  EXPECT_EQ(a[0], "idx\tlabel\tpredict\tradius\tcorrect\ttime");
  EXPECT_EQ(a[10].substr(0, 3), "27\t");
  // A max that skip does not divide would never stop that loop: refused, before the output is created.
  r = smoothcuda(kCertify + temp_path("max.tsv") + kOptions + " --max 10");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--max 10 is not a multiple of --skip 3"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("e.g. 12"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(temp_path("max.tsv")));

  // Interrupted after index 9 (4 rows), in the middle of writing the next row.
  ASSERT_EQ(smoothcuda(kCertify + part + kOptions + " --max 12").code, 0);
  { std::ofstream(part, std::ios::app) << "15\t3\t3\t0.2"; }
  // Without --resume the results are not overwritten.
  r = smoothcuda(kCertify + part + kOptions + " --max 30");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--resume"), std::string::npos) << r.err;
  EXPECT_NE(io::read_file(part).find("15\t3\t3\t0.2"), std::string::npos) << "file was touched";

  r = smoothcuda(kCertify + part + kOptions + " --max 30 --resume");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("4 rows kept"), std::string::npos) << r.err;
  const auto b = lines(io::read_file(part));
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(without_time(b[i]), without_time(a[i])) << "row " << i;

  // Resuming a finished run changes nothing; resuming into a predict file is refused.
  ASSERT_EQ(smoothcuda(kCertify + part + kOptions + " --max 30 --resume").code, 0);
  EXPECT_EQ(lines(io::read_file(part)).size(), a.size());
  const std::string pred = temp_path("pred.tsv");
  ASSERT_EQ(smoothcuda("predict fake:40:1:28:28 " + fixture_dir() + "/models/lenet_28.safetensors 0.5 " + pred +
                       " --N 300 --skip 5 --alpha 0.01").code,
            0);
  const auto p = lines(io::read_file(pred));
  ASSERT_EQ(p.size(), 9u);
  EXPECT_EQ(p[0], "idx\tlabel\tpredict\tcorrect\ttime");
  r = smoothcuda(kCertify + pred + kOptions + " --resume");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("header"), std::string::npos) << r.err;
}

// --shard K/N certifies every N-th selected image from the K-th: the parts, merged, are the rows of one run
// (the noise depends on the seed and the image alone), an interrupted part resumes, and analyze reads the
// merged file.
TEST(Cli, ShardedCertificationMergesIntoTheRowsOfOneRun) {
  const std::string full = temp_path("whole.tsv"), merged = temp_path("merged.tsv");
  ASSERT_EQ(smoothcuda(kCertify + full + kOptions + " --max 30").code, 0);
  std::vector<std::string> parts;
  for (int k = 0; k < 3; ++k) {
    parts.push_back(temp_path("part" + std::to_string(k) + ".tsv"));
    const CliRun r =
        smoothcuda(kCertify + parts.back() + kOptions + " --max 30 --shard " + std::to_string(k) + "/3");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  // Part 1 holds the selection's 2nd, 5th and 8th images: 3, 12, 21.
  const auto p1 = lines(io::read_file(parts[1]));
  ASSERT_EQ(p1.size(), 4u);
  EXPECT_EQ(p1[1].substr(0, 2), "3\t");
  EXPECT_EQ(p1[2].substr(0, 3), "12\t");
  EXPECT_EQ(p1[3].substr(0, 3), "21\t");
  // Part 0 interrupted in the middle of its third row, then resumed.
  const std::string torn = temp_path("part0_torn.tsv");
  {
    const auto p0 = lines(io::read_file(parts[0]));
    std::ofstream f(torn);
    f << p0[0] << "\n" << p0[1] << "\n" << p0[2] << "\n" << p0[3].substr(0, 4);
  }
  CliRun r = smoothcuda("merge " + merged + " " + torn + " " + parts[1] + " " + parts[2]);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("torn row"), std::string::npos) << r.err;
  r = smoothcuda(kCertify + torn + kOptions + " --max 30 --shard 0/3 --resume");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("2 rows kept, 2 images to go"), std::string::npos) << r.err;

  r = smoothcuda("merge " + merged + " " + parts[2] + " " + torn + " " + parts[1]);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("merge: 10 rows from 3 parts"), std::string::npos) << r.err;
  const auto a = lines(io::read_file(full)), b = lines(io::read_file(merged));
  ASSERT_EQ(b.size(), a.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(without_time(b[i]), without_time(a[i])) << "row " << i;
  r = smoothcuda("analyze " + merged + " " + full + " --radii 0,0.25");
  ASSERT_EQ(r.code, 0) << r.err;

  // The same image in two parts, and bad --shard values.
  r = smoothcuda("merge " + temp_path("twice.tsv") + " " + full + " " + parts[1]);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("image 3 stands in both"), std::string::npos) << r.err;
  for (const char* bad : {"3/3", "1", "-1/2", "0/0", "a/b"}) {
    r = smoothcuda(kCertify + temp_path("bad_shard.tsv") + kOptions + " --shard " + bad);
    EXPECT_NE(r.code, 0) << bad;
    EXPECT_NE(r.err.find("--shard: expected K/N"), std::string::npos) << r.err;
  }
}

TEST(Cli, ErrorsAreOneLineWithNonZeroExit) {
  CliRun r = smoothcuda(kCertify + temp_path("x.tsv") + " --N -5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("N must be in"), std::string::npos) << r.err;
  r = smoothcuda("certify fake:4:1:28:28 /nonexistent/model.safetensors 0.5 " + temp_path("y.tsv"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("/nonexistent/model.safetensors"), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.err).size(), 1u) << r.err;
  r = smoothcuda(kCertify + temp_path("z.tsv") + " --bogus 3");
  EXPECT_NE(r.err.find("unknown option --bogus"), std::string::npos) << r.err;
  r = smoothcuda(kCertify + temp_path("z.tsv") + " --device cuda:0");
  if (r.code != 0) {  // without a GPU: the device named in a one-line error
    EXPECT_NE(r.err.find("cuda:0"), std::string::npos) << r.err;
  }
  EXPECT_EQ(smoothcuda("frobnicate").code, 2);
}

TEST(Cli, AnalyzeAndVisualizeWriteTheirFiles) {
  const std::string dir = shared_dir() + "/reference/cohen-logs/";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no " << dir;
  const std::string out = temp_path("analysis");
  CliRun r = smoothcuda("analyze " + dir + "data_certify_imagenet_resnet50_noise_0.50_test_sigma_0.50 " + dir +
                     "data_certify_imagenet_resnet50_noise_1.00_test_sigma_1.00 --radii 0:1.5:0.5 --out " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| data_certify_imagenet_resnet50_noise_0.50_test_sigma_0.50 | 500 | **0.572** | **0.458** | "
                       "**0.372** | **0.286** |"),
            std::string::npos)
      << r.out;
  for (const char* f : {"table.md", "table.tex", "certified_accuracy.svg"})
    EXPECT_TRUE(std::filesystem::exists(out + "/" + f)) << f;
  // --high-prob ALPHA,RHO: Cohen et al.'s HighProbAccuracy after the table, in table.md too.
  r = smoothcuda("analyze " + dir +
                 "data_certify_imagenet_resnet50_noise_0.50_test_sigma_0.50 --radii 0,0.5 "
                 "--high-prob 0.001,0.001 --out " +
                 out);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string bound =
      "| data_certify_imagenet_resnet50_noise_0.50_test_sigma_0.50 | 500 | 0.563 | 0.449 |";
  EXPECT_NE(r.out.find(bound), std::string::npos) << r.out;
  EXPECT_NE(io::read_file(out + "/table.md").find(bound), std::string::npos);
  for (const char* bad : {"0.001", "0.001,2", "x,y"})
    EXPECT_NE(smoothcuda("analyze " + dir +
                         "data_certify_imagenet_resnet50_noise_0.50_test_sigma_0.50 --high-prob " + bad)
                  .err.find("--high-prob"),
              std::string::npos)
        << bad;
  // --envelope is a flag: the file after it is still a file.
  r = smoothcuda("analyze " + dir + "data_certify_imagenet_resnet50_noise_0.50_test_sigma_0.50 --envelope " +
                 dir + "data_certify_imagenet_resnet50_noise_1.00_test_sigma_1.00 --radii 0,2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| envelope (the best file at each radius) | 500 | 0.572 | 0.194 | - | - |"),
            std::string::npos)
      << r.out;
  const std::string vis = temp_path("vis");
  r = smoothcuda("visualize fake:3:3:8:8 1 0.25,1.0 --out " + vis + " --scale 2");
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* f : {"1_clean.png", "1_0.25.png", "1_1.0.png"}) EXPECT_TRUE(std::filesystem::exists(vis + "/" + f));
}

TEST(Cli, ConvertThenEval) {
  const std::string dst = temp_path("cohen110.safetensors");
  CliRun r = smoothcuda("convert " + fixture_dir() + "/checkpoints/cohen_cifar_resnet110.pth.tar " + dst);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("legacy format"), std::string::npos) << r.out;
  r = smoothcuda("eval fake:6:3:32:32 " + dst + " --batch 4");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("accuracy"), std::string::npos);
  const std::string logits = temp_path("logits.npy");
  r = smoothcuda("eval fake:6:3:32:32 " + fixture_dir() + "/checkpoints/cohen_cifar_resnet110.pth.tar --out " + logits);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(logits));
  r = smoothcuda("convert " + fixture_dir() + "/checkpoints/malicious_os_system.pt " + temp_path("m.safetensors") +
                 " --arch lenet --dataset mnist");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("posix.system"), std::string::npos) << r.err;
}

// The table's cell `column` (0 = the set's name) of the row of `set` under the first heading that starts with
// `heading`.
std::string ood_cell(const std::string& out, const std::string& heading, const std::string& set, int column) {
  const size_t at = out.find(heading);
  if (at == std::string::npos) return "";
  for (const std::string& l : lines(out.substr(at))) {
    if (l.rfind("| " + set + " |", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream row(l.substr(1));
    for (std::string c; std::getline(row, c, '|');) cells.push_back(c.substr(1, c.size() - 2));
    return column < static_cast<int>(cells.size()) ? cells[static_cast<size_t>(column)] : "";
  }
  return "";
}

TEST(Cli, OodTablesScoresAndPlots) {
  const std::string model = fixture_dir() + "/models/lenet_28.safetensors", dir = temp_path("ood");
  // "same" is the in-distribution set again: every score ties with its twin, so AUROC is exactly 50% and the
  // conservative AUROC (ties against) 50% less half the 40 ties among the 1600 pairs.
  CliRun r = smoothcuda("ood fake:40:1:28:28 " + model +
                        " --ood noise=fake:30:1:28:28:uniform,same=fake:40:1:28:28 --batch 7 --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* score : {"msp", "maxlogit", "energy"}) {
    EXPECT_EQ(ood_cell(r.out, std::string("### score: ") + score + "\n", "noise", 1), "30") << r.out;
    EXPECT_EQ(ood_cell(r.out, std::string("### score: ") + score + "\n", "same", 2), "50.00") << r.out;
    EXPECT_EQ(ood_cell(r.out, std::string("### score: ") + score + "\n", "same", 3), "48.75") << r.out;
    EXPECT_EQ(ood_cell(r.out, std::string("### score: ") + score + "\n", "same", 6), "95.00")
        << r.out;  // FPR95: the twins score alike
    EXPECT_NE(ood_cell(r.out, std::string("### score: ") + score + "\n", "Average", 2), "") << r.out;
    EXPECT_TRUE(std::filesystem::exists(dir + "/roc_" + score + ".svg"));
    EXPECT_TRUE(std::filesystem::exists(dir + "/hist_" + score + ".svg"));
  }
  const size_t table = r.out.find("\n### score: msp"), wrote = r.out.find("\nwrote ");
  ASSERT_LT(table, wrote);
  EXPECT_EQ(io::read_file(dir + "/table.md"), r.out.substr(table, wrote - table));

  // scores.tsv: the scores of the logits `eval` writes for the same images.
  const std::string logits_file = temp_path("ood_logits.npy");
  ASSERT_EQ(smoothcuda("eval fake:40:1:28:28 " + model + " --batch 9 --out " + logits_file).code, 0);
  const Tensor logits = io::read_npy(logits_file);
  const auto rows = lines(io::read_file(dir + "/scores.tsv"));
  ASSERT_EQ(rows.size(), 1u + 40 + 30 + 40);
  EXPECT_EQ(rows[0], "set\tidx\tlabel\tpredict\tmsp\tmaxlogit\tenergy");
  auto io_dataset = io::open_dataset("fake:40:1:28:28");
  for (int64_t i = 0; i < 40; ++i) {
    std::istringstream row(rows[static_cast<size_t>(1 + i)]);
    std::string set;
    int64_t idx, label, pred;
    double msp, maxlogit, energy;
    row >> set >> idx >> label >> pred >> msp >> maxlogit >> energy;
    ASSERT_EQ(set, "fake:40:1:28:28");
    EXPECT_EQ(idx, i);
    EXPECT_EQ(label, io_dataset->label(i));
    const float* l = logits.data<float>() + 10 * i;
    const float* top = std::max_element(l, l + 10);
    EXPECT_EQ(pred, top - l);
    EXPECT_EQ(maxlogit, static_cast<double>(*top));
    double sum = 0;
    for (int k = 0; k < 10; ++k) sum += std::exp(static_cast<double>(l[k]) - *top);
    EXPECT_NEAR(msp, 1 / sum, 1e-15);
    EXPECT_NEAR(energy, *top + std::log(sum), 1e-13);
  }
  EXPECT_EQ(rows[41].substr(0, 6), "noise\t");

  r = smoothcuda("ood fake:4:1:28:28 " + model);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--ood"), std::string::npos) << r.err;
  r = smoothcuda("ood fake:4:1:28:28 " + model + " --ood fake:4:3:32:32");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("are [3, 32, 32] but the model expects [1, 28, 28]"), std::string::npos) << r.err;
  r = smoothcuda("ood fake:4:1:28:28 " + model + " --ood x=folder:" + temp_path("nowhere") + " --score msp");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("not found"), std::string::npos) << r.err;
  r = smoothcuda("ood fake:4:1:28:28 " + model + " --ood fake:4:1:28:28 --score odin");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("unknown OOD score 'odin'"), std::string::npos) << r.err;
}

// --sigma: each image's smoothed confidence (max softmax over N noisy copies) with its Hoeffding bounds, and
// the certified table: the in-distribution means against the OOD upper bounds raised to the ball's bound.
TEST(Cli, OodSmoothedConfidenceAndCertifiedTables) {
  const std::string model = fixture_dir() + "/models/lenet_28.safetensors", dir = temp_path("ood_smoothed");
  const CliRun r =
      smoothcuda("ood fake:12:1:28:28 " + model +
                 " --ood noise=fake:10:1:28:28:uniform --score msp --sigma 0.25 --N 64 --batch 50 "
                 "--radii 0,0.1,0.3 --alpha 0.05 --out " +
                 dir);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_NE(r.out.find("### smoothed confidence: σ = 0.25, N = 64"), std::string::npos) << r.out;
  EXPECT_NE(io::read_file(dir + "/certified_auroc.svg").find("noise"), std::string::npos);
  const auto rows = lines(io::read_file(dir + "/scores.tsv"));
  ASSERT_EQ(rows.size(), 1u + 12 + 10);
  EXPECT_EQ(rows[0],
            "set\tidx\tlabel\tpredict\tmsp\tmaxlogit\tenergy\tsmoothed_msp\tsmoothed_lower\tsmoothed_upper");
  const double half = std::sqrt(std::log(1 / 0.05) / (2 * 64));
  std::vector<double> in_means, out_upper;
  for (size_t i = 1; i < rows.size(); ++i) {
    std::istringstream row(rows[i]);
    std::string set;
    double idx, label, pred, msp, maxlogit, energy, mean, lower, upper;
    row >> set >> idx >> label >> pred >> msp >> maxlogit >> energy >> mean >> lower >> upper;
    ASSERT_FALSE(row.fail()) << rows[i];
    EXPECT_GT(mean, 0.1);  // ten classes: a max softmax is at least 0.1
    EXPECT_LE(mean, 1.0);
    EXPECT_NEAR(upper, std::min(1.0, mean + half), 1e-15);
    EXPECT_NEAR(lower, std::max(0.0, mean - half), 1e-15);
    if (set == "noise")
      out_upper.push_back(upper);
    else
      in_means.push_back(mean);
  }
  ASSERT_EQ(in_means.size(), 12u);
  double previous = 101;
  for (double radius : {0.0, 0.1, 0.3}) {
    std::vector<double> raised;
    for (double u : out_upper) raised.push_back(ood::certified_upper(u, radius, 0.25));
    const double gauroc = 100 * ood::detection_metrics(in_means, raised).auroc_conservative;
    const int column = radius == 0.0 ? 1 : radius == 0.1 ? 2 : 3;
    const double shown = std::stod(ood_cell(r.out, "### certified", "noise", column));
    EXPECT_NEAR(shown, gauroc, 0.005 + 1e-9) << r.out;
    EXPECT_LE(shown, previous);  // a larger ball can only raise the OOD bounds
    previous = shown;
  }
}

// A real CIFAR-10 classifier (akamaster's ResNet-20) tells CIFAR-10 test images from iSUN's scenes: the
// energy score's AUROC was 85.3% on every 5th image of each (2,000 and 1,785 images).
TEST(Cli, OodOnRealData) {
  const std::string shared = shared_dir(), ckpt = shared + "/models/akamaster/resnet20-12fca82f.th";
  for (const std::string& p : {ckpt, shared + "/data/isun", shared + "/data/cifar10-jpeg/test"})
    if (!std::filesystem::exists(p)) GTEST_SKIP() << "no " << p;
  const CliRun r = smoothcuda("ood cifar10=folder:" + shared + "/data/cifar10-jpeg/test " + ckpt +
                              " --arch aka_resnet20 --dataset cifar10 --mean 0.485,0.456,0.406 --std "
                              "0.229,0.224,0.225 --ood isun=folder:" +
                              shared + "/data/isun --skip 25 --score energy");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("cifar10: 400 images, accuracy"), std::string::npos) << r.out;
  EXPECT_EQ(ood_cell(r.out, "### score: energy\n", "isun", 1), "357") << r.out;
  const double auroc = std::stod(ood_cell(r.out, "### score: energy\n", "isun", 2));
  EXPECT_GT(auroc, 78.0) << r.out;
  EXPECT_LT(auroc, 93.0) << r.out;
  std::printf("[ood] akamaster resnet20, CIFAR-10 JPEG vs iSUN, every 25th image, energy: AUROC %.2f\n",
              auroc);
}

// The cells of a Markdown table row.
std::vector<std::string> row_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream row(line);
  std::string cell;
  std::getline(row, cell, '|');
  while (std::getline(row, cell, '|')) {
    cell.erase(0, cell.find_first_not_of(' '));
    cell.erase(cell.find_last_not_of(' ') + 1);
    if (!cell.empty()) cells.push_back(cell);
  }
  return cells;
}

// The cells of a TSV row.
std::vector<std::string> tab_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream row(line);
  for (std::string cell; std::getline(row, cell, '\t');) cells.push_back(cell);
  return cells;
}

// The OOD lab's autoencoder score: train-denoiser trains a conv_autoencoder without noise (reconstruction)
// on Fashion-MNIST, and ood --autoencoder scores each image by minus its reconstruction's mean squared error,
// which tells the clothes from noise at once; scores.tsv's column is that error, recomputed here.
TEST(Cli, OodAutoencoderScore) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  const std::string ae = temp_path("autoencoder"), dir = temp_path("ood_autoencoder");
  CliRun r = smoothcuda("train-denoiser fashion-mnist " + ae +
                        " --arch conv_autoencoder --width 8 --noise-sd 0 --epochs 2 --batch 64 --max 2000 "
                        "--test-max 500 --dataset fashion-mnist");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto log = lines(io::read_file(ae + "/log.tsv"));
  ASSERT_EQ(log.size(), 3u);
  EXPECT_LT(std::stod(tab_cells(log[2])[4]), std::stod(tab_cells(log[1])[4])) << log[1] << "\n" << log[2];
  r = smoothcuda("ood fashion-mnist " + fixture_dir() + "/models/lenet_28.safetensors --ood " +
                 "noise=fake:200:1:28:28:uniform --autoencoder " + ae +
                 "/model.safetensors --skip 50 --score msp --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string table = "### score: reconstruction";
  EXPECT_EQ(ood_cell(r.out, table, "noise", 2), "100.00") << r.out;
  const auto rows = lines(io::read_file(dir + "/scores.tsv"));
  ASSERT_EQ(tab_cells(rows[0]).back(), "reconstruction");
  auto autoencoder = load_any_model(ae + "/model.safetensors", Device::cpu(), {});
  auto data = io::open_dataset("fashion-mnist");
  const Tensor x = io::read_batch(*data, {0}, 0, 1);
  const double want = ood::reconstruction_scores(x, autoencoder->net->forward(x))[0];
  EXPECT_NEAR(std::stod(tab_cells(rows[1]).back()), want, 1e-12 * std::fabs(want)) << rows[1];
  EXPECT_LT(want, 0);
  EXPECT_NE(smoothcuda("ood fashion-mnist " + fixture_dir() +
                       "/models/lenet_28.safetensors --ood fake:4:1:28:28 "
                       "--autoencoder " +
                       fixture_dir() + "/models/lenet_28.safetensors")
                .err.find("not an image-to-image network"),
            std::string::npos);
  EXPECT_NE(smoothcuda("ood fashion-mnist " + fixture_dir() +
                       "/models/lenet_28.safetensors --ood fake:4:1:28:28 "
                       "--autoencoder " +
                       ae + "/missing.safetensors")
                .err.find("--autoencoder '"),
            std::string::npos);
}

// --distro-certified: Cohen's CERTIFY on every image (its class and radius in scores.tsv) and DISTRO's score
// from them and the clean logits, whose AUROC at each radius the table shows.
TEST(Cli, OodDistroCertifiedTable) {
  const std::string model = fixture_dir() + "/models/lenet_28.safetensors", dir = temp_path("ood_distro");
  const std::string command = "ood fake:12:1:28:28 " + model +
                              " --ood noise=fake:10:1:28:28:uniform --score msp --batch 50 --radii 0,0.1,5 ";
  EXPECT_NE(smoothcuda(command + "--distro-certified").err.find("give --sigma"), std::string::npos);
  const CliRun r = smoothcuda(command + "--sigma 0.25 --N 200 --N0 20 --distro-certified --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string table = "### DISTRO's certified score (σ = 0.25, N0 = 20, N = 200, α = 0.01)";
  ASSERT_NE(r.out.find(table), std::string::npos) << r.out;
  // Each set's certificates from scores.tsv, its logits recomputed here.
  std::map<std::string, std::vector<Certificate>> certificates;
  const auto rows = lines(io::read_file(dir + "/scores.tsv"));
  ASSERT_EQ(rows.size(), 1u + 12 + 10);
  EXPECT_NE(rows[0].find("\tcertified_class\tcertified_radius"), std::string::npos) << rows[0];
  int certified = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string> cells = tab_cells(rows[i]);
    ASSERT_EQ(cells.size(), 12u) << rows[i];
    Certificate c;
    c.prediction = std::stoll(cells[10]), c.radius = std::stod(cells[11]);
    EXPECT_TRUE(c.prediction >= -1 && c.prediction < 10 && c.radius >= 0 && c.radius < 5) << rows[i];
    certified += c.prediction >= 0;
    certificates[cells[0]].push_back(c);
  }
  EXPECT_GT(certified, 0);
  auto classifier = load_any_model(model, Device::cpu(), {});
  const auto scores = [&](const std::string& spec, const std::string& set) {
    auto data = io::open_dataset(spec);
    std::vector<int64_t> ids(static_cast<size_t>(data->size()));
    std::iota(ids.begin(), ids.end(), 0);
    const Tensor logits = classifier->forward(io::read_batch(*data, ids, 0, data->size()));
    return ood::distro_certified_scores(certificates.at(set), logits, {0, 0.1, 5}, 1.0);
  };
  const auto in = scores("fake:12:1:28:28", "fake:12:1:28:28"),
             out = scores("fake:10:1:28:28:uniform", "noise");
  for (int j = 0; j < 2; ++j) {
    const double auroc =
        100 * ood::detection_metrics(in[static_cast<size_t>(j)], out[static_cast<size_t>(j)]).auroc;
    EXPECT_NEAR(std::stod(ood_cell(r.out, table, "noise", 1 + j)), auroc, 0.005 + 1e-9) << r.out;
  }
  EXPECT_EQ(ood_cell(r.out, table, "noise", 3), "—") << r.out;  // no radius reaches 5 here
}

// An attack sequence's summary rows (after the header and the separator line): named `names` in order, each
// accuracy under attack no higher than the row's before.
void expect_sequence_rows(const std::vector<std::string>& md, const std::vector<std::string>& names) {
  ASSERT_GE(md.size(), names.size() + 2);
  double before = 100;
  for (size_t k = 0; k < names.size(); ++k) {
    const auto cells = row_cells(md[k + 2]);
    ASSERT_EQ(cells.size(), 10u) << md[k + 2];
    EXPECT_EQ(cells[0], names[k]);
    EXPECT_LE(std::stod(cells[6]), before) << md[k + 2];
    before = std::stod(cells[6]);
  }
}

// The summary row's cells (after the header and the separator line).
std::vector<std::string> summary_cells(const std::string& md) {
  const auto rows = lines(md);
  return rows.size() < 3 ? std::vector<std::string>() : row_cells(rows[2]);
}

// The CIFAR-10 JPEG test set as a dataset spec, and akamaster's ResNet-20 checkpoint with the flags that load
// it; empty strings when ../shared lacks either.
std::pair<std::string, std::string> akamaster_resnet20_on_cifar10() {
  const std::string shared = shared_dir(), ckpt = shared + "/models/akamaster/resnet20-12fca82f.th";
  for (const std::string& p : {ckpt, shared + "/data/cifar10-jpeg/test"})
    if (!std::filesystem::exists(p)) return {};
  return {"folder:" + shared + "/data/cifar10-jpeg/test",
          ckpt + " --arch aka_resnet20 --dataset cifar10 --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225"};
}

// akamaster's ResNet-20 (not adversarially trained) under FGSM, PGD and APGD in the l-infinity ball of 2/255
// on every 100th CIFAR-10 test JPEG: FGSM fools most, PGD and APGD nearly all; the saved examples give `eval`
// the same accuracy.
TEST(Cli, AttackOnRealData) {
  const auto [data, model] = akamaster_resnet20_on_cifar10();
  if (model.empty()) GTEST_SKIP() << "no akamaster checkpoint or CIFAR-10 JPEG test set in ../shared";
  double clean = 0;
  for (const std::string attack : {"fgsm", "pgd", "apgd", "apgd-dlr"}) {
    const std::string dir = temp_path("attack_" + attack);
    const std::string how = attack == "apgd-dlr" ? "apgd --loss dlr" : attack;
    const CliRun r = smoothcuda("attack " + data + " " + model + " --attack " + how +
                                " --eps 2/255 --steps 5 --skip 100 --batch 64 --out " + dir);
    ASSERT_EQ(r.code, 0) << r.err;
    const auto cells = summary_cells(io::read_file(dir + "/summary.md"));
    ASSERT_EQ(cells.size(), 10u) << r.out;
    EXPECT_EQ(cells[4], "100") << r.out;
    clean = std::stod(cells[5]);
    const double under_attack = std::stod(cells[6]);
    EXPECT_GT(clean, 80.0) << r.out;
    EXPECT_LT(under_attack, attack == "fgsm" ? 30.0 : 5.0) << r.out;
    EXPECT_LE(std::stod(cells[9]), 2.0 / 255 + 1e-6) << r.out;
    const auto rows = lines(io::read_file(dir + "/attack.tsv"));
    ASSERT_EQ(rows.size(), 101u);
    EXPECT_EQ(rows[0], "idx\tlabel\tclean_predict\tadv_predict\tsuccess\tlinf\tl2\tloss\tattack");
    EXPECT_EQ(rows[1].substr(0, 2), "0\t");
    // The examples as written: eval agrees with the accuracy under attack.
    const CliRun e = smoothcuda("eval npy:" + dir + "/adversarial.npy:" + dir + "/labels.npy " + model);
    ASSERT_EQ(e.code, 0) << e.err;
    char expected[32];
    std::snprintf(expected, sizeof expected, "accuracy %.4f", under_attack / 100);
    EXPECT_NE(e.out.find(expected), std::string::npos) << e.out << " vs " << r.out;
    std::printf("[attack] akamaster resnet20, every 100th CIFAR-10 JPEG, %s linf 2/255: %.0f%% -> %.0f%%\n",
                attack.c_str(), clean, under_attack);
  }
}

// Training: the log in Cohen's format, a model file eval reads, and a run stopped after its first epoch (its
// log lost too: the checkpoint holds it) that --resume finishes with the same weights, bit for bit, as a run
// that was never stopped. A finished run is extended by asking for more epochs.
// A model built from --arch and --arch-flags (here a small ViT) trains, keeps its flags in the model file and
// loads again from it; a malformed flag list is named.
TEST(Cli, TrainsAnArchitectureWithFlags) {
  const std::string out = temp_path("train_vit");
  const std::string opts =
      " --arch vit --arch-flags patch=7,dim=16,depth=1,heads=2,mlp=24 --input-shape 1,28,28 "
      "--num-classes 10 --batch 16 --epochs 1 --test fake:16:1:28:28";
  CliRun r = smoothcuda("train fake:48:1:28:28 " + out + opts);
  ASSERT_EQ(r.code, 0) << r.err;
  const io::Safetensors model = io::read_safetensors(out + "/model.safetensors");
  EXPECT_EQ(model.metadata.at("flag.patch"), "7");
  EXPECT_EQ(model.metadata.at("flag.dim"), "16");
  EXPECT_EQ(model.at("vit.encoder.layer.0.intermediate.dense.weight").shape(), Shape({24, 16}));
  r = smoothcuda("eval fake:16:1:28:28 " + out + "/model.safetensors");
  EXPECT_EQ(r.code, 0) << r.err;
  r = smoothcuda("train fake:48:1:28:28 " + temp_path("train_vit_bad") + " --arch vit --arch-flags patch7");
  EXPECT_NE(r.err.find("--arch-flags: expected key=value, got 'patch7'"), std::string::npos) << r.err;
}

TEST(Cli, TrainResumesToTheSameWeights) {
  const std::string base = "train fake:48:1:28:28 ", a = temp_path("train_a"), b = temp_path("train_b");
  const std::string opts =
      " --arch lenet --input-shape 1,28,28 --num-classes 10 --batch 16 --noise-sd 0.25 "
      "--seed 5 --test fake:20:1:28:28";
  const CliRun full = smoothcuda(base + a + opts + " --epochs 2");
  ASSERT_EQ(full.code, 0) << full.err;
  const auto log = lines(io::read_file(a + "/log.tsv"));
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0], "epoch\ttime\tlr\ttrain loss\ttrain acc\ttestloss\ttest acc");
  EXPECT_EQ(log[1].substr(0, 2), "0\t");
  EXPECT_EQ(log[2].substr(0, 2), "1\t");
  ASSERT_EQ(smoothcuda(base + b + opts + " --epochs 1").code, 0);
  std::filesystem::remove(b + "/log.tsv");
  const CliRun again = smoothcuda(base + b + opts + " --epochs 1");
  EXPECT_NE(again.code, 0);
  EXPECT_NE(again.err.find("--resume continues"), std::string::npos) << again.err;
  const CliRun other = smoothcuda(base + b + opts + " --epochs 2 --resume --lr 0.05");
  EXPECT_NE(other.code, 0);
  EXPECT_NE(other.err.find("options"), std::string::npos) << other.err;
  const CliRun resumed = smoothcuda(base + b + opts + " --epochs 2 --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(io::read_file(b + "/model.safetensors"), io::read_file(a + "/model.safetensors"));
  const auto resumed_log = lines(io::read_file(b + "/log.tsv"));
  ASSERT_EQ(resumed_log.size(), 3u);
  const auto without_seconds = [](const std::string& row) {
    const size_t first = row.find('\t'), second = row.find('\t', first + 1);
    return row.substr(0, first) + row.substr(second);
  };
  for (size_t i = 1; i < 3; ++i) EXPECT_EQ(without_seconds(resumed_log[i]), without_seconds(log[i]));
  const CliRun more = smoothcuda(base + b + opts + " --epochs 3 --resume");
  ASSERT_EQ(more.code, 0) << more.err;
  EXPECT_EQ(lines(io::read_file(b + "/log.tsv")).size(), 4u);
  const CliRun e = smoothcuda("eval fake:48:1:28:28 " + b + "/model.safetensors");
  EXPECT_EQ(e.code, 0) << e.err;
  const CliRun no_arch = smoothcuda(base + temp_path("train_c") + " --input-shape 1,28,28");
  EXPECT_NE(no_arch.err.find("--arch"), std::string::npos) << no_arch.err;
  const CliRun bad = smoothcuda(base + temp_path("train_d") + opts + " --augment sideways");
  EXPECT_NE(bad.err.find("--augment"), std::string::npos) << bad.err;
  const CliRun bad_max = smoothcuda(base + temp_path("train_d") + opts + " --test-skip 4 --test-max 6");
  EXPECT_NE(bad_max.err.find("--test-max 6 is not a multiple of --test-skip 4"), std::string::npos)
      << bad_max.err;
  // Consistency regularization: two noisy copies per image by default, and it needs the noise.
  const CliRun consistency = smoothcuda(base + temp_path("train_e") + opts + " --epochs 1 --consistency 5");
  ASSERT_EQ(consistency.code, 0) << consistency.err;
  EXPECT_NE(consistency.err.find("consistency lambda=5 eta=0.5 m=2"), std::string::npos) << consistency.err;
  const CliRun no_noise = smoothcuda(base + temp_path("train_f") +
                                     " --arch lenet --input-shape 1,28,28 --num-classes 10 --consistency 5");
  EXPECT_NE(no_noise.err.find("--noise-sd"), std::string::npos) << no_noise.err;
  // MACER: sixteen copies by default, its options recorded, and it does not combine with consistency.
  const CliRun macer =
      smoothcuda(base + temp_path("train_g") + opts + " --epochs 1 --macer 2 --macer-gamma 4");
  ASSERT_EQ(macer.code, 0) << macer.err;
  EXPECT_NE(macer.err.find("macer lambda=2 gamma=4 beta=16 m=16"), std::string::npos) << macer.err;
  const CliRun both = smoothcuda(base + temp_path("train_h") + opts + " --macer 2 --consistency 5");
  EXPECT_NE(both.err.find("does not combine"), std::string::npos) << both.err;
  const CliRun bad_beta = smoothcuda(base + temp_path("train_i") + opts + " --macer 2 --macer-beta 0");
  EXPECT_NE(bad_beta.err.find("macer-beta must be in"), std::string::npos) << bad_beta.err;
  // SmoothAdv with consistency: two copies of each adversarial image by default, and the radius's warm-up.
  const CliRun adv = smoothcuda(base + temp_path("train_j") + opts +
                                " --epochs 1 --adversarial smoothadv --attack-eps 0.5 --attack-steps 1 "
                                "--attack-warmup 3 --consistency 5");
  ASSERT_EQ(adv.code, 0) << adv.err;
  EXPECT_NE(adv.err.find("smoothadv eps=0.5 steps=1 m=2 warmup=3"), std::string::npos) << adv.err;
  EXPECT_NE(adv.err.find("consistency lambda=5 eta=0.5 m=2"), std::string::npos) << adv.err;
}

// A detector trained by `train` on inout:IN+OUT (bright images in, uniform noise out) and ProoD's joint model
// in `ood --detector`: the joint confidence tells the noise from the in-distribution images better than the
// classifier alone, and its IBP bound (ProoD's guaranteed confidence) lies above what an attack reaches.
TEST(Cli, OodJointModelWithATrainedDetector) {
  const std::string images = temp_path("bright.npy"), det = temp_path("detector");
  Tensor bright = random_images({96, 1, 28, 28}, 71, 0.1f);
  float* p = bright.data<float>();
  for (int64_t k = 0; k < bright.numel(); ++k) p[k] = std::min(1.0f, p[k] + 0.3f);
  io::write_npy(images, bright);
  const CliRun t =
      smoothcuda("train inout:npy:" + images + "+fake:96:1:28:28:uniform " + det +
                 " --arch linear --input-shape 1,28,28 --mean 0.65 --std 0.3 --epochs 3 --batch 16 "
                 "--lr 0.01 --test none");
  ASSERT_EQ(t.code, 0) << t.err;
  const auto log = lines(io::read_file(det + "/log.tsv"));
  ASSERT_EQ(log.size(), 4u);
  EXPECT_NE(log[3].find("\t1e+02\t"), std::string::npos) << log[3];  // every training image told apart
  const std::string model = fixture_dir() + "/models/lenet_28.safetensors";
  const std::string ood =
      "ood npy:" + images + " " + model +
      " --ood noise=fake:20:1:28:28:uniform --engine generic --score msp --batch 16 --max 40";
  const CliRun plain = smoothcuda(ood);
  ASSERT_EQ(plain.code, 0) << plain.err;
  const CliRun joint = smoothcuda(ood + " --detector " + det +
                                  "/model.safetensors --attack-eps 2/255 "
                                  "--attack-steps 5 --ibp-eps 2/255");
  ASSERT_EQ(joint.code, 0) << joint.err;
  EXPECT_NE(joint.out.find("(joint(lenet, linear))"), std::string::npos) << joint.out;
  const std::string clean = "### score: msp\n";
  const double auroc_plain = std::stod(ood_cell(plain.out, clean, "noise", 2)),
               auroc_joint = std::stod(ood_cell(joint.out, clean, "noise", 2));
  EXPECT_GT(auroc_joint, 99.0) << joint.out;
  EXPECT_GT(auroc_joint, auroc_plain) << plain.out;
  const std::string adv = "### adversarial: score msp", guaranteed = "### guaranteed: score msp";
  const double auroc_adv = std::stod(ood_cell(joint.out, adv, "noise", 2)),
               auroc_guaranteed = std::stod(ood_cell(joint.out, guaranteed, "noise", 2));
  EXPECT_LE(auroc_adv, auroc_joint) << joint.out;
  EXPECT_LE(auroc_guaranteed, auroc_adv) << joint.out;
  EXPECT_GT(auroc_guaranteed, 90.0) << joint.out;  // a linear detector's bound stays tight
  const CliRun wrong = smoothcuda(ood + " --detector " + model);
  EXPECT_NE(wrong.err.find("1 output"), std::string::npos) << wrong.err;
  const CliRun torch = smoothcuda(ood + " --detector x.pth");
  EXPECT_NE(torch.err.find("convert it first"), std::string::npos) << torch.err;
}

// The adversarial and guaranteed OOD tables: the attack only raises OOD scores, and the interval bounds lie
// above whatever the attack finds, so guaranteed AUROC ≤ adversarial AUROC ≤ clean AUROC.
TEST(Cli, OodAdversarialTables) {
  const std::string model = fixture_dir() + "/models/lenet_28.safetensors", dir = temp_path("ood_adv");
  const CliRun r =
      smoothcuda("ood fake:30:1:28:28 " + model +
                 " --ood noise=fake:20:1:28:28:uniform,gauss=fake:20:1:28:28:gaussian --engine generic "
                 "--attack-eps 8/255 --attack-steps 5 --attack-restarts 2 --ibp-eps 8/255 --batch 16 --out " +
                 dir);
  ASSERT_EQ(r.code, 0) << r.err;
  // Per image in scores.tsv: clean ≤ under attack ≤ guaranteed, for every score; "-" for the images in.
  const auto rows = lines(io::read_file(dir + "/scores.tsv"));
  ASSERT_EQ(rows.size(), 1u + 30 + 40);
  const std::vector<std::string> head = tab_cells(rows[0]);
  ASSERT_EQ(head.size(), 13u) << rows[0];
  for (size_t k = 0; k < 3; ++k) {
    EXPECT_EQ(head[7 + k], "adversarial_" + head[4 + k]);
    EXPECT_EQ(head[10 + k], "guaranteed_" + head[4 + k]);
  }
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string> cells = tab_cells(rows[i]);
    ASSERT_EQ(cells.size(), 13u) << rows[i];
    for (size_t k = 0; k < 3; ++k) {
      if (cells[0] == "fake:30:1:28:28") {
        EXPECT_EQ(cells[7 + k], "-") << rows[i];
        EXPECT_EQ(cells[10 + k], "-") << rows[i];
        continue;
      }
      const double clean = std::stod(cells[4 + k]), attacked = std::stod(cells[7 + k]),
                   bound = std::stod(cells[10 + k]);
      EXPECT_GE(attacked, clean) << head[4 + k] << ": " << rows[i];
      EXPECT_GE(bound, attacked - 1e-6 * std::fabs(attacked)) << head[4 + k] << ": " << rows[i];
    }
  }
  for (const char* score : {"msp", "maxlogit", "energy"}) {
    const std::string clean = std::string("### score: ") + score + "\n";
    const std::string adv = std::string("### adversarial: score ") + score +
                            ", OOD images moved within linf ε = 8/255 (5 steps of 0.00313725, 2 starts)\n";
    ASSERT_NE(r.out.find(adv), std::string::npos) << r.out;
    for (const char* set : {"noise", "gauss"}) {
      EXPECT_EQ(ood_cell(r.out, adv, set, 1), "20") << r.out;
      EXPECT_LE(std::stod(ood_cell(r.out, adv, set, 2)), std::stod(ood_cell(r.out, clean, set, 2))) << r.out;
      const std::string guaranteed =
          std::string("### guaranteed: score ") + score +
          ", OOD scores raised to their upper bound within linf ε = 8/255 (interval "
          "bound propagation)\n";
      ASSERT_NE(r.out.find(guaranteed), std::string::npos) << r.out;
      EXPECT_LE(std::stod(ood_cell(r.out, guaranteed, set, 2)), std::stod(ood_cell(r.out, adv, set, 2)))
          << r.out;
    }
  }
  EXPECT_NE(smoothcuda("ood fake:3:1:28:28 " + model + " --ood fake:3:1:28:28 --attack-eps x")
                .err.find("attack-eps must be a number or a fraction"),
            std::string::npos);
  // APGD's walk instead of fixed steps: it too only raises the OOD scores.
  const CliRun a = smoothcuda("ood fake:30:1:28:28 " + model +
                              " --ood noise=fake:20:1:28:28:uniform --engine generic --score maxlogit "
                              "--attack-eps 8/255 --attack-method apgd --attack-steps 5 --batch 16");
  ASSERT_EQ(a.code, 0) << a.err;
  const std::string adv =
      "### adversarial: score maxlogit, OOD images moved within linf ε = 8/255 (APGD, 5 "
      "steps, 1 start)\n";
  ASSERT_NE(a.out.find(adv), std::string::npos) << a.out;
  EXPECT_LE(std::stod(ood_cell(a.out, adv, "noise", 2)),
            std::stod(ood_cell(a.out, "### score: maxlogit\n", "noise", 2)))
      << a.out;
  EXPECT_NE(smoothcuda("ood fake:3:1:28:28 " + model +
                       " --ood fake:3:1:28:28 --attack-eps 0.1 --attack-method "
                       "sideways")
                .err.find("--attack-method"),
            std::string::npos);
  EXPECT_NE(smoothcuda("ood fake:3:1:28:28 " + model +
                       " --ood fake:3:1:28:28 --attack-eps 0.1 --attack-method mpgd:0")
                .err.find("the steps in 'mpgd:0'"),
            std::string::npos);
  // Monotone PGD, and several attacks keeping each image's highest score: never above any one of them.
  const std::string several = "ood fake:30:1:28:28 " + model +
                              " --ood noise=fake:20:1:28:28:uniform --engine generic --score maxlogit "
                              "--attack-eps 8/255 --batch 16 --attack-method ";
  const CliRun m = smoothcuda(several + "mpgd:20");
  ASSERT_EQ(m.code, 0) << m.err;
  const std::string mpgd_head =
      "### adversarial: score maxlogit, OOD images moved within linf ε = 8/255 (monotone PGD, 20 steps from "
      "0.1, "
      "3 starts)\n";
  ASSERT_NE(m.out.find(mpgd_head), std::string::npos) << m.out;
  const CliRun both = smoothcuda(several + "mpgd:20,apgd:5");
  ASSERT_EQ(both.code, 0) << both.err;
  const std::string both_head =
      "### adversarial: score maxlogit, OOD images moved within linf ε = 8/255 (highest of: monotone PGD, 20 "
      "steps "
      "from 0.1, 3 starts; APGD, 5 steps, 1 start)\n";
  ASSERT_NE(both.out.find(both_head), std::string::npos) << both.out;
  const double auroc_both = std::stod(ood_cell(both.out, both_head, "noise", 2));
  EXPECT_LE(auroc_both, std::stod(ood_cell(m.out, mpgd_head, "noise", 2))) << m.out << both.out;
  EXPECT_LE(auroc_both, std::stod(ood_cell(a.out, adv, "noise", 2))) << a.out << both.out;
  EXPECT_LE(std::stod(ood_cell(m.out, mpgd_head, "noise", 2)),
            std::stod(ood_cell(m.out, "### score: maxlogit\n", "noise", 2)))
      << m.out;
}

// AutoAttack's sequence (APGD-CE, APGD-T, FAB-T, Square) on akamaster's ResNet-20 at a budget that leaves
// about half of the images: one summary row per attack, the accuracy never rising down the rows, each fooled
// image naming the attack that fooled it, and the saved examples giving `eval` the last row's accuracy.
TEST(Cli, AttackSequenceOnRealData) {
  const auto [data, model] = akamaster_resnet20_on_cifar10();
  if (model.empty()) GTEST_SKIP() << "no akamaster checkpoint or CIFAR-10 JPEG test set in ../shared";
  const std::string dir = temp_path("attack_sequence");
  const CliRun r = smoothcuda("attack " + data + " " + model +
                              " --attack apgd,apgd-t,fab-t,square --eps 0.3/255 --steps 5 --targets 3 "
                              "--queries 40 --skip 200 --batch 32 --out " +
                              dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto md = lines(io::read_file(dir + "/summary.md"));
  expect_sequence_rows(md, {"apgd", "+ apgd-t", "+ fab-t", "+ square"});
  ASSERT_GE(md.size(), 6u) << r.out;
  EXPECT_EQ(summary_cells(io::read_file(dir + "/summary.md"))[3], "5") << r.out;
  EXPECT_NE(md[5].find("40 queries"), std::string::npos) << r.out;
  EXPECT_NE(md[3].find("5 × 3 targets"), std::string::npos) << r.out;
  EXPECT_NE(md[4].find("5 × 3 targets"), std::string::npos) << r.out;
  const auto rows = lines(io::read_file(dir + "/attack.tsv"));
  ASSERT_EQ(rows.size(), 51u);
  int64_t correct = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string> cells = tab_cells(rows[i]);
    ASSERT_EQ(cells.size(), 9u) << rows[i];
    EXPECT_EQ(cells[8] != "-", cells[4] == "1") << rows[i];  // fooled exactly when an attack is named
    EXPECT_LE(std::stod(cells[5]), 0.3 / 255 + 1e-6) << rows[i];
    correct += cells[1] == cells[3];
  }
  char expected[32];
  std::snprintf(expected, sizeof expected, "%.2f%%", 100.0 * correct / 50);
  EXPECT_NE(md[5].find(expected), std::string::npos) << r.out;
  const CliRun e = smoothcuda("eval npy:" + dir + "/adversarial.npy:" + dir + "/labels.npy " + model);
  ASSERT_EQ(e.code, 0) << e.err;
  std::snprintf(expected, sizeof expected, "accuracy %.4f", correct / 50.0);
  EXPECT_NE(e.out.find(expected), std::string::npos) << e.out << " vs " << r.out;
  std::printf("[attack] akamaster resnet20, every 200th CIFAR-10 JPEG, linf 0.3/255: %s\n", md[5].c_str());
}

// AutoAttack's plus version through the command (apgd, apgd-dlr, untargeted fab, square; its targeted pair
// is tested above): each row can only lower the accuracy, and the examples as written give eval the same
// accuracy. Untargeted FAB alone, a minimum-norm attack, fools about as many images as APGD (at least 80% as
// many; here as many) with much smaller perturbations (mean l2 below half of APGD's; here a sixth).
TEST(Cli, AttackPlusSequenceOnRealData) {
  const auto [data, model] = akamaster_resnet20_on_cifar10();
  if (model.empty()) GTEST_SKIP() << "no akamaster checkpoint or CIFAR-10 JPEG test set in ../shared";
  const std::string dir = temp_path("attack_plus"), common = " --eps 0.3/255 --steps 5 --skip 400 --batch 32";
  CliRun r = smoothcuda("attack " + data + " " + model + " --attack apgd,apgd-dlr,fab,square --queries 40" +
                        common + " --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto md = lines(io::read_file(dir + "/summary.md"));
  expect_sequence_rows(md, {"apgd", "+ apgd-dlr", "+ fab", "+ square"});
  ASSERT_GE(md.size(), 6u) << r.out;
  const auto rows = lines(io::read_file(dir + "/attack.tsv"));
  ASSERT_EQ(rows.size(), 26u);
  int64_t correct = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    const std::vector<std::string> cells = tab_cells(rows[i]);
    ASSERT_EQ(cells.size(), 9u) << rows[i];
    EXPECT_LE(std::stod(cells[5]), 0.3 / 255 + 1e-6) << rows[i];
    correct += cells[1] == cells[3];
  }
  const CliRun e = smoothcuda("eval npy:" + dir + "/adversarial.npy:" + dir + "/labels.npy " + model);
  ASSERT_EQ(e.code, 0) << e.err;
  char expected[32];
  std::snprintf(expected, sizeof expected, "accuracy %.4f", correct / 25.0);
  EXPECT_NE(e.out.find(expected), std::string::npos) << e.out << " vs " << r.out;

  const std::string fab_dir = temp_path("attack_fab");
  r = smoothcuda("attack " + data + " " + model + " --attack fab" + common + " --out " + fab_dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto apgd = row_cells(md[2]), fab = summary_cells(io::read_file(fab_dir + "/summary.md"));
  ASSERT_EQ(fab.size(), 10u) << r.out;
  EXPECT_GE(std::stod(fab[7]), 0.8 * std::stod(apgd[7])) << r.out;  // fooled
  EXPECT_GT(std::stod(fab[7]), 0.0) << r.out;
  EXPECT_LT(std::stod(fab[8]), 0.5 * std::stod(apgd[8])) << r.out;  // mean l2
  std::printf("[attack] akamaster resnet20, every 400th CIFAR-10 JPEG, linf 0.3/255, 5 steps:\n%s\n%s\n",
              md[2].c_str(), lines(io::read_file(fab_dir + "/summary.md"))[2].c_str());
}

// --eps-step: each image's smallest FGSM budget, raised one step at a time (the OOD lab's search). On a
// 2-class linear model, FGSM at ε lowers the margin w·x + b by exactly ε·‖w‖₁ (no pixel reaches the box's
// edge here), so an image of margin m is fooled first at ⌈m / (S·‖w‖₁)⌉ steps of S.
TEST(Cli, AttackBudgetSearch) {
  ModelSpec spec;
  spec.arch = "linear", spec.num_classes = 2, spec.channels = 1, spec.height = spec.width = 4;
  auto model = build_model(spec);
  std::vector<float> w(32, 0.0f);
  double l1 = 0;
  for (int i = 0; i < 16; ++i)
    w[16 + i] = (i % 3 == 0 ? -1.0f : 1.0f) * (0.5f + 0.1f * static_cast<float>(i % 4));
  for (int i = 0; i < 16; ++i) l1 += std::fabs(double{w[16 + i]});
  for (auto& [key, t] : model->named_tensors()) {
    if (key == "fc.weight") *t = Tensor::from_vector(w, {2, 16});
    if (key == "fc.bias") *t = Tensor::zeros({2});
  }
  const std::string model_path = temp_path("budget_linear.safetensors");
  save_model(model_path, *model);
  const double step = 1.0 / 255;
  // Margins of 2.5, 4.5 and 20 steps (class 1), and one of 1.5 steps labelled 0: fooled clean.
  const std::vector<double> margins = {2.5 * step * l1, 4.5 * step * l1, 20 * step * l1, 1.5 * step * l1};
  // Each image 0.5 + t·w, t chosen for its margin.
  double at_half = 0, l2_squared = 0;
  for (int i = 0; i < 16; ++i) at_half += w[16 + i] * 0.5, l2_squared += double{w[16 + i]} * w[16 + i];
  std::vector<float> pixels;
  for (double m : margins)
    for (int i = 0; i < 16; ++i)
      pixels.push_back(static_cast<float>(0.5 + (m - at_half) * w[16 + i] / l2_squared));
  // The margins as built, in double (the model computes them in float32: within 1e-6 of these).
  std::vector<double> built;
  for (size_t k = 0; k < margins.size(); ++k) {
    double m = 0;
    for (int i = 0; i < 16; ++i) m += w[16 + i] * double{pixels[k * 16 + static_cast<size_t>(i)]};
    built.push_back(m);
  }
  const std::string images = temp_path("budget_images.npy"), labels = temp_path("budget_labels.npy");
  io::write_npy(images, Tensor::from_vector(pixels, {4, 1, 4, 4}));
  io::write_npy(labels, Tensor::from_vector(std::vector<int64_t>{1, 1, 1, 0}, {4}));
  const std::string dir = temp_path("budget_out");
  const CliRun r = smoothcuda("attack npy:" + images + ":" + labels + " " + model_path +
                              " --attack fgsm --eps 10/255 --eps-step 1/255 --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = lines(io::read_file(dir + "/attack.tsv"));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(tab_cells(rows[0]).back(), "budget");
  const std::vector<std::string> want = {"0.0117647", "0.0196078", "-", "0"};  // 3/255, 5/255, none, clean
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(tab_cells(rows[k + 1]).back(), want[k])
        << rows[k + 1] << " (margin " << built[k] / (step * l1) << " steps)";
  }
  EXPECT_NE(r.out.find("| 0.0117647 (3/255) | 50.00% |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| 0.0392157 (10/255) | 75.00% |"), std::string::npos) << r.out;
  // All four: 0, 3/255, 5/255, none → 3/255; the three not fooled clean: 3/255, 5/255, none → 5/255.
  EXPECT_NE(r.out.find("Median smallest budget: 0.0117647; over the 3 images not fooled clean: 0.0196078."),
            std::string::npos)
      << r.out;
  EXPECT_NE(smoothcuda("attack npy:" + images + ":" + labels + " " + model_path +
                       " --attack fgsm,pgd --eps-step 1/255 --out " + dir)
                .err.find("--eps-step searches the budget of one attack"),
            std::string::npos);
  EXPECT_NE(smoothcuda("attack npy:" + images + ":" + labels + " " + model_path +
                       " --attack fgsm --eps 2/255 --eps-step 3/255 --out " + dir)
                .err.find("eps-step"),
            std::string::npos);
}

// A randomized model (--noise-sd): the demo LeNet, trained with Gaussian noise, run with its noise. APGD that
// follows the mean gradient of 8 draws (--eot 8) takes the accuracy over fresh draws well below APGD on one
// draw's gradient, at the same clean accuracy (86% over the test set).
TEST(Cli, AttackRandomizedModelWithEot) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  const std::string model = temp_path("demo_lenet.safetensors");
  ASSERT_EQ(smoothcuda("convert " + fixture_dir() + "/../../models/lenet_fmnist_sigma0.25.pt " + model +
                       " --dataset fashion-mnist --mean 0.2860 --std 0.3530")
                .code,
            0);
  // The accuracies over fresh draws: {clean, under attack}, in percent.
  const auto over_draws = [](const std::string& out) {
    const std::string key = " fresh draws per image the accuracy is ";
    const size_t at = out.find(key);
    if (at == std::string::npos) return std::pair<double, double>{-1, -1};
    const std::string rest = out.substr(at + key.size());
    return std::pair<double, double>{std::stod(rest), std::stod(rest.substr(rest.find(" and ") + 5))};
  };
  std::map<int, std::pair<double, double>> accuracy;
  for (int eot : {1, 8}) {
    const std::string dir = temp_path("attack_eot" + std::to_string(eot));
    const CliRun r =
        smoothcuda("attack fashion-mnist " + model +
                   " --attack apgd --steps 20 --eps 0.1 --noise-sd 0.25 --noise-draws 20 --eot " +
                   std::to_string(eot) + " --skip 200 --out " + dir);
    ASSERT_EQ(r.code, 0) << r.err;
    accuracy[eot] = over_draws(r.out);
    EXPECT_NE(r.out.find("The model was randomized"), std::string::npos) << r.out;
    EXPECT_EQ(summary_cells(io::read_file(dir + "/summary.md"))[4], "50");
  }
  for (int eot : {1, 8}) EXPECT_NEAR(accuracy[eot].first, 86, 8) << "eot " << eot;
  EXPECT_LT(accuracy[8].second, accuracy[1].second - 6)
      << "clean/attacked: eot 1 " << accuracy[1].first << "/" << accuracy[1].second << ", eot 8 "
      << accuracy[8].first << "/" << accuracy[8].second;
  const std::string bad =
      "attack fashion-mnist " + model + " --max 4 --out " + temp_path("attack_eot_errors");
  EXPECT_NE(smoothcuda(bad + " --eot 4").err.find("without --noise-sd"), std::string::npos);
  EXPECT_NE(smoothcuda(bad + " --noise-sd 0.25 --attack smoothadv --norm l2").err.find("--noise-sd is for"),
            std::string::npos);
  EXPECT_NE(smoothcuda(bad + " --noise-sd -1").err.find("noise-sd"), std::string::npos);
}

TEST(Cli, AttackOptionErrors) {
  const std::string model = fixture_dir() + "/models/lenet_28.safetensors";
  EXPECT_NE(smoothcuda("attack fake:4:1:28:28 " + model).err.find("--out DIR is required"),
            std::string::npos);
  const std::string out = " --out " + temp_path("attack_errors");
  EXPECT_NE(
      smoothcuda("attack fake:4:1:28:28 " + model + " --attack cw" + out).err.find("unknown --attack 'cw'"),
      std::string::npos);
  EXPECT_NE(smoothcuda("attack fake:4:1:28:28 " + model + " --attack smoothadv --norm linf" + out)
                .err.find("smoothadv is an l2 attack"),
            std::string::npos);
  EXPECT_NE(smoothcuda("attack fake:4:1:28:28 " + model + " --attack pgd,ddn --norm linf" + out)
                .err.find("ddn is an l2 attack"),
            std::string::npos);
  EXPECT_NE(smoothcuda("attack fake:4:1:28:28 " + model + " --attack smoothadv --smoothadv-method cw" + out)
                .err.find("--smoothadv-method must be pgd or ddn"),
            std::string::npos);
  EXPECT_NE(smoothcuda("attack fake:4:1:28:28 " + model + " --eps 8/0" + out).err.find("fraction like 8/255"),
            std::string::npos);
  EXPECT_NE(smoothcuda("attack fake:4:1:28:28 " + model + " --target 10" + out).err.find("--target 10"),
            std::string::npos);
  EXPECT_NE(smoothcuda("attack fake:4:3:32:32 " + model + out).err.find("takes 1x28x28"), std::string::npos);
  EXPECT_NE(smoothcuda("attack fake:4:1:28:28 " + model + " --attack apgd,cw" + out)
                .err.find("unknown --attack 'cw'"),
            std::string::npos);
  EXPECT_NE(smoothcuda("attack fake:4:1:28:28 " + model + " --attack pgd,smoothadv --norm l2" + out)
                .err.find("smoothadv attacks the smoothed classifier and runs alone"),
            std::string::npos);
  EXPECT_NE(smoothcuda("attack fake:4:1:28:28 " + model + " --attack pgd,square --target 1" + out)
                .err.find("--target is for fgsm or pgd alone"),
            std::string::npos);
  EXPECT_NE(
      smoothcuda("attack fake:4:1:28:28 " + model + " --attack square --p-init 2" + out).err.find("p-init"),
      std::string::npos);
  EXPECT_NE(
      smoothcuda("attack fake:4:1:28:28 " + model + " --attack apgd-t --targets 0" + out).err.find("targets"),
      std::string::npos);
}

// SmoothAdv through the command, then the smoothed classifier's verdict on its examples by `predict`.
TEST(Cli, SmoothAdvExamplesGoToPredict) {
  const std::string model = fixture_dir() + "/models/lenet_28.safetensors", dir = temp_path("smoothadv");
  CliRun r = smoothcuda("attack fake:6:1:28:28 " + model +
                        " --attack smoothadv --eps 0.5 --sigma 0.25 --m 4 "
                        "--steps 3 --batch 4 --out " +
                        dir);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto cells = summary_cells(io::read_file(dir + "/summary.md"));
  ASSERT_EQ(cells.size(), 10u) << r.out;
  EXPECT_EQ(cells[0], "smoothadv");
  EXPECT_EQ(cells[1], "l2");
  EXPECT_NEAR(std::stod(cells[8]), 0.5, 1e-4) << r.out;  // every Δ ends on the sphere
  EXPECT_NE(r.out.find("smoothcuda predict npy:"), std::string::npos);
  const std::string predictions = temp_path("predict.tsv");
  r = smoothcuda("predict npy:" + dir + "/adversarial.npy:" + dir + "/labels.npy " + model + " 0.25 " +
                 predictions + " --N 50 --batch 50");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(io::read_file(predictions)).size(), 7u);
  EXPECT_NE(smoothcuda("attack fake:6:1:28:28 " + model + " --noise-sd 0.1 --predict-N 50 --out " + dir)
                .err.find("--predict-N judges the smoothed classifier"),
            std::string::npos);

  // --predict-N runs the same PREDICT inside the attack: on the demo model and the first six Fashion-MNIST
  // test images (indices 0–5, the adversarial npy's own, so the same noise), attack.tsv's smoothed columns
  // are `predict`'s verdicts on the clean and the attacked images.
  if (!have_fashion_mnist()) GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  const std::string demo = temp_path("demo.safetensors"), judged = temp_path("judged");
  ASSERT_EQ(smoothcuda("convert " + fixture_dir() + "/../../models/lenet_fmnist_sigma0.25.pt " + demo +
                       " --dataset fashion-mnist --mean 0.2860 --std 0.3530")
                .code,
            0);
  r = smoothcuda("attack fashion-mnist " + demo +
                 " --max 6 --attack smoothadv --eps 1 --sigma 0.25 --m 4 --steps 5 --predict-N 100 --out " +
                 judged);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Cohen et al.'s PREDICT with N = 100"), std::string::npos) << r.out;
  const std::string on_clean = temp_path("clean.tsv"), on_attacked = temp_path("attacked.tsv");
  for (const auto& [data, file] :
       {std::pair{std::string("fashion-mnist --max 6"), on_clean},
        {"npy:" + judged + "/adversarial.npy:" + judged + "/labels.npy", on_attacked}})
    ASSERT_EQ(smoothcuda("predict " + data + " " + demo + " 0.25 " + file + " --N 100 --engine generic").code,
              0);
  const auto rows = lines(io::read_file(judged + "/attack.tsv")), clean = lines(io::read_file(on_clean)),
             attacked = lines(io::read_file(on_attacked));
  ASSERT_EQ(rows.size(), 7u);
  ASSERT_EQ(clean.size(), 7u);
  ASSERT_EQ(attacked.size(), 7u);
  EXPECT_EQ(tab_cells(rows[0]).back(), "smoothed_adv");
  std::set<std::string> verdicts;
  for (size_t k = 1; k < rows.size(); ++k) {
    const auto cells = tab_cells(rows[k]);
    EXPECT_EQ(cells[cells.size() - 2], tab_cells(clean[k])[2]) << rows[k] << " / " << clean[k];
    EXPECT_EQ(cells.back(), tab_cells(attacked[k])[2]) << rows[k] << " / " << attacked[k];
    verdicts.insert(cells.back()), verdicts.insert(cells[cells.size() - 2]);
  }
  EXPECT_GE(verdicts.size(), 3u) << "the comparison needs varied verdicts";
}

// Carlini et al.'s CIFAR-10 pipeline with a Hugging Face ViT behind the UNet: the ViT converted from its
// pytorch_model.bin by its own key names (the arch implies the image processor's mean and std 0.5), its
// logits by `eval` equal to transformers' own, then certified behind the denoiser, whose 32×32 outputs are
// resized to the ViT's 16×16 input.
TEST(Cli, HuggingFaceVitConvertsAndCertifiesBehindADenoiser) {
  const std::string vit = temp_path("hf_vit.safetensors");
  CliRun r =
      smoothcuda("convert " + fixture_dir() + "/checkpoints/hf_vit_tiny.bin " + vit +
                 " --arch vit --dataset cifar10 --input-shape 3,16,16 --num-classes 5 --patch 4 --dim 24 "
                 "--depth 2 --heads 3 --mlp 40");
  ASSERT_EQ(r.code, 0) << r.err;
  const io::Safetensors io = io::read_safetensors(fixture_dir() + "/checkpoints/hf_vit_tiny.io.safetensors");
  const std::string images = temp_path("vit_x.npy"), logits = temp_path("vit_logits.npy");
  io::write_npy(images, io.at("x"));
  r = smoothcuda("eval npy:" + images + " " + vit + " --out " + logits);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(allclose(io::read_npy(logits), io.at("logits"), 1e-4));
  const std::string tsv = temp_path("dds_vit.tsv");
  r = smoothcuda("certify fake:2:3:32:32 " + vit + " 0.25 " + tsv + " --denoiser " +
                 narrow_unet("vit_iddpm.safetensors") + " --N0 4 --N 16 --batch 8 --alpha 0.1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("generic engine (fp32; the generic engine runs transformers faster on the CPU)"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(lines(io::read_file(tsv)).size(), 3u);
  // The fast transformer behind the same denoiser certifies the same rows (fp32: the same math, so the same
  // counts here); only the time column may differ.
  const std::string fast_tsv = temp_path("dds_vit_fast.tsv");
  r = smoothcuda("certify fake:2:3:32:32 " + vit + " 0.25 " + fast_tsv + " --denoiser " +
                 narrow_unet("vit_iddpm.safetensors") + " --N0 4 --N 16 --batch 8 --alpha 0.1 --engine fast");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("fast transformer (fp32)"), std::string::npos) << r.err;
  const auto without_time = [](const std::string& text) {
    std::vector<std::string> rows;
    for (const std::string& line : lines(text)) rows.push_back(line.substr(0, line.rfind('\t')));
    return rows;
  };
  EXPECT_EQ(without_time(io::read_file(fast_tsv)), without_time(io::read_file(tsv)));
  // `agreement` runs the transformer on the fast engine in each precision.
  r = smoothcuda("agreement fake:2:3:16:16 " + vit + " 0.25 --skip 1 --samples 50");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(vit + " | 0.25 | 2 | 100 |"), std::string::npos) << r.out;
  // Without the denoiser, CIFAR-10's 32×32 images are not the ViT's size: a clear error.
  r = smoothcuda("certify fake:2:3:32:32 " + vit + " 0.25 " + temp_path("plain_vit.tsv") + " --N0 4 --N 16");
  EXPECT_NE(r.err.find("dataset images are [3, 32, 32] but the model expects [3, 16, 16]"), std::string::npos)
      << r.err;
}

TEST(Cli, DiffusionConvertDenoiseAndCertifyWithDenoiser) {
  const std::string unet = narrow_unet("iddpm.safetensors");
  const std::string in = temp_path("noisy.npy"), out = temp_path("clean.npy");
  io::write_npy(in, io::read_safetensors(fixture_dir() + "/checkpoints/iddpm_narrow.denoise.safetensors").at("x"));
  CliRun r = smoothcuda("denoise " + unet + " 0.25 " + in + " " + out);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("t* = 1158 of 4000"), std::string::npos) << r.out;
  EXPECT_TRUE(allclose(io::read_npy(out),
                       io::read_safetensors(fixture_dir() + "/checkpoints/iddpm_narrow.denoise.safetensors").at("out"),
                       1e-4));
  const std::string multi = temp_path("multi.npy");
  r = smoothcuda("denoise " + unet + " 0.005 " + in + " " + multi + " --multistep");  // a few steps from t*
  ASSERT_EQ(r.code, 0) << r.err;
  for (float v : io::read_npy(multi).to_float_vector())
    ASSERT_TRUE(v >= 0.0f && v <= 1.0f);
  const std::string grid = temp_path("grid.png");
  r = smoothcuda("sample " + unet + " --n 3 --steps 3 --out " + grid);
  ASSERT_EQ(r.code, 0) << r.err;
  const io::Image g = io::read_image_file(grid);
  EXPECT_EQ(g.width, 2 * 34 + 2);  // 2 columns of 32 px with 2 px gutters
  EXPECT_EQ(g.height, 2 * 34 + 2);
  const std::string tsv = temp_path("dds.tsv");
  r = smoothcuda("certify fake:2:3:32:32 " + fixture_dir() + "/models/lenet_32.safetensors 0.25 " + tsv +
                 " --denoiser " + unet + " --N0 4 --N 8 --batch 8 --alpha 0.1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(lines(io::read_file(tsv)).size(), 3u);
  // --batch auto sizes DDS batches by the memory they measure (at most Cohen's 1000; this narrow UNet needs
  // about 1.3 MB a sample, so 1000 where half the host's memory is over 1.3 GB); the rows stay the same.
  const std::string auto_tsv = temp_path("dds_auto.tsv");
  r = smoothcuda("certify fake:2:3:32:32 " + fixture_dir() + "/models/lenet_32.safetensors 0.25 " + auto_tsv +
                 " --denoiser " + unet + " --N0 4 --N 8 --batch auto --alpha 0.1");
  ASSERT_EQ(r.code, 0) << r.err;
  const size_t said = r.err.find("--batch auto: ");
  ASSERT_NE(said, std::string::npos) << r.err;
  const long chosen = std::stol(r.err.substr(said + 14));
  EXPECT_TRUE(chosen >= 1 && chosen <= 1000) << r.err;
  const auto by8 = lines(io::read_file(tsv)), by_auto = lines(io::read_file(auto_tsv));
  ASSERT_EQ(by_auto.size(), by8.size());
  for (size_t i = 0; i < by8.size(); ++i) EXPECT_EQ(without_time(by_auto[i]), without_time(by8[i])) << i;
  // DISTRO's pipeline in ood: the denoiser in front of the classifier for the scores and the smoothed
  // confidence; attacks and IBP through the UNet are refused.
  const std::string ood_dds = "ood fake:6:3:32:32 " + fixture_dir() + "/models/lenet_32.safetensors --ood " +
                              "noise=fake:4:3:32:32:uniform --denoiser " + unet +
                              " --sigma 0.25 --N 4 --batch 8 --score msp";
  r = smoothcuda(ood_dds);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("### smoothed confidence: σ = 0.25, N = 4"), std::string::npos) << r.out;
  EXPECT_NE(smoothcuda(ood_dds + " --ibp-eps 0.01").err.find("through the denoiser"), std::string::npos);
  EXPECT_NE(smoothcuda("ood fake:6:3:32:32 " + fixture_dir() + "/models/lenet_32.safetensors --ood fake:2:3:32:32 "
                       "--denoiser " + unet)
                .err.find("give --sigma"),
            std::string::npos);
  r = smoothcuda("certify fake:1:3:32:32 " + fixture_dir() + "/models/lenet_32.safetensors 0.25 " + temp_path("ds.tsv") +
                 " --denoiser " + unet + " --N0 4 --N 4 --batch 4 --alpha 0.1 --m 2 --local-noise-sd 0.26");
  ASSERT_EQ(r.code, 0) << r.err;
  // Images of another size go through the denoiser at their own size (its 3 downsamplings divide 24 and 40).
  const std::string odd = temp_path("dds_24x40.tsv");
  r = smoothcuda("certify fake:2:3:24:40 " + fixture_dir() + "/models/lenet_32.safetensors 0.25 " + odd +
                 " --denoiser " + unet + " --N0 4 --N 8 --batch 8 --alpha 0.1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("the denoiser (trained at 32x32) runs on the 24x40 images"), std::string::npos)
      << r.err;
  EXPECT_EQ(lines(io::read_file(odd)).size(), 3u);
  r = smoothcuda("certify fake:2:3:28:32 " + fixture_dir() + "/models/lenet_32.safetensors 0.25 " +
                 temp_path("dds_28.tsv") + " --denoiser " + unet + " --N0 4 --N 8 --batch 8 --alpha 0.1");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("cannot run on 28x32 images"), std::string::npos) << r.err;
}

// Salman et al.'s denoised smoothing from the command line: their DnCNN checkpoint as --denoiser (converted
// in memory by its own arch) in certify, predict and ood; each file in the other's place is refused.
TEST(Cli, CertifyWithSalmanDenoiser) {
  const std::string lenet = fixture_dir() + "/models/lenet_32.safetensors";
  const std::string dncnn = fixture_dir() + "/checkpoints/salman_cifar_dncnn.pth.tar";
  const std::string tsv = temp_path("salman.tsv");
  CliRun r = smoothcuda("certify fake:3:3:32:32 " + lenet + " 0.25 " + tsv + " --denoiser " + dncnn +
                        " --N0 8 --N 16 --batch 16 --alpha 0.1");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("network denoiser cifar_dncnn"), std::string::npos) << r.err;
  EXPECT_EQ(lines(io::read_file(tsv)).size(), 4u);
  // As a model file (smoothcuda convert), the same rows.
  const std::string file = temp_path("dncnn.safetensors"), again = temp_path("salman_again.tsv");
  ASSERT_EQ(smoothcuda("convert " + dncnn + " " + file).code, 0);
  r = smoothcuda("certify fake:3:3:32:32 " + lenet + " 0.25 " + again + " --denoiser " + file +
                 " --N0 8 --N 16 --batch 16 --alpha 0.1");
  ASSERT_EQ(r.code, 0) << r.err;
  const auto a = lines(io::read_file(tsv)), b = lines(io::read_file(again));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(without_time(a[i]), without_time(b[i])) << i;
  r = smoothcuda("predict fake:2:3:32:32 " + lenet + " 0.25 " + temp_path("salman_predict.tsv") +
                 " --denoiser " + file + " --N 16 --batch 16 --alpha 0.1");
  ASSERT_EQ(r.code, 0) << r.err;
  r = smoothcuda("ood fake:4:3:32:32 " + lenet + " --ood noise=fake:4:3:32:32:uniform --denoiser " + file +
                 " --sigma 0.25 --N 4 --batch 8 --score msp");
  ASSERT_EQ(r.code, 0) << r.err;
  r = smoothcuda("certify fake:1:3:32:32 " + lenet + " 0.25 " + temp_path("x.tsv") + " --denoiser " + lenet);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("holds the classifier 'lenet', not a denoiser"), std::string::npos) << r.err;
  r = smoothcuda("certify fake:1:3:32:32 " + lenet + " 0.25 " + temp_path("x.tsv") + " --denoiser " +
                 fixture_dir() + "/checkpoints/cohen_cifar_resnet110.pth.tar");
  EXPECT_NE(r.err.find("must name a denoiser architecture"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("names 'cifar_resnet110'"), std::string::npos) << r.err;
  r = smoothcuda("certify fake:1:3:32:32 " + file + " 0.25 " + temp_path("y.tsv"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("is the denoiser cifar_dncnn, not a classifier"), std::string::npos) << r.err;
}

// attack --denoiser: the attacks see classifier(denoiser(x)) with Salman et al.'s DnCNN in front and follow
// the gradient through both. attack.tsv's clean and adversarial predictions are the composition's, computed
// here (the losses differ from the classifier's alone); smoothadv's hint names the denoiser; ood's
// adversarial tables attack through it; a diffusion model (no backward pass here) and a classifier are
// refused.
TEST(Cli, AttackThroughADenoiser) {
  const std::string lenet = fixture_dir() + "/models/lenet_32.safetensors";
  const std::string dncnn = temp_path("dncnn.safetensors"), dir = temp_path("through");
  ASSERT_EQ(smoothcuda("convert " + fixture_dir() + "/checkpoints/salman_cifar_dncnn.pth.tar " + dncnn).code,
            0);
  // Five random images labelled 0, 1, 2, 3, 4 (the LeNet has 7 classes).
  const Tensor x = io::read_batch(*io::open_dataset("fake:5:3:32:32"), {0, 1, 2, 3, 4}, 0, 5);
  const std::string images = temp_path("through_x.npy"), labels = temp_path("through_y.npy");
  io::write_npy(images, x);
  io::write_npy(labels, Tensor::from_vector(std::vector<int64_t>{0, 1, 2, 3, 4}, {5}));
  const std::string set = "npy:" + images + ":" + labels + " ";
  CliRun r = smoothcuda("attack " + set + lenet + " --denoiser " + dncnn +
                        " --attack pgd --eps 8/255 --steps 3 --batch 3 --out " + dir);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("behind the denoiser cifar_dncnn"), std::string::npos) << r.out;
  auto classifier = load_any_model(lenet, Device::cpu(), {});
  auto denoiser = load_any_model(dncnn, Device::cpu(), {});
  auto both = denoised_network(*denoiser, *classifier);
  const Tensor clean = ops::argmax(both->forward(x));
  const Tensor found = io::read_npy(dir + "/adversarial.npy");
  const Tensor adversarial = ops::argmax(both->forward(found));
  const std::vector<int64_t> y{0, 1, 2, 3, 4};
  const std::vector<double>
      loss = attacks::loss_gradient(*both, found, attacks::cross_entropy(y), false).loss,
      alone = attacks::loss_gradient(*classifier, found, attacks::cross_entropy(y), false).loss;
  const auto rows = lines(io::read_file(dir + "/attack.tsv"));
  ASSERT_EQ(rows.size(), 6u);
  int differ = 0;
  for (size_t i = 0; i < 5; ++i) {
    const std::vector<std::string> cells = tab_cells(rows[i + 1]);
    ASSERT_EQ(cells.size(), 9u) << rows[i + 1];
    EXPECT_EQ(std::stoll(cells[2]), clean.data<int64_t>()[i]) << i;
    EXPECT_EQ(std::stoll(cells[3]), adversarial.data<int64_t>()[i]) << i;
    EXPECT_EQ(cells[4] == "1", std::stoll(cells[3]) != y[i]) << i;
    EXPECT_NEAR(std::stod(cells[7]), loss[i], 1e-5 * loss[i]) << i;
    differ += std::abs(alone[i] - loss[i]) > 1e-3 * loss[i];
  }
  EXPECT_EQ(differ, 5);  // so the losses above tell the composition from the classifier alone

  r = smoothcuda("attack " + set + lenet + " --denoiser " + dncnn +
                 " --attack smoothadv --eps 0.5 --sigma 0.25 --m 2 --steps 2 --batch 3 --out " +
                 temp_path("through_smoothadv"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("--N 1000 --denoiser " + dncnn), std::string::npos) << r.out;
  const std::string ood = "ood fake:4:3:32:32 " + lenet +
                          " --ood noise=fake:4:3:32:32:uniform --sigma 0.25 " +
                          "--N 4 --batch 8 --score msp --denoiser ";
  r = smoothcuda(ood + dncnn + " --attack-eps 0.01 --attack-steps 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("### adversarial: score msp"), std::string::npos) << r.out;
  // The guaranteed table through the denoiser: the bounds lie above the attack's scores, which lie above the
  // clean ones. At ε = 0 the bounds are the clean scores of classifier(denoiser(x)) themselves.
  r = smoothcuda(ood + dncnn + " --attack-eps 0.01 --attack-steps 2 --ibp-eps 0.01");
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string clean_table = "### score: msp\n", guaranteed_table = "### guaranteed: score msp";
  const double clean_auroc = std::stod(ood_cell(r.out, clean_table, "noise", 2)),
               attacked_auroc = std::stod(ood_cell(r.out, "### adversarial: score msp", "noise", 2)),
               guaranteed_auroc = std::stod(ood_cell(r.out, guaranteed_table, "noise", 2));
  EXPECT_LE(guaranteed_auroc, attacked_auroc) << r.out;
  EXPECT_LE(attacked_auroc, clean_auroc) << r.out;
  r = smoothcuda(ood + dncnn + " --ibp-eps 1e-9");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ood_cell(r.out, guaranteed_table, "noise", 2), ood_cell(r.out, clean_table, "noise", 2)) << r.out;

  r = smoothcuda("attack " + set + lenet + " --denoiser " + lenet + " --out " + temp_path("x"));
  EXPECT_NE(r.err.find("holds the classifier 'lenet', not a denoiser"), std::string::npos) << r.err;
  const std::string unet = narrow_unet("through_iddpm.safetensors");
  r = smoothcuda("attack " + set + lenet + " --denoiser " + unet + " --out " + temp_path("y"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("is a diffusion model, and attacks need the gradient through the denoiser"),
            std::string::npos)
      << r.err;
  r = smoothcuda(ood + unet + " --attack-eps 0.01");
  EXPECT_NE(r.err.find("the diffusion UNet does not here"), std::string::npos) << r.err;
}

// train-denoiser: Salman et al.'s denoiser training. A resumed run (Adam's moments and step counts from the
// checkpoint) ends with the same weights and log as an uninterrupted one; the stability objective trains
// through a classifier; the result certifies as --denoiser; wrong pairings are refused.
TEST(Cli, TrainDenoiserResumesAndCertifies) {
  const std::string base = "train-denoiser fake:24:1:12:12 ", a = temp_path("denoiser_a"),
                    b = temp_path("denoiser_b");
  const std::string opts =
      " --arch dncnn --input-shape 1,12,12 --depth 3 --width 8 --batch 8 --noise-sd 0.25 "
      "--seed 5 --test fake:8:1:12:12";
  const CliRun full = smoothcuda(base + a + opts + " --epochs 2");
  ASSERT_EQ(full.code, 0) << full.err;
  EXPECT_NE(full.err.find("denoiser objective=denoising optimizer=adam"), std::string::npos) << full.err;
  EXPECT_EQ(full.err.find("momentum="), std::string::npos) << full.err;  // SGD's, which Adam does not use
  const auto log = lines(io::read_file(a + "/log.tsv"));
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0], "epoch\ttime\tlr\ttrainloss\ttestloss\ttestAcc");  // train_denoiser.py's
  EXPECT_EQ(log[1].substr(log[1].size() - 3), "\tNA");
  ASSERT_EQ(smoothcuda(base + b + opts + " --epochs 1").code, 0);
  const CliRun resumed = smoothcuda(base + b + opts + " --epochs 2 --resume");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_EQ(io::read_file(b + "/model.safetensors"), io::read_file(a + "/model.safetensors"));
  const io::Safetensors model = io::read_safetensors(a + "/model.safetensors");
  EXPECT_EQ(model.metadata.at("arch"), "dncnn");
  EXPECT_EQ(model.metadata.at("denoiser.noise_sd"), "0.25");
  EXPECT_EQ(model.metadata.at("flag.depth"), "3");
  // The stability objective through a classifier of the same images, from the denoising result.
  const std::string lenet = temp_path("lenet12.safetensors");
  ModelSpec spec;
  spec.arch = "mlp", spec.num_classes = 4, spec.channels = 1, spec.height = spec.width = 12;
  auto clf = build_model(spec);
  save_model(lenet, *clf);
  const std::string c = temp_path("denoiser_c");
  const CliRun stab =
      smoothcuda(base + c + " --init " + a + "/model.safetensors --objective stability --classifier " +
                 lenet + " --noise-sd 0.25 --batch 8 --epochs 1 --lr 1e-4 --test fake:8:1:12:12");
  ASSERT_EQ(stab.code, 0) << stab.err;
  const auto stab_log = lines(io::read_file(c + "/log.tsv"));
  ASSERT_EQ(stab_log.size(), 2u);
  EXPECT_EQ(stab_log[1].find("NA"), std::string::npos) << stab_log[1];  // an accuracy this time
  // Resuming goes on with the classifier it started with (its weights, wherever the file lies), no other.
  const std::string moved = temp_path("lenet12_moved.safetensors"), other = temp_path("other12.safetensors");
  std::filesystem::copy_file(lenet, moved);
  initialize_for_training(*clf, 11);
  save_model(other, *clf);
  const std::string stab_more =
      " --objective stability --noise-sd 0.25 --batch 8 --epochs 2 --lr 1e-4 "
      "--test fake:8:1:12:12 --resume --classifier ";
  const CliRun wrong = smoothcuda(base + c + stab_more + other);
  EXPECT_NE(wrong.code, 0);
  EXPECT_NE(wrong.err.find("--resume: the checkpoint was made with options"), std::string::npos) << wrong.err;
  EXPECT_NE(wrong.err.find("classifiers=mlp@"), std::string::npos) << wrong.err;
  const CliRun same = smoothcuda(base + c + stab_more + moved);
  ASSERT_EQ(same.code, 0) << same.err;
  EXPECT_EQ(lines(io::read_file(c + "/log.tsv")).size(), 3u);
  // Surrogates: two classifiers taking turns, a third for the test column.
  const CliRun surrogates = smoothcuda(
      base + temp_path("denoiser_s") + " --init " + a +
      "/model.safetensors --objective stability --classifier " + lenet + "," + lenet + " --test-classifier " +
      lenet + " --noise-sd 0.25 --batch 8 --epochs 1 --lr 1e-4 --test fake:8:1:12:12");
  ASSERT_EQ(surrogates.code, 0) << surrogates.err;
  EXPECT_NE(
      smoothcuda(base + temp_path("denoiser_t") + opts + " --objective stability --classifier " + lenet + ",")
          .err.find("empty item"),
      std::string::npos);
  const CliRun cert =
      smoothcuda("certify fake:2:1:12:12 " + lenet + " 0.25 " + temp_path("dn.tsv") + " --denoiser " + c +
                 "/model.safetensors --N0 4 --N 8 --batch 8 --alpha 0.1");
  ASSERT_EQ(cert.code, 0) << cert.err;
  // Salman et al.'s other denoiser, MemNet, narrowed by its flags: trained, then in front of the classifier.
  const std::string memnet = temp_path("memnet");
  const CliRun mem =
      smoothcuda(base + memnet +
                 " --arch memnet --input-shape 1,12,12 --width 4 --memory-blocks 2 "
                 "--residual-blocks 1 --batch 8 --noise-sd 0.25 --epochs 1 --test fake:8:1:12:12");
  ASSERT_EQ(mem.code, 0) << mem.err;
  const io::Safetensors mem_model = io::read_safetensors(memnet + "/model.safetensors");
  EXPECT_EQ(mem_model.metadata.at("arch"), "memnet");
  EXPECT_EQ(mem_model.metadata.at("flag.memory_blocks"), "2");
  EXPECT_EQ(mem_model.metadata.at("flag.residual_blocks"), "1");
  EXPECT_EQ(mem_model.at("dense_memory.1.gate_unit.conv.weight").shape(),
            Shape({4, 12, 1, 1}));  // (1 + 2) × 4 in
  const CliRun mem_cert = smoothcuda("certify fake:2:1:12:12 " + lenet + " 0.25 " + temp_path("mem.tsv") +
                                     " --denoiser " + memnet + "/model.safetensors --N0 4 --N 8 --batch 8");
  ASSERT_EQ(mem_cert.code, 0) << mem_cert.err;
  EXPECT_NE(mem_cert.err.find("network denoiser memnet"), std::string::npos) << mem_cert.err;
  EXPECT_NE(smoothcuda(base + temp_path("denoiser_d") + opts + " --objective stability")
                .err.find("give --classifier"),
            std::string::npos);
  EXPECT_NE(smoothcuda(base + temp_path("denoiser_e") + opts + " --classifier " + lenet)
                .err.find("uses no classifier"),
            std::string::npos);
  EXPECT_NE(smoothcuda(base + temp_path("denoiser_f") + " --arch mlp --input-shape 1,12,12 --noise-sd 0.25")
                .err.find("is not a denoiser"),
            std::string::npos);
  EXPECT_NE(smoothcuda(base + temp_path("denoiser_g") + " --arch dncnn --input-shape 1,12,12")
                .err.find("--noise-sd"),
            std::string::npos);
  EXPECT_NE(
      smoothcuda(base + temp_path("denoiser_h") + opts + " --optimizer rmsprop").err.find("adam or sgd"),
      std::string::npos);
  EXPECT_NE(
      smoothcuda("train fake:24:1:12:12 " + temp_path("denoiser_i") + " --init " + a + "/model.safetensors")
          .err.find("train it with `smoothcuda train-denoiser`"),
      std::string::npos);
}

// agreement: the share of noisy samples on which tf32, bf16 and fp16 give fp32's label, for classifiers (one
// built to disagree) and for DDS (the denoiser in each precision too, on 24×40 images); splitting the samples
// into batches changes nothing (the noise is indexed per sample).
TEST(Cli, AgreementOfReducedPrecisions) {
  auto percentages = [](const std::string& out) {  // the table's row: | model | σ | images | samples | 3 × %
    const std::vector<std::string> rows = lines(out);
    std::vector<double> p;
    if (rows.size() != 3) return p;
    std::string cell;
    std::istringstream row(rows[2]);
    int column = 0;
    while (std::getline(row, cell, '|'))
      if (++column >= 6 && column <= 8) p.push_back(std::stod(cell));
    return p;
  };
  const std::string lenet = fixture_dir() + "/models/lenet_32.safetensors";
  CliRun r = smoothcuda("agreement fake:3:3:32:32 " + lenet + " 0.25 --skip 1 --samples 200");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("| 0.25 | 3 | 600 |"), std::string::npos) << r.out;
  std::vector<double> p = percentages(r.out);
  ASSERT_EQ(p.size(), 3u) << r.out;
  for (double v : p) EXPECT_TRUE(v >= 90.0 && v <= 100.0) << r.out;

  // A LeNet built to disagree: fc2's units 0 and 1 differ by 1e-5 of their weights (both kept positive by a
  // bias of 10) and the head reads unit 0 as class 0 and unit 1 as class 1, all else far below. In fp32 the
  // sign of that tiny difference picks the class; tf32 weights and bf16/fp16 activations round it away or
  // past it (agreement about 56%, 0% and 0.5% here). The table's shares must be those counted here, sample
  // by sample, with the fast classifier in each precision.
  const std::string tied = temp_path("agreement_tied_lenet.safetensors");
  auto model = random_classifier("lenet", 3, 32, 10, 12);
  StateDict weights = state_dict(*model);
  for (auto& [key, t] : weights) {
    float* v = t.data<float>();
    if (key == "fc2.weight") {  // [84, 120]: row 1 = row 0 · (1 + 1e-5 · noise)
      const std::vector<float> r = randn({120}, 21).to_float_vector();
      for (int64_t j = 0; j < 120; ++j) v[120 + j] = v[j] * (1.0f + 1e-5f * r[static_cast<size_t>(j)]);
    }
    if (key == "fc2.bias") v[0] = v[1] = 10.0f;
    if (key == "fc3.weight")  // [10, 84]
      for (int64_t i = 0; i < 10 * 84; ++i) v[i] = i == 0 || i == 84 + 1 ? 100.0f : 0.0f;
    if (key == "fc3.bias")
      for (int64_t i = 0; i < 10; ++i) v[i] = i < 2 ? 0.0f : -1e4f;
  }
  load_state_dict(*model, weights, "tied lenet");
  save_model(tied, *model);
  r = smoothcuda("agreement fake:3:3:32:32 " + tied + " 0.25 --skip 1 --samples 200 --batch 128 --seed 5");
  ASSERT_EQ(r.code, 0) << r.err;
  p = percentages(r.out);
  ASSERT_EQ(p.size(), 3u) << r.out;
  const Plan plan = build_plan(*model);
  auto data = io::open_dataset("fake:3:3:32:32");
  int64_t agree[3] = {0, 0, 0};
  for (int64_t i = 0; i < 3; ++i) {
    NoisyInput in;
    in.images = Tensor::empty({1, 3, 32, 32});
    data->read_image(i, in.images.data<float>());
    in.sigma = 0.25f, in.seed = 5, in.phase = noise::kEstimation;
    in.spans = {SampleSpan{200, 0, static_cast<uint32_t>(i), 0}};
    const Tensor ref = FastClassifier(*model, plan, Precision::FP32).predict_noisy_labels(in);
    const Precision reduced[] = {Precision::TF32, Precision::BF16, Precision::FP16};
    for (int k = 0; k < 3; ++k) {
      const Tensor got = FastClassifier(*model, plan, reduced[k]).predict_noisy_labels(in);
      for (int64_t s = 0; s < 200; ++s) agree[k] += got.data<int64_t>()[s] == ref.data<int64_t>()[s];
    }
  }
  for (int k = 0; k < 3; ++k) EXPECT_NEAR(p[static_cast<size_t>(k)], 100.0 * agree[k] / 600.0, 1e-4) << r.out;
  for (int k = 0; k < 3; ++k) EXPECT_LT(p[static_cast<size_t>(k)], 99.0) << r.out;  // they really disagree

  const std::string unet = narrow_unet("agreement_iddpm.safetensors");
  const std::string dds =
      "agreement fake:2:3:24:40 " + lenet + " 0.25 --skip 1 --samples 7 --denoiser " + unet;
  r = smoothcuda(dds + " --batch 3");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(unet + " + " + lenet + " | 0.25 | 2 | 14 |"), std::string::npos) << r.out;
  p = percentages(r.out);
  ASSERT_EQ(p.size(), 3u) << r.out;
  for (double v : p) EXPECT_TRUE(v >= 50.0 && v <= 100.0) << r.out;
  CliRun whole = smoothcuda(dds);
  ASSERT_EQ(whole.code, 0) << whole.err;
  EXPECT_EQ(whole.out, r.out);
  r = smoothcuda("agreement fake:2:3:28:32 " + lenet + " 0.25 --denoiser " + unet);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("cannot run on 28x32 images"), std::string::npos) << r.err;
}

// bench-certify on the CPU with a random denoiser whose flags hold lists (channel_mult=1,2): the saved
// denoiser has those flags and loads; it runs on the 12×12 samples of --input-shape.
TEST(Cli, BenchCertifyTakesListFlagsForItsDenoiser) {
  const std::string unet = temp_path("bench_unet.safetensors");
  CliRun r = smoothcuda(
      "bench-certify --device cpu --arch linear --input-shape 1,12,12 --num-classes 3 --samples 8 --batch 4 "
      "--N0 4 --N 8 --denoiser-arch adm_unet --denoiser-flags image_size=8,num_channels=32,num_res_blocks=1,"
      "channel_mult=1,2,attention_resolutions=8,4,learn_sigma=False,in_channels=1 --save-denoiser " +
      unet);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("the denoiser (trained at 8x8) runs on the 12x12 images"), std::string::npos) << r.err;
  const io::Safetensors st = io::read_safetensors(unet);
  EXPECT_EQ(st.metadata.at("flag.channel_mult"), "1,2");
  EXPECT_EQ(st.metadata.at("flag.attention_resolutions"), "8,4");
  EXPECT_EQ(st.metadata.at("flag.in_channels"), "1");
  r = smoothcuda("bench-certify --device cpu --denoiser-arch adm_unet --denoiser-flags ,image_size=8");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--denoiser-flags: expected key=value, got ''"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sc::test
