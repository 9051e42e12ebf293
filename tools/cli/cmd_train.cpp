// tinyloop train: trains the looped transformer on the induction task (SPEC §1-§4.1), then
// writes the checkpoint, the loss log and the length-generalisation table. `--resume`
// continues a saved run bit for bit; `--save-every` keeps the checkpoint current while training.
#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
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

// Creates DIR and proves it writable before any training time is spent. Replacing the
// checkpoint a run resumes from is what resuming means; any other existing model needs
// --overwrite.
void prepare_output(const TrainOptions& o) {
  Status s = platform::make_directories(o.out.c_str());
  if (!s) runtime_error(std::string("--out: ") + s.message());
  std::string model = o.out + "/model.tlc";
  if (!o.overwrite && platform::exists(model.c_str()) &&
      !(!o.resume.empty() && platform::same_file(model.c_str(), o.resume.c_str())))
    usage_error("'" + model + "' already exists; pass --overwrite to replace it or choose another --out");
  std::string probe = o.out + "/.tinyloop-write-test";
  s = platform::write_file_atomic(probe.c_str(), "ok\n", 3);
  if (!s) runtime_error("--out '" + o.out + "' is not writable: " + s.message());
  (void)platform::remove_file(probe.c_str());  // a leftover probe is harmless
}

// Serialises the run's state into `bytes` (sized once, before training) and replaces `path`
// atomically: on failure the previous file at `path` is untouched.
Status save_checkpoint(const std::string& path, Trainer<float>& trainer, std::int64_t step, const Rng& data_rng,
                       std::vector<std::uint8_t>& bytes) {
  CheckpointData d;
  d.config = trainer.config();
  d.params = trainer.params();
  d.adam_m = trainer.adam_m();
  d.adam_v = trainer.adam_v();
  d.step = step;
  d.rng_state = data_rng.state();
  d.rng_inc = data_rng.increment();
  std::size_t written = 0;
  Status s = checkpoint_write(d, bytes.data(), bytes.size(), &written);
  if (!s) return s;
  return platform::write_file_atomic(path.c_str(), bytes.data(), written);
}

std::string step_checkpoint_path(const std::string& out, std::int64_t step) {
  return out + "/model-step" + std::to_string(step) + ".tlc";
}

// The first non-finite weight, as "tensor 'Wq' index 5"; empty when all are finite.
std::string first_non_finite_weight(const Trainer<float>& trainer) {
  const float* p = trainer.params();
  const std::size_t n = trainer.param_count();
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isfinite(p[i])) continue;
    const ParamLayout& layout = trainer.layout();
    for (int t = 0; t < layout.count; ++t) {
      const ParamInfo& info = layout.info[t];
      if (i >= info.offset && i < info.offset + info.size())
        return std::string("tensor '") + info.name + "' index " + std::to_string(i - info.offset);
    }
    return "index " + std::to_string(i);
  }
  return std::string();
}

// Everything one training run holds, from its options to its buffers; filled by the set-up
// steps below, in order.
struct TrainRun {
  TrainOptions o;
  LoadedCheckpoint ck;
  bool resuming = false;
  std::int64_t start = 0, stop = 0;
  std::string model_path, log_path, eval_path;
  std::string earlier_log;  // the log so far of a resumed run
  MemoryPlan plan;
  std::size_t data_bytes = 0;
  std::vector<std::uint8_t> buffer, ck_bytes;
  Trainer<float> trainer;
  InductionBatchBuffers bufs;
  std::unique_ptr<platform::ThreadPool> pool;
  Rng data_rng;
};

