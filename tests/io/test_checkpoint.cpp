// Checkpoint format (docs/CHECKPOINT.md): round trips, the exact byte layout, and every
// rejection the reader promises. Files are edited in place and, where the test is about a
// check behind the checksum, re-sealed with an independent CRC-32 so that check is reached.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "support/checkpoint_bytes.hpp"
#include "tinyloop/checkpoint.hpp"
#include "tinyloop/config.hpp"
#include "tinyloop/params.hpp"
#include "tinyloop/rng.hpp"

using namespace tinyloop;

namespace {

using namespace tinyloop::test;

// File offsets of docs/CHECKPOINT.md.
constexpr std::size_t kOffVersion = 8, kOffFlags = 12, kOffSize = 16;
constexpr std::size_t kOffLoops = 24, kOffVocabIn = 28, kOffPositions = 36, kOffCausal = 44;
constexpr std::size_t kOffBeta = 60, kOffTau = 64;  // retired: no model reads them
constexpr std::size_t kOffQ = 80, kOffSchedule = 116, kOffAlphabet = 124, kOffBatch = 144;
constexpr std::size_t kOffSteps = 148, kOffSeed = 156, kOffStep = 164, kOffRngState = 172, kOffRngInc = 180;
constexpr std::size_t kOffTensors = 188;

// Walks the tensor sets of a well-formed file (test-side parser) and returns the offset of the
// block header (the name length) of tensor `name` in set `set` (0 params, 1 adam_m, 2 adam_v).
std::size_t block_offset(const Bytes& b, int set, const char* name) {
  std::size_t at = kOffTensors;
  for (int s = 0; s <= set; ++s) {
    const std::uint32_t count = get_u32(b, at);
    at += 4;
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::uint32_t len = get_u32(b, at);
      std::string n(reinterpret_cast<const char*>(&b[at + 4]), len);
      if (s == set && n == name) return at;
      const std::uint32_t rows = get_u32(b, at + 4 + len), cols = get_u32(b, at + 8 + len);
      at += 12 + len + 4 * std::size_t(rows) * cols;
    }
  }
  FAIL("tensor not found: ", name);
  return 0;
}
std::size_t value_offset(const Bytes& b, int set, const char* name, std::size_t index) {
  const std::size_t at = block_offset(b, set, name);
  return at + 12 + std::strlen(name) + 4 * index;
}

TrainConfig unusual_config() {
  TrainConfig c;
  c.model.layers = 7;
  c.model.positions = Positions::none;
  c.model.pe_scale = 0.3f;
  c.model.causal = false;
  c.model.loop = LoopKind::hamiltonian;
  c.model.mu = 0.75f;
  c.model.alpha = 0.5f;
  c.loss.lambda_p = 0.25f;
  c.loss.lambda_k = 0.125f;
  c.loss.lambda_s = 0.0625f;
  c.loss.q = 2.0f;
  c.loss.eta = 0.3f;
  c.optim.lr = 3e-4f;
  c.optim.beta1 = 0.8f;
  c.optim.beta2 = 0.95f;
  c.optim.eps = 1e-6f;
  c.optim.weight_decay = 0.01f;
  c.optim.clip_norm = 0.0f;
  c.optim.warmup_steps = 123;
  c.optim.schedule = Schedule::cosine;
  c.optim.min_lr_ratio = 0.1f;
  c.task.alphabet = 6;  // vocab_out 7: bout has a padding entry
  c.task.hops = 3;
  c.curriculum.min_len = 8;
  c.curriculum.max_len = 40;
  c.curriculum.ramp = 0.25f;
  c.batch = 5;
  c.steps = 5000000000LL;  // needs all 64 bits
  c.seed = 0xDEADBEEFCAFEBABEull;
  sync_vocab_with_task(c);
  REQUIRE(validate(c).is_ok());
  return c;
}

// unusual_config() with the entropy schedule set: the writer needs format version 2 for it.
TrainConfig scheduled_config() {
  TrainConfig c = unusual_config();
  c.loss.eta_schedule = Schedule::cosine;
  c.loss.eta_final = 0.05f;
  c.model.init_scale = 0.75f;
  REQUIRE(validate(c).is_ok());
  return c;
}

// Relative positions (SPEC 1.1) need format version 3: ALiBi adds the 17th tensor, rho.
TrainConfig alibi_config() {
  TrainConfig c = scheduled_config();
  c.model.positions = Positions::alibi_sinusoidal;
  c.model.alibi_rho = -1.25f;
  REQUIRE(validate(c).is_ok());
  return c;
}
TrainConfig rope_config() {
  TrainConfig c = preset_lam2026();
  c.model.positions = Positions::rope;
  c.model.rope_base = 500.0f;
  REQUIRE(validate(c).is_ok());
  return c;
}

