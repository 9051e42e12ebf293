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

#if defined(__unix__) || defined(__APPLE__)
#include <sys/stat.h>
#endif

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

// True when both paths name the same existing file.
bool same_file(const std::string& a, const std::string& b) {
#if defined(__unix__) || defined(__APPLE__)
  struct stat sa, sb;
  if (stat(a.c_str(), &sa) != 0 || stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
#else
  return a == b;
#endif
}

// Creates DIR and proves it writable before any training time is spent. Replacing the
// checkpoint a run resumes from is what resuming means; any other existing model needs
// --overwrite.
void prepare_output(const TrainOptions& o) {
  Status s = platform::make_directories(o.out.c_str());
  if (!s) runtime_error(std::string("--out: ") + s.message());
  std::string model = o.out + "/model.tlc";
  if (!o.overwrite && file_exists(model) && !(!o.resume.empty() && same_file(model, o.resume)))
    usage_error("'" + model + "' already exists; pass --overwrite to replace it or choose another --out");
  std::string probe = o.out + "/.tinyloop-write-test";
  s = platform::write_file_atomic(probe.c_str(), "ok\n", 3);
  if (!s) runtime_error("--out '" + o.out + "' is not writable: " + s.message());
  std::remove(probe.c_str());
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

}  // namespace

int run_train(const Args& args) {
  ParsedArgs a = ParsedArgs::parse(train_spec(), args);
  if (a.help_requested()) {
    std::fputs(format_help(train_spec()).c_str(), stdout);
    return kExitOk;
  }
  const bool resuming = a.has("--resume");
  LoadedCheckpoint ck;
  TrainOptions o;
  if (resuming) {
    const std::string path = a.get_string("--resume", "");
    ck = load_checkpoint(path, /*with_optimizer=*/true);
    std::string limits = check_cli_limits(ck.header.config);
    if (!limits.empty()) runtime_error("checkpoint '" + path + "' cannot be resumed: " + limits);
    o = parse_train_options(a, &ck.header.config);
  } else {
    o = parse_train_options(a, nullptr);
  }
  for (const std::string& w : o.warnings) std::fprintf(stderr, "tinyloop: warning: %s\n", w.c_str());
  const TrainConfig& cfg = o.cfg;
  const std::int64_t start = resuming ? ck.header.step : 0;
  std::int64_t stop = o.stop_at;
  if (resuming) {
    if (!o.explicit_stop_at && start >= cfg.steps)
      usage_error("'" + o.resume + "' is already at step " + std::to_string(start) + ", the end of its " +
                  std::to_string(cfg.steps) + "-step plan; pass --stop-at K (K > " + std::to_string(start) +
                  ") to train past it");
    if (o.explicit_stop_at && stop <= start)
      usage_error("--stop-at " + std::to_string(stop) + " must be greater than the checkpoint's step " +
                  std::to_string(start));
  }
  prepare_output(o);
  const std::string model_path = o.out + "/model.tlc";
  const std::string log_path = o.out + "/train_log.csv";
  const std::string eval_path = o.out + "/eval.json";

  // The log so far: the train_log.csv beside the checkpoint, up to the checkpoint's step.
  std::string earlier_log;
  if (resuming) {
    const std::string old_log = directory_of(o.resume) + "/train_log.csv";
    std::string text;
    const Status read = read_train_log_file(old_log, std::max(start, cfg.steps), &text);
    if (read) earlier_log = train_log_prefix(text, start);
    if (read.code() == Error::buffer_too_small)
      std::fprintf(stderr, "tinyloop: warning: '%s' is %s; the new log starts at step %" PRId64 "\n", old_log.c_str(),
                   read.message(), start);
    else if (read && earlier_log.empty())
      std::fprintf(stderr, "tinyloop: warning: '%s' is not a training log; the new log starts at step %" PRId64 "\n",
                   old_log.c_str(), start);
  }

  // ---- set-up: the only allocations of the run up to the saves ----
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
  std::vector<std::uint8_t> ck_bytes = allocate_planned(checkpoint_bytes(cfg, true), "the checkpoint");

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
  Rng data_rng(cfg.seed, 2);
  if (resuming) {
    const std::size_t n = trainer.param_count();
    if (ck.params.size() != n || ck.adam_m.size() != n || ck.adam_v.size() != n)
      runtime_error("internal error: checkpoint '" + o.resume + "' does not match the trainer's layout");
    std::copy(ck.params.begin(), ck.params.end(), trainer.params());
    std::copy(ck.adam_m.begin(), ck.adam_m.end(), trainer.adam_m());
    std::copy(ck.adam_v.begin(), ck.adam_v.end(), trainer.adam_v());
    trainer.set_step(start);
    data_rng.restore(ck.header.rng_state, ck.header.rng_inc);
  } else {
    Rng init_rng(cfg.seed, 1);
    trainer.init_weights(init_rng);
  }

  std::vector<LogRow> rows;
  const std::int64_t planned_rows = (stop > start ? stop - start : 0) / o.log_every + 2;
  rows.reserve(static_cast<std::size_t>(std::min<std::int64_t>(planned_rows, 1 << 16)));
  StatsWindow log_window;
  TrainProgress progress(cfg, start, stop, !o.quiet);
  platform::install_interrupt_handler();

  if (resuming)
    std::fprintf(stderr, "resuming %s at step %" PRId64 " of %" PRId64 " (stopping at %" PRId64 ")\n",
                 o.resume.c_str(), start, cfg.steps, stop);
  std::fprintf(stderr,
               "train: %lld steps, batch %d, lengths %d..%d, loops %d, alphabet %d, hops %d, seed %llu, "
               "%d thread%s, %s planned -> %s\n",
               static_cast<long long>(cfg.steps), cfg.batch, cfg.curriculum.min_len, cfg.curriculum.max_len,
               cfg.model.loops, cfg.task.alphabet, cfg.task.hops, static_cast<unsigned long long>(cfg.seed),
               o.threads, o.threads == 1 ? "" : "s", format_bytes(plan.total + data_bytes).c_str(), o.out.c_str());

  // ---- the step loop: no allocation except at a periodic save ----
  const double t_start = platform::now_seconds();
  std::int64_t done = start, skipped = 0, streak = 0, last_save = -1;
  const char* last_fault = "";
  bool stopped = false;
  bool weights_ok = true;  // false once an update wrote a non-finite weight: nothing more is saved
  std::string failure;
  LogRow last_row;
  double last_lr = trainer.learning_rate(start);
  int last_longest = curriculum_longest(cfg.curriculum, start, cfg.steps);
  auto report = [&](bool force) {
    progress.report(done, last_lr, last_longest, skipped, last_fault, force, last_row);
  };
  auto periodic_save = [&]() {
    Status saved = save_checkpoint(model_path, trainer, done, data_rng, ck_bytes);
    if (saved && o.keep_checkpoints)
      saved = save_checkpoint(step_checkpoint_path(o.out, done), trainer, done, data_rng, ck_bytes);
    if (!saved) {
      // Keep training: the previous checkpoint is intact and the next save may succeed.
      progress.display().above([&] {
        std::fprintf(stderr, "tinyloop: warning: checkpoint of step %" PRId64 " not saved: %s\n", done,
                     saved.message());
      });
      return;
    }
    last_save = done;
    std::string text = train_log_csv(rows, earlier_log);
    Status logged = platform::write_file_atomic(log_path.c_str(), text.data(), text.size());
    if (!logged)
      progress.display().above(
          [&] { std::fprintf(stderr, "tinyloop: warning: training log not saved: %s\n", logged.message()); });
  };

  for (std::int64_t step = start; step < stop; ++step) {
    if (platform::interrupted()) {
      stopped = true;
      break;
    }
    const Rng before = data_rng;  // the generator state a checkpoint of this step holds
    const int len = induction_batch(data_rng, cfg, step, bufs);
    Batch batch;
    batch.tokens = bufs.tokens;
    batch.targets = bufs.targets;
    batch.batch = cfg.batch;
    batch.len = len;
    StepStats st;
    s = trainer.train_step(batch, &st);
    if (!s) {
      data_rng = before;
      failure = std::string("training step ") + std::to_string(step + 1) + " failed: " + s.message();
      break;
    }
    done = step + 1;
    if (st.skipped) {
      ++skipped;
      ++streak;
      last_fault = st.fault ? st.fault : "";
      if (streak == 1)
        progress.display().above([&] {
          std::fprintf(stderr, "step %" PRId64 ": non-finite %s; update skipped, weights unchanged (%" PRId64
                       " skipped so far)\n", done, last_fault, skipped);
        });
      if (o.max_skipped > 0 && streak >= o.max_skipped) {
        failure = std::to_string(streak) + " consecutive steps skipped (steps " + std::to_string(done - streak + 1) +
                  "-" + std::to_string(done) + ", last fault: non-finite " + last_fault +
                  "); the run diverged: try a lower --lr";
      }
    } else {
      if (streak > 0)
        progress.display().above([&] {
          std::fprintf(stderr, "step %" PRId64 ": updates resumed after %" PRId64 " skipped step%s\n", done, streak,
                       streak == 1 ? "" : "s");
        });
      streak = 0;
      std::string bad = first_non_finite_weight(trainer);
      if (!bad.empty()) {
        weights_ok = false;
        failure = "step " + std::to_string(done) + ": the AdamW update wrote a non-finite weight (" + bad +
                  "); the learning rate is too large for this run";
      }
    }
    last_lr = st.lr;
    last_longest = curriculum_longest(cfg.curriculum, step, cfg.steps);
    log_window.add(st);
    progress.add(st, len);
    if (done % o.log_every == 0 || done == stop) {
      last_row = log_window.row(done, last_lr, last_longest);
      rows.push_back(last_row);
      log_window.reset();
    }
    if (!failure.empty()) break;
    if (o.save_every > 0 && done % o.save_every == 0 && done < stop) periodic_save();
    // --log-every N: a line every N steps; else in place on a terminal, every few seconds elsewhere.
    if (done < stop && (!o.explicit_log_every || done % o.log_every == 0)) report(o.explicit_log_every);
  }
  if (log_window.steps() > 0) {  // stopped inside an interval
    last_row = log_window.row(done, last_lr, last_longest);
    rows.push_back(last_row);
  }
  const double t_end = platform::now_seconds();
  if (done > start) report(true);
  progress.display().finish(true);
  std::fprintf(stderr, "trained %lld steps in %s (%.1f steps/s)%s\n", static_cast<long long>(done - start),
               format_duration(t_end - t_start).c_str(), double(done - start) / std::max(t_end - t_start, 1e-9),
               skipped ? (", " + std::to_string(skipped) + " skipped").c_str() : "");

  // ---- results: the checkpoint first, it matters most ----
  Status saved = Status::ok();
  if (weights_ok) {
    saved = save_checkpoint(model_path, trainer, done, data_rng, ck_bytes);
    if (saved && o.keep_checkpoints)
      saved = save_checkpoint(step_checkpoint_path(o.out, done), trainer, done, data_rng, ck_bytes);
  }
  const std::string log_text = train_log_csv(rows, earlier_log);
  Status logged = platform::write_file_atomic(log_path.c_str(), log_text.data(), log_text.size());
  const std::string kept = last_save >= 0 ? "'" + model_path + "' still holds step " + std::to_string(last_save)
                                          : "the previous '" + model_path + "', if any, is untouched";
  if (!weights_ok) runtime_error(failure + "; the damaged weights were not saved, " + kept);
  if (!saved)
    runtime_error("checkpoint of step " + std::to_string(done) + " not saved: " + saved.message() + " (" + kept +
                  ")" + (failure.empty() ? "" : "; the run had stopped: " + failure));
  if (!logged) runtime_error(std::string("training log not saved: ") + logged.message());
  if (!failure.empty())
    runtime_error(failure + " (checkpoint of step " + std::to_string(done) + " saved to '" + model_path + "')");
  if (stopped) {
    std::fprintf(stderr, "interrupted at step %lld; wrote %s and %s (continue with: tinyloop train --resume %s)\n",
                 static_cast<long long>(done), model_path.c_str(), log_path.c_str(), model_path.c_str());
    return kExitInterrupted;
  }

  if (o.no_eval) {
    std::printf("wrote %s (step %lld), %s\n", model_path.c_str(), static_cast<long long>(done), log_path.c_str());
    std::fflush(stdout);  // before anything a caller (reproduce) prints on stderr, when both share a file
    return kExitOk;
  }
  std::printf("evaluation (seed %llu, %d samples per length):\n", static_cast<unsigned long long>(o.eval.seed),
              o.eval.samples);
  print_eval_header(stdout);
  std::vector<LengthResult> results = run_length_eval(
      cfg, trainer.params(), trainer.param_count(), o.eval, [](const LengthResult& r) { print_eval_row(stdout, r); },
      [] { return platform::interrupted(); }, &progress.display());
  if (results.size() < o.eval.lengths.size()) {
    std::fprintf(stderr, "interrupted during evaluation; wrote %s and %s (no eval.json)\n", model_path.c_str(),
                 log_path.c_str());
    return kExitInterrupted;
  }
  write_text_atomic(eval_path, eval_json(model_path, o.eval, results), "evaluation");
  std::printf("\nwrote %s (step %lld), %s (%zu rows), %s\n", model_path.c_str(), static_cast<long long>(done),
              log_path.c_str(), rows.size(), eval_path.c_str());
  std::fflush(stdout);  // before anything a caller (reproduce) prints on stderr, when both share a file
  return kExitOk;
}

}  // namespace tinyloop::cli
