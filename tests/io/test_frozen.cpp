// Frozen checkpoint files (tests/frozen/README.md): one file of every format version ever
// written, each by the writer of its time, plus a version-1 file written by an independent
// Python writer. Each must still load with exactly the configuration and state its .expect file
// records, carry the same tensor sums, give the PyTorch reference's logits on fixed tokens, and be
// written back byte for byte. A reader that stopped accepting an old version, or read one of
// its fields from the wrong place, fails here.
//
// The .expect files come from tests/frozen/frozen.py, which reads the files without the engine
// and runs the PyTorch reference forward (float64). Logits tolerance: the float rule of the
// goldens, |a - b| <= 1e-5 max(|b|, max |logit|).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/golden_case.hpp"
#include "support/position_codes.hpp"
#include "tinyloop/checkpoint.hpp"
#include "tinyloop/config.hpp"
#include "tinyloop/config_fields.hpp"
#include "tinyloop/inference.hpp"
#include "tinyloop/model.hpp"
#include "tinyloop/params.hpp"

#ifndef TINYLOOP_FROZEN_DIR
#error "TINYLOOP_FROZEN_DIR must name the tests/frozen directory"
#endif

using namespace tinyloop;

namespace {

using Bytes = std::vector<std::uint8_t>;
using Expect = std::map<std::string, std::vector<std::string>>;

std::string frozen_path(const std::string& name) { return std::string(TINYLOOP_FROZEN_DIR) + "/" + name; }

Bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// `key value...` per line; '#' lines are comments.
Expect read_expect(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open " << path);
  Expect e;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string key, word;
    words >> key;
    while (words >> word) e[key].push_back(word);
  }
  return e;
}

const std::vector<std::string>& values(const Expect& e, const std::string& key) {
  const auto it = e.find(key);
  REQUIRE_MESSAGE(it != e.end(), "expectation " << key << " is missing");
  return it->second;
}
double number(const Expect& e, const std::string& key) { return std::strtod(values(e, key).at(0).c_str(), nullptr); }
std::uint64_t integer(const Expect& e, const std::string& key) {
  return std::strtoull(values(e, key).at(0).c_str(), nullptr, 10);
}

// Every configuration field against the expectation: floats as the exact float32 value.
void check_config(const TrainConfig& c, const Expect& e) {
  const std::pair<const char*, double> fields[] = {
      {"model.loops", c.model.layers}, {"model.vocab_in", c.model.vocab_in}, {"model.vocab_out", c.model.out_dim},
      {"model.positions", double(c.model.positions)}, {"model.pe_scale", c.model.pe_scale},
      {"model.causal", c.model.causal ? 1 : 0}, {"model.loop", double(c.model.loop)}, {"model.mu", c.model.mu},
      {"model.alpha", c.model.alpha}, {"model.beta", 0.0}, {"model.tau", 1.0},  // retired: the only values read
      {"loss.lambda_p", c.loss.lambda_p}, {"loss.lambda_k", c.loss.lambda_k}, {"loss.lambda_s", c.loss.lambda_s},
      {"loss.q", c.loss.q}, {"loss.eta", c.loss.eta}, {"optim.lr", c.optim.lr}, {"optim.beta1", c.optim.beta1},
      {"optim.beta2", c.optim.beta2}, {"optim.eps", c.optim.eps}, {"optim.weight_decay", c.optim.weight_decay},
      {"optim.clip_norm", c.optim.clip_norm}, {"optim.warmup_steps", c.optim.warmup_steps},
      {"optim.schedule", double(c.optim.schedule)}, {"optim.min_lr_ratio", c.optim.min_lr_ratio},
      {"task.alphabet", c.task.alphabet}, {"task.hops", c.task.hops}, {"curriculum.min_len", c.curriculum.min_len},
      {"curriculum.max_len", c.curriculum.max_len}, {"curriculum.ramp", c.curriculum.ramp}, {"batch", c.batch},
      {"steps", double(c.steps)}};
  for (const auto& [key, got] : fields) CHECK_MESSAGE(got == number(e, key), key << ": read " << got);
  CHECK(c.seed == integer(e, "seed"));
  // Fields the version does not store must read as their defaults.
  const ModelSpec m = paper_block();
  const bool v2 = e.count("loss.eta_schedule") != 0, v3 = e.count("model.alibi_rho") != 0;
  CHECK(double(c.loss.eta_schedule) == (v2 ? number(e, "loss.eta_schedule") : 0.0));
  CHECK(c.loss.eta_final == (v2 ? number(e, "loss.eta_final") : 0.0));
  CHECK(c.model.init_scale == (v2 ? number(e, "init_scale") : 1.0));
  CHECK(c.model.alibi_rho == (v3 ? number(e, "model.alibi_rho") : double(m.alibi_rho)));
  CHECK(c.model.rope_base == (v3 ? number(e, "model.rope_base") : double(m.rope_base)));
}

