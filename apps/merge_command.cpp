// smoothcuda merge OUTFILE PART...: the files of a certification (or prediction) split by --shard, joined
// into the rows of one run, sorted by image index, for analyze and Cohen et al.'s scripts.
#include <cstdio>

#include "apps/args.h"
#include "apps/commands.h"
#include "smoothing/results_file.h"

namespace sc::app {

int merge_command(int argc, char** argv) {
  Args args("merge",
            "Joins the output files of certify (or predict) runs split with --shard K/N into one file with "
            "the rows of a single run, sorted by image index. Every part must have the same header and no "
            "torn last row (finish an interrupted part with --resume first); an image in two parts is an "
            "error.");
  args.positional("OUTFILE", "the joined TSV")
      .repeated_positional("PART", "a part's TSV; more parts may follow")
      .flag("overwrite", "replace an existing OUTFILE that holds results");
  if (!args.parse(argc, argv, 2)) return 0;
  const std::vector<std::string>& parts = args.get_all("PART");
  const int64_t rows = merge_results(parts, args.get("OUTFILE"), args.has_flag("overwrite"));
  std::fprintf(stderr, "merge: %lld rows from %zu parts -> %s\n", static_cast<long long>(rows), parts.size(),
               args.get("OUTFILE").c_str());
  return 0;
}

}  // namespace sc::app
