// Analysis of certification results (smoothcuda's or Cohen et al.'s own TSV files): certified accuracy at each
// radius — the fraction of rows that are correct with radius ≥ r, abstentions counting as wrong — plus clean
// accuracy of g, the abstention rate and the average certified radius, as Markdown and LaTeX tables and an SVG
// plot.
#pragma once
#include <string>
#include <vector>

namespace sc {

struct CertifyRow {
  int64_t idx = 0, label = 0, prediction = 0;
  double radius = 0;
  bool correct = false;
};

struct CertifyResults {
  std::string name;  // the file's name
  std::vector<CertifyRow> rows;
};

CertifyResults read_certify_tsv(const std::string& path);
double certified_accuracy(const CertifyResults& r, double radius);
double abstention_rate(const CertifyResults& r);
// The average certified radius (ACR; Zhai et al. 2020): the mean over the rows of the radius of the correct ones,
// 0 for the wrong and abstained ones.
double average_certified_radius(const CertifyResults& r);
// Cohen et al.'s high-probability accuracy (HighProbAccuracy of their analyze.py): each row's certificate is
// wrong with probability at most α (the α it was certified with), so by Bernstein's inequality, with
// probability ≥ 1 − ρ, at most n·α + √(n·α(1 − α)·ln(1/ρ)) + ln(1/ρ)/3 of the n rows are wrong, and the
// smoothed classifier's certified accuracy on these images is at least
//   certified_accuracy(r) − α − √(α(1 − α)·ln(1/ρ)/n) − ln(1/ρ)/(3n).
double high_probability_accuracy(const CertifyResults& r, double radius, double alpha, double rho);
// Those bounds as a Markdown table, one row per file, one column per radius.
std::string high_probability_table(const std::vector<CertifyResults>& files, const std::vector<double>& radii,
                                   double alpha, double rho);
std::vector<double> parse_radii(const std::string& spec);  // "start:stop:step" (stop included) or "a,b,c"

// The outer envelope of several runs on the same images (one per σ, as Cohen et al. and Salman et al.
// compare methods): at each radius the best certified accuracy of any file, each over its own rows. It picks
// the best σ per radius after seeing the test set, as those papers do.
std::vector<double> certified_accuracy_envelope(const std::vector<CertifyResults>& files,
                                                const std::vector<double>& radii);

// With `envelope`, the tables end with the envelope's row and the plot with its line.
std::string markdown_table(const std::vector<CertifyResults>& files, const std::vector<double>& radii,
                           bool envelope = false);
std::string latex_table(const std::vector<CertifyResults>& files, const std::vector<double>& radii,
                        bool envelope = false);
std::string certified_accuracy_svg(const std::vector<CertifyResults>& files, double max_radius,
                                   bool envelope = false);

}  // namespace sc