// The float64 sum, in file order, of one tensor of one set, against the expectation.
void check_sum(const std::string& set, const std::vector<float>& flat, const char* name, std::size_t offset,
               std::size_t size, const Expect& e) {
  double sum = 0;
  for (std::size_t i = 0; i < size; ++i) sum += double(flat[offset + i]);
  const std::string key = "sum." + set + "." + name;
  CHECK_MESSAGE(sum == number(e, key), key << ": " << sum);
}

void check_sums(const std::string& set, const std::vector<float>& flat, const ParamLayout& layout, const Expect& e) {
  for (int p = 0; p < layout.count; ++p)
    check_sum(set, flat, layout.info[p].name, layout.info[p].offset, layout.info[p].size(), e);
}

void check_sums(const std::string& set, const std::vector<float>& flat, const ModelLayout& layout, const Expect& e) {
  for (int p = 0; p < layout.count; ++p)
    check_sum(set, flat, layout.tensors[p].name, layout.tensors[p].offset, layout.tensors[p].size(), e);
}

std::vector<std::int32_t> expected_tokens(const Expect& e) {
  std::vector<std::int32_t> tokens;
  for (const std::string& t : values(e, "tokens")) tokens.push_back(std::int32_t(std::strtol(t.c_str(), nullptr, 10)));
  return tokens;
}

std::vector<double> expected_logits(const Expect& e, int len, int classes) {
  std::vector<double> want;
  for (int i = 0; i < len; ++i)
    for (const std::string& v : values(e, "logits." + std::to_string(i))) want.push_back(std::strtod(v.c_str(), nullptr));
  REQUIRE(want.size() == std::size_t(len) * std::size_t(classes));
  return want;
}

void check_close_logits(const std::vector<float>& got, const std::vector<double>& want) {
  double scale = 0;
  for (double v : want) scale = std::max(scale, std::fabs(v));
  test::check_close("logits", got.data(), want.data(), want.size(), scale, test::golden_tolerance<float>());
}

void check_logits(const TrainConfig& cfg, const std::vector<float>& params, const Expect& e) {
  const std::vector<std::int32_t> tokens = expected_tokens(e);
  const int len = int(tokens.size());
  const std::vector<double> want = expected_logits(e, len, cfg.model.out_dim);

  std::vector<unsigned char> buffer(Inference::plan(cfg.model, len).total);
  Inference inf;
  REQUIRE(inf.init(cfg.model, len, buffer.data(), buffer.size()).is_ok());
  REQUIRE(inf.load_params(params.data(), params.size()).is_ok());
  std::vector<float> logits(want.size());
  InferOutputs out;
  out.logits = logits.data();
  REQUIRE(inf.run(tokens.data(), len, out).is_ok());
  check_close_logits(logits, want);
}