// The options (from the checkpoint's configuration when resuming) and the steps to run.
void parse_run(const ParsedArgs& a, TrainRun& run) {
  run.resuming = a.has("--resume");
  if (run.resuming) {
    const std::string path = a.get_string("--resume", "");
    run.ck = load_checkpoint(path, /*with_optimizer=*/true);
    std::string limits = check_cli_limits(run.ck.header.config);
    if (!limits.empty()) runtime_error("checkpoint '" + path + "' cannot be resumed: " + limits);
    run.o = parse_train_options(a, &run.ck.header.config);
  } else {
    run.o = parse_train_options(a, nullptr);
  }
  const TrainOptions& o = run.o;
  for (const std::string& w : o.warnings) std::fprintf(stderr, "tinyloop: warning: %s\n", w.c_str());
  const std::int64_t start = run.resuming ? run.ck.header.step : 0, stop = o.stop_at;
  if (run.resuming) {
    if (!o.explicit_stop_at && start >= o.cfg.steps)
      usage_error("'" + o.resume + "' is already at step " + std::to_string(start) + ", the end of its " +
                  std::to_string(o.cfg.steps) + "-step plan; pass --stop-at K (K > " + std::to_string(start) +
                  ") to train past it");
    if (o.explicit_stop_at && stop <= start)
      usage_error("--stop-at " + std::to_string(stop) + " must be greater than the checkpoint's step " +
                  std::to_string(start));
  }
  run.start = start;
  run.stop = stop;
  run.model_path = o.out + "/model.tlc";
  run.log_path = o.out + "/train_log.csv";
  run.eval_path = o.out + "/eval.json";
}

// The log so far of a resumed run: the train_log.csv beside the checkpoint, up to its step.
void read_earlier_log(TrainRun& run) {
  if (!run.resuming) return;
  const std::string old_log = directory_of(run.o.resume) + "/train_log.csv";
  std::string text;
  const Status read = read_train_log_file(old_log, std::max(run.start, run.o.cfg.steps), &text);
  if (read) run.earlier_log = train_log_prefix(text, run.start);
  if (read.code() == Error::buffer_too_small)
    std::fprintf(stderr, "tinyloop: warning: '%s' is %s; the new log starts at step %" PRId64 "\n", old_log.c_str(),
                 read.message(), run.start);
  else if (read && run.earlier_log.empty())
    std::fprintf(stderr, "tinyloop: warning: '%s' is not a training log; the new log starts at step %" PRId64 "\n",
                 old_log.c_str(), run.start);
}

// The only allocations of the run up to the saves: the trainer's planned memory with the batch
// buffers behind it, and the checkpoint's bytes.
void allocate_training(TrainRun& run) {
  const TrainConfig& cfg = run.o.cfg;
  Capacity cap;
  cap.max_len = cfg.curriculum.max_len;
  cap.max_batch = cfg.batch;
  cap.workers = run.o.threads;
  run.plan = Trainer<float>::plan(cfg, cap);
  const std::size_t seq_ints = std::size_t(cfg.batch) * std::size_t(cfg.curriculum.max_len);
  Arena dry;
  dry.take<std::int32_t>(seq_ints);
  dry.take<std::int32_t>(seq_ints);
  dry.take<std::int32_t>(std::size_t(cfg.curriculum.max_len));
  dry.take<std::int32_t>(std::size_t(cfg.task.alphabet));
  run.data_bytes = dry.used() + Arena::slack();
  run.buffer = allocate_planned(run.plan.total + run.data_bytes, "the training buffer");
  run.ck_bytes = allocate_planned(checkpoint_bytes(cfg, true), "the checkpoint");

  Status s = run.trainer.init(cfg, cap, run.buffer.data(), run.plan.total);
  if (!s) runtime_error(std::string("cannot set up training: ") + s.message());
  std::size_t usable = 0;
  void* data_base = align_buffer(run.buffer.data() + run.plan.total, run.data_bytes, &usable);
  Arena arena(data_base, usable);
  InductionBatchBuffers& bufs = run.bufs;
  bufs.tokens = arena.take<std::int32_t>(seq_ints);
  bufs.targets = arena.take<std::int32_t>(seq_ints);
  bufs.prev = arena.take<std::int32_t>(std::size_t(cfg.curriculum.max_len));
  bufs.last_seen = arena.take<std::int32_t>(std::size_t(cfg.task.alphabet));
  if (!bufs.tokens || !bufs.targets || !bufs.prev || !bufs.last_seen)
    runtime_error("internal error: the data buffers do not fit their plan");
  if (run.o.threads > 1) {
    run.pool = std::make_unique<platform::ThreadPool>(run.o.threads);
    run.trainer.set_parallel(run.pool.get());
  }
}

