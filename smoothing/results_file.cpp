#include "smoothing/results_file.h"

#include <unistd.h>

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
        char* end = nullptr;
        const long long idx = std::strtoll(row.c_str(), &end, 10);
        SC_CHECK(end != row.c_str() && *end == '\t', "cannot resume '", path, "': malformed row '", row, "'");
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
  if (exists && !overwrite && fs::file_size(path) > 0) {
    const std::string content = io::read_file(path);
    SC_CHECK(content.find('\n') == std::string::npos || content.find('\n') + 1 >= content.size(), "'", path,
             "' already holds results: pass --resume to continue it or --overwrite to replace it");
  }
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

}  // namespace sc
