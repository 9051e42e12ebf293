// A cell's progress files: the checkpoint through the engine's format, the curve as a CSV of
// numbers that read back exactly (17 significant digits).
#include "retrieval/progress.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "tinyloop/checkpoint.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::study::retrieval {

namespace {

std::string curve_csv(const std::vector<EvalPoint>& curve, double seconds) {
  std::string s = "seconds," + text::format_g(seconds, 17) + "\n";
  for (const EvalPoint& p : curve) {
    s += std::to_string(p.step) + "," + text::format_g(p.train_loss, 17) + "," + text::format_g(p.query, 17) + "," +
         std::to_string(p.depth.size()) + "," + std::to_string(p.heads.size());
    for (double a : p.depth) s += "," + text::format_g(a, 17);
    for (const HeadRole& h : p.heads)
      s += "," + text::format_g(h.match, 17) + "," + text::format_g(h.retrieve, 17) + "," + text::format_g(h.own, 17);
    s += "\n";
  }
  return s;
}

// Numbers separated by commas, all of them parsed or none.
bool parse_numbers(const std::string& line, std::vector<double>* out) {
  out->clear();
  const char* p = line.c_str();
  while (*p) {
    char* end = nullptr;
    const double v = std::strtod(p, &end);
    if (end == p) return false;
    out->push_back(v);
    p = end;
    if (*p == ',') ++p;
    else if (*p) return false;
  }
  return !out->empty();
}

bool parse_curve(const std::string& text, std::vector<EvalPoint>* curve, double* seconds) {
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line.rfind("seconds,", 0) != 0) return false;
  std::vector<double> v;
  if (!parse_numbers(line.substr(8), &v) || v.size() != 1) return false;
  *seconds = v[0];
  curve->clear();
  while (std::getline(in, line)) {
    if (!parse_numbers(line, &v) || v.size() < 5) return false;
    const std::size_t depths = std::size_t(v[3]), heads = std::size_t(v[4]);
    if (double(depths) != v[3] || double(heads) != v[4] || v.size() != 5 + depths + 3 * heads) return false;
    EvalPoint p;
    p.step = std::int64_t(v[0]);
    p.train_loss = v[1];
    p.query = v[2];
    p.depth.assign(v.begin() + 5, v.begin() + 5 + std::ptrdiff_t(depths));
    for (std::size_t h = 0; h < heads; ++h) {
      const std::size_t at = 5 + depths + 3 * h;
      p.heads.push_back(HeadRole{v[at], v[at + 1], v[at + 2]});
    }
    curve->push_back(p);
  }
  return !curve->empty();
}

}  // namespace

void save_progress(const std::string& stem, const std::string& checkpoint, const std::vector<EvalPoint>& curve,
                   double seconds) {
  const std::string csv = curve_csv(curve, seconds), tlc = stem + ".tlc", csv_path = stem + ".csv";
  Status s = platform::write_file_atomic(csv_path.c_str(), csv.data(), csv.size());
  if (s) s = platform::write_file_atomic(tlc.c_str(), checkpoint.data(), checkpoint.size());
  if (!s) std::fprintf(stderr, "tinyloop: warning: the progress of %s not saved: %s\n", stem.c_str(), s.message());
}

bool load_progress(const std::string& stem, const CellOptions& o, Model<float>& m, Rng* data,
                   std::vector<EvalPoint>* curve, double* seconds) {
  const std::string tlc = stem + ".tlc", csv_path = stem + ".csv";
  if (!platform::exists(tlc.c_str()) || !platform::exists(csv_path.c_str())) return false;
  std::vector<std::uint8_t> bytes, csv;
  check(platform::read_file(tlc.c_str(), std::size_t(1) << 30, &bytes));
  CheckpointHeader h;
  const Status read = checkpoint_read_header(bytes.data(), bytes.size(), &h);
  if (!read) fail("progress '" + tlc + "': " + read.message());
  const ModelSpec& a = h.config.model;
  const ModelSpec& b = m.config();
  const bool same = h.has_optimizer && h.param_count == m.param_count() && a.layers == b.layers &&
                    a.looped == b.looped && a.heads == b.heads && a.width == b.width && a.positions == b.positions &&
                    a.max_len == b.max_len && a.vocab_in == b.vocab_in && a.out_dim == b.out_dim &&
                    h.config.steps == o.steps && h.config.seed == o.seed && h.config.batch == o.batch &&
                    h.step >= 0 && h.step < o.steps;
  if (!same) fail("progress '" + tlc + "' is another cell's (its model, steps, seed or batch differ): remove it");
  check(platform::read_file(csv_path.c_str(), std::size_t(1) << 26, &csv));
  // A run stopped between the two writes leaves a curve one evaluation ahead: cut it back.
  const bool parsed = parse_curve(std::string(csv.begin(), csv.end()), curve, seconds);
  while (parsed && !curve->empty() && curve->back().step > h.step) curve->pop_back();
  if (!parsed || curve->empty() || curve->back().step != h.step)
    fail("progress '" + csv_path + "' is damaged or does not reach its checkpoint's step " + std::to_string(h.step) +
         ": remove it and " + tlc);
  const Status tensors = checkpoint_read_tensors(bytes.data(), bytes.size(), m.params(), m.adam_m(), m.adam_v());
  if (!tensors) fail("progress '" + tlc + "': " + tensors.message());
  m.set_step(h.step);
  data->restore(h.rng_state, h.rng_inc);
  return true;
}

void remove_progress(const std::string& stem) {
  for (const std::string& path : {stem + ".tlc", stem + ".csv"})
    if (platform::exists(path.c_str())) platform::remove_file(path.c_str());
}

}  // namespace tinyloop::study::retrieval
