// tinyloop-bench: the figures of SPEC §6, measured in one run on one machine.
//
//   training   lam2026 step (forward, backward, clip, AdamW) at n = 64, batch 32, on 1 thread and
//              on all cores, next to tools/reference/torch_reference.py bench (PyTorch eager,
//              float32) on 1 thread and all cores, run as a subprocess in the same run;
//   inference  n = 1000, 25 loops: ms per sequence, attention GFLOP/s against the single-core FMA
//              peak measured here (tools/bench/fma_peak.cpp);
//   positions  the same training step and inference call with the ALiBi recency bias (SPEC §1.1)
//              in place of the sinusoids, timed interleaved with them: what the bias costs;
//   targets    the training step's GFLOP/s and share of the measured FMA peak beside its PyTorch
//              ratio, and the attention kernel's share (docs/BENCHMARKS.md's targets);
//   memory     bytes planned for training and inference, inference working memory beyond the
//              parameters (n = 1000 and n = 100,000), heap allocations per step and per call
//              (counted by tools/alloc_counter; must be 0).
//
// Every timing is the median of --repeats runs, and the runs of the things compared are
// interleaved (tinyloop 1 thread, tinyloop all cores, PyTorch 1 thread, PyTorch all cores, then
// again), so a load change on a shared machine hits both sides of a ratio alike.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "alloc_counter.hpp"
#include "fma_peak.hpp"
#include "kernels/attention.hpp"
#include "text_format.hpp"
#include "tinyloop/induction.hpp"
#include "tinyloop/inference.hpp"
#include "tinyloop/platform/posix.hpp"
#include "tinyloop/trainer.hpp"
#if TINYLOOP_SIMD
#include "kernels/attention_online_simd.hpp"
#endif

namespace {

using namespace tinyloop;

struct Options {
  int len = 64, batch = 32, threads = 0;
  int warmup = 3, steps = 20, repeats = 3;
  int infer_len = 1000, infer_reps = 5;
  int long_len = 100000;
  double fma_seconds = 1.2;
  bool torch = true;
  int torch_steps = 10;
  std::string python = "/usr/bin/python3";
  std::string reference = TINYLOOP_TORCH_REFERENCE;
  bool check_allocations = false;
  long long activation_budget = -1;  // -1: the engine's default
};

[[noreturn]] void usage(const char* why) {
  if (why) std::fprintf(stderr, "tinyloop-bench: error: %s\n", why);
  std::fprintf(why ? stderr : stdout,
               "usage: tinyloop-bench [options]\n"
               "  --quick             a few seconds: 1 repeat, 5 steps, 1 inference call, short FMA run, no PyTorch\n"
               "  --len N             training length (64)          --batch N     training batch (32)\n"
               "  --threads T         'all cores' thread count (default: the hardware threads)\n"
               "  --steps N           timed training steps per repeat (20)   --warmup N  untimed steps (3)\n"
               "  --repeats R         repeats of every timing; medians are reported (3)\n"
               "  --infer-len N       inference length (1000)       --infer-reps N  calls per repeat (5)\n"
               "  --long-len N        length for the long-sequence memory line (100000)\n"
               "  --fma-seconds S     time spent measuring the FMA peak (1.2)\n"
               "  --no-torch          skip the PyTorch reference   --torch-steps N  its timed steps (10; half with all cores)\n"
               "  --python PATH       interpreter with torch (/usr/bin/python3)\n"
               "  --reference PATH    torch_reference.py (default: the source tree's)\n"
               "  --activation-budget B  training Capacity::activation_budget in bytes (0: recompute attention)\n"
               "  --check-allocations exit 1 unless the step and the call allocate nothing\n");
  std::exit(why ? 2 : 0);
}

int to_int(const char* flag, const char* v, int lo, int hi) {
  char* end = nullptr;
  long x = std::strtol(v, &end, 10);
  if (!*v || *end || x < lo || x > hi) {
    std::fprintf(stderr, "tinyloop-bench: error: %s wants an integer in %d..%d, got '%s'\n", flag, lo, hi, v);
    std::exit(2);
  }
  return int(x);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) usage((a + " needs a value").c_str());
      return argv[++i];
    };
    if (a == "--help" || a == "-h") usage(nullptr);
    else if (a == "--quick") {
      o.steps = 5; o.warmup = 1; o.repeats = 1; o.infer_reps = 1; o.fma_seconds = 0.15; o.torch = false;
    }
    else if (a == "--len") o.len = to_int("--len", value(), 2, 4096);
    else if (a == "--batch") o.batch = to_int("--batch", value(), 1, 4096);
    else if (a == "--threads") o.threads = to_int("--threads", value(), 1, 1024);
    else if (a == "--steps") o.steps = to_int("--steps", value(), 1, 1000000);
    else if (a == "--warmup") o.warmup = to_int("--warmup", value(), 0, 1000000);
    else if (a == "--repeats") o.repeats = to_int("--repeats", value(), 1, 1000);
    else if (a == "--infer-len") o.infer_len = to_int("--infer-len", value(), 1, 1 << 24);
    else if (a == "--infer-reps") o.infer_reps = to_int("--infer-reps", value(), 1, 1000000);
    else if (a == "--long-len") o.long_len = to_int("--long-len", value(), 1, 1 << 24);
    else if (a == "--fma-seconds") o.fma_seconds = std::atof(value());
    else if (a == "--no-torch") o.torch = false;
    else if (a == "--torch") o.torch = true;
    else if (a == "--torch-steps") o.torch_steps = to_int("--torch-steps", value(), 1, 100000);
    else if (a == "--python") o.python = value();
    else if (a == "--reference") o.reference = value();
    else if (a == "--check-allocations") o.check_allocations = true;
    else if (a == "--activation-budget") o.activation_budget = to_int("--activation-budget", value(), 0, 2000000000);
    else usage(("unknown option '" + a + "'").c_str());
  }
  if (o.threads == 0) o.threads = std::max(platform::hardware_threads(), 1);
  if (!(o.fma_seconds > 0)) o.fma_seconds = 0.15;
  return o;
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The exact count and its size: "2048 B (2.0 KiB)", "3145728 B (3.00 MiB)".
std::string kib(std::size_t bytes) {
  const std::string exact = std::to_string(bytes) + " B (";
  if (bytes >= (std::size_t(1) << 20)) return exact + text::format_fixed(bytes / 1048576.0, 2) + " MiB)";
  return exact + text::format_fixed(bytes / 1024.0, 1) + " KiB)";
}

