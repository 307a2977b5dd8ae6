// One worker thread for two-way splits of short jobs: the halves of a sweep's block update take
// about a tenth of a millisecond each at 10^5 rows, where starting a std::thread per job costs
// tens of microseconds. The thread is started once, woken per job through a condition variable
// and joined by the destructor.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <type_traits>

namespace dualnet {

class HelperThread {
 public:
  // Throws std::system_error if the system refuses the thread.
  HelperThread();
  ~HelperThread();
  HelperThread(const HelperThread&) = delete;
  HelperThread& operator=(const HelperThread&) = delete;

  // Runs theirs() on the helper thread and mine() on the calling one; returns once both have
  // finished, rethrowing the first exception of either (mine's first).
  template <class Mine, class Theirs>
  void run(Mine&& mine, Theirs&& theirs) {
    post(&call<std::remove_reference_t<Theirs>>, &theirs);
    std::exception_ptr error;
    try {
      mine();
    } catch (...) {
      error = std::current_exception();
    }
    const std::exception_ptr helper_error = wait();
    if (error) std::rethrow_exception(error);
    if (helper_error) std::rethrow_exception(helper_error);
  }

 private:
  template <class F>
  static void call(void* f) {
    (*static_cast<F*>(f))();
  }
  void post(void (*job)(void*), void* context);
  std::exception_ptr wait();
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  void (*job_)(void*) = nullptr;
  void* context_ = nullptr;
  bool pending_ = false, stop_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // declared last: it starts after the members it reads exist
};

}  // namespace dualnet