// Version 4: the stored ModelSpec, field by field (floats as the exact float32 value).
void check_spec(const ModelSpec& s, const Expect& e) {
  const std::pair<const char*, double> fields[] = {
      {"spec.layers", s.layers}, {"spec.looped", s.looped}, {"spec.heads", s.heads}, {"spec.width", s.width},
      {"spec.head_dim", s.head_dim}, {"spec.mlp", s.mlp}, {"spec.hidden", s.hidden},
      {"spec.layernorm", s.layernorm}, {"spec.attention", double(s.attention)}, {"spec.attn_scale", s.attn_scale},
      {"spec.causal", s.causal}, {"spec.out_proj", s.out_proj}, {"spec.residual", s.residual},
      {"spec.positions", test::position_code(s.positions)}, {"spec.pe_scale", s.pe_scale}, {"spec.max_len", s.max_len},
      {"spec.alibi_rho", s.alibi_rho}, {"spec.rope_base", s.rope_base}, {"spec.input", double(s.input)},
      {"spec.vocab_in", s.vocab_in}, {"spec.in_dim", s.in_dim}, {"spec.input_proj", s.input_proj},
      {"spec.output", double(s.output)}, {"spec.out_dim", s.out_dim}, {"spec.readout_bias", s.readout_bias},
      {"spec.ignore_class", s.ignore_class}, {"spec.loop", double(s.loop)}, {"spec.mu", s.mu},
      {"spec.alpha", s.alpha}, {"spec.init_scale", s.init_scale}, {"spec.attn_bias", s.attn_bias},
      {"spec.branch_norm", s.branch_norm}};
  for (const auto& [key, got] : fields) CHECK_MESSAGE(got == number(e, key), key << ": read " << got);
}

// Version 4: the recipe's fields (the optimiser, batch, steps, seed) through the field list.
void check_recipe(const TrainConfig& c, const Expect& e) {
  int checked = 0;
  for (const auto& [key, words] : e) {
    const ConfigField* f = find_config_field(key.c_str());
    if (f == nullptr) continue;
    ++checked;
    if (f->type == FieldType::u64) CHECK(field_bits(*f, c) == integer(e, key));
    else CHECK_MESSAGE(field_number(*f, c) == number(e, key), key << ": read " << field_number(*f, c));
  }
  CHECK(checked == 12);  // optim.* (9), batch, steps, seed
}

// Version 4: the model family's forward on the expected tokens.
void check_model_logits(const ModelSpec& spec, const std::vector<float>& params, const Expect& e) {
  const std::vector<std::int32_t> tokens = expected_tokens(e);
  const int len = int(tokens.size());
  const std::vector<double> want = expected_logits(e, len, spec.out_dim);
  const Capacity cap{len, 1, 1};
  std::vector<unsigned char> buffer(Model<float>::plan(spec, cap).total);
  Model<float> model;
  REQUIRE(model.init(spec, OptimConfig{}, cap, buffer.data(), buffer.size()).is_ok());
  std::copy(params.begin(), params.end(), model.params());
  const std::vector<std::int32_t> labels(tokens.size(), 0);
  ModelBatch<float> batch;
  batch.tokens = tokens.data();
  batch.labels = labels.data();
  batch.batch = 1;
  batch.len = len;
  ModelStats stats;
  REQUIRE(model.evaluate(batch, &stats).is_ok());
  check_close_logits(std::vector<float>(model.outputs(0), model.outputs(0) + want.size()), want);
}