[[noreturn]] void fail(const char* what, const Status& s) {
  std::fprintf(stderr, "tinyloop-bench: error: %s: %s\n", what, s.message());
  std::exit(1);
}

// ---------------------------------------------------------------- training

struct TrainBench {
  TrainConfig cfg;
  Capacity cap;
  std::vector<unsigned char> buffer;
  Trainer<float> trainer;
  std::unique_ptr<platform::ThreadPool> pool;
  std::vector<std::vector<std::int32_t>> tokens, targets;  // a few batches, drawn before timing
  int next = 0;
  long steps_counted = 0, allocations = 0;

  TrainBench(const Options& o, int threads, Positions positions = Positions::sinusoidal) {
    cfg = preset_lam2026();
    cfg.model.positions = positions;
    cfg.batch = o.batch;
    cfg.curriculum.min_len = cfg.curriculum.max_len = o.len;
    cap.max_len = o.len;
    cap.max_batch = o.batch;
    cap.workers = threads;
    if (o.activation_budget >= 0) cap.activation_budget = std::size_t(o.activation_budget);
    buffer.resize(Trainer<float>::plan(cfg, cap).total);
    Status s = trainer.init(cfg, cap, buffer.data(), buffer.size());
    if (!s) fail("training set-up", s);
    if (threads > 1) {
      pool = std::make_unique<platform::ThreadPool>(threads);
      trainer.set_parallel(pool.get());
    }
    Rng init(cfg.seed, 1), data(cfg.seed, 2);
    trainer.init_weights(init);
    const std::size_t n = std::size_t(o.batch) * std::size_t(o.len);
    std::vector<std::int32_t> prev(o.len), last(cfg.task.alphabet);
    for (int b = 0; b < 8; ++b) {
      tokens.emplace_back(n);
      targets.emplace_back(n);
      InductionBatchBuffers bufs{tokens.back().data(), targets.back().data(), prev.data(), last.data()};
      induction_batch(data, cfg, 0, bufs);
    }
  }

