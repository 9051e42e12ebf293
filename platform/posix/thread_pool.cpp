// A fixed thread pool for ParallelFor.
//
// Threads are created once, in the constructor. Each run() is one "generation": the caller
// publishes the job under the mutex and bumps the generation counter; helpers pick the job up,
// and everyone (the caller included, as worker 0) takes task indices from one atomic counter
// until they run out, so each task runs exactly once. run() returns when the tasks it took are
// done and every participating helper has reported back. Nothing here allocates after the
// constructor.
//
// Between generations a helper spins briefly before sleeping on the condition variable, so that
// the many short parallel loops of a training step do not each pay for a kernel wake-up.
#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "tinyloop/platform/posix.hpp"

namespace tinyloop::platform {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ __volatile__("yield");
#endif
}

constexpr double kSpinSeconds = 50e-6;  // how long to spin before sleeping

// Spins until `done()` holds or the spin budget is spent; returns done(). After a first short
// burst it yields the CPU between checks, so that when there are more workers than cores the
// spinning threads do not hold off the ones with work to do.
template <class Pred>
bool spin_until(Pred done) {
  for (int i = 0; i < 64; ++i) {
    if (done()) return true;
    cpu_relax();
  }
  const double deadline = now_seconds() + kSpinSeconds;
  for (;;) {
    sched_yield();
    for (int i = 0; i < 16; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (now_seconds() > deadline) return done();
  }
}

}  // namespace

struct ThreadPool::Impl {
  struct Helper {
    Impl* pool;
    int index;
  };

  int workers = 1;
  std::vector<pthread_t> threads;
  std::vector<Helper> helpers;

  std::mutex run_mutex;  // one run() at a time when several outside threads share the pool
  std::mutex mutex;
  std::condition_variable wake;  // helpers: a new generation or stop
  std::condition_variable done;  // caller: all participating helpers finished
  std::atomic<std::uint64_t> generation{0};
  std::atomic<bool> stop{false};

  // The current job; written under `mutex` before `generation` changes.
  TaskFn fn = nullptr;
  void* ctx = nullptr;
  int tasks = 0;
  int participants = 0;  // workers 0 .. participants-1 take part
  std::atomic<int> next{0};
  std::atomic<int> pending{0};  // participating helpers not yet finished

  static void* helper_main(void* arg);
};

namespace {
// Which pool (and which worker of it) the current thread is working for, so that a run() issued
// from inside a task runs inline instead of deadlocking.
thread_local ThreadPool::Impl* tl_pool = nullptr;
thread_local int tl_worker = 0;
}  // namespace

void* ThreadPool::Impl::helper_main(void* arg) {
  const Helper* self = static_cast<const Helper*>(arg);
  Impl* p = self->pool;
  const int index = self->index;
  tl_pool = p;
  tl_worker = index;
  std::uint64_t seen = 0;
  for (;;) {
    spin_until([&] {
      return p->generation.load(std::memory_order_acquire) != seen || p->stop.load(std::memory_order_acquire);
    });
    TaskFn fn;
    void* ctx;
    int tasks;
    {
      std::unique_lock<std::mutex> lock(p->mutex);
      p->wake.wait(lock, [&] {
        return p->stop.load(std::memory_order_relaxed) || p->generation.load(std::memory_order_relaxed) != seen;
      });
      if (p->stop.load(std::memory_order_relaxed)) return nullptr;
      seen = p->generation.load(std::memory_order_relaxed);
      if (index >= p->participants) continue;  // not needed this time
      fn = p->fn;
      ctx = p->ctx;
      tasks = p->tasks;
    }
    for (int t = p->next.fetch_add(1, std::memory_order_relaxed); t < tasks;
         t = p->next.fetch_add(1, std::memory_order_relaxed)) {
      fn(ctx, t, index);
    }
    if (p->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(p->mutex);
      p->done.notify_one();
    }
  }
}

ThreadPool::ThreadPool(int workers) : impl_(new Impl) {
  if (workers <= 0) workers = hardware_threads();  // 0 or less: one worker per available CPU
  impl_->threads.reserve(static_cast<std::size_t>(workers));
  impl_->helpers.resize(static_cast<std::size_t>(workers));  // stable addresses for the helpers
  impl_->workers = 1;
  if (workers == 1) return;

  // Helpers start with every signal blocked, so that SIGINT/SIGTERM reach the main thread.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  for (int i = 1; i < workers; ++i) {
    Impl::Helper& h = impl_->helpers[static_cast<std::size_t>(i)];
    h.pool = impl_;
    h.index = i;
    pthread_t thread;
    if (pthread_create(&thread, nullptr, &Impl::helper_main, &h) != 0) break;  // keep what we got
    impl_->threads.push_back(thread);
    impl_->workers = i + 1;
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stop.store(true, std::memory_order_release);
  }
  impl_->wake.notify_all();
  for (pthread_t t : impl_->threads) pthread_join(t, nullptr);
  delete impl_;
}

int ThreadPool::workers() const { return impl_->workers; }

void ThreadPool::run(int tasks, TaskFn fn, void* ctx) {
  if (tasks <= 0) return;
  Impl* p = impl_;
  if (tl_pool == p) {  // called from inside one of this pool's tasks: run inline on this worker
    for (int t = 0; t < tasks; ++t) fn(ctx, t, tl_worker);
    return;
  }
  if (p->workers == 1 || tasks == 1) {
    for (int t = 0; t < tasks; ++t) fn(ctx, t, 0);
    return;
  }

  std::lock_guard<std::mutex> serial(p->run_mutex);
  Impl* const outer_pool = tl_pool;
  const int outer_worker = tl_worker;
  tl_pool = p;
  tl_worker = 0;

  const int participants = tasks < p->workers ? tasks : p->workers;
  {
    std::lock_guard<std::mutex> lock(p->mutex);
    p->fn = fn;
    p->ctx = ctx;
    p->tasks = tasks;
    p->participants = participants;
    p->next.store(0, std::memory_order_relaxed);
    p->pending.store(participants - 1, std::memory_order_relaxed);
    p->generation.fetch_add(1, std::memory_order_release);
  }
  p->wake.notify_all();

  for (int t = p->next.fetch_add(1, std::memory_order_relaxed); t < tasks;
       t = p->next.fetch_add(1, std::memory_order_relaxed)) {
    fn(ctx, t, 0);
  }

  if (!spin_until([&] { return p->pending.load(std::memory_order_acquire) == 0; })) {
    std::unique_lock<std::mutex> lock(p->mutex);
    p->done.wait(lock, [&] { return p->pending.load(std::memory_order_acquire) == 0; });
  }

  tl_pool = outer_pool;
  tl_worker = outer_worker;
}

}  // namespace tinyloop::platform
