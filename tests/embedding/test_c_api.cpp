// The C interface (tinyloop/tinyloop.h): it predicts exactly what the C++ Inference predicts on
// the same checkpoint, every misuse and every bad input returns its own code with a one-line
// message, any buffer address works, and nothing in it allocates.
//
// Tolerance: none. The C API runs the same compiled kernels on the same weights as the C++
// engine it is compared with, so logits must be bit-identical on every architecture.
#include <doctest/doctest.h>

#include <cstdint>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "alloc_counter.hpp"  // heap allocations of this process, counted
#include "support/harness.hpp"
#include "tinyloop/checkpoint.hpp"
#include "tinyloop/tinyloop.h"

using namespace tinyloop;
using namespace tinyloop::test;

namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr int kMaxLen = 40;

// A checkpoint of a small model after a few training steps (not just its initial weights).
struct Fixture {
  TrainConfig cfg = small_config(4);
  Bytes checkpoint;
  std::vector<float> params;

  explicit Fixture(Positions positions = Positions::sinusoidal) {
    cfg.model.positions = positions;
    cfg.batch = 2;
    TrainerHarness<float> h(cfg, Capacity{16, 2, 1});
    REQUIRE(h.status.is_ok());
    Rng rng(11);
    h.trainer.init_weights(rng);
    const InductionData d = make_induction(5, 2, 16, cfg.task.alphabet);
    for (int s = 0; s < 3; ++s) {
      StepStats stats;
      REQUIRE(h.trainer.train_step(d.view(), &stats).is_ok());
    }
    params.assign(h.trainer.params(), h.trainer.params() + h.trainer.param_count());
    CheckpointData in;
    in.config = cfg;
    in.params = params.data();
    in.step = 3;
    in.rng_state = rng.state();
    in.rng_inc = rng.increment();
    checkpoint.resize(checkpoint_bytes(cfg, false));
    std::size_t written = 0;
    const Status s = checkpoint_write(in, checkpoint.data(), checkpoint.size(), &written);
    REQUIRE_MESSAGE(s.is_ok(), std::string(s.message()));
    REQUIRE(written == checkpoint.size());
  }
};

const Fixture& fixture() {
  static const Fixture f;
  return f;
}

// A buffer `bytes` long whose start is exactly `offset` bytes past a 64-byte boundary.
struct OffsetBuffer {
  std::vector<unsigned char> storage;
  unsigned char* data;
  OffsetBuffer(std::size_t bytes, std::size_t offset) : storage(bytes + 128) {
    auto addr = reinterpret_cast<std::uintptr_t>(storage.data());
    data = storage.data() + ((64 - addr % 64) % 64) + offset;
  }
};

std::size_t model_bytes(const Bytes& ckpt, std::int32_t max_len = kMaxLen) {
  std::size_t bytes = 0;
  tinyloop_error err;
  REQUIRE_MESSAGE(tinyloop_model_bytes(ckpt.data(), ckpt.size(), max_len, &bytes, &err) == TINYLOOP_OK, err.message);
  return bytes;
}

// The error contract: the returned code, the same code in err, and one non-empty line.
void check_error(tinyloop_status got, const tinyloop_error& err, tinyloop_status expected, const char* needle = "") {
  CHECK(got == expected);
  CHECK(err.code == expected);
  const std::string msg(err.message, strnlen(err.message, sizeof(err.message)));
  CAPTURE(msg);
  CHECK(msg.size() < sizeof(err.message));  // NUL-terminated inside the array
  CHECK(!msg.empty());
  CHECK(msg.find('\n') == std::string::npos);
  CHECK(msg.find('\r') == std::string::npos);
  CHECK(msg.find(needle) != std::string::npos);
}