void check_same_config(const TrainConfig& a, const TrainConfig& b) {
  CHECK(a.model.alibi_rho == b.model.alibi_rho);
  CHECK(a.model.rope_base == b.model.rope_base);
  CHECK(a.model.layers == b.model.layers);
  CHECK(a.model.vocab_in == b.model.vocab_in);
  CHECK(a.model.out_dim == b.model.out_dim);
  CHECK(a.model.positions == b.model.positions);
  CHECK(a.model.pe_scale == b.model.pe_scale);
  CHECK(a.model.causal == b.model.causal);
  CHECK(a.model.loop == b.model.loop);
  CHECK(a.model.mu == b.model.mu);
  CHECK(a.model.alpha == b.model.alpha);
  CHECK(a.model.ignore_class == b.model.ignore_class);
  CHECK(a.loss.lambda_p == b.loss.lambda_p);
  CHECK(a.loss.lambda_k == b.loss.lambda_k);
  CHECK(a.loss.lambda_s == b.loss.lambda_s);
  CHECK(a.loss.q == b.loss.q);
  CHECK(a.loss.eta == b.loss.eta);
  CHECK(a.loss.eta_schedule == b.loss.eta_schedule);
  CHECK(a.loss.eta_final == b.loss.eta_final);
  CHECK(a.model.init_scale == b.model.init_scale);
  CHECK(a.optim.lr == b.optim.lr);
  CHECK(a.optim.beta1 == b.optim.beta1);
  CHECK(a.optim.beta2 == b.optim.beta2);
  CHECK(a.optim.eps == b.optim.eps);
  CHECK(a.optim.weight_decay == b.optim.weight_decay);
  CHECK(a.optim.clip_norm == b.optim.clip_norm);
  CHECK(a.optim.warmup_steps == b.optim.warmup_steps);
  CHECK(a.optim.schedule == b.optim.schedule);
  CHECK(a.optim.min_lr_ratio == b.optim.min_lr_ratio);
  CHECK(a.task.alphabet == b.task.alphabet);
  CHECK(a.task.hops == b.task.hops);
  CHECK(a.curriculum.min_len == b.curriculum.min_len);
  CHECK(a.curriculum.max_len == b.curriculum.max_len);
  CHECK(a.curriculum.ramp == b.curriculum.ramp);
  CHECK(a.batch == b.batch);
  CHECK(a.steps == b.steps);
  CHECK(a.seed == b.seed);
}

// A flat array with random values in every tensor and exact zeros in the padding.
std::vector<float> random_flat(const ParamLayout& l, std::uint64_t seed, bool non_negative = false) {
  std::vector<float> v(l.total, 0.0f);
  Rng rng(seed);
  for (const ParamInfo& t : l.info)
    for (std::size_t k = 0; k < t.size(); ++k) {
      float x = float(normal(rng));
      v[t.offset + k] = non_negative ? x * x : x;
    }
  return v;
}

template <class V, class T>
bool all_equal(const V& v, T x) {
  for (const auto& e : v)
    if (!(e == x)) return false;
  return true;
}

bool has_padding(const ParamLayout& l) {
  std::size_t used = 0;
  for (const ParamInfo& t : l.info) used += t.size();
  return used < l.total;
}

struct Fixture {
  TrainConfig cfg;
  ParamLayout layout;
  std::vector<float> params, m, v;
  CheckpointData data;

  explicit Fixture(const TrainConfig& c, bool with_opt) : cfg(c), layout(ParamLayout::make(c.model)) {
    params = random_flat(layout, 11);
    data.config = cfg;
    data.params = params.data();
    if (with_opt) {
      m = random_flat(layout, 12);
      v = random_flat(layout, 13, true);
      data.adam_m = m.data();
      data.adam_v = v.data();
    }
    Rng data_rng(cfg.seed, 77);
    for (int i = 0; i < 5; ++i) data_rng.next_u32();
    data.step = 4242;
    data.rng_state = data_rng.state();
    data.rng_inc = data_rng.increment();
  }

  Bytes write() const {
    Bytes b(checkpoint_bytes(cfg, data.adam_m != nullptr));
    std::size_t written = 0;
    const Status s = checkpoint_write(data, b.data(), b.size(), &written);
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    REQUIRE(written == b.size());
    return b;
  }
};

Status read_all(const Bytes& b) {
  CheckpointHeader h;
  Status s = checkpoint_read_header(b.data(), b.size(), &h);
  if (!s.is_ok()) return s;
  std::vector<float> p(h.param_count), m(h.param_count), v(h.param_count);
  return checkpoint_read_tensors(b.data(), b.size(), p.data(), m.data(), v.data());
}

// Asserts that the reader rejects the bytes with bad_checkpoint and a message containing `part`.
void expect_rejected(const Bytes& b, const std::string& part) {
  CheckpointHeader h;
  const Status s = checkpoint_read_header(b.data(), b.size(), &h);
  CHECK(s.code() == Error::bad_checkpoint);
  CHECK_MESSAGE(std::string(s.message()).find(part) != std::string::npos, "message: " << std::string(s.message()));
  std::vector<float> buf(1 << 16, 9.0f);
  const Status t = checkpoint_read_tensors(b.data(), b.size(), buf.data(), buf.data(), buf.data());
  CHECK(t.code() == Error::bad_checkpoint);
  CHECK(std::string(t.message()) == s.message());
  CHECK(all_equal(buf, 9.0f));  // a failed read leaves the outputs untouched
}

}  // namespace

TEST_CASE("checkpoint: the reference and the engine CRC-32 both give the IEEE check value") {
  const char* s = "123456789";
  CHECK(ref_crc32(reinterpret_cast<const std::uint8_t*>(s), 9) == 0xCBF43926u);
  CHECK(checkpoint_crc32(reinterpret_cast<const std::uint8_t*>(s), 9) == 0xCBF43926u);
}

TEST_CASE("checkpoint: sizes of the lam2026 preset match docs/CHECKPOINT.md") {
  const TrainConfig c = preset_lam2026();
  CHECK(checkpoint_bytes(c, false) == 3935);
  CHECK(checkpoint_bytes(c, true) == 11421);
  TrainConfig bad = c;
  bad.model.vocab_in = -3;
  CHECK(checkpoint_bytes(bad, false) == 0);
}

