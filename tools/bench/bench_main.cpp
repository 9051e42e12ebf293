// tinyloop-bench: the figures of SPEC §6, measured in one run on one machine.
//
//   training   lam2026 step (forward, backward, clip, AdamW) at n = 64, batch 32, on 1 thread and
//              on all cores, next to tools/reference/torch_reference.py bench (PyTorch eager,
//              float32) on 1 thread and all cores, run as a subprocess in the same run;
//   inference  n = 1000, 25 loops: ms per sequence, attention GFLOP/s against the single-core FMA
//              peak measured here (tools/bench/fma_peak.cpp);
//   positions  the same training step and inference call with the ALiBi recency bias (SPEC §1.1)
//              in place of the sinusoids, timed interleaved with them: what the bias costs;
//   memory     bytes planned for training and inference, inference working memory beyond the
//              parameters (n = 1000 and n = 100,000), heap allocations per step and per call
//              (counted by tools/alloc_counter; must be 0).
//
// Every timing is the median of --repeats runs, and the runs of the things compared are
// interleaved (tinyloop 1 thread, tinyloop all cores, PyTorch 1 thread, PyTorch all cores, then
// again), so a load change on a shared machine hits both sides of a ratio alike.
#include <time.h>

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

// CPU time of the calling thread: what a single-threaded measurement costs without the time
// spent waiting for a core on a busy machine.
double thread_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string kib(std::size_t bytes) {
  char b[64];
  if (bytes >= (std::size_t(1) << 20)) std::snprintf(b, sizeof b, "%zu B (%.2f MiB)", bytes, bytes / 1048576.0);
  else std::snprintf(b, sizeof b, "%zu B (%.1f KiB)", bytes, bytes / 1024.0);
  return b;
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

  TrainBench(const Options& o, int threads, PositionKind positions = PositionKind::sinusoidal) {
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
    const double t0 = platform::now_seconds(), c0 = thread_seconds();
    for (int i = 0; i < steps; ++i) step();
    const double dt = platform::now_seconds() - t0, dc = thread_seconds() - c0;
    allocations += alloc_counter::allocations() - a0;
    steps_counted += steps;
    *wall_ms = dt * 1000.0 / steps;
    *cpu_ms = dc * 1000.0 / steps;
  }
};

// ---------------------------------------------------------------- PyTorch reference

bool torch_available(const Options& o, std::string* version) {
  std::string cmd = "'" + o.python + "' -c 'import torch; print(torch.__version__)' 2>/dev/null";
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) return false;
  char line[256] = {0};
  bool got = std::fgets(line, sizeof line, p) != nullptr;
  const int rc = pclose(p);
  if (!got || rc != 0) return false;
  *version = line;
  while (!version->empty() && (version->back() == '\n' || version->back() == '\r')) version->pop_back();
  return true;
}

// ms/step (wall) and CPU ms/step (the process's) from `torch_reference.py bench --json`; NAN when
// it fails.
void torch_ms(const Options& o, int threads, int steps, double* wall_ms, double* cpu_ms) {
  *wall_ms = *cpu_ms = NAN;
  char args[256];
  std::snprintf(args, sizeof args, " bench --len %d --batch %d --threads %d --steps %d --warmup %d --json", o.len,
                o.batch, threads, steps, std::max(o.warmup, 2));
  std::string cmd = "'" + o.python + "' '" + o.reference + "'" + args + " 2>&1";
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p) return;
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int rc = pclose(p);
  const std::size_t k = out.find("\"ms_per_step\":");
  if (rc != 0 || k == std::string::npos) {
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
  const double forward = tokens * (double(cfg.model.loops) * per_token_loop + 2.0 * d * cfg.model.vocab_out);
  return 3.0 * forward;
}

// The attention kernel alone, as the inference calls it (25 loops over all query rows, queries in
// pairs on SIMD builds), on random keys, values and queries: ms per sequence.
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
    for (int i = 0; i < n; i += 2) {
      if (i + 1 < n)
        kernels::attention_rows2_online_simd(&q[i * kDim], &q[(i + 1) * kDim], kt.data(), vt.data(), stride, i + 1,
                                             i + 2, &out[i * kDim], &out[(i + 1) * kDim]);
      else
        kernels::attention_row_online_simd(&q[i * kDim], kt.data(), vt.data(), stride, i + 1, &out[i * kDim]);
    }
#else
    // Scalar build: the reference row over n x d keys (kt/vt reused as row-major storage).
    for (int i = 0; i < n; ++i) kernels::attention_row_online(&q[i * kDim], kt.data(), vt.data(), i + 1, &out[i * kDim]);
#endif
  }
};

