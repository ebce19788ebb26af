#include "smoothing/results_file.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "io/file_util.h"
#include "nn/error.h"

namespace sc {

std::string format_3g(double x) {
  SC_CHECK(std::isfinite(x), "format_3g: not a finite number");
  if (x == 0) return std::signbit(x) ? "-0.0" : "0.0";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2e", x);  // correctly rounded to 3 significant digits
  const int exp = std::atoi(std::strchr(buf, 'e') + 1);
  std::string s;
  if (exp < -4 || exp >= 2) {  // Python's repr style switches to exponent notation at exp >= precision - 1
    std::string mant(buf, std::strchr(buf, 'e'));
    while (mant.back() == '0') mant.pop_back();
    if (mant.back() == '.') mant.pop_back();
    char e[16];
    std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return mant + e;
  }
  std::snprintf(buf, sizeof buf, "%.*f", 2 - exp, x);
  s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s += '0';
  } else {
    s += ".0";
  }
  return s;
}

std::string format_timedelta(double seconds) {
  // timedelta rounds the fractional second to whole microseconds, ties to even (splitting off the whole
  // seconds first, as CPython does, so that the rounding sees the fraction at full precision).
  const double whole = std::floor(seconds);
  const long long us = static_cast<long long>(whole) * 1000000LL + std::llrint((seconds - whole) * 1e6);
  const long long day_us = 86400LL * 1000000LL;
  long long days = us / day_us, rest = us % day_us;
  if (rest < 0) rest += day_us, days -= 1;
  const long long secs = rest / 1000000, micro = rest % 1000000;
  char buf[96];
  int n = 0;
  if (days != 0) n = std::snprintf(buf, sizeof buf, "%lld day%s, ", days, std::llabs(days) == 1 ? "" : "s");
  n += std::snprintf(buf + n, sizeof buf - n, "%lld:%02lld:%02lld", secs / 3600, secs / 60 % 60, secs % 60);
  if (micro) std::snprintf(buf + n, sizeof buf - n, ".%06lld", micro);
  return buf;
}

namespace {

// The idx of a row (its first column), or none.
bool row_index(const std::string& row, long long& idx) {
  char* end = nullptr;
  idx = std::strtoll(row.c_str(), &end, 10);
  return end != row.c_str() && *end == '\t';
}

// Refuses to replace a file that holds rows (more than a header line) unless overwrite; `remedy` says how.
void check_writable(const std::string& path, bool overwrite, const char* remedy) {
  namespace fs = std::filesystem;
  if (overwrite || !fs::exists(path) || fs::file_size(path) == 0) return;
  const std::string content = io::read_file(path);
  SC_CHECK(content.find('\n') == std::string::npos || content.find('\n') + 1 >= content.size(), "'", path,
           "' already holds results: ", remedy);
}

}  // namespace

ResultsFile::ResultsFile(const std::string& path, const std::string& header, bool resume, bool overwrite)
    : path_(path) {
  namespace fs = std::filesystem;
  const bool exists = fs::exists(path);
  if (exists && resume) {
    std::string content = io::read_file(path);
    const size_t last_newline = content.rfind('\n');
    if (last_newline == std::string::npos) {
      content.clear();  // not even a complete header: start afresh
    } else {
      content.resize(last_newline + 1);  // drop a torn last line
      const size_t header_end = content.find('\n');
      SC_CHECK(content.substr(0, header_end) == header, "cannot resume '", path, "': its header is '",
               content.substr(0, header_end), "', expected '", header, "'");
      for (size_t p = header_end + 1; p < content.size();) {
        const size_t e = content.find('\n', p);
        const std::string row = content.substr(p, e - p);
        long long idx = 0;
        SC_CHECK(row_index(row, idx), "cannot resume '", path, "': malformed row '", row, "'");
        last_index_ = idx;
        ++rows_kept_;
        p = e + 1;
      }
    }
    fs::resize_file(path, content.size());
    f_ = std::fopen(path.c_str(), "ab");
    SC_CHECK(f_, "cannot open '", path, "' for appending: ", std::strerror(errno));
    if (content.empty()) write_row(header);
    return;
  }
  check_writable(path, overwrite, "pass --resume to continue it or --overwrite to replace it");
  f_ = std::fopen(path.c_str(), "wb");
  SC_CHECK(f_, "cannot write '", path, "': ", std::strerror(errno));
  write_row(header);
}

ResultsFile::~ResultsFile() {
  if (f_) std::fclose(f_);
}

void ResultsFile::write_row(const std::string& row) {
  const std::string line = row + "\n";
  SC_CHECK(std::fwrite(line.data(), 1, line.size(), f_) == line.size() && std::fflush(f_) == 0,
           "error writing '", path_, "': ", std::strerror(errno));
  fsync(fileno(f_));
}

int64_t merge_results(const std::vector<std::string>& parts, const std::string& path, bool overwrite) {
  namespace fs = std::filesystem;
  SC_CHECK(!parts.empty(), "merge: no parts to join");
  struct Row {
    long long idx;
    size_t part;
    std::string text;
  };
  std::string header;
  std::vector<Row> rows;
  for (size_t k = 0; k < parts.size(); ++k) {
    const std::string& part = parts[k];
    const std::string content = io::read_file(part);
    SC_CHECK(!fs::exists(path) || !fs::equivalent(part, path), "merge: the output '", path,
             "' is also one of the parts");
    const size_t header_end = content.find('\n');
    SC_CHECK(header_end != std::string::npos, "merge: '", part, "' has no header line");
    const std::string h = content.substr(0, header_end);
    SC_CHECK(h.rfind("idx\t", 0) == 0, "merge: '", part, "' is not a certify or predict output (header '", h,
             "')");
    if (k == 0) header = h;
    SC_CHECK(h == header, "merge: '", part, "' has the header '", h, "', '", parts[0], "' has '", header,
             "'");
    SC_CHECK(content.back() == '\n', "merge: '", part,
             "' ends in a torn row (the run was interrupted): finish it with --resume first");
    for (size_t p = header_end + 1; p < content.size();) {
      const size_t e = content.find('\n', p);
      Row row{0, k, content.substr(p, e - p)};
      SC_CHECK(row_index(row.text, row.idx), "merge: malformed row '", row.text, "' in '", part, "'");
      rows.push_back(std::move(row));
      p = e + 1;
    }
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.idx < b.idx; });
  for (size_t r = 1; r < rows.size(); ++r)
    SC_CHECK(rows[r].idx != rows[r - 1].idx, "merge: image ", rows[r].idx, " stands in both '",
             parts[rows[r - 1].part], "' and '", parts[rows[r].part], "'");
  check_writable(path, overwrite, "pass --overwrite to replace it");
  std::string out = header + "\n";
  for (const Row& row : rows) out += row.text + "\n";
  io::write_file_atomic(path, out);
  return static_cast<int64_t>(rows.size());
}

}  // namespace sc
