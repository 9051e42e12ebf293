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

// The cross-entropy-only twin's flags: all three lambdas 0.
inline const char* ce_only_flags() { return "--lambda-p 0 --lambda-k 0 --lambda-s 0"; }

}  // namespace tinyloop::cli
