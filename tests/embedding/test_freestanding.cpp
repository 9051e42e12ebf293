// The freestanding platform layer (tinyloop/platform/freestanding.hpp): the application's hooks
// are what gets called, with its user pointer; without hooks the documented fallbacks apply;
// there is no file system; parallel_for is serial, in order, on the calling thread; and the
// engine trains through it exactly as with its own serial loop.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "support/harness.hpp"
#include "tinyloop/platform/freestanding.hpp"

namespace tp = tinyloop::platform;
using tinyloop::Error;
using tinyloop::Status;

namespace {

struct Board {
  double time = 12.5;
  std::uint64_t seed_value = 0xC0FFEEULL;
  int clock_calls = 0, seed_calls = 0;
  std::vector<std::string> lines;
  std::vector<tp::LogLevel> levels;
};

double board_clock(void* user) {
  auto* b = static_cast<Board*>(user);
  ++b->clock_calls;
  return b->time;
}
std::uint64_t board_seed(void* user) {
  auto* b = static_cast<Board*>(user);
  ++b->seed_calls;
  return b->seed_value;
}
void board_log(void* user, tp::LogLevel level, const char* line) {
  auto* b = static_cast<Board*>(user);
  b->lines.emplace_back(line);
  b->levels.push_back(level);
}

tp::FreestandingHooks hooks_for(Board* b) {
  tp::FreestandingHooks h;
  h.user = b;
  h.now_seconds = &board_clock;
  h.log = &board_log;
  h.seed = &board_seed;
  return h;
}

struct Trace {
  std::vector<int> tasks, workers;
  std::thread::id caller;
  bool same_thread = true;
};
void record(void* ctx, int task, int worker) {
  auto* t = static_cast<Trace*>(ctx);
  t->tasks.push_back(task);
  t->workers.push_back(worker);
  if (std::this_thread::get_id() != t->caller) t->same_thread = false;
}

}  // namespace

TEST_CASE("freestanding: the application's hooks are called with its user pointer") {
  Board b;
  const tp::Platform p = tp::freestanding_platform(hooks_for(&b));
  CHECK(std::string(p.name) == "freestanding");
  CHECK(tp::is_complete(p));
  CHECK(p.user == &b);

  CHECK(p.now_seconds(p.user) == 12.5);
  b.time = 13.0;
  CHECK(p.now_seconds(p.user) == 13.0);
  CHECK(b.clock_calls == 2);

  CHECK(p.seed(p.user) == 0xC0FFEEULL);
  CHECK(b.seed_calls == 1);

  p.log(p.user, tp::LogLevel::warning, "uart line");
  tp::logf(p, tp::LogLevel::error, "code %d, %s", 42, "formatted");
  REQUIRE(b.lines.size() == 2);
  CHECK(b.lines[0] == "uart line");
  CHECK(b.levels[0] == tp::LogLevel::warning);
  CHECK(b.lines[1] == "code 42, formatted");
  CHECK(b.levels[1] == tp::LogLevel::error);
}

TEST_CASE("freestanding: logf cuts long lines to 255 characters") {
  Board b;
  const tp::Platform p = tp::freestanding_platform(hooks_for(&b));
  const std::string long_text(1000, 'x');
  tp::logf(p, tp::LogLevel::info, "%s", long_text.c_str());
  REQUIRE(b.lines.size() == 1);
  CHECK(b.lines[0] == std::string(255, 'x'));
}

TEST_CASE("freestanding: without hooks the documented fallbacks apply") {
  const tp::Platform p = tp::freestanding_platform();
  CHECK(tp::is_complete(p));
  CHECK(p.user == nullptr);
  CHECK(p.now_seconds(p.user) == 0.0);  // a clock that always reads 0
  CHECK(p.now_seconds(p.user) == 0.0);
  CHECK(p.seed(p.user) == tp::kFreestandingSeed);
  p.log(p.user, tp::LogLevel::error, "dropped");  // must not crash
  tp::logf(p, tp::LogLevel::info, "also %s", "dropped");

  // Only some hooks: the others fall back, the given ones are used.
  Board b;
  tp::FreestandingHooks h;
  h.user = &b;
  h.log = &board_log;
  const tp::Platform q = tp::freestanding_platform(h);
  CHECK(q.now_seconds(q.user) == 0.0);
  CHECK(q.seed(q.user) == tp::kFreestandingSeed);
  tp::logf(q, tp::LogLevel::info, "kept");
  CHECK(b.lines == std::vector<std::string>{"kept"});
  CHECK(b.clock_calls == 0);
  CHECK(b.seed_calls == 0);
}

