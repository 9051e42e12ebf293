#include "common/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "common/text.hpp"

namespace tinyloop::study::svg {

namespace {

std::string num(double v) { return text::format_fixed(v, 2); }

std::string tick_text(double v) {
  char b[32];
  if (std::fabs(v) < 1e-9) v = 0;  // no "-0" from accumulated steps
  if (v != 0 && (std::fabs(v) >= 1e5 || std::fabs(v) < 1e-3)) std::snprintf(b, sizeof b, "%.0e", v);
  else std::snprintf(b, sizeof b, "%g", std::round(v * 1e6) / 1e6);
  return b;
}

// About `count` round tick values covering [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int count) {
  std::vector<double> t;
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) { step = m * mag; break; }
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) t.push_back(v);
  return t;
}

const int kLeft = 58, kRight = 12, kTop = 26, kBottom = 40;

}  // namespace

std::string escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '&') o += "&amp;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

HeatMap signed_heatmap(std::string title, const double* m, int rows, int cols, int stride, std::string x_label) {
  HeatMap h;
  h.title = std::move(title);
  h.rows = rows;
  h.cols = cols;
  h.diverging = true;
  h.x_label = std::move(x_label);
  h.vmax = 0;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      const double v = m[std::size_t(r) * std::size_t(stride) + std::size_t(c)];
      h.values.push_back(v);
      h.vmax = std::fmax(h.vmax, std::fabs(v));
    }
  if (h.vmax == 0) h.vmax = 1;
  return h;
}

std::string palette(int i) {
  static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colors[((i % 10) + 10) % 10];
}

namespace {

// The plotting area of a line chart and its data ranges (log10 of y on a log axis).
struct Frame {
  int pw, ph;
  bool log_y;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  double ty(double v) const { return log_y ? std::log10(v) : v; }
  double X(double v) const { return kLeft + (v - x0) / (x1 - x0) * pw; }
  double Y(double v) const { return kTop + ph - (v - y0) / (y1 - y0) * ph; }
  bool drawn(const Series& se, std::size_t k) const {
    return std::isfinite(se.x[k]) && std::isfinite(se.y[k]) && !(log_y && se.y[k] <= 0);
  }
};

Frame frame_of(const LineChart& c, int w, int h) {
  Frame f{w - kLeft - kRight, h - kTop - kBottom, c.log_y};
  for (const Series& se : c.series)
    for (std::size_t k = 0; k < se.x.size() && k < se.y.size(); ++k) {
      if (!f.drawn(se, k)) continue;
      f.x0 = std::min(f.x0, se.x[k]);
      f.x1 = std::max(f.x1, se.x[k]);
      f.y0 = std::min(f.y0, f.ty(se.y[k]));
      f.y1 = std::max(f.y1, f.ty(se.y[k]));
    }
  if (!std::isfinite(f.x0)) { f.x0 = 0; f.x1 = 1; f.y0 = 0; f.y1 = 1; }
  if (c.y_max > c.y_min) { f.y0 = f.ty(c.y_min); f.y1 = f.ty(c.y_max); }
  if (c.y_from_zero && !c.log_y) { f.y0 = std::min(f.y0, 0.0); f.y1 = std::max(f.y1, 0.0); }
  if (f.x1 == f.x0) { f.x0 -= 0.5; f.x1 += 0.5; }
  if (f.y1 == f.y0) { f.y0 -= 0.5; f.y1 += 0.5; }
  if (c.log_y) { f.y0 = std::floor(f.y0); f.y1 = std::ceil(f.y1); }
  return f;
}

// Title, frame, grid lines with their tick labels, and the axis labels.
std::string axes(const LineChart& c, const Frame& f, int w, int h) {
  std::string s;
  s += "<text x=\"" + num(w / 2.0) + "\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">" +
       escape(c.title) + "</text>\n";
  s += "<rect x=\"" + num(kLeft) + "\" y=\"" + num(kTop) + "\" width=\"" + num(f.pw) + "\" height=\"" + num(f.ph) +
       "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (double v : nice_ticks(f.x0, f.x1, 5)) {
    s += "<line x1=\"" + num(f.X(v)) + "\" x2=\"" + num(f.X(v)) + "\" y1=\"" + num(kTop) + "\" y2=\"" +
         num(kTop + f.ph) + "\" stroke=\"#ddd\"/><text x=\"" + num(f.X(v)) + "\" y=\"" + num(kTop + f.ph + 14) +
         "\" text-anchor=\"middle\" font-size=\"10\">" + tick_text(v) + "</text>\n";
  }
  std::vector<double> yt = c.log_y ? std::vector<double>() : nice_ticks(f.y0, f.y1, 5);
  if (c.log_y)
    for (double e = f.y0; e <= f.y1 + 1e-9; e += 1) yt.push_back(e);
  for (double v : yt) {
    s += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(kLeft + f.pw) + "\" y1=\"" + num(f.Y(v)) + "\" y2=\"" +
         num(f.Y(v)) + "\" stroke=\"#ddd\"/><text x=\"" + num(kLeft - 4) + "\" y=\"" + num(f.Y(v) + 3) +
         "\" text-anchor=\"end\" font-size=\"10\">" + tick_text(c.log_y ? std::pow(10.0, v) : v) + "</text>\n";
  }
  s += "<text x=\"" + num(kLeft + f.pw / 2.0) + "\" y=\"" + num(h - 6) + "\" text-anchor=\"middle\" font-size=\"11\">" +
       escape(c.x_label) + "</text>\n";
  s += "<text transform=\"translate(12," + num(kTop + f.ph / 2.0) +
       ") rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">" + escape(c.y_label) + "</text>\n";
  return s;
}

