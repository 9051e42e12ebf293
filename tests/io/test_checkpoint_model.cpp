// Version-4 checkpoints (docs/CHECKPOINT.md): any ModelSpec, as the studies train it (stacked
// layers, several heads, vector inputs, linear attention, ...). Round trips for every shape of
// the model family, resuming a trained stacked model exactly, the file layout, and the
// rejections the reader promises for the new model block. The looped block keeps versions 1-3.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/checkpoint_bytes.hpp"
#include "support/family_cases.hpp"
#include "tinyloop/checkpoint.hpp"
#include "tinyloop/model.hpp"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {

// docs/CHECKPOINT.md, version 4: header 24, configuration block 56, model block 128, state 24.
constexpr std::size_t kOffModel = 80, kOffState = 208, kOffTensors = 232;
// Fields of the model block, by position in it.
constexpr std::size_t kOffLayers = kOffModel, kOffLooped = kOffModel + 4, kOffHeads = kOffModel + 8,
                      kOffWidth = kOffModel + 12, kOffAttention = kOffModel + 32, kOffPositions = kOffModel + 52;

struct Trained {
  std::vector<unsigned char> buffer;
  Model<float> model;
};

// A model of `spec` after `steps` AdamW steps on random batches (its state then holds
// non-trivial moments and a step count).
void train(Trained& t, const ModelSpec& spec, int steps, int batch, int len) {
  const Capacity cap{len, batch, 1};
  t.buffer.assign(Model<float>::plan(spec, cap).total, 0);
  REQUIRE(t.model.init(spec, OptimConfig{}, cap, t.buffer.data(), t.buffer.size()).is_ok());
  Rng rng(5);
  t.model.init_weights(rng);
  for (int s = 0; s < steps; ++s) {
    const auto data = random_family_data<float>(spec, batch, len, 100 + std::uint64_t(s));
    ModelStats stats;
    REQUIRE(t.model.train_step(data.batch(batch, len), steps, &stats).is_ok());
  }
}

CheckpointData data_of(Trained& t, const ModelSpec& spec, bool with_optimizer) {
  CheckpointData d;
  d.config.steps = 7;
  d.config.seed = 99;
  d.config.optim.lr = 3e-3f;
  d.params = t.model.params();
  d.adam_m = with_optimizer ? t.model.adam_m() : nullptr;
  d.adam_v = with_optimizer ? t.model.adam_v() : nullptr;
  d.step = t.model.step();
  d.rng_state = 0x1234;
  d.rng_inc = 0x8765;  // odd
  d.config.model = spec;
  return d;
}

Bytes write(const CheckpointData& d) {
  Bytes b(checkpoint_bytes(d.config, d.adam_m != nullptr));
  REQUIRE(!b.empty());
  std::size_t written = 0;
  const Status s = checkpoint_write(d, b.data(), b.size(), &written);
  REQUIRE_MESSAGE(s.is_ok(), s.message());
  REQUIRE(written == b.size());
  return b;
}

// The stacked retrieval shape: 3 layers, 2 heads, width 16, learned positions.
ModelSpec retrieval_like() {
  ModelSpec s;
  s.layers = 3;
  s.heads = 2;
  s.width = 16;
  s.positions = Positions::learned;
  s.max_len = 12;
  s.vocab_in = 11;
  s.out_dim = 9;
  return s;
}

Status read_header(const Bytes& b, CheckpointHeader* h) { return checkpoint_read_header(b.data(), b.size(), h); }

std::string message_of(const Bytes& b) {
  CheckpointHeader h;
  return read_header(b, &h).message();
}

}  // namespace