volatile float g_sink;

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it is measured, also into a file
  const double t_begin = platform::now_seconds();
  {  // the counter must be live, or its zeros prove nothing
    const long a0 = alloc_counter::allocations();
    int* volatile probe = new int(1);
    delete probe;
    if (alloc_counter::allocations() == a0) {
      std::fprintf(stderr, "tinyloop-bench: error: the allocation counter did not see a 'new'\n");
      return 1;
    }
  }
  std::printf("tinyloop-bench: lam2026 (d=%d, %d loops), float32, %s kernels; %d hardware threads; allocation hooks: %s\n",
              kDim, preset_lam2026().model.loops,
#if TINYLOOP_SIMD
              kernels::simd::arch_name(),
#else
              "scalar",
#endif
              platform::hardware_threads(), alloc_counter::hooks());

  // ---- training
  std::printf("\ntraining step, lam2026, n=%d, batch %d (forward, backward, clip, AdamW); median of %d x %d steps\n",
              o.len, o.batch, o.repeats, o.steps);
  TrainBench one(o, 1);
  TrainBench alibi(o, 1, PositionKind::alibi);
  std::unique_ptr<TrainBench> all;
  if (o.threads > 1) all = std::make_unique<TrainBench>(o, o.threads);
  std::string torch_version;
  const bool torch = o.torch && torch_available(o, &torch_version);
  std::vector<double> tl1, tl1c, tlT, pt1, pt1c, ptT, ta1c;
  for (int r = 0; r < o.repeats; ++r) {
    double w, c;
    one.time(o.warmup, o.steps, &w, &c);
    tl1.push_back(w);
    tl1c.push_back(c);
    alibi.time(o.warmup, o.steps, &w, &c);
    ta1c.push_back(c);
    if (all) {
      all->time(o.warmup, o.steps, &w, &c);
      tlT.push_back(w);
    }
    if (torch) {
      torch_ms(o, 1, o.torch_steps, &w, &c);
      pt1.push_back(w);
      pt1c.push_back(c);
      if (o.threads > 1) {
        torch_ms(o, o.threads, std::max(2, o.torch_steps / 2), &w, &c);
        ptT.push_back(w);
      }
    }
  }
  const double m1 = median(tl1), m1c = median(tl1c), mT = all ? median(tlT) : m1;
  std::printf("  (wall: elapsed time; cpu: CPU time of the 1-thread run, which leaves out the waits for a core "
              "on a shared machine)\n");
  std::printf("  tinyloop  1 thread : %8.3f ms/step wall, %8.3f ms/step cpu  (%.0f steps/s by cpu)\n", m1, m1c,
              1000.0 / m1c);
  std::printf("  tinyloop %2d threads: %8.3f ms/step wall  (%.2fx the 1-thread wall rate)\n", o.threads, mT, m1 / mT);
  if (torch) {
    const double p1 = median(pt1), p1c = median(pt1c), pT = o.threads > 1 ? median(ptT) : p1;
    std::printf("  PyTorch   1 thread : %8.3f ms/step wall, %8.3f ms/step cpu  (torch %s eager, %s)\n", p1, p1c,
                torch_version.c_str(), o.python.c_str());
    std::printf("  PyTorch  %2d threads: %8.3f ms/step wall\n", o.threads, pT);
    std::printf("  ratio 1 thread  (PyTorch / tinyloop): %6.1fx by cpu time, %6.1fx by wall time   [target >= 30x]\n",
                p1c / m1c, p1 / m1);
    std::printf("  ratio %d threads (PyTorch / tinyloop): %6.1fx by wall time\n", o.threads, pT / mT);
  } else if (!o.torch) {
    std::printf("  PyTorch reference: skipped (--no-torch or --quick)\n");
  } else {
    std::printf("  PyTorch reference: skipped, no 'import torch' with %s (apt-get install python3-torch)\n",
                o.python.c_str());
  }

  // ---- inference
  const ModelConfig model = preset_lam2026().model;
  const int n = o.infer_len;
  std::vector<unsigned char> ibuf(Inference::plan(model, n).total);
  Inference inf;
  Status s = inf.init(model, n, ibuf.data(), ibuf.size());
  if (!s) fail("inference set-up", s);
  s = inf.load_params(one.trainer.params(), one.trainer.param_count());
  if (!s) fail("inference parameters", s);
  std::vector<std::int32_t> tokens(n), preds(n);
  {
    Rng rng(5, 9);
    induction_sample(rng, 4, tokens.data(), n);
  }
  InferOutputs out;
  out.predictions = preds.data();
  if (!(s = inf.run(tokens.data(), n, out))) fail("inference", s);  // warm-up
  ModelConfig alibi_model = model;
  alibi_model.positions = PositionKind::alibi;
  std::vector<unsigned char> abuf(Inference::plan(alibi_model, n).total);
  Inference inf_alibi;
  if (!(s = inf_alibi.init(alibi_model, n, abuf.data(), abuf.size()))) fail("ALiBi inference set-up", s);
  if (!(s = inf_alibi.load_params(alibi.trainer.params(), alibi.trainer.param_count())))
    fail("ALiBi inference parameters", s);
  if (!(s = inf_alibi.run(tokens.data(), n, out))) fail("ALiBi inference", s);
  AttentionOnly att(n);
  att.loop();
  // Each repeat measures the FMA peaks right before the attention they are compared with, so a
  // load change on a shared machine moves both; percentages are the medians of the repeats'. The
  // machine's peak is the one on its widest registers (AVX-512 where the build targets it); the
  // d-row width (the training kernels' registers) is shown beside it.
  std::vector<double> inf_ms, att_ms, peaks, row_peaks, shares, row_shares, alibi_ms;
  bench::FmaPeak row_peak, wide_peak;
  long inf_allocs = 0, inf_calls = 0;
  const double flops = attention_flops(n, model.loops, model.causal);
  for (int r = 0; r < o.repeats; ++r) {
    const bench::FmaPeak p = bench::measure_fma_peak(o.fma_seconds / o.repeats / 2);
    const bench::FmaPeak w = bench::measure_fma_peak_widest(o.fma_seconds / o.repeats / 2);
    if (p.gflops > row_peak.gflops) row_peak = p;
    if (w.gflops > wide_peak.gflops) wide_peak = w;
    const long a0 = alloc_counter::allocations();
    double t0 = thread_seconds();
    for (int k = 0; k < o.infer_reps; ++k) inf.run(tokens.data(), n, out);
    const double dt = thread_seconds() - t0;
    inf_allocs += alloc_counter::allocations() - a0;  // before push_back, which may allocate
    inf_calls += o.infer_reps;
    inf_ms.push_back(dt * 1000.0 / o.infer_reps);
    const long a1 = alloc_counter::allocations();
    t0 = thread_seconds();
    for (int k = 0; k < o.infer_reps; ++k) inf_alibi.run(tokens.data(), n, out);
    const double alibi_dt = thread_seconds() - t0;
    inf_allocs += alloc_counter::allocations() - a1;  // before push_back, which may allocate
    alibi_ms.push_back(alibi_dt * 1000.0 / o.infer_reps);
    inf_calls += o.infer_reps;
    t0 = thread_seconds();
    for (int k = 0; k < o.infer_reps; ++k)
      for (int t = 0; t < model.loops; ++t) att.loop();
    att_ms.push_back((thread_seconds() - t0) * 1000.0 / o.infer_reps);
    const double machine = std::max(p.gflops, w.gflops);
    peaks.push_back(machine);
    row_peaks.push_back(p.gflops);
    const double g = flops / (att_ms.back() * 1e-3) / 1e9;
    shares.push_back(g / machine);
    row_shares.push_back(g / p.gflops);
  }
  g_sink = att.out[0] + float(preds[n - 1]);
  const double ims = median(inf_ms), ams = median(att_ms);
  const double g_total = flops / (ims * 1e-3) / 1e9, g_att = flops / (ams * 1e-3) / 1e9;
  const double pk = median(peaks), pk_row = median(row_peaks);