// The C++ engine's answer for `tokens` on the fixture's weights.
void cpp_reference(const std::vector<std::int32_t>& tokens, std::vector<float>* logits, std::vector<std::int32_t>* preds,
                   const Fixture& f = fixture()) {
  std::vector<unsigned char> buffer(Inference::plan(f.cfg.model, kMaxLen).total);
  Inference inf;
  REQUIRE(inf.init(f.cfg.model, kMaxLen, buffer.data(), buffer.size()).is_ok());
  // Through the checkpoint reader, as the C API does, so both see the same bytes.
  std::vector<float> flat(f.params.size());
  REQUIRE(checkpoint_read_tensors(f.checkpoint.data(), f.checkpoint.size(), flat.data(), nullptr, nullptr).is_ok());
  REQUIRE(inf.load_params(flat.data(), flat.size()).is_ok());
  logits->assign(tokens.size() * std::size_t(f.cfg.model.out_dim), 0.0f);
  preds->assign(tokens.size(), -1);
  InferOutputs out;
  out.logits = logits->data();
  out.predictions = preds->data();
  REQUIRE(inf.run(tokens.data(), int(tokens.size()), out).is_ok());
}

std::vector<std::int32_t> sample_tokens(int len, std::uint64_t seed) {
  return make_induction(seed, 1, len, fixture().cfg.task.alphabet).tokens;
}

}  // namespace

TEST_CASE("C API: version and status names") {
  CHECK(std::string(tinyloop_version()).find('.') != std::string::npos);
  CHECK(std::string(tinyloop_status_name(TINYLOOP_OK)) == "ok");
  CHECK(std::string(tinyloop_status_name(TINYLOOP_BAD_CHECKPOINT)) == "bad checkpoint");
  CHECK(std::string(tinyloop_status_name(TINYLOOP_INVALID_ARGUMENT)) == "invalid argument");
  CHECK(std::string(tinyloop_status_name(static_cast<tinyloop_status>(-1))) == "unknown error");
  CHECK(std::string(tinyloop_status_name(static_cast<tinyloop_status>(12))) == "unknown error");
  for (int c = 0; c <= int(TINYLOOP_UNSUPPORTED); ++c) {
    const std::string name = tinyloop_status_name(static_cast<tinyloop_status>(c));
    CAPTURE(c);
    CHECK(!name.empty());
    CHECK(name != "unknown error");
  }
}

TEST_CASE("C API: predictions and logits equal the C++ Inference on the same checkpoint") {
  for (Positions k : {Positions::sinusoidal, Positions::none, Positions::alibi,
                         Positions::alibi_sinusoidal, Positions::rope}) {
  CAPTURE(int(k));
  const Fixture f(k);
  const std::size_t bytes = model_bytes(f.checkpoint);
  CHECK(bytes > Inference::plan(f.cfg.model, kMaxLen).total);
  std::vector<unsigned char> memory(bytes);
  tinyloop_model* model = nullptr;
  tinyloop_error err;
  REQUIRE(tinyloop_model_init(f.checkpoint.data(), f.checkpoint.size(), kMaxLen, memory.data(), memory.size(), &model,
                              &err) == TINYLOOP_OK);
  REQUIRE(model != nullptr);
  CHECK(err.code == TINYLOOP_OK);

  tinyloop_model_info info;
  REQUIRE(tinyloop_model_get_info(model, &info, &err) == TINYLOOP_OK);
  CHECK(info.vocab_in == f.cfg.model.vocab_in);
  CHECK(info.vocab_out == f.cfg.model.out_dim);
  CHECK(info.loops == f.cfg.model.layers);
  CHECK(info.dim == kDim);
  CHECK(info.max_len == kMaxLen);
  CHECK(info.trained_steps == 3);
  CHECK(info.param_count == f.params.size());
  CHECK(info.bytes == bytes);
  CHECK(info.positions == int(k));
  if (uses_alibi(k)) {
    const float rho = f.params[ParamLayout::make(f.cfg.model)[Param::rho].offset];
    CHECK(rho != f.cfg.model.alibi_rho);  // trained for three steps
    CHECK(info.alibi_slope == doctest::Approx(std::log1p(std::exp(double(rho)))));
  } else {
    CHECK(info.alibi_slope == 0.0f);
  }

  for (int len : {1, 2, 7, 16, 33, kMaxLen}) {
    CAPTURE(len);
    const std::vector<std::int32_t> tokens = sample_tokens(len, 100 + std::uint64_t(len));
    std::vector<float> ref_logits;
    std::vector<std::int32_t> ref_preds;
    cpp_reference(tokens, &ref_logits, &ref_preds, f);

    std::vector<float> logits(ref_logits.size(), -1.0f);
    std::vector<std::int32_t> preds(std::size_t(len), -1);
    REQUIRE(tinyloop_predict(model, tokens.data(), len, preds.data(), logits.data(), &err) == TINYLOOP_OK);
    CHECK(preds == ref_preds);
    CHECK(std::memcmp(logits.data(), ref_logits.data(), logits.size() * sizeof(float)) == 0);

    // Either output alone gives the same answer.
    std::vector<std::int32_t> only_preds(std::size_t(len), -1);
    REQUIRE(tinyloop_predict(model, tokens.data(), len, only_preds.data(), nullptr, nullptr) == TINYLOOP_OK);
    CHECK(only_preds == ref_preds);
    std::vector<float> only_logits(ref_logits.size(), -1.0f);
    REQUIRE(tinyloop_predict(model, tokens.data(), len, nullptr, only_logits.data(), nullptr) == TINYLOOP_OK);
    CHECK(std::memcmp(only_logits.data(), ref_logits.data(), only_logits.size() * sizeof(float)) == 0);
  }
  }
}

