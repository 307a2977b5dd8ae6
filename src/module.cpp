// dualnet._core: the compiled core. One bind_<concept>() per concept, each in its own file.
#include "pybind11.hpp"

#include <dualnet/memory_budget.hpp>

PYBIND11_MODULE(_core, m) {
  m.doc() = "dualnet's compiled core (private: use the dualnet package API).";

  // The core's cooperative cancellation ends as the KeyboardInterrupt the user pressed; a request
  // over the memory budget (memory_budget.hpp) as the MemoryError numpy raises for arrays that
  // cannot be allocated, with the core's estimate as its message.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const dualnet::Interrupted&) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const dualnet::MemoryBudgetExceeded& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    }
  });

  bind_memory_budget(m);
  bind_pattern_set(m);
#ifdef DUALNET_SANITIZE
  bind_sanitizer_probe(m);
#endif
}
