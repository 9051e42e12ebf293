// The xsimd streaming attention row of inference (kernels/attention_online_simd.hpp) against
// the scalar online row (kernels/attention.hpp) and a double-precision softmax, for lengths
// that are and are not whole registers and blocks, causal and not, on score ranges that make
// the running max move often (rescaling) or never.
#include <doctest/doctest.h>

#if !TINYLOOP_SIMD
#error "test_online_attention tests the xsimd kernels: tests/CMakeLists.txt registers it as skipped when TINYLOOP_SIMD=OFF"
#endif

#include <cmath>
#include <vector>

#include "kernels/attention.hpp"
#include "kernels/attention_online_simd.hpp"
#include "tinyloop/rng.hpp"

using namespace tinyloop;
using namespace tinyloop::kernels;

namespace {

enum class Scores { random, rising, falling, flat };

struct Problem {
  int n, stride;
  std::vector<float> Q, K, V;  // n x d
  std::vector<float> kt, vt;   // d x stride, padding columns filled with finite junk
};

Problem make_problem(int n, Scores kind, double scale, std::uint64_t seed) {
  Problem p;
  p.n = n;
  p.stride = online::padded(n);
  Rng rng(seed, 3);
  p.Q.resize(std::size_t(n) * kDim);
  p.K.resize(std::size_t(n) * kDim);
  p.V.resize(std::size_t(n) * kDim);
  for (auto& x : p.Q) x = float(scale * normal(rng));
  for (auto& x : p.V) x = float(normal(rng));
  for (int j = 0; j < n; ++j)
    for (int c = 0; c < kDim; ++c) {
      float k = float(scale * normal(rng));
      // rising / falling: keys grow (shrink) along the sequence in the direction of every
      // query's first feature, so the row max moves at almost every block (or never).
      if (kind == Scores::rising) k = c == 0 ? float(0.05 * j) : 0.1f * k;
      if (kind == Scores::falling) k = c == 0 ? float(-0.05 * j) : 0.1f * k;
      if (kind == Scores::flat) k = 0.0f;
      p.K[std::size_t(j) * kDim + c] = k;
    }
  if (kind == Scores::rising || kind == Scores::falling)
    for (int i = 0; i < n; ++i) p.Q[std::size_t(i) * kDim] = std::fabs(p.Q[std::size_t(i) * kDim]) + 1.0f;
  p.kt.assign(std::size_t(kDim) * p.stride, 0.0f);
  p.vt.assign(std::size_t(kDim) * p.stride, 0.0f);
  for (int c = 0; c < kDim; ++c)
    for (int j = 0; j < p.stride; ++j) {
      const bool pad = j >= n;
      p.kt[std::size_t(c) * p.stride + j] = pad ? 1000.0f : p.K[std::size_t(j) * kDim + c];
      p.vt[std::size_t(c) * p.stride + j] = pad ? -1000.0f : p.V[std::size_t(j) * kDim + c];
    }
  return p;
}

// softmax(q K^T / sqrt d - slope |i - j|) V over keys 0..count-1, in double.
void reference_row(const Problem& p, int i, int count, double* out, double slope) {
  const double scale = 1.0 / std::sqrt(double(kDim));
  std::vector<double> s(count);
  double m = -INFINITY;
  for (int j = 0; j < count; ++j) {
    double d = 0;
    for (int c = 0; c < kDim; ++c) d += double(p.Q[std::size_t(i) * kDim + c]) * p.K[std::size_t(j) * kDim + c];
    s[j] = d * scale - slope * std::fabs(double(i - j));
    m = std::fmax(m, s[j]);
  }
  double sum = 0;
  for (int c = 0; c < kDim; ++c) out[c] = 0;
  for (int j = 0; j < count; ++j) {
    const double e = std::exp(s[j] - m);
    sum += e;
    for (int c = 0; c < kDim; ++c) out[c] += e * p.V[std::size_t(j) * kDim + c];
  }
  for (int c = 0; c < kDim; ++c) out[c] /= sum;
}

void compare(int n, bool causal, Scores kind, double scale, float slope = 0.0f) {
  CAPTURE(slope);
  CAPTURE(n);
  CAPTURE(causal);
  CAPTURE(int(kind));
  CAPTURE(scale);
  const Problem p = make_problem(n, kind, scale, std::uint64_t(n) * 7 + (causal ? 1 : 0) + 100 * int(kind));
  // Every query for short rows; a spread of queries (first, last, ragged and whole-block
  // counts) for long ones, so the test stays quick.
  std::vector<int> queries;
  if (n <= 128) {
    for (int i = 0; i < n; ++i) queries.push_back(i);
  } else {
    for (int i : {0, 1, 6, 7, 8, 30, 31, 32, 33, 63, 64, 65, 99, 500, 511, 512, n - 2, n - 1})
      if (i < n) queries.push_back(i);
  }
  double worst_scalar = 0, worst_ref = 0, worst_group = 0;
  for (int i : queries) {
    const int count = causal ? i + 1 : n;
    float simd_out[kDim], scalar_out[kDim];
    double ref[kDim];
    attention_row_online_simd(p.Q.data() + std::size_t(i) * kDim, p.kt.data(), p.vt.data(), p.stride, count,
                              simd_out, i, slope);
    attention_row_online(p.Q.data() + std::size_t(i) * kDim, p.K.data(), p.V.data(), count, scalar_out, i, slope);
    reference_row(p, i, count, ref, slope);
    if (i + 3 < n) {  // groups of 2, 3 and 4 rows give the rows a single row gives
      float group[4][kDim], single[4][kDim];
      const float* q[4];
      float* out[4];
      int counts[4], rows[4];
      for (int r = 0; r < 4; ++r) {
        q[r] = p.Q.data() + std::size_t(i + r) * kDim;
        out[r] = group[r];
        counts[r] = causal ? i + r + 1 : n;
        rows[r] = i + r;
        attention_row_online_simd(q[r], p.kt.data(), p.vt.data(), p.stride, counts[r], single[r], i + r, slope);
      }
      auto compare = [&](int size) {
        for (int r = 0; r < size; ++r)
          for (int c = 0; c < kDim; ++c)
            worst_group = std::fmax(worst_group, std::fabs(double(group[r][c]) - single[r][c]));
      };
      attention_rows_online_simd<2>(q, p.kt.data(), p.vt.data(), p.stride, counts, out, rows, slope);
      compare(2);
      attention_rows_online_simd<3>(q, p.kt.data(), p.vt.data(), p.stride, counts, out, rows, slope);
      compare(3);
      attention_rows_online_simd<4>(q, p.kt.data(), p.vt.data(), p.stride, counts, out, rows, slope);
      compare(4);
    }
    for (int c = 0; c < kDim; ++c) {
      REQUIRE(std::isfinite(simd_out[c]));
      worst_scalar = std::fmax(worst_scalar, std::fabs(double(simd_out[c]) - scalar_out[c]));
      worst_ref = std::fmax(worst_ref, std::fabs(double(simd_out[c]) - ref[c]));
    }
  }
  // Outputs are convex combinations of V (|V| of order 1-4); float rounding over up to 1000 keys.
  CHECK(worst_scalar < 2e-5);
  CHECK(worst_ref < 2e-5);
  // Under a causal recency bias a group measures key distances from its first row (one bias
  // register for all its queries, BiasForm::kLinear), so its rows round differently from single
  // rows: measured 2.5e-6 at n = 1000, scores of scale 3.
  CHECK(worst_group < (slope != 0.0f ? 5e-6 : 2e-6));
}

}  // namespace