TEST_CASE("C API: the model keeps no pointer to the checkpoint") {
  const Fixture& f = fixture();
  Bytes ckpt = f.checkpoint;
  std::vector<unsigned char> memory(model_bytes(ckpt));
  tinyloop_model* model = nullptr;
  REQUIRE(tinyloop_model_init(ckpt.data(), ckpt.size(), kMaxLen, memory.data(), memory.size(), &model, nullptr) ==
          TINYLOOP_OK);
  std::fill(ckpt.begin(), ckpt.end(), std::uint8_t(0xA5));
  const std::vector<std::int32_t> tokens = sample_tokens(20, 7);
  std::vector<float> ref_logits, logits(20 * std::size_t(f.cfg.model.out_dim));
  std::vector<std::int32_t> ref_preds;
  cpp_reference(tokens, &ref_logits, &ref_preds);
  REQUIRE(tinyloop_predict(model, tokens.data(), 20, nullptr, logits.data(), nullptr) == TINYLOOP_OK);
  CHECK(std::memcmp(logits.data(), ref_logits.data(), logits.size() * sizeof(float)) == 0);
}

TEST_CASE("C API: any buffer address works with exactly tinyloop_model_bytes() bytes") {
  const Fixture& f = fixture();
  const std::size_t bytes = model_bytes(f.checkpoint);
  const std::vector<std::int32_t> tokens = sample_tokens(kMaxLen, 3);
  std::vector<float> ref_logits;
  std::vector<std::int32_t> ref_preds;
  cpp_reference(tokens, &ref_logits, &ref_preds);
  for (std::size_t offset = 0; offset < 64; ++offset) {
    CAPTURE(offset);
    OffsetBuffer buf(bytes, offset);
    tinyloop_model* model = nullptr;
    tinyloop_error err;
    REQUIRE(tinyloop_model_init(f.checkpoint.data(), f.checkpoint.size(), kMaxLen, buf.data, bytes, &model, &err) ==
            TINYLOOP_OK);
    CHECK(reinterpret_cast<unsigned char*>(model) >= buf.data);
    std::vector<float> logits(ref_logits.size());
    std::vector<std::int32_t> preds(tokens.size());
    REQUIRE(tinyloop_predict(model, tokens.data(), kMaxLen, preds.data(), logits.data(), &err) == TINYLOOP_OK);
    CHECK(preds == ref_preds);
    CHECK(std::memcmp(logits.data(), ref_logits.data(), logits.size() * sizeof(float)) == 0);
  }
}

