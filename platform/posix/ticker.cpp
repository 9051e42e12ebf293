// Ticker: a callback on a thread of its own at a fixed interval, stopped and joined by the
// destructor.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "tinyloop/platform/posix.hpp"

namespace tinyloop::platform {

struct Ticker::Impl {
  std::mutex mu;
  std::condition_variable wake;
  bool stop = false;
  std::thread thread;

  void loop(double delay, double interval, const std::function<void()>& tick) {
    std::unique_lock<std::mutex> lock(mu);
    wake.wait_for(lock, std::chrono::duration<double>(delay), [this] { return stop; });
    while (!stop) {
      lock.unlock();
      tick();
      lock.lock();
      wake.wait_for(lock, std::chrono::duration<double>(interval), [this] { return stop; });
    }
  }
};

Ticker::Ticker(double delay, double interval, std::function<void()> tick) : impl_(new Impl) {
  impl_->thread = std::thread([this, delay, interval, tick = std::move(tick)] { impl_->loop(delay, interval, tick); });
}

Ticker::~Ticker() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->wake.notify_all();
  impl_->thread.join();
  delete impl_;
}

}  // namespace tinyloop::platform
