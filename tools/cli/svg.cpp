#include "svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tinyloop::cli::svg {

namespace {

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

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

std::string palette(int i) {
  static const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colors[((i % 10) + 10) % 10];
}

void Figure::add(const LineChart& c) {
  std::string s;
  const int pw = w_ - kLeft - kRight, ph = h_ - kTop - kBottom;
  auto ty = [&](double v) { return c.log_y ? std::log10(v) : v; };
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const Series& se : c.series)
    for (std::size_t k = 0; k < se.x.size() && k < se.y.size(); ++k) {
      if (!std::isfinite(se.x[k]) || !std::isfinite(se.y[k]) || (c.log_y && se.y[k] <= 0)) continue;
      x0 = std::min(x0, se.x[k]);
      x1 = std::max(x1, se.x[k]);
      y0 = std::min(y0, ty(se.y[k]));
      y1 = std::max(y1, ty(se.y[k]));
    }
  if (!std::isfinite(x0)) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
  if (c.y_max > c.y_min) { y0 = ty(c.y_min); y1 = ty(c.y_max); }
  if (c.y_from_zero && !c.log_y) { y0 = std::min(y0, 0.0); y1 = std::max(y1, 0.0); }
  if (x1 == x0) { x0 -= 0.5; x1 += 0.5; }
  if (y1 == y0) { y0 -= 0.5; y1 += 0.5; }
  if (c.log_y) { y0 = std::floor(y0); y1 = std::ceil(y1); }
  auto X = [&](double v) { return kLeft + (v - x0) / (x1 - x0) * pw; };
  auto Y = [&](double v) { return kTop + ph - (v - y0) / (y1 - y0) * ph; };
  s += "<text x=\"" + num(w_ / 2.0) + "\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">" +
       escape(c.title) + "</text>\n";
  s += "<rect x=\"" + num(kLeft) + "\" y=\"" + num(kTop) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
       "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (double v : nice_ticks(x0, x1, 5)) {
    s += "<line x1=\"" + num(X(v)) + "\" x2=\"" + num(X(v)) + "\" y1=\"" + num(kTop) + "\" y2=\"" + num(kTop + ph) +
         "\" stroke=\"#ddd\"/><text x=\"" + num(X(v)) + "\" y=\"" + num(kTop + ph + 14) +
         "\" text-anchor=\"middle\" font-size=\"10\">" + tick_text(v) + "</text>\n";
  }
  std::vector<double> yt = c.log_y ? std::vector<double>() : nice_ticks(y0, y1, 5);
  if (c.log_y)
    for (double e = y0; e <= y1 + 1e-9; e += 1) yt.push_back(e);
  for (double v : yt) {
    s += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(kLeft + pw) + "\" y1=\"" + num(Y(v)) + "\" y2=\"" + num(Y(v)) +
         "\" stroke=\"#ddd\"/><text x=\"" + num(kLeft - 4) + "\" y=\"" + num(Y(v) + 3) +
         "\" text-anchor=\"end\" font-size=\"10\">" + tick_text(c.log_y ? std::pow(10.0, v) : v) + "</text>\n";
  }
  s += "<text x=\"" + num(kLeft + pw / 2.0) + "\" y=\"" + num(h_ - 6) + "\" text-anchor=\"middle\" font-size=\"11\">" +
       escape(c.x_label) + "</text>\n";
  s += "<text transform=\"translate(12," + num(kTop + ph / 2.0) +
       ") rotate(-90)\" text-anchor=\"middle\" font-size=\"11\">" + escape(c.y_label) + "</text>\n";
  int index = 0;
  for (const Series& se : c.series) {
    const std::string color = se.color.empty() ? palette(index) : se.color;
    std::string d;
    bool pen = false;
    for (std::size_t k = 0; k < se.x.size() && k < se.y.size(); ++k) {
      if (!std::isfinite(se.x[k]) || !std::isfinite(se.y[k]) || (c.log_y && se.y[k] <= 0)) {
        pen = false;
        continue;
      }
      const double yv = std::min(std::max(ty(se.y[k]), y0), y1);
      d += (pen ? " L" : " M") + num(X(se.x[k])) + " " + num(Y(yv));
      pen = true;
    }
    if (!d.empty())
      s += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.4\"" +
           (se.dashed ? " stroke-dasharray=\"5,3\"" : "") + "/>\n";
    if (se.x.size() == 1 && std::isfinite(se.y[0]))
      s += "<circle cx=\"" + num(X(se.x[0])) + "\" cy=\"" + num(Y(ty(se.y[0]))) + "\" r=\"2.5\" fill=\"" + color +
           "\"/>\n";
    ++index;
  }
  if (c.legend) {
    // Distinct labels only (several seeds of one recipe share a label and a colour).
    std::vector<std::pair<std::string, std::pair<std::string, bool>>> seen;
    index = 0;
    for (const Series& se : c.series) {
      const std::string color = se.color.empty() ? palette(index) : se.color;
      ++index;
      if (se.label.empty()) continue;
      bool dup = false;
      for (auto& p : seen) dup = dup || p.first == se.label;
      if (!dup) seen.push_back({se.label, {color, se.dashed}});
    }
    double ly = kTop + 12;
    for (auto& p : seen) {
      s += "<line x1=\"" + num(kLeft + 8) + "\" x2=\"" + num(kLeft + 26) + "\" y1=\"" + num(ly - 3) + "\" y2=\"" +
           num(ly - 3) + "\" stroke=\"" + p.second.first + "\" stroke-width=\"2\"" +
           (p.second.second ? " stroke-dasharray=\"5,3\"" : "") + "/><text x=\"" + num(kLeft + 30) + "\" y=\"" +
           num(ly) + "\" font-size=\"10\">" + escape(p.first) + "</text>\n";
      ly += 13;
    }
  }
  panels_.push_back(s);
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
      const double f = std::min(std::max(m.vmax > 0 ? v / m.vmax : 0.0, 0.0), 1.0);
      if (f < 0.004) continue;  // white background
      char color[16];
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
  s += "<text x=\"" + num(left + size / 2) + "\" y=\"" + num(h_ - 4) +
       "\" text-anchor=\"middle\" font-size=\"10\">key position j (row: query i)</text>\n";
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

}  // namespace tinyloop::cli::svg