TEST_CASE("C API: a buffer one byte too small is refused at every alignment") {
  const Fixture& f = fixture();
  const std::size_t bytes = model_bytes(f.checkpoint);
  for (std::size_t offset : {std::size_t(0), std::size_t(1), std::size_t(8), std::size_t(63)}) {
    CAPTURE(offset);
    OffsetBuffer buf(bytes, offset);
    tinyloop_model* model = reinterpret_cast<tinyloop_model*>(&buf);  // must be reset to NULL
    tinyloop_error err;
    const tinyloop_status s =
        tinyloop_model_init(f.checkpoint.data(), f.checkpoint.size(), kMaxLen, buf.data, bytes - 1, &model, &err);
    check_error(s, err, TINYLOOP_BUFFER_TOO_SMALL, std::to_string(bytes).c_str());
    CHECK(model == nullptr);
  }
  // Zero bytes as well.
  tinyloop_model* model = nullptr;
  tinyloop_error err;
  unsigned char one[1];
  check_error(tinyloop_model_init(f.checkpoint.data(), f.checkpoint.size(), kMaxLen, one, 0, &model, &err), err,
              TINYLOOP_BUFFER_TOO_SMALL);
}

TEST_CASE("C API: NULL arguments") {
  const Fixture& f = fixture();
  const Bytes& c = f.checkpoint;
  std::vector<unsigned char> memory(model_bytes(c));
  tinyloop_error err;
  std::size_t bytes = 123;
  tinyloop_model* model = nullptr;

  check_error(tinyloop_model_bytes(nullptr, c.size(), kMaxLen, &bytes, &err), err, TINYLOOP_INVALID_ARGUMENT,
              "checkpoint is NULL");
  CHECK(bytes == 0);
  check_error(tinyloop_model_bytes(c.data(), c.size(), kMaxLen, nullptr, &err), err, TINYLOOP_INVALID_ARGUMENT,
              "bytes is NULL");
  check_error(tinyloop_model_init(nullptr, c.size(), kMaxLen, memory.data(), memory.size(), &model, &err), err,
              TINYLOOP_INVALID_ARGUMENT, "checkpoint is NULL");
  check_error(tinyloop_model_init(c.data(), c.size(), kMaxLen, memory.data(), memory.size(), nullptr, &err), err,
              TINYLOOP_INVALID_ARGUMENT, "model is NULL");
  check_error(tinyloop_model_init(c.data(), c.size(), kMaxLen, nullptr, memory.size(), &model, &err), err,
              TINYLOOP_INVALID_ARGUMENT, "buffer is NULL");
  CHECK(model == nullptr);

  REQUIRE(tinyloop_model_init(c.data(), c.size(), kMaxLen, memory.data(), memory.size(), &model, &err) == TINYLOOP_OK);
  tinyloop_model_info info;
  check_error(tinyloop_model_get_info(model, nullptr, &err), err, TINYLOOP_INVALID_ARGUMENT, "info is NULL");
  check_error(tinyloop_model_get_info(nullptr, &info, &err), err, TINYLOOP_NOT_INITIALIZED);

  const std::int32_t tokens[3] = {0, 1, 2};
  std::int32_t preds[3];
  check_error(tinyloop_predict(nullptr, tokens, 3, preds, nullptr, &err), err, TINYLOOP_NOT_INITIALIZED);
  check_error(tinyloop_predict(model, nullptr, 3, preds, nullptr, &err), err, TINYLOOP_INVALID_ARGUMENT,
              "tokens is NULL");
  check_error(tinyloop_predict(model, tokens, 3, nullptr, nullptr, &err), err, TINYLOOP_INVALID_ARGUMENT,
              "both NULL");

  // A NULL error pointer is allowed everywhere: the code still comes back.
  CHECK(tinyloop_model_bytes(nullptr, c.size(), kMaxLen, &bytes, nullptr) == TINYLOOP_INVALID_ARGUMENT);
  CHECK(tinyloop_predict(model, nullptr, 3, preds, nullptr, nullptr) == TINYLOOP_INVALID_ARGUMENT);
  CHECK(tinyloop_predict(nullptr, tokens, 3, preds, nullptr, nullptr) == TINYLOOP_NOT_INITIALIZED);

  // Success clears a previous error.
  REQUIRE(tinyloop_predict(model, tokens, 3, preds, nullptr, &err) == TINYLOOP_OK);
  CHECK(err.code == TINYLOOP_OK);
  CHECK(err.message[0] == '\0');
}