  void step() {
    Batch batch{tokens[next].data(), targets[next].data(), cfg.batch, cfg.curriculum.max_len};
    next = (next + 1) % int(tokens.size());
    StepStats st;
    Status s = trainer.train_step(batch, &st);
    if (!s) fail("training step", s);
  }

  // ms per step over `steps` steps, wall clock and CPU time of the calling thread (the whole
  // step's cost when it runs serially); the allocation counter runs around the timed steps.
  void time(int warmup, int steps, double* wall_ms, double* cpu_ms) {
    for (int i = 0; i < warmup; ++i) step();
    const long a0 = alloc_counter::allocations();
    const double t0 = platform::now_seconds(), c0 = platform::thread_cpu_seconds();
    for (int i = 0; i < steps; ++i) step();
    const double dt = platform::now_seconds() - t0, dc = platform::thread_cpu_seconds() - c0;
    allocations += alloc_counter::allocations() - a0;
    steps_counted += steps;
    *wall_ms = dt * 1000.0 / steps;
    *cpu_ms = dc * 1000.0 / steps;
  }
};

// ---------------------------------------------------------------- PyTorch reference

constexpr std::size_t kMaxToolOutput = std::size_t(1) << 20;  // what the reference prints: a few lines

bool torch_available(const Options& o, std::string* version) {
  std::string cmd = "'" + o.python + "' -c 'import torch; print(torch.__version__)' 2>/dev/null";
  int rc = -1;
  if (!platform::run_command(cmd.c_str(), kMaxToolOutput, version, &rc) || rc != 0) return false;
  const std::size_t eol = version->find_first_of("\r\n");  // the first line
  if (eol != std::string::npos) version->resize(eol);
  return !version->empty();
}

// ms/step (wall) and CPU ms/step (the process's) from `torch_reference.py bench --json`; NAN when
// it fails.
void torch_ms(const Options& o, int threads, int steps, double* wall_ms, double* cpu_ms) {
  *wall_ms = *cpu_ms = NAN;
  char args[256];
  std::snprintf(args, sizeof args, " bench --len %d --batch %d --threads %d --steps %d --warmup %d --json", o.len,
                o.batch, threads, steps, std::max(o.warmup, 2));
  std::string cmd = "'" + o.python + "' '" + o.reference + "'" + args + " 2>&1";
  std::string out;
  int rc = -1;
  const Status ran = platform::run_command(cmd.c_str(), kMaxToolOutput, &out, &rc);
  if (!ran) out = ran.message();
  const std::size_t k = out.find("\"ms_per_step\":");
  if (!ran || rc != 0 || k == std::string::npos) {
    std::fprintf(stderr, "tinyloop-bench: warning: the PyTorch reference failed (%s):\n%s\n", cmd.c_str(), out.c_str());
    return;
  }
  *wall_ms = std::atof(out.c_str() + k + std::strlen("\"ms_per_step\":"));
  const std::size_t c = out.find("\"cpu_ms_per_step\":");
  if (c != std::string::npos) *cpu_ms = std::atof(out.c_str() + c + std::strlen("\"cpu_ms_per_step\":"));
}

// ---------------------------------------------------------------- inference

// Attention FLOPs of one inference call, counted as: causal (query i meets keys 0..i only, so
// n(n+1)/2 query-key pairs per loop), QK^T and P.V only (d multiply-adds each per pair), 2 flops
// per multiply-add. Softmax, exponentials and the rest of the block are not counted.
double attention_flops(int n, int loops, bool causal) {
  const double pairs = causal ? 0.5 * double(n) * double(n + 1) : double(n) * double(n);
  return double(loops) * pairs * 2.0 * kDim * 2.0;
}

// Multiply-add FLOPs of one training step (forward and backward) of the looped block: per token
// and loop the Q, K, V projections (3 d x d), the MLP (d x 4d and back) and the causal attention
// (QK^T and P.V over (n+1)/2 keys on average), then the read-out (d x V_out) per token; 2 flops per
// multiply-add, and the backward counted as twice the forward (a gradient for the input and one
// for the weights). LayerNorms, GELU, softmax and AdamW are not counted.
double training_step_flops(const TrainConfig& cfg, int n) {
  const double d = kDim, hidden = kHidden, keys = 0.5 * double(n + 1);
  const double per_token_loop = 2.0 * (3.0 * d * d + 2.0 * d * hidden + 2.0 * d * keys);
  const double tokens = double(cfg.batch) * double(n);
  const double forward = tokens * (double(cfg.model.layers) * per_token_loop + 2.0 * d * cfg.model.out_dim);
  return 3.0 * forward;
}

