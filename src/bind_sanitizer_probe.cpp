// _core._sanitizer_probe: deliberate memory and arithmetic errors, compiled only with
// DUALNET_SANITIZE (CMakeLists.txt). The test suite runs it in a subprocess and expects the
// sanitizer's report, which proves that a green sanitizer run had the sanitizers switched on.
#include "pybind11.hpp"

#include <climits>
#include <memory>
#include <stdexcept>
#include <string>

namespace {

// `kind` selects the error; `offset` is an argument so the compiler cannot prove the access
// out of bounds (or the overflow) at compile time and fold it away.
long long sanitizer_probe(const std::string& kind, int offset) {
  if (kind == "heap-buffer-overflow") {
    auto buffer = std::make_unique<int[]>(4);
    for (int i = 0; i < 4; ++i) buffer[i] = i;
    volatile int value = buffer[4 + offset];  // one past the end when offset == 0
    return value;
  }
  if (kind == "signed-integer-overflow") {
    volatile int big = INT_MAX - offset;
    const int sum = big + 1;  // undefined behaviour when offset == 0
    return sum;
  }
  throw std::invalid_argument("kind must be 'heap-buffer-overflow' or 'signed-integer-overflow', got '" +
                              kind + "'");
}

}  // namespace

void bind_sanitizer_probe(py::module_& m) {
  m.def("_sanitizer_probe", &sanitizer_probe, py::arg("kind"), py::arg("offset") = 0,
        "Commit a deliberate error the sanitizers must report (sanitizer builds only).");
}
