// libFuzzer target: the checkpoint loader (engine/src/io/checkpoint.cpp, docs/CHECKPOINT.md).
//
// Input: one mode byte, then the file. Mode bit 0 clear: the bytes are parsed as they are (the
// magic, version, size and CRC checks see the raw mutation). Bit 0 set: the harness first writes
// the true file size into the header and a correct CRC-32 at the end, so mutations reach the
// checks behind the checksum (configuration, state, tensor names, shapes, values).
//
// Oracles beyond "no crash, no sanitizer report" (and, for the known-good seeds, acceptance:
// known_good.hpp):
//  - a rejection carries a non-empty one-line message and leaves the output arrays untouched;
//  - an accepted file has a valid configuration, the parameter count and size its layout
//    implies (which checkpoint_size_from_head gives from the first bytes alone), only finite
//    values (adam_v >= 0), and re-serialises to exactly the same bytes.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "known_good.hpp"
#include "tinyloop/checkpoint.hpp"
#include "tinyloop/config.hpp"
#include "tinyloop/params.hpp"

using namespace tinyloop;

namespace {


void put_le(std::uint8_t* p, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}

void check(bool ok) {
  if (!ok) std::abort();
}

void check_message(const Status& s) {
  const char* m = s.message();
  check(m != nullptr && m[0] != '\0' && std::strchr(m, '\n') == nullptr);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) {
    tinyloop::fuzz::note_rejected("empty input");
    return 0;
  }
  const bool repair = (data[0] & 1u) != 0;
  std::vector<std::uint8_t> file(data + 1, data + size);
  if (repair && file.size() >= 28) {
    put_le(file.data() + 16, file.size(), 8);
    put_le(file.data() + file.size() - 4, checkpoint_crc32(file.data(), file.size() - 4), 4);
  }

  // Header first: the head alone (its own allocation, so a read past it is caught) must give
  // the size of every file the full reader accepts.
  const std::size_t head_size = file.size() < kCheckpointHeadBytes ? file.size() : kCheckpointHeadBytes;
  const std::vector<std::uint8_t> head(file.begin(), file.begin() + std::ptrdiff_t(head_size));
  std::size_t from_head = 0;
  const Status head_status = checkpoint_size_from_head(head.data(), head.size(), &from_head);
  if (!head_status) check_message(head_status);

  CheckpointHeader h;
  Status s = checkpoint_read_header(file.data(), file.size(), &h);
  if (!s) {
    tinyloop::fuzz::note_rejected(s.message());
    check_message(s);
    float sentinel[4] = {1.5f, 1.5f, 1.5f, 1.5f};
    Status t = checkpoint_read_tensors(file.data(), file.size(), sentinel, sentinel, sentinel);
    check(!t);
    check_message(t);
    for (float f : sentinel) check(f == 1.5f);  // a rejected file writes nothing
    return 0;
  }

  // Accepted: everything the loader promises must hold.
  check(h.looped_block == is_looped_block(h.config.model));
  check(validate_checkpoint_config(h.config).is_ok());
  check(h.step >= 0 && (h.rng_inc & 1u) == 1u);
  const std::size_t n =
      h.looped_block ? ParamLayout::make(h.config.model).total : ModelLayout::make(h.config.model).total;
  check(h.param_count == n);
  check(checkpoint_bytes(h.config, h.has_optimizer) == file.size());
  check(head_status.is_ok() && from_head == file.size());
  std::vector<float> params(n, 7.0f), m(n, 7.0f), v(n, 7.0f);
  s = checkpoint_read_tensors(file.data(), file.size(), params.data(), m.data(), v.data());
  check(s.is_ok());
  for (std::size_t i = 0; i < n; ++i) {
    check(std::isfinite(params[i]));
    if (h.has_optimizer) check(std::isfinite(m[i]) && std::isfinite(v[i]) && !(v[i] < 0.0f));
  }

  CheckpointData d;
  d.config = h.config;
  d.params = params.data();
  d.adam_m = h.has_optimizer ? m.data() : nullptr;
  d.adam_v = h.has_optimizer ? v.data() : nullptr;
  d.step = h.step;
  d.rng_state = h.rng_state;
  d.rng_inc = h.rng_inc;
  std::vector<std::uint8_t> again(file.size() + 16, 0);
  std::size_t written = 0;
  s = checkpoint_write(d, again.data(), again.size(), &written);
  check(s.is_ok());
  check(written == file.size() && std::memcmp(again.data(), file.data(), written) == 0);
  return 0;
}
