#pragma once
// The engine's only view of threads: something that runs `tasks` independent tasks and
// returns when all are done. The platform layer provides a pool; the default is serial.

namespace tinyloop {

using TaskFn = void (*)(void* ctx, int task, int worker);

class ParallelFor {
 public:
  virtual ~ParallelFor() = default;
  virtual int workers() const = 0;
  // Runs fn(ctx, task, worker) for task in [0, tasks); worker is in [0, workers()).
  virtual void run(int tasks, TaskFn fn, void* ctx) = 0;
};

class SerialFor final : public ParallelFor {
 public:
  int workers() const override { return 1; }
  void run(int tasks, TaskFn fn, void* ctx) override {
    for (int t = 0; t < tasks; ++t) fn(ctx, t, 0);
  }
};

// Runs fn(task, worker) for task in [0, tasks) on `pool`: the typed face of ParallelFor::run, so
// the per-task code stays at the call site (a lambda). Nothing is allocated: fn is passed by
// address through the pool's void* context.
template <class Fn>
void parallel_for(ParallelFor& pool, int tasks, Fn& fn) {
  pool.run(tasks, [](void* ctx, int task, int worker) { (*static_cast<Fn*>(ctx))(task, worker); }, &fn);
}

}  // namespace tinyloop
