#pragma once
// The authors' runs (docs/TASKS.md notes 1 and 2), shared by part (e), their augmented model
// (Fig. 5), and part (f), their non-augmented one (Fig. 7): their data (d-dimensional states from
// the fixed s_0 = (1, ..., 1)/sqrt(d), W Haar on O(d) per sequence), their optimiser (Adam as
// torch's) and their loop (a fixed training set walked in shuffled epochs), and the loss-per-position
// measures both parts report.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "icar/parts.hpp"

namespace tinyloop::study::icar {

// How a state becomes a token: augmented (0_d, s_t, s_{t-1}), 3d wide (their augmented.py), or
// tiled (s_t, s_t), 2d wide (their non_augmented.py, embed_extension 2).
enum class AuthorsTokens { augmented, tiled };
int token_width(AuthorsTokens kind, int d);

// Sequences of the authors' data: tokens (count x n x width) for t = 0..n-1, targets s_{t+1}
// (count x n x d), states (count x (n + 1) x d).
struct Dataset {
  AuthorsTokens kind = AuthorsTokens::augmented;
  int count = 0, n = 0, d = 0, width = 0;
  std::vector<float> tokens, targets, states;
};
Dataset make_dataset(AuthorsTokens kind, int d, int n, int count, Rng& rng);

// How a model is trained: Adam as torch.optim.Adam (no weight decay, no clipping, a constant
// rate), batch sequences per step, epochs over the training set; its name in progress notes.
struct AuthorsTraining {
  int batch = 1024;
  int epochs = 200;
  float lr = 0.01f;
  std::string name;
};

// One trained model: its test MSE per position t = 0..n-1 (mean over sequences and
// components), the fitted rate b of a t^-b over t = 2..n-1, and the training's time and last loss.
struct AuthorsRun {
  std::uint64_t seed = 0;
  std::vector<double> model;
  double rate = 0;
  double seconds = 0;
  double final_train_loss = 0;
};

// Trains `spec` from Rng(seed, 0xa0) on `train` (shuffled by Rng(seed, 0xa1)) and measures it on
// `test`; `inspect` then sees the trained model (the parts read their learned maps there).
AuthorsRun train_authors_model(const ModelSpec& spec, const Dataset& train, const Dataset& test,
                               const AuthorsTraining& how, std::uint64_t seed, const Options& o,
                               const std::function<void(const Model<float>&)>& inspect);

// b of curve(t) ~ a t^-b, least squares in log-log over t = 2..n-1.
double fitted_rate(const std::vector<double>& curve);
// The zero predictor's MSE per position on `test`.
std::vector<double> zero_curve(const Dataset& test);
// Mean over t = 1..n-1 (t = 0 predicts s_1 from s_0 alone: no model does better than zero there).
double mean_from_1(const std::vector<double>& c);

// A named per-position curve for the charts and tables of the authors' parts.
struct NamedCurve {
  std::string label;
  const std::vector<double>* curve;
  bool reference;  // not a trained model: dashed in the chart
  bool rate;       // its fitted rate has a cell in the table
};
std::string loss_chart(const std::string& title, const std::vector<NamedCurve>& curves);
std::string loss_csv(const std::vector<std::pair<std::string, const std::vector<double>*>>& columns);
// | t | one column per curve | at t = 0, 1, 2, 3, 5, 10, 20, 30, 40, n - 1, then the mean over
// t = 1..n-1 and the fitted rates.
void loss_table(std::string& md, const std::vector<NamedCurve>& curves);

}  // namespace tinyloop::study::icar