TEST_CASE("C API: a buffer that holds no model is not initialised") {
  alignas(64) unsigned char garbage[4096];
  std::memset(garbage, 0x5A, sizeof(garbage));
  tinyloop_error err;
  const std::int32_t tokens[2] = {0, 1};
  std::int32_t preds[2];
  check_error(tinyloop_predict(reinterpret_cast<tinyloop_model*>(garbage), tokens, 2, preds, nullptr, &err), err,
              TINYLOOP_NOT_INITIALIZED);
}

TEST_CASE("C API: a checkpoint of another model shape (format version 4) is refused by name") {
  tinyloop::ModelSpec spec;  // a stacked model of the studies: 2 layers, 2 heads
  spec.layers = 2;
  spec.heads = 2;
  spec.width = 16;
  const tinyloop::ModelLayout layout = tinyloop::ModelLayout::make(spec);
  std::vector<float> params(layout.total, 0.25f);
  tinyloop::CheckpointData d;
  d.params = params.data();
  d.rng_inc = 1;
  d.config.model = spec;
  std::vector<std::uint8_t> c(tinyloop::checkpoint_bytes(d.config, false));
  REQUIRE(tinyloop::checkpoint_write(d, c.data(), c.size(), nullptr).is_ok());
  tinyloop_error err;
  std::size_t bytes = 1;
  check_error(tinyloop_model_bytes(c.data(), c.size(), kMaxLen, &bytes, &err), err, TINYLOOP_UNSUPPORTED,
              "holds a 2-layer model of width 16 (format version 4); the C ABI runs the looped block only");
  alignas(64) static unsigned char buffer[1 << 16];
  tinyloop_model* model = nullptr;
  check_error(tinyloop_model_init(c.data(), c.size(), kMaxLen, buffer, sizeof buffer, &model, &err), err,
              TINYLOOP_UNSUPPORTED, "the C ABI runs the looped block only");
  CHECK(model == nullptr);
}

TEST_CASE("C API: zero and negative lengths") {
  const Fixture& f = fixture();
  const Bytes& c = f.checkpoint;
  std::vector<unsigned char> memory(model_bytes(c));
  tinyloop_error err;
  std::size_t bytes = 0;
  tinyloop_model* model = nullptr;
  for (std::int32_t max_len : {0, -1, -1000}) {
    CAPTURE(max_len);
    check_error(tinyloop_model_bytes(c.data(), c.size(), max_len, &bytes, &err), err, TINYLOOP_INVALID_ARGUMENT,
                "max_len");
    check_error(tinyloop_model_init(c.data(), c.size(), max_len, memory.data(), memory.size(), &model, &err), err,
                TINYLOOP_INVALID_ARGUMENT, "max_len");
  }
  REQUIRE(tinyloop_model_init(c.data(), c.size(), kMaxLen, memory.data(), memory.size(), &model, &err) == TINYLOOP_OK);
  const std::int32_t tokens[2] = {0, 1};
  std::int32_t preds[2];
  for (std::int32_t len : {0, -1, -2147483647 - 1}) {
    CAPTURE(len);
    check_error(tinyloop_predict(model, tokens, len, preds, nullptr, &err), err, TINYLOOP_INVALID_ARGUMENT, "len");
  }
  // More than the engine supports at all is a length error, not an arithmetic overflow.
  check_error(tinyloop_model_bytes(c.data(), c.size(), 2147483647, &bytes, &err), err, TINYLOOP_SEQUENCE_TOO_LONG);
  // An empty checkpoint is a bad checkpoint, not a crash.
  check_error(tinyloop_model_bytes(c.data(), 0, kMaxLen, &bytes, &err), err, TINYLOOP_BAD_CHECKPOINT);
}

