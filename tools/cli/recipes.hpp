#pragma once
// Named training recipes (`train --preset NAME`, `reproduce --recipe NAME`).
#include <string>
#include <vector>

#include "tinyloop/config.hpp"

namespace tinyloop::cli {

struct Recipe {
  const char* name;
  const char* summary;  // one line: where it comes from
  TrainConfig (*make)();
};

const std::vector<Recipe>& recipes();
std::vector<std::string> recipe_names();
// nullptr when unknown.
const Recipe* find_recipe(const std::string& name);
// What `train` and `reproduce` use without --preset / --recipe.
const char* default_recipe();

// The cross-entropy-only twin's flags: all three lambdas 0.
inline const char* ce_only_flags() { return "--lambda-p 0 --lambda-k 0 --lambda-s 0"; }
// The paper's energy-entropy weights (SPEC §2), the twin of a recipe that trains on CE alone.
inline const char* energy_entropy_flags() { return "--lambda-p 0.1 --lambda-k 0.001 --lambda-s 0.02"; }

// The comparison run beside a recipe: its CE-only twin, or, for a recipe that already trains on
// cross-entropy alone, the same recipe with the paper's energy-entropy terms.
struct Twin {
  std::string suffix;  // "-ce" or "-ee"
  std::string flags;
  std::string description;
};
Twin twin_of(const TrainConfig& recipe);

}  // namespace tinyloop::cli
