#include "io/svg_plot.h"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace sc::io {

namespace {
std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else o += c;
  }
  return o;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

// A "nice" tick step (1, 2 or 5 × 10^k) giving about `n` ticks over the range.
double tick_step(double range, int n) {
  const double raw = range / n, mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * mag) return m * mag;
  return 10 * mag;
}
}  // namespace

std::string svg_line_plot(const PlotSpec& p, const std::vector<Series>& series) {
  const double W = 640, H = 420, L = 70, R = 20, T = 40, B = 60;
  const double pw = W - L - R, ph = H - T - B;
  auto sx = [&](double x) { return L + (x - p.x_min) / (p.x_max - p.x_min) * pw; };
  auto sy = [&](double y) { return T + ph - (y - p.y_min) / (p.y_max - p.y_min) * ph; };
  static const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  std::ostringstream o;
  o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" viewBox=\"0 0 " << W
    << " " << H << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  o << "<text x=\"" << W / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" << escape(p.title) << "</text>\n";
  const double xs = tick_step(p.x_max - p.x_min, 8), ys = tick_step(p.y_max - p.y_min, 5);
  for (double x = std::ceil(p.x_min / xs) * xs; x <= p.x_max + 1e-9; x += xs) {
    o << "<line x1=\"" << sx(x) << "\" y1=\"" << T << "\" x2=\"" << sx(x) << "\" y2=\"" << T + ph
      << "\" stroke=\"#e0e0e0\"/>\n";
    o << "<text x=\"" << sx(x) << "\" y=\"" << T + ph + 18 << "\" text-anchor=\"middle\">" << num(x) << "</text>\n";
  }
  for (double y = std::ceil(p.y_min / ys) * ys; y <= p.y_max + 1e-9; y += ys) {
    o << "<line x1=\"" << L << "\" y1=\"" << sy(y) << "\" x2=\"" << L + pw << "\" y2=\"" << sy(y)
      << "\" stroke=\"#e0e0e0\"/>\n";
    o << "<text x=\"" << L - 8 << "\" y=\"" << sy(y) + 4 << "\" text-anchor=\"end\">" << num(y) << "</text>\n";
  }
  o << "<rect x=\"" << L << "\" y=\"" << T << "\" width=\"" << pw << "\" height=\"" << ph
    << "\" fill=\"none\" stroke=\"black\"/>\n";
  o << "<text x=\"" << L + pw / 2 << "\" y=\"" << H - 15 << "\" text-anchor=\"middle\">" << escape(p.x_label)
    << "</text>\n";
  o << "<text transform=\"translate(18," << T + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << escape(p.y_label) << "</text>\n";
  for (size_t s = 0; s < series.size(); ++s) {
    const auto& S = series[s];
    o << "<polyline fill=\"none\" stroke=\"" << colors[s % 10] << "\" stroke-width=\"2\" points=\"";
    for (size_t i = 0; i < S.x.size(); ++i) {
      if (p.step && i > 0) o << sx(S.x[i]) << "," << sy(S.y[i - 1]) << " ";
      o << sx(S.x[i]) << "," << sy(S.y[i]) << " ";
    }
    o << "\"/>\n";
    const double ly = T + 16 + 18 * static_cast<double>(s);
    o << "<line x1=\"" << L + pw - 180 << "\" y1=\"" << ly << "\" x2=\"" << L + pw - 155 << "\" y2=\"" << ly
      << "\" stroke=\"" << colors[s % 10] << "\" stroke-width=\"2\"/>\n";
    o << "<text x=\"" << L + pw - 150 << "\" y=\"" << ly + 4 << "\">" << escape(S.name) << "</text>\n";
  }
  o << "</svg>\n";
  return o.str();
}

}  // namespace sc::io
