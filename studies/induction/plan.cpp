// The induction study's groups (the recipe and its twin) and the `tinyloop train` arguments of
// every run.
#include <algorithm>

#include "induction/parts.hpp"

namespace tinyloop::study::induction {

namespace {

// The words of `text`, split at spaces.
void append_words(const std::string& text, std::vector<std::string>& out) {
  std::string w;
  for (char c : text + " ") {
    if (c == ' ') {
      if (!w.empty()) out.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
}

}  // namespace

std::vector<Group> groups_of(const Options& o) {
  std::vector<Group> groups = {{o.recipe, "", false}};
  if (o.twin) groups.push_back({o.recipe + o.twin_suffix, o.twin_flags, true});
  return groups;
}

std::string run_dir(const Options& o, const std::string& group, int seed) {
  return o.out + "/runs/" + group + "/seed" + std::to_string(seed);
}

std::vector<TrainingRun> plan(const Options& o, const std::vector<Group>& groups) {
  std::vector<TrainingRun> runs;
  for (const Group& g : groups)
    for (int k = 0; k < o.seeds; ++k) {
      TrainingRun r;
      r.group = g.name;
      r.seed = o.first_seed + k;
      r.dir = run_dir(o, g.name, r.seed);
      r.args = {"--preset", o.recipe};
      append_words(g.flags, r.args);
      for (const std::string& f : o.extra_flags) append_words(f, r.args);
      r.args.insert(r.args.end(), {"--steps", std::to_string(o.steps), "--seed", std::to_string(r.seed), "--threads",
                                   std::to_string(o.threads), "--eval-samples", std::to_string(o.eval_samples),
                                   "--out", r.dir, "--overwrite"});
      if (k == 0 && o.curve_points > 0) {
        const std::int64_t every = std::max<std::int64_t>(1, o.steps / o.curve_points);
        r.args.insert(r.args.end(), {"--save-every", std::to_string(every), "--keep-checkpoints"});
      } else {
        r.args.insert(r.args.end(), {"--save-every", "0"});
      }
      runs.push_back(r);
    }
  return runs;
}

}  // namespace tinyloop::study::induction
