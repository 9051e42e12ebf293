// A single-cell run's report folder read back (report.cpp writes it), so that a table can count
// the run as the cell it equals instead of training that cell again (--cells-from).
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "retrieval/retrieval.hpp"

namespace tinyloop::study::retrieval {

namespace {

// The number that ends right before `at` in `line` (digits and a decimal point).
double number_before(const std::string& line, std::size_t at, const std::string& what) {
  std::size_t start = at;
  while (start > 0 && (std::isdigit(static_cast<unsigned char>(line[start - 1])) || line[start - 1] == '.')) --start;
  if (start == at) fail("report.md: no number before '" + what + "' in: " + line);
  return std::strtod(line.substr(start, at - start).c_str(), nullptr);
}

double number_field(const std::string& s, const std::string& what, int row) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v))
    fail("accuracy.csv row " + std::to_string(row) + ": " + what + " is '" + s + "', not a number");
  return v;
}

}  // namespace

RunRecord read_run_report(const std::string& report_md) {
  RunRecord r;
  bool command = false, seconds = false, params = false;
  std::istringstream in(report_md);
  std::string line;
  const std::string prefix = "Command: `tinyloop reproduce retrieval";
  while (std::getline(in, line)) {
    if (!command && line.rfind(prefix, 0) == 0 && line.size() > prefix.size() && line.back() == '`') {
      for (const std::string& word : text::split(line.substr(prefix.size(), line.size() - prefix.size() - 1), " "))
        if (!word.empty()) r.args.push_back(word);
      command = true;
    } else if (!params && line.rfind("Model: ", 0) == 0) {
      const std::size_t at = line.find(" parameters;");
      if (at == std::string::npos) fail("report.md: no parameter count in its model line: " + line);
      r.params = long(number_before(line, at, "parameters"));
      params = true;
    } else if (!seconds && line.rfind("- curriculum on,", 0) == 0) {
      const std::size_t at = line.rfind(" s)");
      if (at == std::string::npos || line.find("(trained in ") == std::string::npos)
        fail("report.md: no training time in: " + line);
      r.seconds = number_before(line, at, "s)");
      seconds = true;
    }
  }
  if (!command) fail("report.md names no 'tinyloop reproduce retrieval' command");
  if (!params) fail("report.md has no model line with its parameters");
  if (!seconds) fail("report.md has no curriculum-on run");
  return r;
}

std::vector<EvalPoint> read_run_curve(const std::string& accuracy_csv, const CellOptions& o) {
  std::istringstream in(accuracy_csv);
  std::string line;
  std::string header = "curriculum,layers,heads,width,looped,seed,step,train_loss,query";
  for (int h = 1; h <= o.task.max_depth; ++h) header += ",depth" + std::to_string(h);
  if (!std::getline(in, line) || line != header)
    fail("accuracy.csv starts with '" + line + "', not the header of K = " + std::to_string(o.task.max_depth) +
         " ('" + header + "')");
  const std::size_t columns = 9 + std::size_t(o.task.max_depth);
  const double n = o.eval_instances;
  if (o.eval_instances > 100000)
    fail("accuracy.csv's 6 digits cannot give the query's count of " + std::to_string(o.eval_instances) +
         " held-out instances exactly");
  std::vector<EvalPoint> curve;
  for (int row = 2; std::getline(in, line); ++row) {
    if (line.empty()) continue;
    const std::vector<std::string> f = text::split(line, ",");
    if (f.size() != columns) fail("accuracy.csv row " + std::to_string(row) + " has " + std::to_string(f.size()) +
                                  " fields, not " + std::to_string(columns));
    if (f[0] != "on") continue;
    const std::vector<double> model = {number_field(f[1], "layers", row), number_field(f[2], "heads", row),
                                       number_field(f[3], "width", row), number_field(f[4], "looped", row),
                                       number_field(f[5], "seed", row)};
    const std::vector<double> expected = {double(o.layers), double(o.heads), double(o.width), o.looped ? 1.0 : 0.0,
                                          double(o.seed)};
    if (model != expected)
      fail("accuracy.csv row " + std::to_string(row) + " is another model's (layers, heads, width, looped or seed) "
           "than its report's command");
    EvalPoint p;
    p.step = std::int64_t(number_field(f[6], "step", row));
    p.train_loss = number_field(f[7], "train_loss", row);
    // The query's accuracy is a count of held-out instances over n, written with 6 significant
    // digits (off by at most 5e-7): the count is recovered exactly while n stays below 100,000.
    const double written = number_field(f[8], "query", row), count = std::round(written * n);
    if (count < 0 || count > n || std::fabs(written * n - count) > 1e-6 * n)
      fail("accuracy.csv row " + std::to_string(row) + ": query " + f[8] + " is not a count of " +
           std::to_string(o.eval_instances) + " held-out instances");
    p.query = count / n;
    for (int h = 0; h < o.task.max_depth; ++h) p.depth.push_back(number_field(f[9 + h], "depth", row));
    if (!curve.empty() && p.step <= curve.back().step)
      fail("accuracy.csv row " + std::to_string(row) + ": step " + f[6] + " does not follow the row before");
    curve.push_back(p);
  }
  if (curve.empty()) fail("accuracy.csv has no curriculum-on rows");
  if (curve.back().step != o.steps)
    fail("accuracy.csv's curriculum-on curve ends at step " + std::to_string(curve.back().step) + ", not at the " +
         std::to_string(o.steps) + " its command trains");
  return curve;
}

}  // namespace tinyloop::study::retrieval