std::string color_of(const Series& se, int index) { return se.color.empty() ? palette(index) : se.color; }

// One path per series (non-finite points break it); a lone point is a dot.
std::string lines(const LineChart& c, const Frame& f) {
  std::string s;
  int index = 0;
  for (const Series& se : c.series) {
    const std::string color = color_of(se, index++);
    std::string d;
    bool pen = false;
    for (std::size_t k = 0; k < se.x.size() && k < se.y.size(); ++k) {
      if (!f.drawn(se, k)) {
        pen = false;
        continue;
      }
      const double yv = std::min(std::max(f.ty(se.y[k]), f.y0), f.y1);
      d += (pen ? " L" : " M") + num(f.X(se.x[k])) + " " + num(f.Y(yv));
      pen = true;
    }
    if (!d.empty())
      s += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.4\"" +
           (se.dashed ? " stroke-dasharray=\"5,3\"" : "") + "/>\n";
    if (se.x.size() == 1 && std::isfinite(se.y[0]))
      s += "<circle cx=\"" + num(f.X(se.x[0])) + "\" cy=\"" + num(f.Y(f.ty(se.y[0]))) + "\" r=\"2.5\" fill=\"" +
           color + "\"/>\n";
  }
  return s;
}

// Distinct labels only (several seeds of one recipe share a label and a colour).
std::string legend(const LineChart& c) {
  std::vector<std::pair<std::string, std::pair<std::string, bool>>> seen;
  int index = 0;
  for (const Series& se : c.series) {
    const std::string color = color_of(se, index++);
    if (se.label.empty()) continue;
    bool dup = false;
    for (auto& p : seen) dup = dup || p.first == se.label;
    if (!dup) seen.push_back({se.label, {color, se.dashed}});
  }
  std::string s;
  double ly = kTop + 12;
  for (auto& p : seen) {
    s += "<line x1=\"" + num(kLeft + 8) + "\" x2=\"" + num(kLeft + 26) + "\" y1=\"" + num(ly - 3) + "\" y2=\"" +
         num(ly - 3) + "\" stroke=\"" + p.second.first + "\" stroke-width=\"2\"" +
         (p.second.second ? " stroke-dasharray=\"5,3\"" : "") + "/><text x=\"" + num(kLeft + 30) + "\" y=\"" +
         num(ly) + "\" font-size=\"10\">" + escape(p.first) + "</text>\n";
    ly += 13;
  }
  return s;
}

}  // namespace

LineChart share_chart(std::string title, std::string x_label, std::string y_label) {
  LineChart c;
  c.title = std::move(title);
  c.x_label = std::move(x_label);
  c.y_label = std::move(y_label);
  c.y_min = 0;
  c.y_max = 1;
  return c;
}

