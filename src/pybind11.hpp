// The one pybind11 include of the bindings, plus what every binding file shares.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/eigen.h>

#include <dualnet/interrupt.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

#if defined(__GLIBCXX__)
#include <cxxabi.h>
#endif

namespace py = pybind11;

// Whether the interpreter is shutting down (a thread that takes the GIL then is ended by CPython
// or, from 3.14, blocked for good).
inline bool python_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// Runs f() with the GIL released, and takes the GIL back in ordinary code, never in a destructor.
// py::gil_scoped_release takes it back in its destructor; in a daemon thread still solving when
// the interpreter shuts down, CPython ends the thread there by pthread_exit, whose stack
// unwinding cannot leave a destructor: std::terminate ("terminate called without an active
// exception"). Here an exception of f is held until the GIL is back; a thread-ending unwind
// started inside f (by the interrupt callback) passes through; and when the interpreter is
// already shutting down as f returns, the thread waits for the process to end instead of
// touching Python again. Use it for every call into the core that releases the GIL.
template <class F>
auto without_gil(F&& f) -> std::invoke_result_t<F&> {
  using Result = std::invoke_result_t<F&>;
  static_assert(!std::is_void_v<Result>, "without_gil: f must return a value");
  PyThreadState* state = PyEval_SaveThread();
  std::optional<Result> result;
  std::exception_ptr error;
  try {
    result.emplace(f());
  }
#if defined(__GLIBCXX__)
  catch (abi::__forced_unwind&) {
    throw;  // the thread is being ended (pthread_exit): the unwind must go on, without the GIL
  }
#endif
  catch (...) {
    error = std::current_exception();
  }
  if (python_finalizing())
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));  // the process is exiting
  PyEval_RestoreThread(state);
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

// A stop callback for the core: true once Python has a pending KeyboardInterrupt (or any signal
// handler raised). Called from a thread without the GIL, so it takes the GIL for the check. The
// error is cleared here and raised again by the translator of dualnet::Interrupted (module.cpp),
// after the core has unwound and the GIL is held again.
inline dualnet::StopRequested python_stop_requested() {
  return [] {
    // Shutting down: stop without taking the GIL (without_gil then parks the thread).
    if (python_finalizing()) return true;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) {
      PyErr_Clear();
      return true;
    }
    return false;
  };
}

// numpy hands over unaligned memory as is (a view at an odd byte offset of a buffer, a field of a
// packed record), and pybind11's array and Eigen casters do not copy it; reading a double through
// such a pointer is undefined behaviour. The Python layer copies unaligned arrays
// (dualnet._validation); bindings that read numpy memory call this to reject what slipped through.
inline void require_aligned(const py::array& array, const char* name) {
  if (!(array.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_))
    throw std::invalid_argument(std::string(name) +
                                " is not aligned in memory; pass an aligned copy "
                                "(numpy.require(a, requirements='A'))");
}

void bind_memory_budget(py::module_& m);
void bind_pattern_set(py::module_& m);
void bind_patterns(py::module_& m);
void bind_solver(py::module_& m);
void bind_loss_solver(py::module_& m);
void bind_pricing(py::module_& m);
void bind_block_products(py::module_& m);
#ifdef DUALNET_SANITIZE
void bind_sanitizer_probe(py::module_& m);
#endif
