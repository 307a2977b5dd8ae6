// Activation patterns: exact enumeration, sampling and counting (cpp/include/dualnet/patterns_*.hpp).
#include "pybind11.hpp"

#include <dualnet/patterns_cell_table.hpp>
#include <dualnet/patterns_count.hpp>
#include <dualnet/patterns_exact.hpp>
#include <dualnet/patterns_sample.hpp>

#include <cstdint>
#include <tuple>

using dualnet::Index;
using dualnet::MatrixCRef;
using dualnet::PatternSet;

void bind_patterns(py::module_& m) {
  m.def(
      "arrangement_size",
      [](MatrixCRef X) {
        const auto size = dualnet::arrangement_size(X);
        return std::make_tuple(size.n_hyperplanes, size.rank);
      },
      py::arg("X").noconvert(),
      "(n_hyperplanes, rank) of the essential arrangement of X's rows (zero rows dropped, "
      "parallel rows merged).");

  m.def(
      "enumerate_patterns",
      [](MatrixCRef X, Index max_patterns, bool use_chart) -> py::object {
        dualnet::InterruptCheck interrupt(python_stop_requested());
        PatternSet patterns(0, 0);
        try {
          // Safe without the GIL: X is a read-only view kept alive by the caller's argument, and
          // the result is a C++ object until the GIL is taken back.
          patterns = without_gil([&] {
            return dualnet::enumerate_patterns(X, max_patterns, interrupt, use_chart);
          });
        } catch (const dualnet::CellLimitExceeded&) {
          return py::none();  // the Python layer says so, naming max_patterns and the estimate
        }
        return py::cast(std::move(patterns));
      },
      py::arg("X").noconvert(), py::arg("max_patterns"), py::arg("use_chart") = true,
      "Every activation pattern of X (n, g) with a strictly interior gate, or None if there are "
      "more than max_patterns (use_chart=False: the slower walk that emits every cell at every "
      "ray, for cross-checks).");

  m.def(
      "sample_patterns",
      [](MatrixCRef X, Index n_gates, std::uint64_t seed) {
        dualnet::InterruptCheck interrupt(python_stop_requested());
        // Safe without the GIL: only C++ objects and the read-only view of X are touched.
        dualnet::SampledPatterns sampled =
            without_gil([&] { return dualnet::sample_patterns(X, n_gates, seed, interrupt); });
        return std::make_tuple(std::move(sampled.patterns), sampled.n_draws, sampled.n_rejected);
      },
      py::arg("X").noconvert(), py::arg("n_gates"), py::arg("seed"),
      "(patterns, n_draws, n_rejected): distinct patterns of n_gates seeded random gates.");

  m.def(
      "count_patterns",
      [](MatrixCRef X, double max_subsets, Index max_cells) -> py::tuple {
        dualnet::InterruptCheck interrupt(python_stop_requested());
        dualnet::PatternCount count;
        try {
          // Safe without the GIL: only C++ objects and the read-only view of X are touched.
          count = without_gil(
              [&] { return dualnet::count_cells(X, max_subsets, max_cells, interrupt); });
        } catch (const dualnet::CellLimitExceeded&) {
          return py::make_tuple(py::none(), py::none(), false, py::none());
        }
        return py::make_tuple(count.n_hyperplanes, count.rank, count.general_position,
                              count.n_cells);
      },
      py::arg("X").noconvert(), py::arg("max_subsets"), py::arg("max_cells"),
      "(n_hyperplanes, rank, general_position, n_cells); n_cells is -1 in general position, and "
      "every entry but general_position is None when there are more than max_cells cells.");
}