TEST_CASE("C API: len > max_len and tokens out of range") {
  const Fixture& f = fixture();
  const Bytes& c = f.checkpoint;
  std::vector<unsigned char> memory(model_bytes(c));
  tinyloop_error err;
  tinyloop_model* model = nullptr;
  REQUIRE(tinyloop_model_init(c.data(), c.size(), kMaxLen, memory.data(), memory.size(), &model, &err) == TINYLOOP_OK);

  std::vector<std::int32_t> tokens = sample_tokens(kMaxLen + 1, 9);
  std::vector<std::int32_t> preds(tokens.size());
  REQUIRE(tinyloop_predict(model, tokens.data(), kMaxLen, preds.data(), nullptr, &err) == TINYLOOP_OK);
  check_error(tinyloop_predict(model, tokens.data(), kMaxLen + 1, preds.data(), nullptr, &err), err,
              TINYLOOP_SEQUENCE_TOO_LONG, std::to_string(kMaxLen + 1).c_str());

  const std::int32_t vocab_in = f.cfg.model.vocab_in;
  for (std::int32_t bad : {-1, vocab_in, vocab_in + 100, 2147483647}) {
    CAPTURE(bad);
    std::vector<std::int32_t> t = sample_tokens(10, 4);
    t[6] = bad;
    check_error(tinyloop_predict(model, t.data(), 10, preds.data(), nullptr, &err), err, TINYLOOP_TOKEN_OUT_OF_RANGE,
                std::to_string(bad).c_str());
  }
  // The model still works after the refusals.
  REQUIRE(tinyloop_predict(model, tokens.data(), 5, preds.data(), nullptr, &err) == TINYLOOP_OK);
}

TEST_CASE("C API: every truncation of the checkpoint is refused") {
  const Fixture& f = fixture();
  const Bytes& c = f.checkpoint;
  std::vector<unsigned char> memory(model_bytes(c));
  for (std::size_t n = 0; n < c.size(); ++n) {
    CAPTURE(n);
    tinyloop_error err;
    std::size_t bytes = 1;
    const Bytes cut(c.begin(), c.begin() + std::ptrdiff_t(n));  // its own allocation: reads past n would be caught by ASan
    const tinyloop_status s = tinyloop_model_bytes(cut.data() ? cut.data() : c.data(), n, kMaxLen, &bytes, &err);
    CHECK(s == TINYLOOP_BAD_CHECKPOINT);
    CHECK(bytes == 0);
    if (n == 0 || n == c.size() / 2 || n == c.size() - 1) {
      check_error(s, err, TINYLOOP_BAD_CHECKPOINT);
      tinyloop_model* model = nullptr;
      check_error(tinyloop_model_init(c.data(), n, kMaxLen, memory.data(), memory.size(), &model, &err), err,
                  TINYLOOP_BAD_CHECKPOINT);
      CHECK(model == nullptr);
    }
  }
}