// The weights, optimizer state and data generator of the first step: the checkpoint's when
// resuming, else fresh ones from the seed.
void load_start_state(TrainRun& run) {
  const TrainConfig& cfg = run.o.cfg;
  run.data_rng = Rng(cfg.seed, 2);
  if (!run.resuming) {
    Rng init_rng(cfg.seed, 1);
    run.trainer.init_weights(init_rng);
    return;
  }
  const LoadedCheckpoint& ck = run.ck;
  const std::size_t n = run.trainer.param_count();
  if (ck.params.size() != n || ck.adam_m.size() != n || ck.adam_v.size() != n)
    runtime_error("internal error: checkpoint '" + run.o.resume + "' does not match the trainer's layout");
  std::copy(ck.params.begin(), ck.params.end(), run.trainer.params());
  std::copy(ck.adam_m.begin(), ck.adam_m.end(), run.trainer.adam_m());
  std::copy(ck.adam_v.begin(), ck.adam_v.end(), run.trainer.adam_v());
  run.trainer.set_step(run.start);
  run.data_rng.restore(ck.header.rng_state, ck.header.rng_inc);
}

void print_start(const TrainRun& run) {
  const TrainConfig& cfg = run.o.cfg;
  if (run.resuming)
    std::fprintf(stderr, "resuming %s at step %" PRId64 " of %" PRId64 " (stopping at %" PRId64 ")\n",
                 run.o.resume.c_str(), run.start, cfg.steps, run.stop);
  std::fprintf(stderr,
               "train: %lld steps, batch %d, lengths %d..%d, loops %d, alphabet %d, hops %d, seed %llu, "
               "%d thread%s, %s planned -> %s\n",
               static_cast<long long>(cfg.steps), cfg.batch, cfg.curriculum.min_len, cfg.curriculum.max_len,
               cfg.model.layers, cfg.task.alphabet, cfg.task.hops, static_cast<unsigned long long>(cfg.seed),
               run.o.threads, run.o.threads == 1 ? "" : "s",
               text::format_bytes(run.plan.total + run.data_bytes).c_str(), run.o.out.c_str());
}

// The step loop and what it leaves behind: no allocation except at a periodic save.
class StepLoop {
 public:
  explicit StepLoop(TrainRun& run)
      : run_(run),
        cfg_(run.o.cfg),
        progress_(cfg_, run.start, run.stop, !run.o.quiet),
        done_(run.start),
        last_lr_(run.trainer.learning_rate(run.start)),
        last_longest_(curriculum_longest(cfg_.curriculum, run.start, cfg_.steps)) {
    const std::int64_t planned_rows = (run.stop > run.start ? run.stop - run.start : 0) / run.o.log_every + 2;
    rows_.reserve(static_cast<std::size_t>(std::min<std::int64_t>(planned_rows, 1 << 16)));
  }

  // Runs the steps from run.start to run.stop, or up to an interrupt or a failure.
  void run();
  // Saves the checkpoint (unless the weights are damaged) and the log; a runtime error when a
  // save failed or the run failed. Returns kExitInterrupted after Ctrl-C, else kExitOk.
  int save_results();
  // The length-generalisation table and eval.json (unless --no-eval).
  int evaluate();

 private:
  bool one_step(std::int64_t step);   // false: stop the loop
  void on_skipped(const StepStats& st);
  void on_updated();
  void log_step(const StepStats& st, int len, std::int64_t step);
  void periodic_save();
  void save_now(Status* saved);
  void report(bool force) {
    progress_.report(done_, last_lr_, last_longest_, skipped_, last_fault_, force, last_row_);
  }
  void warn(const char* what, const Status& s) {
    progress_.display().above([&] { std::fprintf(stderr, "tinyloop: warning: %s: %s\n", what, s.message()); });
  }

  TrainRun& run_;
  const TrainConfig& cfg_;
  TrainProgress progress_;
  std::vector<LogRow> rows_;
  StatsWindow log_window_;
  std::int64_t done_, skipped_ = 0, streak_ = 0, last_save_ = -1;
  const char* last_fault_ = "";
  bool stopped_ = false;
  bool weights_ok_ = true;  // false once an update wrote a non-finite weight: nothing more is saved
  std::string failure_;
  LogRow last_row_;
  double last_lr_;
  int last_longest_;
};

// The checkpoint of step done_ at model.tlc (and model-step<N>.tlc with --keep-checkpoints).
void StepLoop::save_now(Status* saved) {
  *saved = save_checkpoint(run_.model_path, run_.trainer, done_, run_.data_rng, run_.ck_bytes);
  if (*saved && run_.o.keep_checkpoints)
    *saved = save_checkpoint(step_checkpoint_path(run_.o.out, done_), run_.trainer, done_, run_.data_rng,
                             run_.ck_bytes);
}

