// The one pybind11 include of the bindings, plus what every binding file shares.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/eigen.h>

#include <dualnet/interrupt.hpp>

#include <stdexcept>
#include <string>

namespace py = pybind11;

// A stop callback for the core: true once Python has a pending KeyboardInterrupt (or any signal
// handler raised). Called from a thread without the GIL, so it takes the GIL for the check. The
// error is cleared here and raised again by the translator of dualnet::Interrupted (module.cpp),
// after the core has unwound and the GIL is held again.
inline dualnet::StopRequested python_stop_requested() {
  return [] {
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