TEST_CASE("SIMD online attention row matches the scalar online row") {
  CAPTURE(simd::arch_name());
  for (int n : {1, 7, 8, 100, 1000})
    for (bool causal : {true, false}) {
      compare(n, causal, Scores::random, 1.0);
      compare(n, causal, Scores::random, 3.0);  // peaked rows: scores spread over tens of units
      compare(n, causal, Scores::rising, 1.0);  // the max moves up block after block
      compare(n, causal, Scores::falling, 1.0);
      compare(n, causal, Scores::flat, 1.0);    // uniform rows
    }
  for (int n : {31, 32, 33, 40, 41, 64, 65}) compare(n, true, Scores::random, 2.0);  // block edges
}

TEST_CASE("SIMD online attention row with the ALiBi recency bias matches the scalar row and the reference") {
  // Slopes from barely there to one that leaves only the last few keys; n = 1000 and 3000 rows
  // are processed nearest-first, so the running max is set by the diagonal block.
  for (float slope : {0.01f, 0.3f, 2.0f})
    for (int n : {1, 7, 33, 100, 1000, 3000})
      for (bool causal : {true, false}) {
        compare(n, causal, Scores::random, 1.0, slope);
        compare(n, causal, Scores::random, 3.0, slope);
        compare(n, causal, Scores::falling, 1.0, slope);
        compare(n, causal, Scores::flat, 1.0, slope);
      }
}

TEST_CASE("bounded power of two of the online kernel is accurate on its range") {
  double worst = 0;
  for (double x = online::kExpFloor; x <= 14.0; x += 0.01) {
    alignas(64) float in[online::kLanes], out[online::kLanes];
    for (int l = 0; l < online::kLanes; ++l) in[l] = float(x + 0.001 * l);
    online::exp2_bounded(online::fbatch::load_aligned(in)).store_aligned(out);
    for (int l = 0; l < online::kLanes; ++l) {
      const double want = std::exp2(double(in[l]));
      worst = std::fmax(worst, std::fabs(out[l] - want) / want);
    }
  }
  CHECK(worst < 4e-7);
  alignas(64) float low[online::kLanes];
  online::exp2_bounded(online::fbatch(-1e30f)).store_aligned(low);
  CHECK(low[0] == std::ldexp(1.0f, int(online::kExpFloor)));  // the floor: positive, normal, tiny
  CHECK(low[0] < 1e-18f);
}

TEST_CASE("SIMD online attention groups whose counts spread over several blocks match the reference per row") {
  // The group's blocks follow its shortest and longest rows: with counts this far apart, the
  // registers past the shortest row's last whole block run as several masked blocks.
  const Problem p = make_problem(1000, Scores::random, 2.0, 77);
  const int counts[4] = {3, 70, 331, 1000};
  for (float slope : {0.0f, 0.3f})
    for (bool causal_rows : {true, false}) {
      CAPTURE(slope);
      CAPTURE(causal_rows);
      int rows[4];
      const float* q[4];
      float group[4][kDim];
      float* out[4];
      for (int r = 0; r < 4; ++r) {
        rows[r] = causal_rows ? counts[r] - 1 : 500;  // 500: keys on both sides of the query
        q[r] = p.Q.data() + std::size_t(rows[r]) * kDim;
        out[r] = group[r];
      }
      attention_rows_online_simd<4>(q, p.kt.data(), p.vt.data(), p.stride, counts, out, rows, slope);
      for (int r = 0; r < 4; ++r) {
        double ref[kDim];
        reference_row(p, rows[r], counts[r], ref, slope);
        for (int c = 0; c < kDim; ++c) CHECK(std::fabs(group[r][c] - ref[c]) < 2e-5);
      }
    }
}
