#pragma once
// In-context autoregressive learning (SPEC §4.3, arXiv 2402.05787): sequences s_1..s_n in R^p
// with s_{t+1} = W s_t, W orthogonal. Commuting setting: W = Q diag(R(theta_1), ..,
// R(theta_{p/2})) Q^T with Q fixed for the task and theta uniform in [0, 2 pi) per sequence;
// non-commuting: Q drawn per sequence too. s_1 uniform on the unit sphere.
//
// Positions are 0-based here: position i holds the augmented token e_i = (s_i, s_{i-1}) (s_{-1}
// = 0) and is asked for s_{i+1}. SPEC's loss positions t = 2..n-1 (1-based) are i = 1..n-2.
// The reference predictor is one gradient-descent step from W_0 = 0 on
// (1/2) sum_{i<t} ||s_{i+1} - W s_i||^2: s_hat_{t+1} = eta sum_{i<t} s_{i+1} s_i^T s_t.
#include <cstddef>
#include <cstdint>

#include "tinyloop/rng.hpp"
#include "tinyloop/status.hpp"

namespace tinyloop::icar {

constexpr int kMaxP = 16;

enum class Setting : std::uint8_t { commuting = 0, noncommuting = 1 };

struct IcarTask {
  int p = 4;
  int n = 50;
  Setting setting = Setting::commuting;
  // s_1 = (1, .., 1) / sqrt(p) for every sequence instead of uniform on the sphere (tinyloop's
  // variant for the plain-token model: with a random s_1 a one-layer linear model on plain tokens
  // cannot beat the zero predictor, see docs/TASKS.md).
  bool fixed_start = false;
  double Q[kMaxP * kMaxP] = {};  // the task's fixed orthogonal matrix (commuting setting)
};

Status validate(const IcarTask& t);

// Haar-distributed orthogonal p x p matrix (Gram-Schmidt of a Gaussian matrix), row-major.
void random_orthogonal(Rng& rng, int p, double* Q);

// Draws the task's Q.
void init_task(IcarTask* task, Rng& rng);

// The transition W of one sequence (row-major p x p).
void draw_transition(const IcarTask& task, Rng& rng, double* W);

// B sequences. Any output may be null: states (B x n x p), inputs (B x n x 2p augmented tokens),
// targets (B x n x p: s_{i+1}, zero at the last position), mask (B x n: 1 on i = 1..n-2).
template <class T>
void icar_batch(const IcarTask& task, Rng& rng, int B, T* states, T* inputs, T* targets, std::uint8_t* mask);

// The one-step gradient-descent direction at position t of one sequence (states n x p):
// g = sum_{i=0}^{t-1} s_{i+1} (s_i . s_t); the prediction is eta * g.
template <class T>
void gd_direction(const T* states, int p, int t, T* out);

// Measures of the ICAR study's part (b) (docs/TASKS.md states them).
//
// Frobenius cosine <A, B>_F / (||A||_F ||B||_F) of two arrays of `count` entries (0 when either is 0).
double frobenius_cosine(const double* a, const double* b, std::size_t count);

// Pairwise Frobenius cosines of H matrices stored one after another (`count` entries each):
// out (H x H, may be null) gets every cosine; returns the mean |cosine| over the pairs h < g
// (0 for H < 2). *max_abs (may be null) gets the largest |cosine| over those pairs.
double pairwise_cosines(const double* mats, int H, std::size_t count, double* out, double* max_abs);

// How far an n x n matrix G (row-major) depends on i - j only: 1 - sum (G_ij - m(i-j))^2 /
// sum (G_ij - mean)^2, with m(k) the mean of G over the diagonal i - j = k. Only j <= i is used
// when `lower`. 1 for a Toeplitz matrix (and for a constant one).
double toeplitz_r2(const double* G, int n, bool lower);

// Best single sinusoid a cos(w i) + b sin(w i) + c for x_0..x_{n-1} (entries `stride` apart), w in
// [pi / n, pi] (a grid of 4096, then golden-section refinement): R^2 = 1 - SSR / SST (1 when x is
// constant), and the frequency w.
struct SineFit {
  double r2 = 0, omega = 0, amplitude = 0;
};
SineFit fit_sinusoid(const double* x, int n, int stride);

// The variance-weighted mean over the d columns of P (n x d, row-major: row = position) of
// fit_sinusoid's R^2. per_column (d x 2, may be null) gets (r2, omega) of each column.
double sinusoid_r2(const double* P, int n, int d, double* per_column);

}  // namespace tinyloop::icar
