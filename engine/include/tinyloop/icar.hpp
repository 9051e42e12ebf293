#pragma once
// In-context autoregressive learning (SPEC §4.3, arXiv 2402.05787): sequences s_1..s_n in R^p
// with s_{t+1} = W s_t, W orthogonal. Commuting setting: W = Q diag(R(theta_1), ..,
// R(theta_{p/2})) Q^T with Q fixed for the task and theta uniform in [0, 2 pi) per sequence;
// non-commuting: Q drawn per sequence too. Haar (the ICAR authors' runs): W itself Haar-random
// on O(p) per sequence (reflections included; p may be odd). s_1 uniform on the unit sphere.
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

enum class Setting : std::uint8_t { commuting = 0, noncommuting = 1, haar = 2 };

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

}  // namespace tinyloop::icar