TEST_CASE("C API: a length that disagrees with the header is refused, and nothing past it is read") {
  const Bytes& c = fixture().checkpoint;
  std::vector<unsigned char> memory(model_bytes(c));
  auto refused = [&](const Bytes& bytes, const std::string& needle) {  // each its own allocation, for ASan
    tinyloop_error err;
    std::size_t size = 1;
    check_error(tinyloop_model_bytes(bytes.data(), bytes.size(), kMaxLen, &size, &err), err, TINYLOOP_BAD_CHECKPOINT,
                needle.c_str());
    CHECK(size == 0);
    tinyloop_model* model = nullptr;
    check_error(tinyloop_model_init(bytes.data(), bytes.size(), kMaxLen, memory.data(), memory.size(), &model, &err),
                err, TINYLOOP_BAD_CHECKPOINT, needle.c_str());
    CHECK(model == nullptr);
  };
  Bytes longer = c;
  longer.push_back(0);
  refused(longer, "trailing data");
  Bytes huge = c;  // a header that declares 2^62 bytes, given the real length
  for (int i = 0; i < 8; ++i) huge[16 + i] = std::uint8_t((std::uint64_t(1) << 62) >> (8 * i));
  refused(huge, "truncated: expected 4611686018427387904 bytes");
  const Bytes head(c.begin(), c.begin() + std::ptrdiff_t(kCheckpointHeadBytes));  // valid header, nothing more
  refused(head, "truncated: expected " + std::to_string(c.size()) + " bytes");
}

TEST_CASE("C API: every flipped byte of the checkpoint is refused") {
  const Fixture& f = fixture();
  Bytes c = f.checkpoint;
  std::vector<unsigned char> memory(model_bytes(c));
  int other_codes = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    CAPTURE(i);
    c[i] ^= 0xFF;
    tinyloop_error err;
    tinyloop_model* model = nullptr;
    const tinyloop_status s = tinyloop_model_init(c.data(), c.size(), kMaxLen, memory.data(), memory.size(), &model, &err);
    // The checksum covers every byte, so every flip is a bad checkpoint.
    CHECK(s == TINYLOOP_BAD_CHECKPOINT);
    if (s != TINYLOOP_BAD_CHECKPOINT) ++other_codes;
    CHECK(err.code == s);
    CHECK(model == nullptr);
    CHECK(std::strchr(err.message, '\n') == nullptr);
    c[i] ^= 0xFF;
  }
  CHECK(other_codes == 0);
}

TEST_CASE("C API: tinyloop_predict allocates nothing (nor do model_bytes and model_init)") {
  const Fixture& f = fixture();
  const Bytes& c = f.checkpoint;
  std::vector<unsigned char> memory(model_bytes(c));
  const std::vector<std::int32_t> tokens = sample_tokens(kMaxLen, 21);
  std::vector<std::int32_t> preds(tokens.size());
  std::vector<float> logits(tokens.size() * std::size_t(f.cfg.model.out_dim));
  std::vector<std::int32_t> bad = tokens;
  bad[3] = -5;
  tinyloop_error err;
  tinyloop_model* model = nullptr;
  tinyloop_model_info info;

  const long before = alloc_counter::allocations();
  std::size_t bytes = 0;
  REQUIRE(tinyloop_model_bytes(c.data(), c.size(), kMaxLen, &bytes, &err) == TINYLOOP_OK);
  REQUIRE(tinyloop_model_init(c.data(), c.size(), kMaxLen, memory.data(), memory.size(), &model, &err) == TINYLOOP_OK);
  const long after_init = alloc_counter::allocations();
  for (int r = 0; r < 5; ++r) {
    REQUIRE(tinyloop_predict(model, tokens.data(), kMaxLen, preds.data(), logits.data(), &err) == TINYLOOP_OK);
    REQUIRE(tinyloop_predict(model, tokens.data(), 7, preds.data(), nullptr, &err) == TINYLOOP_OK);
    REQUIRE(tinyloop_model_get_info(model, &info, &err) == TINYLOOP_OK);
  }
  // Error paths format their messages without allocating either.
  REQUIRE(tinyloop_predict(model, bad.data(), kMaxLen, preds.data(), nullptr, &err) == TINYLOOP_TOKEN_OUT_OF_RANGE);
  REQUIRE(tinyloop_predict(model, tokens.data(), kMaxLen + 1, preds.data(), nullptr, &err) == TINYLOOP_SEQUENCE_TOO_LONG);
  const long after_predict = alloc_counter::allocations();
  CHECK(after_init - before == 0);
  CHECK(after_predict - after_init == 0);
}