void check_frozen(const std::string& name) {
  INFO("frozen file " << name);
  const Bytes file = read_bytes(frozen_path(name));
  const Expect e = read_expect(frozen_path(name + ".expect"));
  REQUIRE(file.size() == integer(e, "bytes"));
  CHECK(std::uint64_t(file[8]) == integer(e, "version"));  // u32 little-endian, all versions < 256

  CheckpointHeader h;
  const Status st = checkpoint_read_header(file.data(), file.size(), &h);
  REQUIRE_MESSAGE(st.is_ok(), st.message());
  const bool model_block = integer(e, "version") >= 4;
  CHECK(h.looped_block == !model_block);
  if (model_block) {
    check_recipe(h.config, e);
    check_spec(h.config.model, e);
  } else {
    check_config(h.config, e);
  }
  CHECK(h.has_optimizer == (integer(e, "has_optimizer") == 1));
  CHECK(h.step == std::int64_t(integer(e, "step")));
  CHECK(h.rng_state == integer(e, "rng_state"));
  CHECK(h.rng_inc == integer(e, "rng_inc"));

  std::vector<float> params(h.param_count), m(h.param_count), v(h.param_count);
  const Status t = checkpoint_read_tensors(file.data(), file.size(), params.data(), m.data(), v.data());
  REQUIRE_MESSAGE(t.is_ok(), t.message());
  auto sums = [&](const auto& layout) {
    REQUIRE(h.param_count == layout.total);
    check_sums("params", params, layout, e);
    if (h.has_optimizer) {
      check_sums("adam_m", m, layout, e);
      check_sums("adam_v", v, layout, e);
    }
  };
  if (model_block) {
    sums(ModelLayout::make(h.config.model));
    check_model_logits(h.config.model, params, e);
  } else {
    sums(ParamLayout::make(h.config.model));
    check_logits(h.config, params, e);
  }

  // Written again, the file comes back byte for byte: same version, same layout.
  const CheckpointData d{h.config, params.data(), h.has_optimizer ? m.data() : nullptr,
                         h.has_optimizer ? v.data() : nullptr, h.step, h.rng_state, h.rng_inc};
  Bytes again(file.size());
  std::size_t written = 0;
  REQUIRE(checkpoint_write(d, again.data(), again.size(), &written).is_ok());
  CHECK(written == file.size());
  CHECK_MESSAGE(again == file, name << " is not written back byte for byte");
}

}  // namespace

TEST_CASE("frozen v1_lam2026.tlc: format version 1, written at ecef8e8, AdamW state, cosine rate") {
  check_frozen("v1_lam2026.tlc");
}

TEST_CASE("frozen v2_eta_schedule.tlc: format version 2, written at 1dcf261, entropy schedule, init scale") {
  check_frozen("v2_eta_schedule.tlc");
}

TEST_CASE("frozen v3_alibi.tlc: format version 3, written at c779ac5, ALiBi (17th tensor rho)") {
  check_frozen("v3_alibi.tlc");
}

TEST_CASE("frozen v4_retrieval.tlc: format version 4, a 2-layer 2-head model of `reproduce retrieval`, AdamW state") {
  check_frozen("v4_retrieval.tlc");
}

TEST_CASE("frozen forced_a2_v1.tlc: format version 1 from the independent Python writer") {
  check_frozen("forced_a2_v1.tlc");
}

// The newest version this build reads, from the reader's own refusal of an unknown one.
unsigned latest_version() {
  Bytes file = read_bytes(frozen_path("v1_lam2026.tlc"));
  file[8] = 0xFF;
  CheckpointHeader h;
  const Status st = checkpoint_read_header(file.data(), file.size(), &h);
  REQUIRE_FALSE(st.is_ok());
  const std::string message = st.message();
  const std::string marker = "reads versions 1 to ";
  const std::size_t at = message.find(marker);
  REQUIRE_MESSAGE(at != std::string::npos, "unexpected message: " << message);
  return unsigned(std::strtoul(message.c_str() + at + marker.size(), nullptr, 10));
}

TEST_CASE("frozen files: one of every format version this build reads") {
  // A new format version needs its frozen file (tests/frozen/README.md) before this passes.
  const char* files[] = {"v1_lam2026.tlc", "v2_eta_schedule.tlc", "v3_alibi.tlc", "v4_retrieval.tlc"};
  std::vector<int> seen(latest_version() + 1, 0);
  for (const char* name : files) {
    const Bytes file = read_bytes(frozen_path(name));
    REQUIRE(file.size() > 12);
    const unsigned version = file[8];
    REQUIRE(version < seen.size());
    ++seen[version];
  }
  for (std::size_t version = 1; version < seen.size(); ++version)
    CHECK_MESSAGE(seen[version] == 1, "format version " << version << " has " << seen[version] << " frozen files");
}