void StepLoop::periodic_save() {
  Status saved;
  save_now(&saved);
  if (!saved) {
    // Keep training: the previous checkpoint is intact and the next save may succeed.
    progress_.display().above([&] {
      std::fprintf(stderr, "tinyloop: warning: checkpoint of step %" PRId64 " not saved: %s\n", done_,
                   saved.message());
    });
    return;
  }
  last_save_ = done_;
  std::string text = train_log_csv(rows_, run_.earlier_log);
  Status logged = platform::write_file_atomic(run_.log_path.c_str(), text.data(), text.size());
  if (!logged) warn("training log not saved", logged);
}

void StepLoop::on_skipped(const StepStats& st) {
  ++skipped_;
  ++streak_;
  last_fault_ = st.fault ? st.fault : "";
  if (streak_ == 1)
    progress_.display().above([&] {
      std::fprintf(stderr, "step %" PRId64 ": non-finite %s; update skipped, weights unchanged (%" PRId64
                   " skipped so far)\n", done_, last_fault_, skipped_);
    });
  if (run_.o.max_skipped > 0 && streak_ >= run_.o.max_skipped) {
    failure_ = std::to_string(streak_) + " consecutive steps skipped (steps " + std::to_string(done_ - streak_ + 1) +
               "-" + std::to_string(done_) + ", last fault: non-finite " + last_fault_ +
               "); the run diverged: try a lower --lr";
  }
}

void StepLoop::on_updated() {
  if (streak_ > 0)
    progress_.display().above([&] {
      std::fprintf(stderr, "step %" PRId64 ": updates resumed after %" PRId64 " skipped step%s\n", done_, streak_,
                   streak_ == 1 ? "" : "s");
    });
  streak_ = 0;
  std::string bad = first_non_finite_weight(run_.trainer);
  if (!bad.empty()) {
    weights_ok_ = false;
    failure_ = "step " + std::to_string(done_) + ": the AdamW update wrote a non-finite weight (" + bad +
               "); the learning rate is too large for this run";
  }
}

void StepLoop::log_step(const StepStats& st, int len, std::int64_t step) {
  last_lr_ = st.lr;
  last_longest_ = curriculum_longest(cfg_.curriculum, step, cfg_.steps);
  log_window_.add(st);
  progress_.add(st, len);
  if (done_ % run_.o.log_every == 0 || done_ == run_.stop) {
    last_row_ = log_window_.row(done_, last_lr_, last_longest_);
    rows_.push_back(last_row_);
    log_window_.reset();
  }
}

bool StepLoop::one_step(std::int64_t step) {
  if (platform::interrupted()) {
    stopped_ = true;
    return false;
  }
  const Rng before = run_.data_rng;  // the generator state a checkpoint of this step holds
  const int len = induction_batch(run_.data_rng, cfg_, step, run_.bufs);
  Batch batch;
  batch.tokens = run_.bufs.tokens;
  batch.targets = run_.bufs.targets;
  batch.batch = cfg_.batch;
  batch.len = len;
  StepStats st;
  const Status s = run_.trainer.train_step(batch, &st);
  if (!s) {
    run_.data_rng = before;
    failure_ = std::string("training step ") + std::to_string(step + 1) + " failed: " + s.message();
    return false;
  }
  done_ = step + 1;
  if (st.skipped) on_skipped(st);
  else on_updated();
  log_step(st, len, step);
  if (!failure_.empty()) return false;
  const TrainOptions& o = run_.o;
  if (o.save_every > 0 && done_ % o.save_every == 0 && done_ < run_.stop) periodic_save();
  // --log-every N: a line every N steps; else in place on a terminal, every few seconds elsewhere.
  if (done_ < run_.stop && (!o.explicit_log_every || done_ % o.log_every == 0)) report(o.explicit_log_every);
  return true;
}

