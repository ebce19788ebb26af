#include "smoothing/analysis.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "io/file_util.h"
#include "io/svg_plot.h"
#include "nn/error.h"
#include "nn/parse_number.h"

namespace sc {

namespace {
std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t p = 0;
  for (;;) {
    const size_t e = line.find('\t', p);
    out.push_back(line.substr(p, e == std::string::npos ? std::string::npos : e - p));
    if (e == std::string::npos) return out;
    p = e + 1;
  }
}

std::string fixed(double v, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

// A radius for a column header: at least two decimals, up to three (0.125 stays 0.125).
std::string radius_label(double r) {
  std::string s = fixed(r, 3);
  if (s.back() == '0') s.pop_back();
  return s;
}

// Whether file f has the best (maximal) value in column r (ties all marked; nothing marked when all files tie).
std::vector<std::vector<bool>> best_marks(const std::vector<std::vector<double>>& values) {
  std::vector<std::vector<bool>> best(values.size(), std::vector<bool>(values.empty() ? 0 : values[0].size()));
  for (size_t r = 0; !values.empty() && r < values[0].size(); ++r) {
    double m = -1, lo = 2;
    for (const auto& v : values) m = std::max(m, v[r]), lo = std::min(lo, v[r]);
    for (size_t f = 0; f < values.size(); ++f) best[f][r] = values.size() > 1 && m > lo && values[f][r] == m;
  }
  return best;
}
}  // namespace

CertifyResults read_certify_tsv(const std::string& path) {
  std::istringstream in(io::read_file(path));
  CertifyResults r;
  r.name = path.substr(path.find_last_of('/') + 1);
  std::string line;
  SC_CHECK(std::getline(in, line), "'", path, "' is empty");
  const auto header = split_tabs(line);
  std::map<std::string, size_t> col;
  for (size_t i = 0; i < header.size(); ++i) col[header[i]] = i;
  for (const char* need : {"idx", "label", "predict", "radius", "correct"})
    SC_CHECK(col.count(need), "'", path, "': no '", need, "' column (a certify output has idx label predict radius "
             "correct time)");
  int64_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const auto f = split_tabs(line);
    SC_CHECK(f.size() >= header.size(), "'", path, "' line ", line_no, ": ", f.size(), " fields, expected ",
             header.size());
    const auto idx = parse_int64(f[col["idx"]]), label = parse_int64(f[col["label"]]),
               prediction = parse_int64(f[col["predict"]]), correct = parse_int64(f[col["correct"]]);
    const auto radius = parse_double(f[col["radius"]]);
    SC_CHECK(idx && label && prediction && correct && radius, "'", path, "' line ", line_no,
             ": malformed row '", line, "'");
    CertifyRow row;
    row.idx = *idx;
    row.label = *label;
    row.prediction = *prediction;
    row.radius = *radius;
    row.correct = *correct != 0;
    r.rows.push_back(row);
  }
  SC_CHECK(!r.rows.empty(), "'", path, "' has no rows");
  return r;
}

double certified_accuracy(const CertifyResults& r, double radius) {
  int64_t n = 0;
  for (const auto& row : r.rows) n += row.correct && row.radius >= radius;
  return static_cast<double>(n) / static_cast<double>(r.rows.size());
}

double abstention_rate(const CertifyResults& r) {
  int64_t n = 0;
  for (const auto& row : r.rows) n += row.prediction == -1;
  return static_cast<double>(n) / static_cast<double>(r.rows.size());
}

std::vector<double> parse_radii(const std::string& spec) {
  const std::string usage = "--radii '" + spec + "': expected START:STOP:STEP or a,b,c (at most 1000 radii)";
  auto numbers = [&](char sep) {
    const auto v = parse_double_list(spec, sep);
    SC_CHECK(v && std::all_of(v->begin(), v->end(), [](double x) { return std::isfinite(x); }), usage);
    return *v;
  };
  std::vector<double> out;
  if (spec.find(':') != std::string::npos) {
    const std::vector<double> v = numbers(':');
    SC_CHECK(v.size() == 3 && v[2] > 0 && v[1] >= v[0], usage);
    // The count first: a tiny step must not generate millions of radii before the limit is checked.
    const double steps = std::floor((v[1] - v[0]) / v[2] + 1e-9);
    SC_CHECK(steps < 1000, usage);
    for (int64_t k = 0; k <= static_cast<int64_t>(steps); ++k)
      out.push_back(v[0] + static_cast<double>(k) * v[2]);
  } else {
    out = numbers(',');
  }
  SC_CHECK(!out.empty() && out.size() <= 1000, usage);
  return out;
}

double average_certified_radius(const CertifyResults& r) {
  double sum = 0;
  for (const auto& row : r.rows) sum += row.correct ? row.radius : 0.0;
  return sum / static_cast<double>(r.rows.size());
}

// Per file: the certified accuracy at each radius, then the ACR (the tables mark the best of each column).
std::vector<std::vector<double>> table_values(const std::vector<CertifyResults>& files,
                                              const std::vector<double>& radii) {
  std::vector<std::vector<double>> v;
  for (const auto& f : files) {
    v.emplace_back();
    for (double r : radii) v.back().push_back(certified_accuracy(f, r));
    v.back().push_back(average_certified_radius(f));
  }
  return v;
}

std::vector<double> certified_accuracy_envelope(const std::vector<CertifyResults>& files,
                                                const std::vector<double>& radii) {
  SC_CHECK(!files.empty(), "the envelope needs at least one certify file");
  std::vector<double> best(radii.size(), 0.0);
  for (const auto& f : files)
    for (size_t r = 0; r < radii.size(); ++r) best[r] = std::max(best[r], certified_accuracy(f, radii[r]));
  return best;
}

