// Line plots as standalone SVG (no dependencies): axes with ticks, a grid, one polyline per series, a legend.
#pragma once
#include <string>
#include <vector>

namespace sc::io {

struct Series {
  std::string name;
  std::vector<double> x, y;
};

struct PlotSpec {
  std::string title, x_label, y_label;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;
  bool step = false;  // draw as a right-continuous step function (certified accuracy curves)
};

std::string svg_line_plot(const PlotSpec& spec, const std::vector<Series>& series);

}  // namespace sc::io