// The attention kernel alone, as the inference calls it (25 loops over all query rows, queries in
// groups of kInferenceQueries on SIMD builds), on random keys, values and queries: ms per sequence.
struct AttentionOnly {
  int n, stride;
  std::vector<float> q, kt, vt, out;

#if TINYLOOP_SIMD
  explicit AttentionOnly(int len) : n(len), stride(kernels::online::padded(len)) {
#else
  explicit AttentionOnly(int len) : n(len), stride(len) {
#endif
    Rng rng(99, 3);
    q.resize(std::size_t(n) * kDim);
    kt.assign(std::size_t(stride) * kDim, 0.0f);
    vt.assign(std::size_t(stride) * kDim, 0.0f);
    out.resize(std::size_t(n) * kDim);
    auto draw = [&] { return 2.0f * rng.uniform01() - 1.0f; };
    for (auto& x : q) x = 2.0f * draw();
    for (int c = 0; c < kDim; ++c)
      for (int j = 0; j < n; ++j) {
        kt[std::size_t(c) * stride + j] = 2.0f * draw();
        vt[std::size_t(c) * stride + j] = draw();
      }
  }

  void loop() {
#if TINYLOOP_SIMD
    constexpr int G = kernels::kInferenceQueries;
    int i = 0;
    for (; i + G <= n; i += G) {
      const float* qs[G];
      float* os[G];
      int count[G], row[G];
      for (int r = 0; r < G; ++r) {
        qs[r] = &q[(i + r) * kDim];
        os[r] = &out[(i + r) * kDim];
        count[r] = i + r + 1;
        row[r] = i + r;
      }
      kernels::attention_rows_online_simd<G>(qs, kt.data(), vt.data(), stride, count, os, row);
    }
    for (; i < n; ++i) kernels::attention_row_online_simd(&q[i * kDim], kt.data(), vt.data(), stride, i + 1, &out[i * kDim]);
#else
    // Scalar build: the reference row over n x d keys (kt/vt reused as row-major storage).
    for (int i = 0; i < n; ++i) kernels::attention_row_online(&q[i * kDim], kt.data(), vt.data(), i + 1, &out[i * kDim]);
#endif
  }
};

volatile float g_sink;

// ---------------------------------------------------------------- the report, section by section

// The allocation counter must be live, or its zeros prove nothing.
bool allocation_counter_live() {
  const long a0 = alloc_counter::allocations();
  int* volatile probe = new int(1);
  delete probe;
  return alloc_counter::allocations() != a0;
}

// The training benches of one run: 1 thread, 1 thread with ALiBi, all cores (when more than 1).
struct TrainBenches {
  TrainBench one, alibi;
  std::unique_ptr<TrainBench> all;
  explicit TrainBenches(const Options& o) : one(o, 1), alibi(o, 1, Positions::alibi) {
    if (o.threads > 1) all = std::make_unique<TrainBench>(o, o.threads);
  }
};

// Medians of the training timings, ms per step.
struct TrainFigures {
  double wall1 = NAN, cpu1 = NAN, wall_all = NAN, alibi_cpu1 = NAN;
  double torch_cpu1 = NAN;  // PyTorch eager, 1 thread, CPU time; NAN when it did not run
};

struct TorchTimes {
  std::vector<double> wall1, cpu1, wall_all;
};

void print_torch(const Options& o, const TorchTimes& pt, const std::string& version, const TrainFigures& f) {
  const double p1 = median(pt.wall1), p1c = median(pt.cpu1), pT = o.threads > 1 ? median(pt.wall_all) : p1;
  std::printf("  PyTorch   1 thread : %8.3f ms/step wall, %8.3f ms/step cpu  (torch %s eager, %s)\n", p1, p1c,
              version.c_str(), o.python.c_str());
  std::printf("  PyTorch  %2d threads: %8.3f ms/step wall\n", o.threads, pT);
  std::printf("  ratio 1 thread  (PyTorch / tinyloop): %6.1fx by cpu time, %6.1fx by wall time   [target >= 40x]\n",
              p1c / f.cpu1, p1 / f.wall1);
  std::printf("  ratio %d threads (PyTorch / tinyloop): %6.1fx by wall time\n", o.threads, pT / f.wall_all);
}

// The training step on 1 thread and all cores, with the PyTorch reference interleaved.
TrainFigures bench_training(const Options& o, TrainBenches& b) {
  std::printf("\ntraining step, lam2026, n=%d, batch %d (forward, backward, clip, AdamW); median of %d x %d steps\n",
              o.len, o.batch, o.repeats, o.steps);
  std::string torch_version;
  const bool torch = o.torch && torch_available(o, &torch_version);
  std::vector<double> tl1, tl1c, tlT, ta1c;
  TorchTimes pt;
  for (int r = 0; r < o.repeats; ++r) {
    double w, c;
    b.one.time(o.warmup, o.steps, &w, &c);
    tl1.push_back(w);
    tl1c.push_back(c);
    b.alibi.time(o.warmup, o.steps, &w, &c);
    ta1c.push_back(c);
    if (b.all) {
      b.all->time(o.warmup, o.steps, &w, &c);
      tlT.push_back(w);
    }
    if (!torch) continue;
    torch_ms(o, 1, o.torch_steps, &w, &c);
    pt.wall1.push_back(w);
    pt.cpu1.push_back(c);
    if (o.threads > 1) {
      torch_ms(o, o.threads, std::max(2, o.torch_steps / 2), &w, &c);
      pt.wall_all.push_back(w);
    }
  }
  TrainFigures f;
  f.wall1 = median(tl1);
  f.cpu1 = median(tl1c);
  f.wall_all = b.all ? median(tlT) : f.wall1;
  f.alibi_cpu1 = median(ta1c);
  std::printf("  (wall: elapsed time; cpu: CPU time of the 1-thread run, which leaves out the waits for a core "
              "on a shared machine)\n");
  std::printf("  tinyloop  1 thread : %8.3f ms/step wall, %8.3f ms/step cpu  (%.0f steps/s by cpu)\n", f.wall1,
              f.cpu1, 1000.0 / f.cpu1);
  std::printf("  tinyloop %2d threads: %8.3f ms/step wall  (%.2fx the 1-thread wall rate)\n", o.threads, f.wall_all,
              f.wall1 / f.wall_all);
  if (torch) {
    print_torch(o, pt, torch_version, f);
    f.torch_cpu1 = median(pt.cpu1);
  }
  else if (!o.torch) std::printf("  PyTorch reference: skipped (--no-torch or --quick)\n");
  else
    std::printf("  PyTorch reference: skipped, no 'import torch' with %s (apt-get install python3-torch)\n",
                o.python.c_str());
  return f;
}

// An inference engine for `model` at length n with the weights of `trainer`, warmed up by one
// call on `tokens`.
struct InferBench {
  std::vector<unsigned char> buffer;
  Inference inf;
  InferBench(const ModelSpec& model, int n, const Trainer<float>& trainer, const std::vector<std::int32_t>& tokens,
             const InferOutputs& out, const char* what) {
    buffer.resize(Inference::plan(model, n).total);
    const std::string name(what);
    Status s = inf.init(model, n, buffer.data(), buffer.size());
    if (!s) fail((name + "inference set-up").c_str(), s);
    if (!(s = inf.load_params(trainer.params(), trainer.param_count()))) fail((name + "inference parameters").c_str(), s);
    if (!(s = inf.run(tokens.data(), n, out))) fail((name + "inference").c_str(), s);  // warm-up
  }
  // CPU ms per call over `reps` calls; the calls' heap allocations are added to *allocs.
  double time(const std::vector<std::int32_t>& tokens, const InferOutputs& out, int reps, long* allocs) {
    const long a0 = alloc_counter::allocations();
    const double t0 = platform::thread_cpu_seconds();
    for (int k = 0; k < reps; ++k) inf.run(tokens.data(), int(tokens.size()), out);
    const double dt = platform::thread_cpu_seconds() - t0;
    *allocs += alloc_counter::allocations() - a0;  // before the caller's push_back, which may allocate
    return dt * 1000.0 / reps;
  }
};

// Per repeat: the FMA peaks, the sinusoid and ALiBi calls and the attention kernel alone.
struct InferTimes {
  std::vector<double> inf_ms, att_ms, peaks, row_peaks, shares, row_shares, alibi_ms;
  bench::FmaPeak row_peak, wide_peak;
  long allocs = 0, calls = 0;
};

// Medians of the inference timings.
struct InferFigures {
  double call_ms = NAN, alibi_call_ms = NAN;
  double peak = NAN, row_peak = NAN;  // the FMA peaks measured in the run, GFLOP/s
  double attention_share = NAN;       // the attention kernel's share of the machine's peak
  long allocs = 0, calls = 0;
};

// Each repeat measures the FMA peaks right before the attention they are compared with, so a
// load change on a shared machine moves both; percentages are the medians of the repeats'. The
// machine's peak is the one on its widest registers (AVX-512 where the build targets it); the
// d-row width (the training kernels' registers) is shown beside it.
InferTimes time_inference(const Options& o, const TrainBenches& b, int loops, double flops) {
  const int n = o.infer_len;
  std::vector<std::int32_t> tokens(n), preds(n);
  Rng rng(5, 9);
  induction_sample(rng, 4, tokens.data(), n);
  InferOutputs out;
  out.predictions = preds.data();
  const ModelSpec model = preset_lam2026().model;
  ModelSpec alibi_model = model;
  alibi_model.positions = Positions::alibi;
  InferBench plain(model, n, b.one.trainer, tokens, out, "");
  InferBench alibi(alibi_model, n, b.alibi.trainer, tokens, out, "ALiBi ");
  AttentionOnly att(n);
  att.loop();
  InferTimes t;
  for (int r = 0; r < o.repeats; ++r) {
    const bench::FmaPeak p = bench::measure_fma_peak(o.fma_seconds / o.repeats / 2);
    const bench::FmaPeak w = bench::measure_fma_peak_widest(o.fma_seconds / o.repeats / 2);
    if (p.gflops > t.row_peak.gflops) t.row_peak = p;
    if (w.gflops > t.wide_peak.gflops) t.wide_peak = w;
    t.inf_ms.push_back(plain.time(tokens, out, o.infer_reps, &t.allocs));
    t.alibi_ms.push_back(alibi.time(tokens, out, o.infer_reps, &t.allocs));
    t.calls += 2 * o.infer_reps;
    const double t0 = platform::thread_cpu_seconds();
    for (int k = 0; k < o.infer_reps; ++k)
      for (int l = 0; l < loops; ++l) att.loop();
    t.att_ms.push_back((platform::thread_cpu_seconds() - t0) * 1000.0 / o.infer_reps);
    const double machine = std::max(p.gflops, w.gflops);
    t.peaks.push_back(machine);
    t.row_peaks.push_back(p.gflops);
    const double g = flops / (t.att_ms.back() * 1e-3) / 1e9;
    t.shares.push_back(g / machine);
    t.row_shares.push_back(g / p.gflops);
  }
  g_sink = att.out[0] + float(preds[n - 1]);
  return t;
}

void print_peaks(const InferTimes& t, double pk, double pk_row) {
  if (t.wide_peak.gflops > 0)
    std::printf("  single-core FMA peak, measured in this run: %.1f GFLOP/s on the widest registers (%s, %d lanes); "
                "%.1f GFLOP/s at the d-row width (%s, %d lanes)\n", pk, t.wide_peak.arch, t.wide_peak.lanes, pk_row,
                t.row_peak.arch, t.row_peak.lanes);
  else
    std::printf("  single-core FMA peak, measured in this run: %.1f GFLOP/s (%s, %d float lanes, %d independent "
                "chains%s)\n", pk, t.row_peak.arch, t.row_peak.lanes, t.row_peak.chains,
                t.row_peak.fused ? "" : ", no fused FMA: mul + add");
}

// Inference at --infer-len and its attention kernel alone, against the measured FMA peaks.
InferFigures bench_inference(const Options& o, const TrainBenches& b) {
  const ModelSpec model = preset_lam2026().model;
  const int n = o.infer_len;
  const double flops = attention_flops(n, model.layers, model.causal);
  const InferTimes t = time_inference(o, b, model.layers, flops);
  const double ims = median(t.inf_ms), ams = median(t.att_ms);
  const double g_total = flops / (ims * 1e-3) / 1e9, g_att = flops / (ams * 1e-3) / 1e9;
  const double pk = median(t.peaks), pk_row = median(t.row_peaks);
#if TINYLOOP_SIMD
  const int att_lanes = kernels::online::kLanes;
#else
  const int att_lanes = 1;
#endif
  std::printf("\ninference, n=%d, %d loops, 1 thread; median of %d x %d calls; CPU time of the thread (the FMA "
              "peaks too)\n", n, model.layers, o.repeats, o.infer_reps);
  print_peaks(t, pk, pk_row);
  std::printf("  time per sequence: %.2f ms (%.1f us per loop)\n", ims, ims * 1000.0 / model.layers);
  std::printf("  attention FLOPs per sequence: %.1f M (causal n(n+1)/2 pairs per loop, QK^T and P.V only, d=%d "
              "multiply-adds each, 2 flops per multiply-add)\n", flops / 1e6, kDim);
  std::printf("  attention kernel alone (%d lanes): %.2f ms/seq, %.1f GFLOP/s = %.1f%% of the machine's FMA peak"
              "   [target >= 45%%]\n", att_lanes, ams, g_att, 100.0 * median(t.shares));
  if (t.wide_peak.gflops > 0)
    std::printf("                                  = %.1f%% of the d-row-width peak\n", 100.0 * median(t.row_shares));
  std::printf("  attention FLOPs over the whole call time: %.1f GFLOP/s = %.1f%% of the machine's FMA peak (the call "
              "also runs LayerNorms, projections and the GELU MLP)\n", g_total, 100.0 * g_total / pk);
  InferFigures f;
  f.call_ms = ims;
  f.peak = pk;
  f.row_peak = pk_row;
  f.attention_share = median(t.shares);
  f.alibi_call_ms = median(t.alibi_ms);
  f.allocs = t.allocs;
  f.calls = t.calls;
  return f;
}

void print_positions(const Options& o, const TrainFigures& train, const InferFigures& infer) {
  const double step_sin = train.cpu1, step_alibi = train.alibi_cpu1;
  const double call_sin = infer.call_ms, call_alibi = infer.alibi_call_ms;
  std::printf("\nrelative positions: the ALiBi recency bias (learned slope, no sinusoids) against the sinusoid model, "
              "1 thread, CPU time, runs interleaved\n");
  std::printf("  training step n=%d batch %d: %8.3f ms ALiBi, %8.3f ms sinusoids: %+.1f%%   [target < +15%%]\n",
              o.len, o.batch, step_alibi, step_sin, 100.0 * (step_alibi / step_sin - 1.0));
  std::printf("  inference n=%d, %d loops  : %8.3f ms ALiBi, %8.3f ms sinusoids: %+.1f%%   [target < +15%%]\n",
              o.infer_len, preset_lam2026().model.layers, call_alibi, call_sin, 100.0 * (call_alibi / call_sin - 1.0));
}

void print_memory(const Options& o, const TrainBenches& b) {
  const ModelSpec model = preset_lam2026().model;
  const int n = o.infer_len;
  auto working = [&](int len) {
    const MemoryPlan p = Inference::plan(model, len);
    return p.total - p.params;
  };
  const MemoryPlan ip = Inference::plan(model, n);
  std::printf("\nmemory (planned up front; one caller buffer, nothing allocated afterwards)\n");
  const MemoryPlan tp1 = Trainer<float>::plan(b.one.cfg, b.one.cap);
  std::printf("  training plan, n=%d batch %d, 1 worker : %s (params %zu, grads %zu, AdamW %zu, activations %zu, "
              "scratch %zu; attention %s)\n", o.len, o.batch, kib(tp1.total).c_str(), tp1.params, tp1.grads,
              tp1.optimizer, tp1.activations, tp1.scratch, tp1.recompute_attention ? "recomputed" : "kept");
  if (b.all) {
    const MemoryPlan tpT = Trainer<float>::plan(b.all->cfg, b.all->cap);
    std::printf("  training plan, n=%d batch %d, %d workers: %s\n", o.len, o.batch, o.threads, kib(tpT.total).c_str());
  }
  std::printf("  inference plan, n=%d: %s (parameters %zu B)\n", n, kib(ip.total).c_str(), ip.params);
  const std::size_t w1000 = working(n);
  std::printf("  inference working memory beyond the parameters, n=%d: %s   [target < 256 KiB: %s]\n", n,
              kib(w1000).c_str(), w1000 < 256 * 1024 ? "met" : "MISSED");
  for (int len : {10000, o.long_len}) {
    const std::size_t w = working(len);
    std::printf("  inference working memory beyond the parameters, n=%d: %s (%.1f B per token)\n", len,
                kib(w).c_str(), double(w) / len);
  }
}

// The heap allocations of the timed steps and calls; true when there were none.
bool print_allocations(const Options& o, const TrainBenches& b, const InferFigures& infer) {
  const long train_allocs = b.one.allocations + b.alibi.allocations + (b.all ? b.all->allocations : 0);
  const long train_steps = b.one.steps_counted + b.alibi.steps_counted + (b.all ? b.all->steps_counted : 0);
  auto per = [](long count, long over) { return over ? count / over + (count % over ? 1 : 0) : 0; };
  std::printf("\nheap allocations (every malloc/calloc/realloc/operator new counted)\n");
  std::printf("  heap allocations per training step: %ld (%ld over %ld timed steps, 1 and %d threads)\n",
              per(train_allocs, train_steps), train_allocs, train_steps, o.threads);
  std::printf("  heap allocations per inference call: %ld (%ld over %ld calls at n=%d)\n",
              per(infer.allocs, infer.calls), infer.allocs, infer.calls, o.infer_len);
  return train_allocs == 0 && infer.allocs == 0;
}

}  // namespace