void StepLoop::run() {
  const double t_start = platform::now_seconds();
  for (std::int64_t step = run_.start; step < run_.stop; ++step)
    if (!one_step(step)) break;
  if (log_window_.steps() > 0) {  // stopped inside an interval
    last_row_ = log_window_.row(done_, last_lr_, last_longest_);
    rows_.push_back(last_row_);
  }
  const double t_end = platform::now_seconds();
  if (done_ > run_.start) report(true);
  progress_.display().finish(true);
  const std::int64_t steps = done_ - run_.start;
  std::fprintf(stderr, "trained %lld steps in %s (%.1f steps/s)%s\n", static_cast<long long>(steps),
               text::format_duration(t_end - t_start).c_str(), double(steps) / std::max(t_end - t_start, 1e-9),
               skipped_ ? (", " + std::to_string(skipped_) + " skipped").c_str() : "");
}

// The checkpoint first, it matters most.
int StepLoop::save_results() {
  const std::string& model_path = run_.model_path;
  Status saved = Status::ok();
  if (weights_ok_) save_now(&saved);
  const std::string log_text = train_log_csv(rows_, run_.earlier_log);
  Status logged = platform::write_file_atomic(run_.log_path.c_str(), log_text.data(), log_text.size());
  const std::string kept = last_save_ >= 0 ? "'" + model_path + "' still holds step " + std::to_string(last_save_)
                                           : "the previous '" + model_path + "', if any, is untouched";
  if (!weights_ok_) runtime_error(failure_ + "; the damaged weights were not saved, " + kept);
  if (!saved)
    runtime_error("checkpoint of step " + std::to_string(done_) + " not saved: " + saved.message() + " (" + kept +
                  ")" + (failure_.empty() ? "" : "; the run had stopped: " + failure_));
  if (!logged) runtime_error(std::string("training log not saved: ") + logged.message());
  if (!failure_.empty())
    runtime_error(failure_ + " (checkpoint of step " + std::to_string(done_) + " saved to '" + model_path + "')");
  if (stopped_) {
    std::fprintf(stderr, "interrupted at step %lld; wrote %s and %s (continue with: tinyloop train --resume %s)\n",
                 static_cast<long long>(done_), model_path.c_str(), run_.log_path.c_str(), model_path.c_str());
    return kExitInterrupted;
  }
  return kExitOk;
}

int StepLoop::evaluate() {
  const TrainOptions& o = run_.o;
  const char* model_path = run_.model_path.c_str();
  const char* log_path = run_.log_path.c_str();
  if (o.no_eval) {
    std::printf("wrote %s (step %lld), %s\n", model_path, static_cast<long long>(done_), log_path);
    std::fflush(stdout);  // before anything a caller (reproduce) prints on stderr, when both share a file
    return kExitOk;
  }
  std::printf("evaluation (seed %llu, %d samples per length):\n", static_cast<unsigned long long>(o.eval.seed),
              o.eval.samples);
  print_eval_header(stdout);
  std::vector<LengthResult> results = run_length_eval(
      cfg_, run_.trainer.params(), run_.trainer.param_count(), o.eval,
      [](const LengthResult& r) { print_eval_row(stdout, r); }, [] { return platform::interrupted(); },
      &progress_.display());
  if (results.size() < o.eval.lengths.size()) {
    std::fprintf(stderr, "interrupted during evaluation; wrote %s and %s (no eval.json)\n", model_path, log_path);
    return kExitInterrupted;
  }
  write_text_atomic(run_.eval_path, eval_json(run_.model_path, o.eval, results), "evaluation");
  std::printf("\nwrote %s (step %lld), %s (%zu rows), %s\n", model_path, static_cast<long long>(done_), log_path,
              rows_.size(), run_.eval_path.c_str());
  std::fflush(stdout);  // before anything a caller (reproduce) prints on stderr, when both share a file
  return kExitOk;
}

}  // namespace

int run_train(const Args& args) {
  ParsedArgs a = ParsedArgs::parse(train_spec(), args);
  if (a.help_requested()) {
    std::fputs(format_help(train_spec()).c_str(), stdout);
    return kExitOk;
  }
  TrainRun run;
  parse_run(a, run);
  prepare_output(run.o);
  read_earlier_log(run);
  allocate_training(run);
  load_start_state(run);
  StepLoop loop(run);
  platform::install_interrupt_handler();
  print_start(run);
  loop.run();
  const int saved = loop.save_results();
  if (saved != kExitOk) return saved;
  return loop.evaluate();
}

}  // namespace tinyloop::cli