TEST_CASE("checkpoint: byte layout follows docs/CHECKPOINT.md") {
  Fixture f(preset_lam2026(), false);
  const Bytes b = f.write();
  CHECK(std::memcmp(b.data(), "TLOOPCK\0", 8) == 0);
  CHECK(get_u32(b, kOffVersion) == 1);
  CHECK(get_u32(b, kOffFlags) == 0);
  CHECK(get_u64(b, kOffSize) == b.size());
  CHECK(get_u32(b, kOffLoops) == 25);
  CHECK(get_u32(b, kOffVocabIn) == 4);
  CHECK(get_u32(b, kOffCausal) == 1);
  CHECK(get_u32(b, kOffQ) == 0x3FC00000u);  // 1.5f
  CHECK(get_u32(b, kOffAlphabet) == 4);
  CHECK(get_u32(b, kOffBatch) == 32);
  CHECK(get_u64(b, kOffSteps) == 20000);
  CHECK(get_u64(b, kOffSeed) == 1);
  CHECK(get_u64(b, kOffStep) == 4242);
  CHECK(get_u64(b, kOffRngState) == f.data.rng_state);
  CHECK(get_u64(b, kOffRngInc) == f.data.rng_inc);
  CHECK(get_u32(b, kOffTensors) == 16);
  CHECK(get_u32(b, kOffTensors + 4) == 1);  // name length of "E"
  CHECK(b[kOffTensors + 8] == 'E');
  CHECK(get_u32(b, kOffTensors + 9) == 4);  // rows = vocab_in
  CHECK(get_u32(b, kOffTensors + 13) == 8);
  std::uint32_t e0;
  std::memcpy(&e0, &f.params[0], 4);
  CHECK(get_u32(b, kOffTensors + 17) == e0);
  CHECK(get_u32(b, b.size() - 4) == ref_crc32(b.data(), b.size() - 4));
  // Every tensor appears in ParamLayout order with its shape.
  for (int i = 0; i < f.layout.count; ++i) {
    const ParamInfo& t = f.layout.info[i];
    const std::size_t at = block_offset(b, 0, t.name);
    CHECK(get_u32(b, at) == std::strlen(t.name));
    CHECK(get_u32(b, at + 4 + std::strlen(t.name)) == std::uint32_t(t.rows));
    CHECK(get_u32(b, at + 8 + std::strlen(t.name)) == std::uint32_t(t.cols));
  }
}

TEST_CASE("checkpoint: the entropy schedule and the init scale need version 2, which appends them") {
  // Defaults (constant, eta_final 0, init_scale 1) keep version 1, so the paper's files stay readable by
  // builds that predate the schedule.
  Fixture v1(unusual_config(), false);
  const Bytes a = v1.write();
  CHECK(get_u32(a, kOffVersion) == 1);
  TrainConfig final_only = unusual_config();
  final_only.loss.eta_final = 0.25f;  // ignored by the constant schedule, but kept
  CHECK(checkpoint_bytes(final_only, false) == a.size() + 12);
  TrainConfig init_only = unusual_config();
  init_only.model.init_scale = 0.5f;
  CHECK(checkpoint_bytes(init_only, false) == a.size() + 12);

  Fixture v2(scheduled_config(), false);
  const Bytes b = v2.write();
  CHECK(b.size() == a.size() + 12);
  CHECK(get_u32(b, kOffVersion) == 2);
  CHECK(get_u64(b, kOffSize) == b.size());
  CHECK(std::memcmp(a.data() + kOffSize + 8, b.data() + kOffSize + 8, kOffStep - kOffSize - 8) == 0);
  constexpr std::size_t kOffEtaSchedule = kOffStep, kOffEtaFinal = kOffStep + 4, kOffInitScale = kOffStep + 8;
  CHECK(get_u32(b, kOffEtaSchedule) == 1);  // cosine
  CHECK(get_u32(b, kOffEtaFinal) == 0x3D4CCCCDu);  // 0.05f
  CHECK(get_u32(b, kOffInitScale) == 0x3F400000u);  // 0.75f
  CHECK(get_u64(b, kOffStep + 12) == 4242);  // the training state moves back by 12 bytes
  CHECK(get_u32(b, kOffTensors + 12) == 16);  // and so does the first tensor set

  Bytes c = b;
  put_u32(c, kOffEtaSchedule, 7);
  reseal(c);
  expect_rejected(c, "invalid configuration: unknown eta schedule 7");
  c = b;
  put_u32(c, kOffEtaSchedule, 0x100);
  reseal(c);
  expect_rejected(c, "loss.eta_schedule = 256 is not a known value");
  c = b;
  put_f32(c, kOffEtaFinal, std::numeric_limits<float>::infinity());
  reseal(c);
  expect_rejected(c, "eta_final must be finite");
  c = b;
  put_f32(c, kOffInitScale, -1.0f);
  reseal(c);
  expect_rejected(c, "invalid configuration: init_scale must be > 0, got -1");
  // A version-1 file relabelled as version 2 (or back) no longer adds up.
  c = a;
  put_u32(c, kOffVersion, 2);
  reseal(c);
  expect_rejected(c, "invalid configuration");
  c = b;
  put_u32(c, kOffVersion, 1);
  reseal(c);
  expect_rejected(c, "does not match the configuration");
  // Version 2 with the default schedule is not what the writer produces: refused, so every
  // accepted file is its own canonical encoding.
  c = b;
  put_u32(c, kOffEtaSchedule, 0);
  put_f32(c, kOffEtaFinal, 0.0f);
  put_f32(c, kOffInitScale, 1.0f);
  reseal(c);
  expect_rejected(c, "format version 2 does not match the configuration (it is written as version 1)");
}

