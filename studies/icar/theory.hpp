#pragma once
// The ICAR study's theory scripts (the authors' code, michaelsdr/ical; docs/TASKS.md notes 3, 4),
// re-derived in double precision with no Model: the reduced losses of Fig. 3 (unitary.py,
// orthogonal.py) with hand gradients, plain gradient descent on them and the comparison with
// the closed-form optimum; and the positional-encoding-only model of Fig. 6 (pe_only.py) trained
// by full-batch gradient descent through each row's Gram matrix, swept over mu.
//
// Reduced model (note 3): s_j = Lambda^j 1 with Lambda = diag(lambda_1..lambda_d), and
//   s_hat_{t+2} = sum_{j <= t+1} P[t, j] sum_h <a_h (.) s_t, s_j> (b_h (.) s_j),  <x, y> = sum conj(x) y,
// a_h, b_h the rows of A, B (H x d), C = B^T A (d x d), one P (T x T) for all heads, the loss
// summed over rows t = 0..T-2 of E |s_hat_{t+2} - s_{t+2}|^2 in closed form. Unitary: d iid
// phases. Orthogonal: d/2 rotations, eigenvalue pairs (e^{i theta_m}, e^{-i theta_m}) at
// components (2m, 2m + 1).
#include <complex>
#include <cstdint>
#include <vector>

#include <xtensor/xtensor.hpp>

