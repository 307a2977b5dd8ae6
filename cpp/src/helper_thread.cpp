#include <dualnet/helper_thread.hpp>

#include <utility>

namespace dualnet {

HelperThread::HelperThread() : thread_([this] { loop(); }) {}

HelperThread::~HelperThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void HelperThread::post(void (*job)(void*), void* context) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = job;
    context_ = context;
    pending_ = true;
  }
  wake_.notify_one();
}

std::exception_ptr HelperThread::wait() {
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return !pending_; });
  return std::exchange(error_, nullptr);
}

void HelperThread::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return pending_ || stop_; });
    if (!pending_) return;  // stop_ with no job left
    void (*job)(void*) = job_;
    void* context = context_;
    lock.unlock();
    std::exception_ptr error;
    try {
      job(context);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    error_ = error;
    pending_ = false;
    done_.notify_one();
  }
}

}  // namespace dualnet
