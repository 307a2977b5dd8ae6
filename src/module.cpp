// dualnet._core: the compiled core. One bind_<concept>() per concept, each in its own file.
#include "pybind11.hpp"

#include <dualnet/memory_budget.hpp>

#include <string>

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
      // The whole message, even past a NUL (PyErr_SetString would stop there), and never a
      // decoding error of its own.
      const std::string& message = e.message();
      PyObject* text = PyUnicode_DecodeUTF8(message.data(), static_cast<Py_ssize_t>(message.size()),
                                            "replace");
      if (text) {
        PyErr_SetObject(PyExc_MemoryError, text);
        Py_DECREF(text);
      }
    }
  });

  bind_memory_budget(m);
  bind_pattern_set(m);
  bind_patterns(m);
  bind_solver(m);
  bind_loss_solver(m);
  bind_pricing(m);
  bind_block_products(m);
#ifdef DUALNET_SANITIZE
  bind_sanitizer_probe(m);
#endif
}
