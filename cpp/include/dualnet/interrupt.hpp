// Cooperative cancellation for long loops. The core knows nothing of Python: the binding passes
// a callable that reports whether the user asked to stop (Ctrl-C), and long loops call
// InterruptCheck::poll(), which asks it at most every `interval` seconds so polling stays cheap.
#pragma once

#include <chrono>
#include <exception>
#include <functional>

namespace dualnet {

// Thrown by poll() when the caller asked to stop; the binding turns it into KeyboardInterrupt.
struct Interrupted : std::exception {
  const char* what() const noexcept override { return "interrupted"; }
};

// Returns true when the work should stop. Must be safe to call from the working thread.
using StopRequested = std::function<bool()>;

class InterruptCheck {
 public:
  explicit InterruptCheck(StopRequested stop_requested = {}, double interval_seconds = 0.05)
      : stop_requested_(std::move(stop_requested)),
        interval_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(interval_seconds))),
        next_(Clock::now() + interval_) {}

  // Throws Interrupted if a stop was requested; cheap enough to call once per block update.
  void poll() {
    if (!stop_requested_) return;
    const auto now = Clock::now();
    if (now < next_) return;
    next_ = now + interval_;
    if (stop_requested_()) throw Interrupted();
  }

 private:
  using Clock = std::chrono::steady_clock;
  StopRequested stop_requested_;
  Clock::duration interval_;
  Clock::time_point next_;
};

}  // namespace dualnet