TEST_CASE("checkpoint: relative positions need version 3, which appends their settings (and rho with ALiBi)") {
  Fixture v2(scheduled_config(), false);
  const Bytes a = v2.write();
  Fixture v3(alibi_config(), false);
  const Bytes b = v3.write();
  constexpr std::size_t kOffAlibiRho = kOffStep + 12, kOffRopeBase = kOffStep + 16;
  // 8 more configuration bytes; one more tensor: name length, "rho", 1 x 1, one float.
  CHECK(b.size() == a.size() + 8 + 4 + 3 + 8 + 4);
  CHECK(get_u32(b, kOffVersion) == 3);
  CHECK(get_u32(b, kOffPositions) == 3);  // alibi + sinusoidal
  CHECK(std::memcmp(a.data() + kOffPositions + 4, b.data() + kOffPositions + 4, kOffStep + 12 - kOffPositions - 4) == 0);
  CHECK(get_u32(b, kOffAlibiRho) == 0xBFA00000u);  // -1.25f
  CHECK(get_u32(b, kOffRopeBase) == 0x461C4000u);  // 10000.0f
  CHECK(get_u64(b, kOffStep + 20) == 4242);
  CHECK(get_u32(b, kOffTensors + 20) == 17);
  REQUIRE(v3.layout.count == 17);
  CHECK(std::string(v3.layout[Param::rho].name) == "rho");
  // rho is the last tensor: its block ends where the checksum starts.
  const std::size_t rho_at = b.size() - 4 - (4 + 3 + 8 + 4);
  CHECK(get_u32(b, rho_at) == 3);
  CHECK(std::memcmp(b.data() + rho_at + 4, "rho", 3) == 0);
  float rho = 0;
  std::memcpy(&rho, b.data() + rho_at + 15, 4);
  CHECK(rho == v3.params[v3.layout[Param::rho].offset]);

  // RoPE has no extra tensor; a non-default setting alone also needs version 3.
  Fixture rope(rope_config(), false);
  const Bytes r = rope.write();
  CHECK(get_u32(r, kOffVersion) == 3);
  CHECK(get_u32(r, kOffTensors + 20) == 16);
  CHECK(r.size() == checkpoint_bytes(preset_lam2026(), false) + 12 + 8);
  TrainConfig rho_only = preset_lam2026();
  rho_only.model.alibi_rho = 2.0f;  // no effect without ALiBi, but kept
  CHECK(checkpoint_bytes(rho_only, false) == r.size());

  // Relabelled positions no longer add up: the tensor count or the version gives it away.
  Bytes c = b;
  put_u32(c, kOffPositions, 0);  // sinusoidal: 16 tensors expected, the file holds 17
  reseal(c);
  expect_rejected(c, "size 4110 does not match the configuration (expected 4091 bytes)");
  c = r;
  put_u32(c, kOffPositions, 2);  // ALiBi: rho expected
  reseal(c);
  expect_rejected(c, "does not match the configuration");
  c = a;
  put_u32(c, kOffPositions, 4);  // RoPE in a version-2 file
  reseal(c);
  expect_rejected(c, "format version 2 does not match the configuration (it is written as version 3)");
  c = r;
  put_u32(c, kOffPositions, 6);
  reseal(c);
  expect_rejected(c, "unknown position kind 6");
  c = r;
  put_f32(c, kOffRopeBase, 1.0f);
  reseal(c);
  expect_rejected(c, "rope_base must be > 1");
  c = b;
  put_f32(c, kOffAlibiRho, std::numeric_limits<float>::quiet_NaN());
  reseal(c);
  expect_rejected(c, "alibi_rho must be in [-30, 30]");
  c = b;
  put_f32(c, rho_at + 15, std::numeric_limits<float>::infinity());
  reseal(c);
  expect_rejected(c, "non-finite value in tensor 'rho'");
  // Version 3 holding only version-2 settings is not what the writer produces.
  c = r;
  put_f32(c, kOffRopeBase, 10000.0f);
  put_u32(c, kOffPositions, 0);
  reseal(c);
  expect_rejected(c, "format version 3 does not match the configuration (it is written as version 1)");
}

TEST_CASE("checkpoint: round trip without optimizer state") {
  for (const TrainConfig& cfg : {preset_lam2026(), unusual_config(), scheduled_config(), alibi_config(), rope_config()}) {
    Fixture f(cfg, false);
    REQUIRE(has_padding(f.layout));
    const Bytes b = f.write();
    CHECK(b.size() == checkpoint_bytes(cfg, false));

    CheckpointHeader h;
    const Status s = checkpoint_read_header(b.data(), b.size(), &h);
    REQUIRE_MESSAGE(s.is_ok(), s.message());
    check_same_config(h.config, cfg);
    CHECK(h.step == 4242);
    CHECK(h.rng_state == f.data.rng_state);
    CHECK(h.rng_inc == f.data.rng_inc);
    CHECK_FALSE(h.has_optimizer);
    CHECK(h.param_count == f.layout.total);

    // Garbage everywhere first: the padding must come back as exact zeros.
    std::vector<float> p(h.param_count, -7.0f), m(h.param_count, 5.0f), v(h.param_count, 6.0f);
    REQUIRE(checkpoint_read_tensors(b.data(), b.size(), p.data(), m.data(), v.data()).is_ok());
    CHECK(std::memcmp(p.data(), f.params.data(), p.size() * sizeof(float)) == 0);
    CHECK(all_equal(m, 5.0f));  // no optimizer state in the file: untouched
    CHECK(all_equal(v, 6.0f));
    REQUIRE(checkpoint_read_tensors(b.data(), b.size(), p.data(), nullptr, nullptr).is_ok());

    // A resumed generator continues the same stream.
    Rng original(cfg.seed, 77);
    for (int i = 0; i < 5; ++i) original.next_u32();
    Rng resumed;
    resumed.restore(h.rng_state, h.rng_inc);
    for (int i = 0; i < 10; ++i) CHECK(resumed.next_u32() == original.next_u32());
  }
}

