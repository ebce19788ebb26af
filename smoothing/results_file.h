// Result files in Cohen et al.'s TSV format: a header line, then one row per image, each flushed as it is
// written. Resuming keeps every complete row, drops a torn last line, and reports the last index written.
#pragma once
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace sc {

// Python's format(x, '.3') (Cohen's radius column): 3 significant digits, repr-style (0.0, 1.23, 1e+02, 2.5e-07).
std::string format_3g(double x);
// Python's str(datetime.timedelta(seconds=s)): "H:MM:SS" or "H:MM:SS.ffffff", with "D day(s), " in front.
std::string format_timedelta(double seconds);

class ResultsFile {
 public:
  // Opens `path` for writing rows under `header` (tab-separated column names). With resume, an existing file
  // keeps its complete rows (the header must match); without it, a file with rows is refused unless overwrite.
  ResultsFile(const std::string& path, const std::string& header, bool resume, bool overwrite);
  ~ResultsFile();
  ResultsFile(const ResultsFile&) = delete;
  ResultsFile& operator=(const ResultsFile&) = delete;

  // The idx of the last complete row kept on resume (−1 when there is none).
  int64_t last_index() const { return last_index_; }
  int64_t rows_kept() const { return rows_kept_; }
  void write_row(const std::string& row);  // row without newline; flushed to disk

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  int64_t last_index_ = -1, rows_kept_ = 0;
};

// Joins the files of one run split by certify/predict --shard into one file of that run's rows: every part
// has the same header and complete rows only (a torn last line means the part was interrupted: finish it
// with --resume first), no image index stands in two parts, and the rows come out sorted by index. An
// existing `path` that holds rows is refused unless overwrite; the file is written whole, then renamed into
// place. Returns the number of rows.
int64_t merge_results(const std::vector<std::string>& parts, const std::string& path, bool overwrite);

}  // namespace sc
