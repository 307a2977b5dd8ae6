// The all-blocks gradient pass X^T D_i r over a pattern set (for Python code that needs every
// block's gradient at once, and for the benchmarks), and the default thread count.
#include "pybind11.hpp"

#include <dualnet/block_products.hpp>

#include <string>

void bind_block_products(py::module_& m) {
  m.def("default_thread_count", &dualnet::default_thread_count,
        "Threads used when n_threads is 0: the machine's count of concurrent threads.");
  m.def(
      "block_gradients",
      [](const dualnet::MatrixCRef& X, const dualnet::PatternSet& patterns,
         const dualnet::VectorCRef& r, dualnet::Index n_threads) {
        if (patterns.n_rows() != X.rows() || patterns.gate_dim() != X.cols())
          throw std::invalid_argument(
              "patterns has (n_rows, gate_dim) = (" + std::to_string(patterns.n_rows()) + ", " +
              std::to_string(patterns.gate_dim()) + ") but X has shape (" +
              std::to_string(X.rows()) + ", " + std::to_string(X.cols()) + ")");
        if (r.size() != X.rows())
          throw std::invalid_argument("r has " + std::to_string(r.size()) + " entries but X has " +
                                      std::to_string(X.rows()) + " rows");
        // Safe without the GIL: views of caller-held arrays, no Python objects in the core.
        return without_gil([&] {
          dualnet::BlockMatrix gradients;
          dualnet::all_block_gradients(X, patterns, r.data(), gradients, n_threads);
          return gradients;
        });
      },
      py::arg("X").noconvert(), py::arg("patterns"), py::arg("r").noconvert(), py::kw_only(),
      py::arg("n_threads") = 0,
      "Every block gradient X^T D_i r as the columns of a (g, P) array, over n_threads threads "
      "(0: one per core); the result does not depend on n_threads.");
}
