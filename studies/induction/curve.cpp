// The induction study's accuracy over training: the first seed's saved checkpoints evaluated at
// n = 64 and 1000, cached in the run's eval_curve.csv (a rerun reads it instead).
#include <cstdio>

#include "induction/parts.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::study::induction {

namespace {

constexpr std::size_t kMaxCacheBytes = std::size_t(1) << 24;

// The cached points of one run; false when there is no cache to read.
bool read_cache(const std::string& path, const std::string& group, std::vector<CurvePoint>* pts) {
  std::vector<std::uint8_t> bytes;
  if (!platform::read_file(path.c_str(), kMaxCacheBytes, &bytes)) return false;
  const std::string text(bytes.begin(), bytes.end());
  std::size_t at = text.find('\n');  // after the header
  while (at != std::string::npos && at + 1 < text.size()) {
    long long step;
    int len;
    double acc;
    if (std::sscanf(text.c_str() + at + 1, "%lld,%d,%lf", &step, &len, &acc) != 3) break;
    pts->push_back({group, step, len, acc});
    at = text.find('\n', at + 1);
  }
  return true;
}

std::vector<CurvePoint> evaluate_checkpoints(const Options& o, const std::string& group, const std::string& dir,
                                             Lab& lab) {
  std::vector<CurvePoint> pts;
  std::string csv = "step,len,token_accuracy\n";
  const std::vector<int> lengths = {64, 1000};
  for (const auto& ck : lab.checkpoints(dir)) {
    const std::vector<double> acc = lab.accuracy(lab.load(ck.second), lengths, o.curve_samples);
    for (std::size_t k = 0; k < lengths.size(); ++k) {
      pts.push_back({group, ck.first, lengths[k], acc[k]});
      csv += std::to_string(ck.first) + "," + std::to_string(lengths[k]) + "," + text::format_g9(acc[k]) + "\n";
    }
    lab.show("reproduce: accuracy curve " + group + " step " + std::to_string(ck.first));
  }
  const std::string cache = dir + "/eval_curve.csv";
  const Status st = platform::write_file_atomic(cache.c_str(), csv.data(), csv.size());
  if (!st) fail(std::string("accuracy curve not saved: ") + st.message());
  return pts;
}

}  // namespace

std::vector<CurvePoint> accuracy_curve(const Options& o, const std::vector<Group>& groups, Lab& lab) {
  std::vector<CurvePoint> curve;
  if (o.curve_points <= 0) return curve;
  for (const Group& g : groups) {
    const std::string dir = run_dir(o, g.name, o.first_seed);
    std::vector<CurvePoint> pts;
    if (!read_cache(dir + "/eval_curve.csv", g.name, &pts)) pts = evaluate_checkpoints(o, g.name, dir, lab);
    curve.insert(curve.end(), pts.begin(), pts.end());
  }
  return curve;
}

std::string curve_csv(const std::vector<CurvePoint>& curve, int seed) {
  std::string csv = "group,seed,step,len,token_accuracy\n";
  for (const CurvePoint& p : curve)
    csv += p.group + "," + std::to_string(seed) + "," + std::to_string(p.step) + "," + std::to_string(p.len) + "," +
           text::format_g9(p.acc) + "\n";
  return csv;
}

}  // namespace tinyloop::study::induction
