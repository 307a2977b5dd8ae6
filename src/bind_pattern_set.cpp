// PatternSet: bit-packed activation patterns and their gates, exchanged with numpy.
#include "pybind11.hpp"

#include <dualnet/pattern_set.hpp>

#include <string>

using dualnet::Index;
using dualnet::PatternSet;
using dualnet::Word;

namespace {

// Builds a set from a bool mask array (n, P) and gates (g, P). Gates of masks that came without
// one are NaN: such patterns can be solved over but have no interior gate to decompose with.
PatternSet from_masks(py::array_t<bool, py::array::c_style> masks,
                      py::array_t<double, py::array::c_style> gates) {
  if (masks.ndim() != 2) throw std::invalid_argument("masks must be 2-D (n, P)");
  if (gates.ndim() != 2) throw std::invalid_argument("gates must be 2-D (g, P)");
  require_aligned(gates, "gates");
  const Index n = masks.shape(0), p = masks.shape(1), g = gates.shape(0);
  // Zero rows would make every pattern empty and free to store: P could then be astronomically
  // large at no memory cost, and only the loop below would notice.
  if (n == 0)
    throw std::invalid_argument("masks has no rows (shape (0, " + std::to_string(p) + "))");
  if (gates.shape(1) != p)
    throw std::invalid_argument("masks has " + std::to_string(p) + " columns but gates has " +
                                std::to_string(gates.shape(1)));
  PatternSet set(n, g);
  set.reserve(p);
  auto mv = masks.unchecked<2>();
  auto gv = gates.unchecked<2>();
  std::vector<Word> words(static_cast<std::size_t>(set.words_per_pattern()));
  std::vector<double> gate(static_cast<std::size_t>(g));
  for (Index i = 0; i < p; ++i) {
    std::fill(words.begin(), words.end(), Word{0});
    for (Index k = 0; k < n; ++k)
      if (mv(k, i)) words[k / dualnet::kWordBits] |= Word{1} << (k % dualnet::kWordBits);
    for (Index j = 0; j < g; ++j) gate[j] = gv(j, i);
    set.push_back(words.data(), gate.data());
  }
  return set;
}

py::array_t<bool> to_masks(const PatternSet& set) {
  const Index n = set.n_rows(), p = set.size();
  // Dense masks take eight times the packed bits: check before numpy allocates them.
  dualnet::check_memory_budget(dualnet::array_bytes({n, p}, sizeof(bool)),
                               "dense masks of " + std::to_string(p) + " patterns of " +
                                   std::to_string(n) + " rows");
  py::array_t<bool> out({n, p});
  auto ov = out.mutable_unchecked<2>();
  for (Index i = 0; i < p; ++i)
    for (Index k = 0; k < n; ++k) ov(k, i) = set.active(k, i);
  return out;
}

// The mask of one pattern (n,): what a caller that visits a few patterns needs, at n bytes
// instead of the n * P of masks().
py::array_t<bool> mask_of(const PatternSet& set, Index i) {
  if (i < 0 || i >= set.size())
    throw std::invalid_argument("index " + std::to_string(i) + " is out of range for " +
                                std::to_string(set.size()) + " patterns");
  const Index n = set.n_rows();
  py::array_t<bool> out(n);
  auto ov = out.mutable_unchecked<1>();
  for (Index k = 0; k < n; ++k) ov(k) = false;
  set.for_each_active(i, [&](Index k) { ov(k) = true; });
  return out;
}

py::array_t<double> gates_array(const PatternSet& set) {
  const Index g = set.gate_dim(), p = set.size();
  py::array_t<double> out({g, p});
  auto ov = out.mutable_unchecked<2>();
  for (Index i = 0; i < p; ++i)
    for (Index j = 0; j < g; ++j) ov(j, i) = set.gate(i)[j];
  return out;
}

}  // namespace

void bind_pattern_set(py::module_& m) {
  py::class_<PatternSet>(m, "PatternSet",
                         "Bit-packed activation patterns (n rows, P patterns) with their gates.")
      .def_static("from_masks", &from_masks, py::arg("masks"), py::arg("gates"))
      .def_property_readonly("n_rows", &PatternSet::n_rows)
      .def_property_readonly("gate_dim", &PatternSet::gate_dim)
      .def_property_readonly("memory_bytes", &PatternSet::memory_bytes)
      .def("__len__", &PatternSet::size)
      .def("masks", &to_masks, "Dense bool masks, shape (n, P).")
      .def("mask", &mask_of, py::arg("index"), "Bool mask of one pattern, shape (n,).")
      .def("gates", &gates_array, "Gates, shape (gate_dim, P).")
      .def("counts", [](const PatternSet& set) {
        py::array_t<Index> out(set.size());
        auto ov = out.mutable_unchecked<1>();
        for (Index i = 0; i < set.size(); ++i) ov(i) = set.count(i);
        return out;
      }, "Number of active rows of each pattern, shape (P,).");
}
