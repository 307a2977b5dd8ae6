// Memory guard: the default budget and the check itself, for Python code that sizes arrays from
// the data (a pattern set's dense masks, a solution's blocks) before allocating them.
#include "pybind11.hpp"

#include <dualnet/memory_budget.hpp>

#include <optional>
#include <string>

void bind_memory_budget(py::module_& m) {
  m.def("default_memory_budget", &dualnet::default_memory_budget,
        "Bytes one request may take by default: DUALNET_MEMORY_BUDGET if set, else half of "
        "physical memory (or of the container limit, if lower).");
  m.def(
      "check_memory_budget",
      [](std::size_t required_bytes, const std::string& what,
         std::optional<std::size_t> budget_bytes) {
        dualnet::check_memory_budget(required_bytes, what,
                                     budget_bytes ? *budget_bytes : dualnet::default_memory_budget());
      },
      py::arg("required_bytes"), py::arg("what"), py::arg("budget_bytes") = py::none(),
      "Raise MemoryError naming `what` and the estimate if required_bytes exceeds the budget.");
}
