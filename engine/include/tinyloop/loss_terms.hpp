#pragma once
// The objective of one batch, term by term (SPEC §2): what a training step reports.

namespace tinyloop {

struct LossTerms {
  double ce = 0;         // mean cross-entropy (or squared error) over the counted positions
  double kinetic = 0;    // K
  double potential = 0;  // U
  double tsallis = 0;    // mean Tsallis entropy of the attention rows (before |. - eta|)
  double eta = 0;        // the entropy target at this step (LossConfig::eta unless scheduled)
  double entropy = 0;    // Ent = |tsallis - eta|
  double total = 0;      // CE + lambda_P U + lambda_K K + lambda_S Ent
};

}  // namespace tinyloop
