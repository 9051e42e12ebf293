// The retrieval study's entry point: the cell trained with the curriculum on and/or off, in
// parallel on the platform's thread pool (one worker per cell), and its report.
#include <exception>
#include <mutex>

#include "retrieval/retrieval.hpp"
#include "tinyloop/platform/posix.hpp"

namespace tinyloop::study::retrieval {

std::string cell_progress(const std::string& stem, bool curriculum_on) {
  return stem + (curriculum_on ? "-curriculum-on" : "-curriculum-off");
}

Report run(const Options& o) {
  std::vector<CellOptions> cells;
  for (bool on : {true, false})
    if (on ? o.curriculum_on : o.curriculum_off) {
      cells.push_back(o.base);
      cells.back().task.curriculum = on;
      if (!o.progress.empty()) cells.back().progress = cell_progress(o.progress, on);
    }
  std::vector<CellResult> runs(cells.size());
  std::exception_ptr error;
  std::mutex mu;
  platform::ThreadPool pool(int(cells.size()));
  auto one = [&](int i, int) {
    try {
      runs[i] = train_cell(cells[i], o.quiet ? "" : (cells[i].task.curriculum ? "on" : "off"));
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
    }
  };
  parallel_for(pool, int(cells.size()), one);
  if (error) std::rethrow_exception(error);
  return make_report(runs, o.command);
}

}  // namespace tinyloop::study::retrieval
