#pragma once
// A small SVG writer for the studies' pictures: line charts (several series, optional log
// y axis) and heat maps, laid out as panels of one figure. No dependencies, plain text out.
#include <string>
#include <utility>
#include <vector>

namespace tinyloop::study::svg {

struct Series {
  std::string label;
  std::string color;  // any SVG colour; empty picks one from the palette
  std::vector<double> x, y;  // non-finite points break the line
  bool dashed = false;
};

struct LineChart {
  std::string title, x_label, y_label;
  std::vector<Series> series;
  bool log_y = false;
  bool y_from_zero = false;  // include 0 in the y range
  double y_min = 0, y_max = 0;  // fixed range when y_max > y_min
  bool legend = true;
};

// A chart of shares (accuracies, fractions of a whole): the y axis fixed to [0, 1].
LineChart share_chart(std::string title, std::string x_label, std::string y_label = "");

struct HeatMap {
  std::string title;
  int rows = 0, cols = 0;
  std::vector<double> values;  // rows x cols, row-major, drawn with a white-to-blue ramp on [0, vmax]
  double vmax = 1.0;
  bool diverging = false;  // signed values: blue for positive, red for negative, white at 0, on [-vmax, vmax]
  std::vector<std::string> row_labels, col_labels;  // optional, shown when short enough
  std::string x_label = "key position j (row: query i)";
};

// A signed heat map (diverging) of the rows x cols entries of a row-major matrix whose rows are
// `stride` apart, scaled to its largest magnitude.
HeatMap signed_heatmap(std::string title, const double* m, int rows, int cols, int stride, std::string x_label);

// Palette entry i (cycles).
std::string palette(int i);

// A figure of panels on a grid of `columns`; each panel is panel_w x panel_h pixels.
class Figure {
 public:
  Figure(std::string title, int columns, int panel_w, int panel_h)
      : title_(std::move(title)), columns_(columns), w_(panel_w), h_(panel_h) {}
  void add(const LineChart& c);
  void add(const HeatMap& m);
  std::string render() const;

 private:
  std::string title_;
  int columns_, w_, h_;
  std::vector<std::string> panels_;  // each drawn at the origin, translated on render
};

std::string escape(const std::string& s);

}  // namespace tinyloop::study::svg