TEST_CASE("checkpoint v4: every shape of the model family round-trips, with and without AdamW state") {
  for (const FamilyCase& c : family_cases())
    for (bool opt : {false, true}) {
      CAPTURE(c.name);
      CAPTURE(opt);
      Trained t;
      train(t, c.cfg, 2, c.batch, c.len);
      const CheckpointData d = data_of(t, c.cfg, opt);
      const Bytes b = write(d);
      CHECK(get_u32(b, 8) == 4);
      CHECK(get_u32(b, kOffLayers) == std::uint32_t(c.cfg.layers));
      CHECK(get_u32(b, kOffWidth) == std::uint32_t(c.cfg.width));

      CheckpointHeader h;
      const Status s = read_header(b, &h);
      REQUIRE_MESSAGE(s.is_ok(), s.message());
      CHECK_FALSE(h.looped_block);
      CHECK(h.has_optimizer == opt);
      CHECK(h.step == 2);
      CHECK(h.rng_state == 0x1234);
      CHECK(h.rng_inc == 0x8765);
      CHECK(h.config.steps == 7);
      CHECK(h.config.seed == 99);
      CHECK(h.config.optim.lr == 3e-3f);
      REQUIRE(h.param_count == t.model.param_count());
      std::size_t from_head = 0;
      REQUIRE(checkpoint_size_from_head(b.data(), kCheckpointHeadBytes, &from_head).is_ok());
      CHECK(from_head == b.size());

      std::vector<float> p(h.param_count, 7.0f), m(h.param_count, 7.0f), v(h.param_count, 7.0f);
      REQUIRE(checkpoint_read_tensors(b.data(), b.size(), p.data(), m.data(), v.data()).is_ok());
      for (std::size_t i = 0; i < p.size(); ++i) {
        REQUIRE(p[i] == t.model.params()[i]);
        if (opt) {
          REQUIRE(m[i] == t.model.adam_m()[i]);
          REQUIRE(v[i] == t.model.adam_v()[i]);
        }
      }
      if (!opt) CHECK(m[0] == 7.0f);  // no optimizer state: left untouched

      // The spec read back writes the same bytes (every field of it survived).
      CheckpointData again = d;
      again.config = h.config;
      CHECK(write(again) == b);
    }
}

TEST_CASE("checkpoint v4: a stacked model resumed from its file trains on bit for bit") {
  const ModelSpec spec = retrieval_like();
  const int B = 3, n = 10;
  Trained a;
  train(a, spec, 4, B, n);
  const Bytes b = write(data_of(a, spec, true));

  CheckpointHeader h;
  REQUIRE(read_header(b, &h).is_ok());
  Trained r;
  const Capacity cap{n, B, 1};
  r.buffer.assign(Model<float>::plan(h.config.model, cap).total, 0);
  REQUIRE(r.model.init(h.config.model, OptimConfig{}, cap, r.buffer.data(), r.buffer.size()).is_ok());
  REQUIRE(r.model.param_count() == h.param_count);
  REQUIRE(checkpoint_read_tensors(b.data(), b.size(), r.model.params(), r.model.adam_m(), r.model.adam_v()).is_ok());
  r.model.set_step(h.step);

  for (int s = 0; s < 3; ++s) {
    const auto data = random_family_data<float>(spec, B, n, 500 + std::uint64_t(s));
    ModelStats sa, sr;
    REQUIRE(a.model.train_step(data.batch(B, n), 4, &sa).is_ok());
    REQUIRE(r.model.train_step(data.batch(B, n), 4, &sr).is_ok());
    CHECK(sa.loss == sr.loss);
  }
  for (std::size_t i = 0; i < a.model.param_count(); ++i) REQUIRE(a.model.params()[i] == r.model.params()[i]);
}

TEST_CASE("checkpoint v4: tensors carry their layer, in the model's layout order") {
  const ModelSpec spec = retrieval_like();
  Trained t;
  train(t, spec, 1, 2, 6);
  const Bytes b = write(data_of(t, spec, false));
  const ModelLayout layout = ModelLayout::make(spec);
  std::size_t at = kOffTensors;
  REQUIRE(get_u32(b, at) == std::uint32_t(layout.count));
  at += 4;
  for (int i = 0; i < layout.count; ++i) {
    const std::uint32_t len = get_u32(b, at);
    const std::string name(reinterpret_cast<const char*>(&b[at + 4]), len);
    CHECK(name == layout.tensors[i].name);
    CHECK(get_u32(b, at + 4 + len) == std::uint32_t(layout.tensors[i].rows));
    CHECK(get_u32(b, at + 8 + len) == std::uint32_t(layout.tensors[i].cols));
    at += 12 + len + 4 * layout.tensors[i].size();
  }
  CHECK(at == b.size() - 4);
  CHECK(layout.find("L2.Wq") >= 0);
  CHECK(get_u64(b, kOffState) == 1);  // the step
}