namespace tinyloop::study::icar {

using DMatrix = xt::xtensor<double, 2>;  // real matrices and vectors of the theory (double)
using DVector = xt::xtensor<double, 1>;

// ---------------------------------------------------------------- Fig. 3: reduced losses

enum class ReducedCase { unitary, orthogonal };

// Which loss: the authors' (unitary.py's is the expected loss plus sum_t P[t,t]^2 ||C||_F^2;
// orthogonal.py's is the expected loss itself) or the exact expected loss.
enum class LossForm { authors, exact };

struct ReducedSpec {
  ReducedCase kind = ReducedCase::unitary;
  LossForm form = LossForm::authors;
  int d = 10;  // state dimension (even for the orthogonal case)
  int T = 20;  // P is T x T; rows 0..T-2 enter the loss
  int H = 10;  // heads: A, B are H x d
};
ReducedSpec unitary_spec();     // unitary.py: d = 10, T = 20, H = 10
ReducedSpec orthogonal_spec();  // orthogonal.py: d = 10, T = 20, H = 8

struct ReducedParams {
  DMatrix A, B, P;  // H x d, H x d, T x T
};

// C = B^T A (d x d), as both scripts form it.
DMatrix reduced_C(const ReducedParams& x);

// The loss of one row t for C and p = P[t, 0..t+1] (t + 2 entries).
double reduced_row_loss(const ReducedSpec& s, const DMatrix& C, const double* p, int t);

// The total loss, sum over t = 0..T-2; with grad non-null, also its gradient w.r.t. A, B and P
// (analytic; entries of P that never enter the loss get 0).
double reduced_loss(const ReducedSpec& s, const ReducedParams& x, ReducedParams* grad = nullptr);

// The scripts' initialisation: A, B, P drawn in that order, each entry scale * N(0, 1), from
// tinyloop::Rng(seed) (theirs is jax PRNGKey(0), which is not reproduced).
ReducedParams reduced_init(const ReducedSpec& s, std::uint64_t seed, double scale = 0.1);

struct DescentOptions {
  double lr = 0.01;
  std::int64_t iterations = 100;
  std::uint64_t seed = 1;
  double init_scale = 0.1;
  std::int64_t record_every = 0;  // > 0: the loss every that many iterations (before the update)
};
DescentOptions unitary_descent();     // lr 0.01, 100 iterations
DescentOptions orthogonal_descent();  // lr 1e-3, 100000 iterations

struct DescentResult {
  ReducedParams params;
  std::vector<double> losses;  // (iteration, loss) pairs flattened, when record_every > 0
  double final_loss = 0;
  std::int64_t iterations = 0;
  double seconds = 0;
};

// Plain GD (x -= lr * grad on A, B and P together, as the scripts do) from reduced_init.
// Orthogonal case: not every 0.1 N(0, 1) draw reaches the closed form (27 of seeds 1..40 did);
// the others enter a valley where P[t,t] and the norms grow, the 2 x 2 blocks of C tend to
// [[a, -a], [-a, a]] and GD at lr 1e-3 oscillates at a loss near 1.6.
DescentResult reduced_descent(const ReducedSpec& s, const DescentOptions& o);
// The same from a given start.
DescentResult reduced_descent_from(const ReducedSpec& s, const DescentOptions& o, ReducedParams start);

// The trained parameters against the closed-form optimum (c is a free scale, so the scale-free
// products are compared): unitary C = c I, c P[t,t+1] = 1, every other used entry of P 0;
// orthogonal C = c blockdiag(ones(2, 2)), c P[t,t+1] = 1, c P[t,t] = -1/2, the rest 0.
struct ClosedFormComparison {
  double c = 0;                           // mean of diag(C) (unitary) or of the 2 x 2 blocks (orthogonal)
  std::vector<double> c_next, c_same;     // c P[t,t+1] and c P[t,t], t = 0..T-2
  double c_next_min = 0, c_next_max = 0;  // over t
  double c_same_min = 0, c_same_max = 0;
  double c_other_max = 0;     // max |c P[t,j]| over the other used entries, j < t
  double off_max = 0;         // largest |C_kl| off the diagonal (unitary) or the 2 x 2 blocks
  double in_spread = 0;       // largest |C_kl - c| on the diagonal / in the blocks
  DMatrix ABt_over_c;          // A B^T / c (H x H; not finite when c = 0)
  double loss = 0;            // the loss of s at these parameters
};
ClosedFormComparison compare_closed_form(const ReducedSpec& s, const ReducedParams& x);

// The expected loss of the reduced model computed from the model itself (not the closed form),
// by exact quadrature over the phases: a uniform grid of `grid` points per independent phase
// integrates the trigonometric polynomial |s_hat - s|^2 exactly once grid > 4T. Cost
// grid^(phases) model evaluations: for small d only.
double reduced_quadrature_loss(const ReducedSpec& s, const ReducedParams& x, int grid);

// ---------------------------------------------------------------- Fig. 6: PE only (pe_only.py)

// d = 1 complex, s_0 = 1, s_{t+1} = lambda s_t, lambda = e^{i theta / mu}, theta ~ U[0, 2 pi) per
// sequence, states s_0..s_T. Row i = 0..T-2: s_hat_{i+2} = sum_{j <= i+1} P[i,j] conj(s_i) s_j s_j;
// loss = mean over sequences and rows of |s_hat_{i+2} - s_{i+2}|^2. P starts at 0; full-batch
// GD (lr) on a fixed set of sequences, checking the loss before each update; as in the script,
// once the previous iteration's loss is below `tolerance` it stops (so one update is done after
// the first loss below it), or after max_iterations updates.
struct PeOnlyOptions {
  double mu = 50;
  int T = 30;
  int sequences = 1000;
  double lr = 0.5;
  double tolerance = 1e-3;
  std::int64_t max_iterations = 100000;
  std::uint64_t seed = 1;
};

struct PeOnlyData {
  int T = 0;
  xt::xtensor<std::complex<double>, 2> states;  // sequences x (T + 1)
};
PeOnlyData pe_only_data(const PeOnlyOptions& o);  // theta from tinyloop::Rng(o.seed)

// The loss as pe_only.py computes it, from the sequences (the reference for the Gram form).
double pe_only_loss(const PeOnlyData& data, const DMatrix& P);

// The loss as a quadratic form per row: with x_ij = conj(s_i) s_j^2 and y_i = s_{i+2} over the
// sequences, G_i[j,j'] = sum Re(conj(x_ij) x_ij'), r_i[j] = sum Re(conj(x_ij) y_i), yy_i = sum |y_i|^2;
// loss = sum_i (p_i G_i p_i - 2 r_i p_i + yy_i) / count, p_i = P[i, 0..i+1].
struct PeOnlyGram {
  int T = 0;
  double count = 0;  // sequences * (T - 1)
  std::vector<DMatrix> G;
  std::vector<DVector> r;
  std::vector<double> yy;
};
PeOnlyGram pe_only_gram(const PeOnlyData& data);
// The loss and (grad non-null, resized to T x T) its gradient w.r.t. P.
double pe_only_gram_loss(const PeOnlyGram& g, const DMatrix& P, DMatrix* grad = nullptr);

struct PeOnlyResult {
  double mu = 0;
  DMatrix P;             // T x T as trained (row i uses j <= i + 1; row T-1 is unused, 0)
  DMatrix P_plotted;     // P * tril(ones, k = 0): the saved .npy; the figure shows [:-1, :-1]
  DVector last_row;      // P_plotted[T-2, 0..T-2], the script's second figure
  double last_row_sum = 0;          // its sum (the stored runs: 0.53, 0.70, 0.76, 0.82)
  double last_row_sum_with_next = 0;  // plus the superdiagonal P[T-2, T-1]
  std::int64_t iterations = 0;      // updates done
  double stop_loss = 0;             // the loss that stopped it (below tolerance when converged)
  double final_loss = 0;            // the loss at the returned P
  bool converged = false;
  double seconds = 0;
};
PeOnlyResult pe_only_train(const PeOnlyOptions& o);

// One run per mu (each with base's other settings, the same seed: the same theta draws), in order.
std::vector<PeOnlyResult> pe_only_sweep(const PeOnlyOptions& base,
                                        const std::vector<double>& mus = {50, 100, 200, 300});

}  // namespace tinyloop::study::icar
