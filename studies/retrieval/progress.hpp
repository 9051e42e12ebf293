#pragma once
// A cell's progress, kept at every evaluation so that a run stopped part way (a killed job, a
// time limit) continues from its last evaluation with the result an unstopped run gives: the
// model, its AdamW state and the data generator as a checkpoint (STEM.tlc), the curve so far and
// the seconds spent as a CSV (STEM.csv).
#include <cstdint>
#include <string>
#include <vector>

#include "retrieval/retrieval.hpp"
#include "tinyloop/model.hpp"
#include "tinyloop/rng.hpp"

namespace tinyloop::study::retrieval {

// Writes both files, each atomically, the curve first: a run stopped between the two leaves a
// curve one evaluation ahead of its checkpoint, which load_progress cuts back. A failure is a
// warning on stderr; the run goes on.
void save_progress(const std::string& stem, const std::string& checkpoint, const std::vector<EvalPoint>& curve,
                   double seconds);

// Where the cell stood, from STEM.tlc and STEM.csv: false when there are none. Otherwise loads
// the weights, AdamW state and step into `m` (planned for the cell) and the generator into
// `data`, and returns the curve up to the checkpoint's step and the seconds so far. A damaged
// file, or one of another cell (its model, steps, seed or batch differ, or its curve does not
// reach its step), is a Failure naming it.
bool load_progress(const std::string& stem, const CellOptions& o, Model<float>& m, Rng* data,
                   std::vector<EvalPoint>* curve, double* seconds);

// Removes both files (once the cell's result is saved elsewhere).
void remove_progress(const std::string& stem);

}  // namespace tinyloop::study::retrieval