double high_probability_accuracy(const CertifyResults& r, double radius, double alpha, double rho) {
  SC_CHECK(alpha > 0 && alpha < 1 && rho > 0 && rho < 1,
           "high-probability accuracy: alpha and rho must lie in (0, 1), got ", alpha, " and ", rho);
  SC_CHECK(!r.rows.empty(), "high-probability accuracy: ", r.name, " has no rows");
  const auto n = static_cast<double>(r.rows.size());
  const double log_term = std::log(1.0 / rho);
  return certified_accuracy(r, radius) - alpha - std::sqrt(alpha * (1.0 - alpha) * log_term / n) -
         log_term / (3.0 * n);
}

std::string high_probability_table(const std::vector<CertifyResults>& files, const std::vector<double>& radii,
                                   double alpha, double rho) {
  std::ostringstream o;
  o << "| file (with probability >= " << fixed(1.0 - rho, 4) << ", alpha " << alpha << ") | n |";
  for (double r : radii) o << " r = " << radius_label(r) << " |";
  o << "\n|---|---:|";
  for (size_t i = 0; i < radii.size(); ++i) o << "---:|";
  o << "\n";
  for (const auto& f : files) {
    o << "| " << f.name << " | " << f.rows.size() << " |";
    for (double r : radii) o << " " << fixed(high_probability_accuracy(f, r, alpha, rho), 3) << " |";
    o << "\n";
  }
  return o.str();
}

std::string markdown_table(const std::vector<CertifyResults>& files, const std::vector<double>& radii,
                           bool envelope) {
  const std::vector<std::vector<double>> v = table_values(files, radii);
  const auto best = best_marks(v);
  const size_t acr = radii.size();
  std::ostringstream o;
  o << "| file | n |";
  for (double r : radii) o << " r = " << radius_label(r) << " |";
  o << " abstain | ACR |\n|---|---:|";
  for (size_t i = 0; i < radii.size(); ++i) o << "---:|";
  o << "---:|---:|\n";
  for (size_t f = 0; f < files.size(); ++f) {
    o << "| " << files[f].name << " | " << files[f].rows.size() << " |";
    for (size_t r = 0; r < radii.size(); ++r)
      o << " " << (best[f][r] ? "**" : "") << fixed(v[f][r], 3) << (best[f][r] ? "**" : "") << " |";
    o << " " << fixed(abstention_rate(files[f]), 3) << " | " << (best[f][acr] ? "**" : "")
      << fixed(v[f][acr], 3) << (best[f][acr] ? "**" : "") << " |\n";
  }
  if (envelope) {
    size_t fewest = files[0].rows.size(), most = fewest;
    for (const auto& f : files)
      fewest = std::min(fewest, f.rows.size()), most = std::max(most, f.rows.size());
    o << "| envelope (the best file at each radius) | " << fewest;
    if (most > fewest) o << "–" << most;
    o << " |";
    for (double a : certified_accuracy_envelope(files, radii)) o << " " << fixed(a, 3) << " |";
    o << " - | - |\n";
  }
  return o.str();
}

std::string latex_table(const std::vector<CertifyResults>& files, const std::vector<double>& radii,
                        bool envelope) {
  const std::vector<std::vector<double>> v = table_values(files, radii);
  const auto best = best_marks(v);
  auto tex = [](const std::string& s) {
    std::string o;
    for (char c : s) o += (c == '_' || c == '%' || c == '&' || c == '#') ? std::string("\\") + c : std::string(1, c);
    return o;
  };
  std::ostringstream o;
  o << "\\begin{tabular}{l" << std::string(radii.size() + 1, 'c') << "}\n\\toprule\n & ";
  for (size_t r = 0; r < radii.size(); ++r) o << "$r = " << radius_label(radii[r]) << "$ & ";
  o << "ACR \\\\\n\\midrule\n";
  for (size_t f = 0; f < files.size(); ++f) {
    o << tex(files[f].name);
    for (size_t c = 0; c <= radii.size(); ++c)  // the accuracies to 2 decimals, the ACR to 3
      o << " & " << (best[f][c] ? "\\textbf{" : "") << fixed(v[f][c], c < radii.size() ? 2 : 3)
        << (best[f][c] ? "}" : "");
    o << " \\\\\n";
  }
  if (envelope) {
    o << "\\midrule\nenvelope";
    for (double a : certified_accuracy_envelope(files, radii)) o << " & " << fixed(a, 2);
    o << " & - \\\\\n";
  }
  o << "\\bottomrule\n\\end{tabular}\n";
  return o.str();
}

std::string certified_accuracy_svg(const std::vector<CertifyResults>& files, double max_radius,
                                   bool envelope) {
  std::vector<double> radii;
  for (int i = 0; i <= 400; ++i) radii.push_back(max_radius * i / 400.0);
  std::vector<io::Series> series;
  for (const auto& f : files) {
    io::Series s;
    s.name = f.name;
    s.x = radii;
    for (double r : radii) s.y.push_back(certified_accuracy(f, r));
    series.push_back(std::move(s));
  }
  if (envelope) series.push_back(io::Series{"envelope", radii, certified_accuracy_envelope(files, radii)});
  io::PlotSpec p;
  p.title = "Certified accuracy of the smoothed classifier";
  p.x_label = "radius (l2)";
  p.y_label = "certified accuracy";
  p.x_max = max_radius;
  return io::svg_line_plot(p, series);
}

}  // namespace sc