TEST_CASE("checkpoint: the looped block keeps versions 1-3 and reads as its ModelSpec") {
  const TrainConfig cfg = preset_lam2026();
  const ModelSpec& spec = cfg.model;
  std::vector<unsigned char> buf(Model<float>::plan(spec, Capacity{8, 2, 1}).total);
  Model<float> model;
  REQUIRE(model.init(spec, OptimConfig{}, Capacity{8, 2, 1}, buf.data(), buf.size()).is_ok());
  Rng rng(3);
  model.init_weights(rng);
  CheckpointData d;
  d.config = cfg;
  d.params = model.params();
  d.rng_inc = 1;
  const Bytes b = write(d);
  CHECK(get_u32(b, 8) == 1);
  CheckpointHeader h;
  REQUIRE(read_header(b, &h).is_ok());
  CHECK(h.looped_block);
  CHECK(runs_d8_kernels(h.config.model));
  CHECK(h.config.model.layers == cfg.model.layers);
  CHECK(h.config.model.looped);
  CHECK(h.param_count == model.param_count());
}

TEST_CASE("checkpoint v4: an invalid model block is refused behind a valid checksum") {
  const ModelSpec spec = retrieval_like();
  Trained t;
  train(t, spec, 1, 2, 6);
  const Bytes b = write(data_of(t, spec, true));
  auto edited = [&](std::size_t at, std::uint32_t value) {
    Bytes c = b;
    put_u32(c, at, value);
    reseal(c);
    return message_of(c);
  };
  CHECK(edited(kOffLayers, 0) == "invalid model: layers must be in [1, 64], got 0");
  CHECK(edited(kOffLooped, 2) == "invalid model: spec.looped = 2 is not 0 or 1");
  CHECK(edited(kOffAttention, 7) == "invalid model: spec.attention = 7 is not a known value");
  CHECK(edited(kOffPositions, 6) == "invalid model: spec.positions = 6 is not a known value");
  CHECK(edited(kOffHeads, 3) == "invalid model: width 16 is not divisible by 3 heads (set head_dim)");
  CHECK(edited(kOffWidth, 0xFFFFFFFFu) == "invalid model: width must be in [1, 4096], got -1");
  // A valid but different shape: the tensors that follow no longer match it.
  CHECK(edited(kOffWidth, 8).find("does not match the configuration") != std::string::npos);
  // Sizes that wrap 32 bits are computed in 64: a huge vocabulary is refused by size, not read.
  CHECK(edited(kOffModel + 76, 1u << 20).find("does not match the configuration") != std::string::npos);
}

TEST_CASE("checkpoint v4: truncation and single-byte changes are never accepted") {
  const ModelSpec spec = retrieval_like();
  Trained t;
  train(t, spec, 1, 2, 6);
  const Bytes b = write(data_of(t, spec, false));
  for (std::size_t n = 0; n < b.size(); n += 7) {
    const Bytes c(b.begin(), b.begin() + std::ptrdiff_t(n));
    CheckpointHeader h;
    const Status s = read_header(c, &h);
    REQUIRE(s.code() == Error::bad_checkpoint);
    REQUIRE_MESSAGE(std::string(s.message()).rfind("truncated", 0) == 0, "n=", n, ": ", s.message());
  }
  for (std::size_t i = 0; i < b.size(); i += 3) {
    Bytes c = b;
    c[i] ^= 0x5A;
    CheckpointHeader h;
    REQUIRE_MESSAGE(read_header(c, &h).code() == Error::bad_checkpoint, "byte ", i);
  }
}

TEST_CASE("checkpoint v4: writing refuses an invalid model") {
  ModelSpec spec = retrieval_like();
  Trained t;
  train(t, spec, 1, 2, 6);
  CheckpointData d = data_of(t, spec, false);
  ModelSpec bad = spec;
  bad.heads = 3;
  d.config.model = bad;
  Bytes b(1 << 20);
  std::size_t written = 1;
  const Status s = checkpoint_write(d, b.data(), b.size(), &written);
  CHECK(s.code() == Error::bad_config);
  CHECK(written == 0);
  CHECK(checkpoint_bytes(d.config, false) == 0);
}
