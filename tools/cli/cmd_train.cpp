// tinyloop train: trains the looped transformer on the induction task (SPEC §1-§4.1), then
// writes the checkpoint, the loss log and the length-generalisation table.
#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.hpp"
#include "evaluation.hpp"
#include "model_io.hpp"
#include "report.hpp"
#include "tinyloop/arena.hpp"
#include "tinyloop/checkpoint.hpp"
#include "tinyloop/induction.hpp"
#include "tinyloop/platform/posix.hpp"
#include "tinyloop/trainer.hpp"
#include "train_log.hpp"
#include "train_options.hpp"

namespace tinyloop::cli {

namespace {

bool file_exists(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  std::fclose(f);
  return true;
}

// Creates DIR and proves it writable before any training time is spent.
void prepare_output(const TrainOptions& o) {
  Status s = platform::make_directories(o.out.c_str());
  if (!s) runtime_error(std::string("--out: ") + s.message());
  std::string model = o.out + "/model.tlc";
  if (!o.overwrite && file_exists(model))
    usage_error("'" + model + "' already exists; pass --overwrite to replace it or choose another --out");
  std::string probe = o.out + "/.tinyloop-write-test";
  s = platform::write_file_atomic(probe.c_str(), "ok\n", 3);
  if (!s) runtime_error("--out '" + o.out + "' is not writable: " + s.message());
  std::remove(probe.c_str());
}

void save_checkpoint(const std::string& path, Trainer<float>& trainer, std::int64_t step, const Rng& data_rng) {
  CheckpointData d;
  d.config = trainer.config();
  d.params = trainer.params();
  d.adam_m = trainer.adam_m();
  d.adam_v = trainer.adam_v();
  d.step = step;
  d.rng_state = data_rng.state();
  d.rng_inc = data_rng.increment();
  std::vector<std::uint8_t> bytes = allocate_planned(checkpoint_bytes(d.config, true), "the checkpoint");
  std::size_t written = 0;
  Status s = checkpoint_write(d, bytes.data(), bytes.size(), &written);
  if (!s) runtime_error("cannot serialise the checkpoint: " + std::string(s.message()));
  s = platform::write_file_atomic(path.c_str(), bytes.data(), written);
  if (!s) runtime_error(std::string("checkpoint not saved: ") + s.message());
}

}  // namespace

int run_train(const Args& args) {
  ParsedArgs a = ParsedArgs::parse(train_spec(), args);
  if (a.help_requested()) {
    std::fputs(format_help(train_spec()).c_str(), stdout);
    return kExitOk;
  }
  TrainOptions o = parse_train_options(a);
  const TrainConfig& cfg = o.cfg;
  prepare_output(o);
  const std::string model_path = o.out + "/model.tlc";
  const std::string log_path = o.out + "/train_log.csv";
  const std::string eval_path = o.out + "/eval.json";

  // ---- set-up: the only allocations of the run up to the final writes ----
  Capacity cap;
  cap.max_len = cfg.curriculum.max_len;
  cap.max_batch = cfg.batch;
  cap.workers = o.threads;
  MemoryPlan plan = Trainer<float>::plan(cfg, cap);
  const std::size_t seq_ints = std::size_t(cfg.batch) * std::size_t(cfg.curriculum.max_len);
  Arena dry;
  dry.take<std::int32_t>(seq_ints);
  dry.take<std::int32_t>(seq_ints);
  dry.take<std::int32_t>(std::size_t(cfg.curriculum.max_len));
  dry.take<std::int32_t>(std::size_t(cfg.task.alphabet));
  const std::size_t data_bytes = dry.used() + Arena::slack();
  std::vector<std::uint8_t> buffer = allocate_planned(plan.total + data_bytes, "the training buffer");

  Trainer<float> trainer;
  Status s = trainer.init(cfg, cap, buffer.data(), plan.total);
  if (!s) runtime_error(std::string("cannot set up training: ") + s.message());
  std::size_t usable = 0;
  void* data_base = align_buffer(buffer.data() + plan.total, data_bytes, &usable);
  Arena arena(data_base, usable);
  InductionBatchBuffers bufs;
  bufs.tokens = arena.take<std::int32_t>(seq_ints);
  bufs.targets = arena.take<std::int32_t>(seq_ints);
  bufs.prev = arena.take<std::int32_t>(std::size_t(cfg.curriculum.max_len));
  bufs.last_seen = arena.take<std::int32_t>(std::size_t(cfg.task.alphabet));
  if (!bufs.tokens || !bufs.targets || !bufs.prev || !bufs.last_seen)
    runtime_error("internal error: the data buffers do not fit their plan");

  std::unique_ptr<platform::ThreadPool> pool;
  if (o.threads > 1) {
    pool = std::make_unique<platform::ThreadPool>(o.threads);
    trainer.set_parallel(pool.get());
  }
  Rng init_rng(cfg.seed, 1);
  trainer.init_weights(init_rng);
  Rng data_rng(cfg.seed, 2);

  std::vector<LogRow> rows;
  rows.reserve(static_cast<std::size_t>(std::min<std::int64_t>(cfg.steps / o.log_every + 2, 1 << 16)));
  StatsWindow log_window, progress_window;
  platform::install_interrupt_handler();

  std::fprintf(stderr,
               "train: %lld steps, batch %d, lengths %d..%d, loops %d, alphabet %d, hops %d, seed %llu, "
               "%d thread%s, %s planned -> %s\n",
               static_cast<long long>(cfg.steps), cfg.batch, cfg.curriculum.min_len, cfg.curriculum.max_len,
               cfg.model.loops, cfg.task.alphabet, cfg.task.hops, static_cast<unsigned long long>(cfg.seed),
               o.threads, o.threads == 1 ? "" : "s", format_bytes(plan.total + data_bytes).c_str(), o.out.c_str());

  // ---- the step loop: no allocation ----
  const double t_start = platform::now_seconds();
  double t_print = t_start;
  std::int64_t done = 0, skipped = 0, done_at_print = 0;
  const char* last_fault = "";
  bool stopped = false;
  std::string failure;
  LogRow last_row;
  double last_lr = trainer.learning_rate(0);
  int last_longest = curriculum_longest(cfg.curriculum, 0, cfg.steps);
  auto report = [&](double now) {
    const double rate = double(done - done_at_print) / std::max(now - t_print, 1e-9);
    const double overall = double(done) / std::max(now - t_start, 1e-9);
    const double eta = overall > 0 ? double(cfg.steps - done) / overall : 0.0;
    LogRow r = progress_window.steps() > 0 ? progress_window.row(done, last_lr, last_longest) : last_row;
    print_progress(stderr, r, cfg.steps, rate, eta, skipped, last_fault);
    progress_window.reset();
    t_print = now;
    done_at_print = done;
  };

  for (std::int64_t step = 0; step < cfg.steps; ++step) {
    if (platform::interrupted()) {
      stopped = true;
      break;
    }
    const int len = induction_batch(data_rng, cfg, step, bufs);
    Batch batch;
    batch.tokens = bufs.tokens;
    batch.targets = bufs.targets;
    batch.batch = cfg.batch;
    batch.len = len;
    StepStats st;
    s = trainer.train_step(batch, &st);
    if (!s) {
      failure = std::string("training step ") + std::to_string(step + 1) + " failed: " + s.message();
      break;
    }
    done = step + 1;
    if (st.skipped) {
      ++skipped;
      last_fault = st.fault ? st.fault : "";
    }
    last_lr = st.lr;
    last_longest = curriculum_longest(cfg.curriculum, step, cfg.steps);
    log_window.add(st);
    progress_window.add(st);
    if (done % o.log_every == 0 || done == cfg.steps) {
      last_row = log_window.row(done, last_lr, last_longest);
      rows.push_back(last_row);
      log_window.reset();
    }
    const double now = platform::now_seconds();
    bool print = o.explicit_log_every ? (done % o.log_every == 0) : (now - t_print >= 1.0);
    if (print && done < cfg.steps) report(now);
  }
  if (log_window.steps() > 0) {  // stopped inside an interval
    last_row = log_window.row(done, last_lr, last_longest);
    rows.push_back(last_row);
  }
  const double t_end = platform::now_seconds();
  if (done > 0) report(t_end);
  std::fprintf(stderr, "trained %lld steps in %s (%.1f steps/s)%s\n", static_cast<long long>(done),
               format_duration(t_end - t_start).c_str(), double(done) / std::max(t_end - t_start, 1e-9),
               skipped ? (", " + std::to_string(skipped) + " skipped").c_str() : "");

  // ---- results ----
  save_checkpoint(model_path, trainer, done, data_rng);
  write_text_atomic(log_path, train_log_csv(rows), "training log");
  if (!failure.empty()) runtime_error(failure + " (checkpoint of step " + std::to_string(done) + " saved to '" +
                                      model_path + "')");
  if (stopped) {
    std::fprintf(stderr, "interrupted at step %lld; wrote %s and %s\n", static_cast<long long>(done),
                 model_path.c_str(), log_path.c_str());
    return kExitInterrupted;
  }

  std::printf("evaluation (seed %llu, %d samples per length):\n", static_cast<unsigned long long>(o.eval.seed),
              o.eval.samples);
  print_eval_header(stdout);
  std::vector<LengthResult> results = run_length_eval(
      cfg, trainer.params(), trainer.param_count(), o.eval, [](const LengthResult& r) { print_eval_row(stdout, r); },
      [] { return platform::interrupted(); });
  if (results.size() < o.eval.lengths.size()) {
    std::fprintf(stderr, "interrupted during evaluation; wrote %s and %s (no eval.json)\n", model_path.c_str(),
                 log_path.c_str());
    return kExitInterrupted;
  }
  write_text_atomic(eval_path, eval_json(model_path, o.eval, results), "evaluation");
  std::printf("\nwrote %s (step %lld), %s (%zu rows), %s\n", model_path.c_str(), static_cast<long long>(done),
              log_path.c_str(), rows.size(), eval_path.c_str());
  return kExitOk;
}

}  // namespace tinyloop::cli

