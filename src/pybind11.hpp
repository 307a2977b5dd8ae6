// The one pybind11 include of the bindings, plus what every binding file shares.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/eigen.h>

#include <dualnet/interrupt.hpp>

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

void bind_pattern_set(py::module_& m);
#ifdef DUALNET_SANITIZE
void bind_sanitizer_probe(py::module_& m);
#endif