#if TINYLOOP_SIMD
  const int att_lanes = kernels::online::kLanes;
#else
  const int att_lanes = 1;
#endif
  std::printf("\ninference, n=%d, %d loops, 1 thread; median of %d x %d calls; CPU time of the thread (the FMA "
              "peaks too)\n", n, model.loops, o.repeats, o.infer_reps);
  if (wide_peak.gflops > 0)
    std::printf("  single-core FMA peak, measured in this run: %.1f GFLOP/s on the widest registers (%s, %d lanes); "
                "%.1f GFLOP/s at the d-row width (%s, %d lanes)\n", pk, wide_peak.arch, wide_peak.lanes, pk_row,
                row_peak.arch, row_peak.lanes);
  else
    std::printf("  single-core FMA peak, measured in this run: %.1f GFLOP/s (%s, %d float lanes, %d independent "
                "chains%s)\n", pk, row_peak.arch, row_peak.lanes, row_peak.chains,
                row_peak.fused ? "" : ", no fused FMA: mul + add");
  std::printf("  time per sequence: %.2f ms (%.1f us per loop)\n", ims, ims * 1000.0 / model.loops);
  std::printf("  attention FLOPs per sequence: %.1f M (causal n(n+1)/2 pairs per loop, QK^T and P.V only, d=%d "
              "multiply-adds each, 2 flops per multiply-add)\n", flops / 1e6, kDim);
  std::printf("  attention kernel alone (%d lanes): %.2f ms/seq, %.1f GFLOP/s = %.1f%% of the machine's FMA peak"
              "   [target >= 40%%]\n", att_lanes, ams, g_att, 100.0 * median(shares));
  if (wide_peak.gflops > 0)
    std::printf("                                  = %.1f%% of the d-row-width peak\n", 100.0 * median(row_shares));
  std::printf("  attention FLOPs over the whole call time: %.1f GFLOP/s = %.1f%% of the machine's FMA peak (the call "
              "also runs LayerNorms, projections and the GELU MLP)\n", g_total, 100.0 * g_total / pk);
  {
    const double step_flops = training_step_flops(one.cfg, o.len);
    const double g_step = step_flops / (m1c * 1e-3) / 1e9;
    std::printf("  training step against the same peaks: %.3f GFLOP per step (multiply-adds of forward and "
                "backward), %.1f GFLOP/s on 1 thread = %.1f%% of the machine's FMA peak, %.1f%% of the "
                "d-row-width peak   [target >= 25%%]\n", step_flops / 1e9, g_step, 100.0 * g_step / pk,
                100.0 * g_step / pk_row);
  }

  // ---- relative positions
  {
    const double step_sin = m1c, step_alibi = median(ta1c), call_sin = ims, call_alibi = median(alibi_ms);
    std::printf("\nrelative positions: the ALiBi recency bias (learned slope, no sinusoids) against the sinusoid model, "
                "1 thread, CPU time, runs interleaved\n");
    std::printf("  training step n=%d batch %d: %8.3f ms ALiBi, %8.3f ms sinusoids: %+.1f%%   [target < +15%%]\n",
                o.len, o.batch, step_alibi, step_sin, 100.0 * (step_alibi / step_sin - 1.0));
    std::printf("  inference n=%d, %d loops  : %8.3f ms ALiBi, %8.3f ms sinusoids: %+.1f%%   [target < +15%%]\n", n,
                model.loops, call_alibi, call_sin, 100.0 * (call_alibi / call_sin - 1.0));
  }

  // ---- memory
  const std::size_t param_bytes = inf.layout().total * sizeof(float);
  auto working = [&](int len) {
    const MemoryPlan p = Inference::plan(model, len);
    return p.total - p.params;
  };
  const MemoryPlan ip = Inference::plan(model, n);
  std::printf("\nmemory (planned up front; one caller buffer, nothing allocated afterwards)\n");
  const MemoryPlan tp1 = Trainer<float>::plan(one.cfg, one.cap);
  std::printf("  training plan, n=%d batch %d, 1 worker : %s (params %zu, grads %zu, AdamW %zu, activations %zu, "
              "scratch %zu; attention %s)\n", o.len, o.batch, kib(tp1.total).c_str(), tp1.params, tp1.grads,
              tp1.optimizer, tp1.activations, tp1.scratch, tp1.recompute_attention ? "recomputed" : "kept");
  if (all) {
    const MemoryPlan tpT = Trainer<float>::plan(all->cfg, all->cap);
    std::printf("  training plan, n=%d batch %d, %d workers: %s\n", o.len, o.batch, o.threads, kib(tpT.total).c_str());
  }
  std::printf("  inference plan, n=%d: %s (parameters %zu B)\n", n, kib(ip.total).c_str(), param_bytes);
  const std::size_t w1000 = working(n);
  std::printf("  inference working memory beyond the parameters, n=%d: %s   [target < 256 KiB: %s]\n", n,
              kib(w1000).c_str(), w1000 < 256 * 1024 ? "met" : "MISSED");
  for (int len : {10000, o.long_len}) {
    const std::size_t w = working(len);
    std::printf("  inference working memory beyond the parameters, n=%d: %s (%.1f B per token)\n", len,
                kib(w).c_str(), double(w) / len);
  }

  // ---- allocations
  const long train_allocs = one.allocations + alibi.allocations + (all ? all->allocations : 0);
  const long train_steps = one.steps_counted + alibi.steps_counted + (all ? all->steps_counted : 0);
  std::printf("\nheap allocations (every malloc/calloc/realloc/operator new counted)\n");
  std::printf("  heap allocations per training step: %ld (%ld over %ld timed steps, 1 and %d threads)\n",
              train_steps ? train_allocs / train_steps + (train_allocs % train_steps ? 1 : 0) : 0, train_allocs,
              train_steps, o.threads);
  std::printf("  heap allocations per inference call: %ld (%ld over %ld calls at n=%d)\n",
              inf_calls ? inf_allocs / inf_calls + (inf_allocs % inf_calls ? 1 : 0) : 0, inf_allocs, inf_calls, n);
  std::printf("\nbench took %.1f s\n", platform::now_seconds() - t_begin);
  if (o.check_allocations && (train_allocs != 0 || inf_allocs != 0)) {
    std::fprintf(stderr, "tinyloop-bench: error: the hot paths allocated\n");
    return 1;
  }
  return 0;
}