TEST_CASE("checkpoint: round trip with optimizer state") {
  for (const TrainConfig& cfg : {preset_lam2026(), unusual_config(), scheduled_config(), alibi_config(), rope_config()}) {
    Fixture f(cfg, true);
    const Bytes b = f.write();
    CHECK(b.size() == checkpoint_bytes(cfg, true));
    CHECK(get_u32(b, kOffFlags) == 1);

    CheckpointHeader h;
    REQUIRE(checkpoint_read_header(b.data(), b.size(), &h).is_ok());
    check_same_config(h.config, cfg);
    CHECK(h.has_optimizer);
    CHECK(h.step == 4242);
    std::vector<float> p(h.param_count, 1e30f), m(h.param_count, -1e30f), v(h.param_count, 3.0f);
    REQUIRE(checkpoint_read_tensors(b.data(), b.size(), p.data(), m.data(), v.data()).is_ok());
    CHECK(std::memcmp(p.data(), f.params.data(), p.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(m.data(), f.m.data(), m.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(v.data(), f.v.data(), v.size() * sizeof(float)) == 0);

    // The optimizer arrays are optional on read.
    std::vector<float> p2(h.param_count, 2.0f);
    REQUIRE(checkpoint_read_tensors(b.data(), b.size(), p2.data(), nullptr, nullptr).is_ok());
    CHECK(p2 == f.params);

    // Writing what was read gives the same bytes.
    CheckpointData again;
    again.config = h.config;
    again.params = p.data();
    again.adam_m = m.data();
    again.adam_v = v.data();
    again.step = h.step;
    again.rng_state = h.rng_state;
    again.rng_inc = h.rng_inc;
    Bytes b2(b.size());
    std::size_t written = 0;
    REQUIRE(checkpoint_write(again, b2.data(), b2.size(), &written).is_ok());
    CHECK(b2 == b);
  }
}

TEST_CASE("checkpoint: special but finite values survive bit-exactly") {
  Fixture f(preset_lam2026(), true);
  f.params[0] = -0.0f;
  f.params[1] = std::numeric_limits<float>::denorm_min();
  f.params[2] = std::numeric_limits<float>::max();
  f.params[3] = -std::numeric_limits<float>::max();
  f.v[0] = -0.0f;  // a negative zero second moment is still >= 0
  const Bytes b = f.write();
  CheckpointHeader h;
  REQUIRE(checkpoint_read_header(b.data(), b.size(), &h).is_ok());
  std::vector<float> p(h.param_count), m(h.param_count), v(h.param_count);
  REQUIRE(checkpoint_read_tensors(b.data(), b.size(), p.data(), m.data(), v.data()).is_ok());
  CHECK(std::memcmp(p.data(), f.params.data(), p.size() * sizeof(float)) == 0);
  CHECK(std::signbit(p[0]));
  CHECK(std::memcmp(v.data(), f.v.data(), v.size() * sizeof(float)) == 0);
}

TEST_CASE("checkpoint: bad magic and foreign files") {
  Fixture f(preset_lam2026(), false);
  Bytes b = f.write();
  for (std::size_t i = 0; i < 8; ++i) {
    Bytes c = b;
    c[i] ^= 0x20;
    expect_rejected(c, "not a tinyloop checkpoint (bad magic)");
  }
  expect_rejected(Bytes{'h', 'e', 'l', 'l', 'o'}, "bad magic");
  expect_rejected(Bytes(100, 0), "bad magic");
  expect_rejected(Bytes{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0}, "bad magic");
  // A null pointer with size 0 is an empty file.
  CheckpointHeader h;
  CHECK(checkpoint_read_header(nullptr, 0, &h).code() == Error::bad_checkpoint);
  CHECK(checkpoint_read_header(nullptr, 10, &h).code() == Error::bad_checkpoint);
}

TEST_CASE("checkpoint: unknown version and flags") {
  Fixture f(preset_lam2026(), false);
  Bytes b = f.write();
  Bytes c = b;
  put_u32(c, kOffVersion, 5);
  expect_rejected(c, "unsupported checkpoint version 5 (this build reads versions 1 to 4)");
  reseal(c);
  expect_rejected(c, "unsupported checkpoint version 5");
  // A looped-block file relabelled as version 4 reads its configuration as a recipe and a model
  // block, which cannot match.
  c = b;
  put_u32(c, kOffVersion, 4);
  reseal(c);
  CHECK(read_all(c).code() == Error::bad_checkpoint);
  c = b;
  put_u32(c, kOffVersion, 0);
  expect_rejected(c, "version 0");
  c = b;
  put_u32(c, kOffFlags, 0x4);
  reseal(c);
  expect_rejected(c, "unknown checkpoint flags");
  // Flag set but no optimizer sets in the file: the size no longer matches.
  c = b;
  put_u32(c, kOffFlags, 1);
  reseal(c);
  expect_rejected(c, "does not match the configuration");
}

TEST_CASE("checkpoint: truncated at every length, and trailing data") {
  for (bool opt : {false, true})
    for (const TrainConfig& cfg : {preset_lam2026(), scheduled_config(), alibi_config()}) {
      Fixture f(cfg, opt);
      const Bytes b = f.write();
      for (std::size_t n = 0; n < b.size(); ++n) {
        // Copy into an exactly sized heap block so ASan sees any read past n.
        Bytes c(b.begin(), b.begin() + std::ptrdiff_t(n));
        CheckpointHeader h;
        const Status s = checkpoint_read_header(c.data(), c.size(), &h);
        REQUIRE(s.code() == Error::bad_checkpoint);
        REQUIRE_MESSAGE(std::string(s.message()).rfind("truncated", 0) == 0, "n=", n, ": ", s.message());
      }
      Bytes c(b.begin(), b.begin() + 1000);
      expect_rejected(c, "truncated: expected " + std::to_string(b.size()) + " bytes, got 1000");
      expect_rejected(Bytes(), "truncated");

      Bytes longer = b;
      longer.push_back(0);
      expect_rejected(longer, "trailing data");
      // Declared size edited to match the longer file: the checksum then fails.
      put_u64(longer, kOffSize, longer.size());
      expect_rejected(longer, "checksum mismatch");
    }
}

// checkpoint_size_from_head on the first n bytes of b, in an allocation of exactly n bytes so
// that ASan sees any read past them.
Status size_from_head(const Bytes& b, std::size_t n, std::size_t* bytes) {
  const Bytes head(b.begin(), b.begin() + std::ptrdiff_t(n < b.size() ? n : b.size()));
  return checkpoint_size_from_head(head.data(), head.size(), bytes);
}

TEST_CASE("checkpoint: the head alone gives the file's exact size, for versions 1 to 3") {
  for (bool opt : {false, true})
    for (const TrainConfig& cfg : {preset_lam2026(), scheduled_config(), alibi_config(), rope_config()}) {
      Fixture f(cfg, opt);
      const Bytes b = f.write();
      CAPTURE(get_u32(b, kOffVersion));
      std::size_t bytes = 0;
      REQUIRE(size_from_head(b, kCheckpointHeadBytes, &bytes).is_ok());
      CHECK(bytes == b.size());
      CHECK(bytes == checkpoint_bytes(cfg, opt));
      // Everything after the configuration block is irrelevant to the size.
      const std::size_t config_end = get_u32(b, kOffVersion) == 1 ? 164 : get_u32(b, kOffVersion) == 2 ? 176 : 184;
      REQUIRE(size_from_head(b, config_end, &bytes).is_ok());
      CHECK(bytes == b.size());
      for (std::size_t n = 0; n < config_end; ++n) {
        const Status s = size_from_head(b, n, &bytes);
        REQUIRE_MESSAGE(s.code() == Error::bad_checkpoint, "n=", n);
        CHECK(std::string(s.message()).rfind("truncated", 0) == 0);
        CHECK(bytes == 0);
      }
    }
}

TEST_CASE("checkpoint: a head whose declared size disagrees with its configuration is refused") {
  Fixture f(preset_lam2026(), true);
  Bytes b = f.write();
  const std::string real = std::to_string(b.size());
  std::size_t bytes = 1;
  for (std::uint64_t declared : {std::uint64_t(1) << 62, std::uint64_t(b.size()) + 1, std::uint64_t(b.size()) - 1,
                                 std::uint64_t(0), ~std::uint64_t(0)}) {
    CAPTURE(declared);
    put_u64(b, kOffSize, declared);
    const Status s = size_from_head(b, kCheckpointHeadBytes, &bytes);
    CHECK(s.code() == Error::bad_checkpoint);
    CHECK(std::string(s.message()) == "size mismatch: header declares " + std::to_string(declared) +
                                          " bytes, its configuration implies " + real);
    CHECK(bytes == 0);
  }
  // The other checks of the head: magic, version, flags, configuration.
  auto head_message = [&](const Bytes& c) {
    return std::string(size_from_head(c, kCheckpointHeadBytes, &bytes).message());
  };
  Bytes c = f.write();
  c[0] ^= 0x20;
  CHECK(head_message(c) == "not a tinyloop checkpoint (bad magic)");
  c = f.write();
  put_u32(c, kOffVersion, 5);
  CHECK(head_message(c).find("unsupported checkpoint version 5") != std::string::npos);
  c = f.write();
  put_u32(c, kOffFlags, 0);  // no optimizer state: the configuration implies a smaller file
  CHECK(head_message(c).find("size mismatch") != std::string::npos);
  c = f.write();
  put_u32(c, kOffVocabIn, 5);
  CHECK(head_message(c).find("invalid configuration") != std::string::npos);
}

TEST_CASE("checkpoint: single-byte changes are never accepted") {
  for (bool opt : {false, true})
    for (const TrainConfig& cfg : {unusual_config(), scheduled_config(), alibi_config()}) {
      Fixture f(cfg, opt);
      const Bytes b = f.write();
      REQUIRE(read_all(b).is_ok());
      const std::size_t stride = opt ? 3 : 1;
      const std::uint8_t masks[] = {0x01, 0x80, 0xFF, 0x5A};
      int checksum_msgs = 0;
      for (std::size_t i = 0; i < b.size(); i += stride)
        for (std::uint8_t mask : masks) {
          Bytes c = b;
          c[i] ^= mask;
          const Status s = read_all(c);
          REQUIRE_MESSAGE(s.code() == Error::bad_checkpoint, "byte ", i, " mask ", int(mask));
          if (std::string(s.message()) == "checksum mismatch: file is corrupted") ++checksum_msgs;
        }
      CHECK(checksum_msgs > 0);
      // Past the header only the checksum can catch a flip.
      Bytes c = b;
      c[kOffTensors + 50] ^= 0x10;
      expect_rejected(c, "checksum mismatch: file is corrupted");
      c = b;
      c[b.size() - 1] ^= 0x01;  // the checksum itself
      expect_rejected(c, "checksum mismatch: file is corrupted");
    }
}

TEST_CASE("checkpoint: non-finite weights are rejected behind a valid checksum") {
  Fixture f(preset_lam2026(), true);
  const Bytes b = f.write();
  Bytes c = b;
  put_u32(c, value_offset(c, 0, "Wq", 5), 0x7FC00000u);  // quiet NaN
  reseal(c);
  CheckpointHeader h;
  const Status s = checkpoint_read_header(c.data(), c.size(), &h);
  CHECK(s.code() == Error::bad_checkpoint);
  CHECK(std::string(s.message()) == "non-finite value in tensor 'Wq' at index 5");
  expect_rejected(c, "non-finite value in tensor 'Wq' at index 5");

  c = b;
  put_f32(c, value_offset(c, 0, "bout", 4), std::numeric_limits<float>::infinity());
  reseal(c);
  expect_rejected(c, "non-finite value in tensor 'bout' at index 4");

  c = b;
  put_f32(c, value_offset(c, 0, "E", 0), -std::numeric_limits<float>::infinity());
  reseal(c);
  expect_rejected(c, "non-finite value in tensor 'E' at index 0");

  c = b;
  put_u32(c, value_offset(c, 1, "W1", 17), 0xFF800001u);  // signalling NaN, sign set
  reseal(c);
  expect_rejected(c, "non-finite value in adam_m tensor 'W1' at index 17");

  c = b;
  put_f32(c, value_offset(c, 2, "ln2.bias", 3), std::nanf(""));
  reseal(c);
  expect_rejected(c, "non-finite value in adam_v tensor 'ln2.bias' at index 3");

  c = b;
  put_f32(c, value_offset(c, 2, "Wv", 2), -1e-3f);
  reseal(c);
  expect_rejected(c, "negative value in adam_v tensor 'Wv' at index 2");
}

TEST_CASE("checkpoint: tensor names, counts and shapes must match the configuration") {
  Fixture f(preset_lam2026(), true);
  const Bytes b = f.write();

  // Wout is 8x5; 5x8 has the same size, so only the shape check can catch it.
  Bytes c = b;
  std::size_t at = block_offset(c, 0, "Wout");
  put_u32(c, at + 4 + 4, 5);
  put_u32(c, at + 4 + 8, 8);
  reseal(c);
  expect_rejected(c, "tensor 'Wout' has shape 5x8, the configuration expects 8x5");

  c = b;
  at = block_offset(c, 2, "E");
  put_u32(c, at + 4 + 1, 2);
  put_u32(c, at + 4 + 5, 16);
  reseal(c);
  expect_rejected(c, "adam_v tensor 'E' has shape 2x16");

  c = b;
  at = block_offset(c, 0, "Wk");
  c[at + 5] = 'x';  // "Wx"
  reseal(c);
  expect_rejected(c, "params tensor 2: expected 'Wk', found 'Wx'");

  // Two tensors of equal size swapped: names out of order.
  c = b;
  at = block_offset(c, 0, "ln1.gain");
  std::memcpy(&c[at + 4], "ln1.bias", 8);
  reseal(c);
  expect_rejected(c, "expected 'ln1.gain', found 'ln1.bias'");

  c = b;
  put_u32(c, kOffTensors, 15);
  reseal(c);
  expect_rejected(c, "params: expected 16 tensors, found 15");

  c = b;
  put_u32(c, block_offset(c, 1, "E") - 4, 0xFFFFFFFFu);  // adam_m count
  reseal(c);
  expect_rejected(c, "adam_m: expected 16 tensors");

  // Hostile lengths are refused before use.
  for (std::uint32_t len : {0xFFFFFFFFu, 0x80000000u, 65u, 3000u, 0u}) {
    c = b;
    put_u32(c, block_offset(c, 0, "W2"), len);
    reseal(c);
    CHECK(read_all(c).code() == Error::bad_checkpoint);
  }
  for (std::uint32_t rows : {0xFFFFFFFFu, 0x40000000u, 0u, 9u}) {
    c = b;
    put_u32(c, block_offset(c, 0, "W2") + 4 + 2, rows);
    reseal(c);
    expect_rejected(c, "tensor 'W2' has shape");
  }
}

TEST_CASE("checkpoint: invalid configuration is rejected behind a valid checksum") {
  Fixture f(preset_lam2026(), false);
  const Bytes b = f.write();
  Bytes c = b;
  put_u32(c, kOffLoops, 0);
  reseal(c);
  Status expected = [] {
    TrainConfig t = preset_lam2026();
    t.model.layers = 0;
    return validate(t);
  }();
  REQUIRE_FALSE(expected.is_ok());
  expect_rejected(c, std::string("invalid configuration: ") + expected.message());

  c = b;
  put_f32(c, kOffQ, 1.0f);
  reseal(c);
  expect_rejected(c, "invalid configuration: Tsallis q");

  c = b;
  put_u32(c, kOffAlphabet, 5);  // vocab no longer alphabet / alphabet + 1
  reseal(c);
  expect_rejected(c, "invalid configuration: vocab_in/classes/NONE class");

  c = b;
  put_u32(c, kOffBatch, 0xFFFFFFFFu);  // -1
  reseal(c);
  expect_rejected(c, "invalid configuration: batch must be >= 1, got -1");

  c = b;
  put_u32(c, kOffCausal, 2);
  reseal(c);
  expect_rejected(c, "invalid configuration: model.causal = 2");

  c = b;
  put_u32(c, kOffPositions, 0x101);  // would alias 'none' if narrowed to a byte
  reseal(c);
  expect_rejected(c, "invalid configuration: model.positions = 257");

  c = b;
  put_u32(c, kOffPositions, 7);
  reseal(c);
  expect_rejected(c, "invalid configuration: unknown position kind 7");

  c = b;
  put_u32(c, kOffPositions, uint32_t(Positions::learned));  // a position kind of other models
  reseal(c);
  expect_rejected(c, "invalid configuration: the training recipe runs the paper's looped block");

  // Retired fields hold their one value: beta 0 (the only one ever accepted), tau 1.
  CHECK(get_u32(b, kOffBeta) == 0u);
  c = b;
  put_f32(c, kOffBeta, 0.5f);
  reseal(c);
  expect_rejected(c, "invalid configuration: model.beta is retired and must be 0");
  c = b;
  put_f32(c, kOffTau, 2.5f);
  reseal(c);
  expect_rejected(c, "invalid configuration: model.tau is retired and must be 1");

  c = b;
  put_u32(c, kOffSchedule, 2);
  reseal(c);
  expect_rejected(c, "invalid configuration: unknown lr schedule 2");

  c = b;
  put_u64(c, kOffSteps, ~std::uint64_t(0));
  reseal(c);
  expect_rejected(c, "invalid configuration: steps must be >= 0");

  // A valid configuration that disagrees with the tensors: bigger vocabulary.
  c = b;
  put_u32(c, kOffVocabIn, 5);
  put_u32(c, kOffVocabIn + 4, 6);
  put_u32(c, kOffAlphabet, 5);
  reseal(c);
  expect_rejected(c, "does not match the configuration");
}

TEST_CASE("checkpoint: step and rng increment are checked") {
  Fixture f(preset_lam2026(), false);
  const Bytes b = f.write();
  Bytes c = b;
  put_u64(c, kOffStep, ~std::uint64_t(0));
  reseal(c);
  expect_rejected(c, "step must be >= 0, got -1");
  c = b;
  put_u64(c, kOffRngInc, 42);
  reseal(c);
  expect_rejected(c, "rng increment must be odd");
}

TEST_CASE("checkpoint: writing needs enough room and valid inputs") {
  Fixture f(preset_lam2026(), true);
  const std::size_t need = checkpoint_bytes(f.cfg, true);
  Bytes buf(need, 0xAB);
  std::size_t written = 99;
  for (std::size_t cap : {std::size_t(0), std::size_t(1), std::size_t(24), need / 2, need - 4, need - 1}) {
    const Status s = checkpoint_write(f.data, buf.data(), cap, &written);
    CHECK(s.code() == Error::buffer_too_small);
    CHECK(written == 0);
    CHECK(std::string(s.message()).find(std::to_string(need)) != std::string::npos);
    CHECK(all_equal(buf, std::uint8_t(0xAB)));
  }
  CHECK(checkpoint_write(f.data, nullptr, need, &written).code() == Error::buffer_too_small);
  Bytes bigger(need + 10, 0xCD);
  REQUIRE(checkpoint_write(f.data, bigger.data(), bigger.size(), &written).is_ok());
  CHECK(written == need);
  CHECK(bigger[need] == 0xCD);
  CHECK(checkpoint_read_header(bigger.data(), written, nullptr).is_ok());
  CHECK(checkpoint_write(f.data, bigger.data(), bigger.size(), nullptr).is_ok());

  CheckpointData d = f.data;
  d.adam_v = nullptr;
  CHECK(checkpoint_write(d, buf.data(), need, &written).code() == Error::bad_config);
  d = f.data;
  d.params = nullptr;
  CHECK(checkpoint_write(d, buf.data(), need, &written).code() == Error::bad_config);
  d = f.data;
  d.config.model.layers = 0;
  CHECK(checkpoint_write(d, buf.data(), need, &written).code() == Error::bad_config);
  d = f.data;
  d.rng_inc = 2;
  CHECK(checkpoint_write(d, buf.data(), need, &written).code() == Error::bad_config);
  d = f.data;
  d.step = -1;
  CHECK(checkpoint_write(d, buf.data(), need, &written).code() == Error::bad_config);

  // Files the reader would refuse are not written.
  std::vector<float> p = f.params;
  p[f.layout[Param::W1].offset + 3] = std::nanf("");
  d = f.data;
  d.params = p.data();
  Status s = checkpoint_write(d, buf.data(), need, &written);
  CHECK(s.code() == Error::non_finite);
  CHECK(std::string(s.message()) == "non-finite value in params tensor 'W1' at index 3");
  std::vector<float> v = f.v;
  v[f.layout[Param::b2].offset] = -1.0f;
  d = f.data;
  d.adam_v = v.data();
  CHECK(checkpoint_write(d, buf.data(), need, &written).code() == Error::non_finite);
  CHECK(written == 0);
}