TEST_CASE("freestanding: files are unsupported, with a one-line message naming the path") {
  Board b;
  const tp::Platform p = tp::freestanding_platform(hooks_for(&b));
  unsigned char buffer[16] = {0};
  std::size_t size = 99;
  Status s = p.read_file(p.user, "model.tlc", buffer, sizeof(buffer), &size);
  CHECK(s.code() == Error::unsupported);
  CHECK(size == 0);
  CHECK(std::string(s.message()).find("model.tlc") != std::string::npos);
  CHECK(std::string(s.message()).find("no file system") != std::string::npos);
  CHECK(std::strchr(s.message(), '\n') == nullptr);
  s = p.read_file(p.user, nullptr, nullptr, 0, nullptr);  // the size query form, and NULLs
  CHECK(s.code() == Error::unsupported);

  const unsigned char data[3] = {1, 2, 3};
  s = p.write_file(p.user, "out/model.tlc", data, sizeof(data));
  CHECK(s.code() == Error::unsupported);
  CHECK(std::string(s.message()).find("out/model.tlc") != std::string::npos);
  CHECK(std::strchr(s.message(), '\n') == nullptr);
  CHECK(p.write_file(p.user, nullptr, nullptr, 0).code() == Error::unsupported);
  CHECK(b.lines.empty());  // refusals are returned, not logged
}

TEST_CASE("freestanding: one worker; parallel_for runs every task in order on the calling thread") {
  const tp::Platform p = tp::freestanding_platform();
  CHECK(p.workers(p.user) == 1);
  Trace t;
  t.caller = std::this_thread::get_id();
  p.parallel_for(p.user, 7, &record, &t);
  CHECK(t.tasks == std::vector<int>{0, 1, 2, 3, 4, 5, 6});
  CHECK(t.workers == std::vector<int>(7, 0));
  CHECK(t.same_thread);

  Trace none;
  none.caller = std::this_thread::get_id();
  p.parallel_for(p.user, 0, &record, &none);
  CHECK(none.tasks.empty());

  // The same through the engine's ParallelFor adapter.
  tp::PlatformParallelFor pf(p);
  CHECK(pf.workers() == 1);
  Trace t2;
  t2.caller = std::this_thread::get_id();
  pf.run(3, &record, &t2);
  CHECK(t2.tasks == std::vector<int>{0, 1, 2});
  CHECK(t2.same_thread);
}

TEST_CASE("freestanding: training through its parallel_for equals the engine's serial loop, bit for bit") {
  using namespace tinyloop;
  using namespace tinyloop::test;
  TrainConfig cfg = small_config(3);
  cfg.batch = 3;
  const Capacity cap{12, 3, 1};
  const InductionData d = make_induction(8, 3, 12, cfg.task.alphabet);

  TrainerHarness<float> serial(cfg, cap), board(cfg, cap);
  REQUIRE(serial.status.is_ok());
  REQUIRE(board.status.is_ok());
  Rng r1(4), r2(4);
  serial.trainer.init_weights(r1);
  board.trainer.init_weights(r2);
  const tp::Platform p = tp::freestanding_platform();
  tp::PlatformParallelFor pf(p);
  board.trainer.set_parallel(&pf);
  for (int s = 0; s < 3; ++s) {
    StepStats a, b;
    REQUIRE(serial.trainer.train_step(d.view(), &a).is_ok());
    REQUIRE(board.trainer.train_step(d.view(), &b).is_ok());
    CHECK(a.loss.total == b.loss.total);
  }
  CHECK(std::memcmp(serial.trainer.params(), board.trainer.params(), serial.trainer.param_count() * sizeof(float)) == 0);
}
