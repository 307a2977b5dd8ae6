#include <dualnet/patterns_cell_table.hpp>
#include <dualnet/patterns_count.hpp>
#include <dualnet/patterns_exact.hpp>
#include <dualnet/patterns_hyperplanes.hpp>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace dualnet {

PatternCount arrangement_size(MatrixCRef X) {
  const ReducedRows reduced = reduce_rows(X);
  PatternCount out;
  out.n_hyperplanes = reduced.n_hyperplanes();
  out.rank = reduced.rank();
  out.general_position = out.rank <= 2;
  return out;
}

PatternCount count_cells(MatrixCRef X, double max_subsets, Index max_cells, InterruptCheck& interrupt) {
  const ReducedRows reduced = reduce_rows(X);
  PatternCount out;
  out.n_hyperplanes = reduced.n_hyperplanes();
  out.rank = reduced.rank();
  if (out.rank <= 2) {  // 1, 2 or 2m cells: Cover's formula is exact
    out.general_position = true;
    return out;
  }
  const double subsets = ray_subsets(out.n_hyperplanes, out.rank);
  if (subsets > max_subsets) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.3g subsets of %lld hyperplanes in rank %lld", subsets,
                  static_cast<long long>(out.n_hyperplanes), static_cast<long long>(out.rank));
    throw std::length_error(std::string("counting exactly needs ") + buf);
  }
  if (in_general_position(reduced.normals, interrupt)) {
    out.general_position = true;
    return out;
  }
  CellTable cells(out.n_hyperplanes, 0, false, max_cells);
  enumerate_cells(reduced.normals, cells, interrupt);
  out.n_cells = cells.size();
  return out;
}

}  // namespace dualnet