// The speed targets of docs/BENCHMARKS.md, from this run's figures: the training step's
// arithmetic rate against the measured FMA peak, beside the PyTorch ratio.
void print_targets(const Options& o, const TrainBenches& b, const TrainFigures& train, const InferFigures& infer) {
  const double step_flops = training_step_flops(b.one.cfg, o.len);
  const double g_step = step_flops / (train.cpu1 * 1e-3) / 1e9;
  std::printf("\ntargets, from the figures above\n");
  std::printf("  training step, 1 thread: %.3f ms = %.1f GFLOP/s (%.3f GFLOP: the multiply-adds of one forward and "
              "one backward) = %.1f%% of the machine's FMA peak, %.1f%% of the d-row-width peak   [target >= 25%%]\n",
              train.cpu1, g_step, step_flops / 1e9, 100.0 * g_step / infer.peak, 100.0 * g_step / infer.row_peak);
  if (std::isnan(train.torch_cpu1))
    std::printf("  training step against PyTorch eager, 1 thread: not measured in this run   [target >= 40x]\n");
  else
    std::printf("  training step against PyTorch eager, 1 thread: %.1fx (%.1f / %.3f ms, CPU time)   [target >= 40x]\n",
                train.torch_cpu1 / train.cpu1, train.torch_cpu1, train.cpu1);
  std::printf("  inference attention kernel, n=%d: %.1f%% of the machine's FMA peak   [target >= 45%%]\n", o.infer_len,
              100.0 * infer.attention_share);
}

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it is measured, also into a file
  const double t_begin = platform::now_seconds();
  if (!allocation_counter_live()) {
    std::fprintf(stderr, "tinyloop-bench: error: the allocation counter did not see a 'new'\n");
    return 1;
  }
  std::printf("tinyloop-bench: lam2026 (d=%d, %d loops), float32, %s kernels; %d hardware threads; allocation hooks: %s\n",
              kDim, preset_lam2026().model.layers,
#if TINYLOOP_SIMD
              kernels::simd::arch_name(),
#else
              "scalar",
#endif
              platform::hardware_threads(), alloc_counter::hooks());
  TrainBenches benches(o);
  const TrainFigures train = bench_training(o, benches);
  const InferFigures infer = bench_inference(o, benches);
  print_positions(o, train, infer);
  print_targets(o, benches, train, infer);
  print_memory(o, benches);
  const bool no_allocations = print_allocations(o, benches, infer);
  std::printf("\nbench took %.1f s\n", platform::now_seconds() - t_begin);
  if (o.check_allocations && !no_allocations) {
    std::fprintf(stderr, "tinyloop-bench: error: the hot paths allocated\n");
    return 1;
  }
  return 0;
}
