// dualnet._core: the compiled core. One bind_<concept>() per concept, each in its own file.
#include "pybind11.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "dualnet's compiled core (private: use the dualnet package API).";

  // The core's cooperative cancellation ends as the KeyboardInterrupt the user pressed.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const dualnet::Interrupted&) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    }
  });

  bind_pattern_set(m);
#ifdef DUALNET_SANITIZE
  bind_sanitizer_probe(m);
#endif
}