void Figure::add(const LineChart& c) {
  const Frame f = frame_of(c, w_, h_);
  panels_.push_back(axes(c, f, w_, h_) + lines(c, f) + (c.legend ? legend(c) : ""));
}

void Figure::add(const HeatMap& m) {
  std::string s;
  const int left = 30, top = 24, bottom = 24;
  const double size = std::min(double(w_ - left - 8), double(h_ - top - bottom));
  const double cw = m.cols > 0 ? size / m.cols : 0, ch = m.rows > 0 ? size / m.rows : 0;
  s += "<text x=\"" + num(left + size / 2) + "\" y=\"16\" text-anchor=\"middle\" font-size=\"12\" font-weight=\"bold\">" +
       escape(m.title) + "</text>\n";
  for (int r = 0; r < m.rows; ++r)
    for (int c = 0; c < m.cols; ++c) {
      const double v = m.values[std::size_t(r) * m.cols + c];
      const double signed_f = m.vmax > 0 ? v / m.vmax : 0.0;
      const bool negative = m.diverging && signed_f < 0;
      const double f = std::min(std::max(negative ? -signed_f : signed_f, 0.0), 1.0);
      if (f < 0.004) continue;  // white background
      char color[16];
      if (negative)  // white to red
        std::snprintf(color, sizeof color, "#%02x%02x%02x", int(255 - 52 * f), int(255 - 231 * f), int(255 - 223 * f));
      else  // white to blue
        std::snprintf(color, sizeof color, "#%02x%02x%02x", int(255 - 247 * f), int(255 - 207 * f), int(255 - 148 * f));
      s += "<rect x=\"" + num(left + c * cw) + "\" y=\"" + num(top + r * ch) + "\" width=\"" + num(cw + 0.05) +
           "\" height=\"" + num(ch + 0.05) + "\" fill=\"" + color + "\"/>";
    }
  s += "\n<rect x=\"" + num(left) + "\" y=\"" + num(top) + "\" width=\"" + num(size) + "\" height=\"" + num(size) +
       "\" fill=\"none\" stroke=\"#444\"/>\n";
  const double font = std::min(9.0, std::max(ch, cw) * 0.9);
  if (font >= 4) {
    for (int r = 0; r < m.rows && r < int(m.row_labels.size()); ++r)
      s += "<text x=\"" + num(left - 2) + "\" y=\"" + num(top + (r + 0.8) * ch) + "\" text-anchor=\"end\" font-size=\"" +
           num(font) + "\">" + escape(m.row_labels[r]) + "</text>";
    for (int c = 0; c < m.cols && c < int(m.col_labels.size()); ++c)
      s += "<text x=\"" + num(left + (c + 0.5) * cw) + "\" y=\"" + num(top + size + font + 1) +
           "\" text-anchor=\"middle\" font-size=\"" + num(font) + "\">" + escape(m.col_labels[c]) + "</text>";
    s += "\n";
  }
  s += "<text x=\"" + num(left + size / 2) + "\" y=\"" + num(h_ - 4) + "\" text-anchor=\"middle\" font-size=\"10\">" +
       escape(m.x_label) + "</text>\n";
  panels_.push_back(s);
}

std::string Figure::render() const {
  const int n = int(panels_.size());
  const int rows = (n + columns_ - 1) / std::max(columns_, 1);
  const int head = title_.empty() ? 0 : 26;
  const int W = std::min(n, columns_) * w_, H = rows * h_ + head;
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                  std::to_string(W) + "\" height=\"" + std::to_string(H) + "\" viewBox=\"0 0 " + std::to_string(W) +
                  " " + std::to_string(H) + "\" font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (head)
    s += "<text x=\"" + std::to_string(W / 2) + "\" y=\"18\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">" +
         escape(title_) + "</text>\n";
  for (int i = 0; i < n; ++i) {
    const int cx = (i % columns_) * w_, cy = (i / columns_) * h_ + head;
    s += "<g transform=\"translate(" + std::to_string(cx) + "," + std::to_string(cy) + ")\">\n" + panels_[i] + "</g>\n";
  }
  return s + "</svg>\n";
}

}  // namespace tinyloop::study::svg
