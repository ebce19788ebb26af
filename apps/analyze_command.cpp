// smoothcuda analyze FILE...: certified accuracy tables (Markdown, LaTeX) and an SVG plot.
#include <cstdio>
#include <filesystem>

#include "apps/args.h"
#include "apps/commands.h"
#include "io/file_util.h"
#include "nn/error.h"
#include "nn/parse_number.h"
#include "smoothing/analysis.h"

namespace sc::app {

int analyze_command(int argc, char** argv) {
  Args args(
      "analyze",
      "Certified accuracy at each radius (correct and radius >= r; abstentions count as wrong), clean "
      "accuracy, abstention rate and average certified radius of certify outputs (smoothcuda's or Cohen et "
      "al.'s own TSVs). Prints a Markdown table; with --out also writes table.md, table.tex and "
      "certified_accuracy.svg there.");
  args.repeated_positional("FILE", "certify output (TSV); more files may follow")
      .option("radii", "0:2:0.25", "radii START:STOP:STEP or a,b,c")
      .option("out", "", "folder for table.md, table.tex and certified_accuracy.svg")
      .option("high-prob", "",
              "ALPHA,RHO: also the certified accuracy that holds with probability >= 1 - RHO when each "
              "certificate is wrong with probability <= ALPHA (the --alpha of certify), as Cohen et al.'s "
              "HighProbAccuracy; printed after the table and added to table.md")
      .flag("envelope",
            "add the outer envelope of the files (runs on the same images, e.g. one per sigma): the best "
            "certified accuracy of any of them at each radius, as Cohen et al. and Salman et al. compare");
  if (!args.parse(argc, argv, 2)) return 0;
  const std::vector<std::string>& files = args.get_all("FILE");
  const std::vector<double> radii = parse_radii(args.get("radii"));
  std::vector<CertifyResults> results;
  for (const auto& f : files) results.push_back(read_certify_tsv(f));
  const bool envelope = args.has_flag("envelope");
  std::string md = markdown_table(results, radii, envelope);
  if (!args.get("high-prob").empty()) {
    const auto v = parse_double_list(args.get("high-prob"));
    SC_CHECK(v && v->size() == 2 && (*v)[0] > 0 && (*v)[0] < 1 && (*v)[1] > 0 && (*v)[1] < 1,
             "--high-prob: expected ALPHA,RHO, both in (0, 1), got '", args.get("high-prob"), "'");
    md += "\n" + high_probability_table(results, radii, (*v)[0], (*v)[1]);
  }
  std::fputs(md.c_str(), stdout);
  for (const auto& r : results)
    std::printf("%s: clean accuracy of g %.3f, abstention rate %.3f, average certified radius %.3f\n",
                r.name.c_str(), certified_accuracy(r, 0.0), abstention_rate(r), average_certified_radius(r));
  if (!args.get("out").empty()) {
    const std::string dir = args.get("out");
    std::filesystem::create_directories(dir);
    io::write_file_atomic(dir + "/table.md", md);
    io::write_file_atomic(dir + "/table.tex", latex_table(results, radii, envelope));
    io::write_file_atomic(dir + "/certified_accuracy.svg",
                          certified_accuracy_svg(results, radii.back(), envelope));
    std::printf("wrote %s/table.md, table.tex, certified_accuracy.svg\n", dir.c_str());
  }
  return 0;
}

}  // namespace sc::app
