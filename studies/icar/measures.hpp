#pragma once
// The measures of the ICAR study's part (b) (docs/TASKS.md states them): head overlaps, how
// Toeplitz a matrix is, sinusoid fits and principal components of a position table.
#include <cstddef>
#include <vector>

namespace tinyloop::study::icar {

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

// Principal components of the rows of P (n x d, row-major) after centring each column:
// variance[k] = eigenvalue k of the scatter matrix, descending; scores (n x d, row-major) = the
// centred rows in the eigenvector basis. Each eigenvector's largest entry is made positive.
struct Components {
  std::vector<double> variance, scores;
};
Components principal_components(const double* P, int n, int d);

}  // namespace tinyloop::study::icar
