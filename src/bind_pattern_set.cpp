// PatternSet: bit-packed activation patterns and their gates, exchanged with numpy.
#include "pybind11.hpp"

#include <dualnet/pattern_set.hpp>
#include <dualnet/pattern_set_ops.hpp>

#include <cstdint>
#include <string>
#include <vector>

using dualnet::Index;
using dualnet::MatrixCRef;
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

py::array_t<Index> index_array(const std::vector<Index>& values) {
  return py::array_t<Index>(static_cast<py::ssize_t>(values.size()), values.data());
}

// The bitsets as words (P, ceil(n / 64)), pattern-major as stored: the pickled state.
py::array_t<std::uint64_t> words_array(const PatternSet& set) {
  py::array_t<std::uint64_t> out({set.size(), set.words_per_pattern()});
  std::copy(set.words().begin(), set.words().end(), out.mutable_data());
  return out;
}

PatternSet from_words(Index n_rows, py::array_t<std::uint64_t, py::array::c_style> words,
                      py::array_t<double, py::array::c_style> gates) {
  if (words.ndim() != 2 || gates.ndim() != 2)
    throw std::invalid_argument("words and gates must be 2-D");
  PatternSet set(n_rows, gates.shape(0));
  const Index p = words.shape(0);
  if (words.shape(1) != set.words_per_pattern() || gates.shape(1) != p)
    throw std::invalid_argument("words has shape (" + std::to_string(p) + ", " +
                                std::to_string(words.shape(1)) + ") and gates has " +
                                std::to_string(gates.shape(1)) + " columns for " +
                                std::to_string(n_rows) + " rows");
  set.reserve(p);
  std::vector<double> gate(static_cast<std::size_t>(set.gate_dim()));
  auto gv = gates.unchecked<2>();
  for (Index i = 0; i < p; ++i) {
    for (Index j = 0; j < set.gate_dim(); ++j) gate[static_cast<std::size_t>(j)] = gv(j, i);
    set.push_back(words.data(i, 0), gate.data());
  }
  return set;
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
      }, "Number of active rows of each pattern, shape (P,).")
      .def("mean_row_coverage", [](const PatternSet& set) {
        const std::vector<double> mean = dualnet::mean_row_coverage(set);
        return py::array_t<double>(static_cast<py::ssize_t>(mean.size()), mean.data());
      }, "For each pattern, the mean over its rows of how many patterns of the set contain the "
         "row (itself included), shape (P,); 0 for an empty pattern.")
      .def("subset", [](const PatternSet& set, const std::vector<Index>& indices) {
        return dualnet::select_patterns(set, indices);
      }, py::arg("indices"), "A new set of the patterns (and gates) at `indices`, in that order.")
      .def("hashes", [](const PatternSet& set) {
        const std::vector<std::uint64_t> h = dualnet::pattern_hashes(set);
        return py::array_t<std::uint64_t>(static_cast<py::ssize_t>(h.size()), h.data());
      }, "A 64-bit hash of each pattern's bits (gates ignored), shape (P,).")
      .def("first_occurrences", [](const PatternSet& set) {
        return index_array(dualnet::first_occurrences(set));
      }, "Increasing indices of the first occurrence of each distinct pattern (bits compared "
         "exactly, gates ignored).")
      .def("find", [](const PatternSet& set, const PatternSet& queries) {
        return index_array(dualnet::find_patterns(set, queries));
      }, py::arg("queries"),
         "For each pattern of `queries`, the last index of this set with the same bits, or -1.")
      .def_static("from_gates", [](const MatrixCRef& X, const MatrixCRef& gates) {
        // Safe without the GIL: X and gates are views of arrays the caller keeps alive for the
        // call, and the core touches no Python object.
        return without_gil([&] { return dualnet::patterns_of_gates(X, gates); });
      }, py::arg("X").noconvert(), py::arg("gates"),
         "The patterns 1[X g >= 0] of the gates (columns of `gates`, (g, m)), with their gates.")
      .def("words", &words_array, "The bitsets as uint64 words, shape (P, ceil(n / 64)).")
      .def(py::pickle(
          [](const PatternSet& set) {
            return py::make_tuple(set.n_rows(), words_array(set), gates_array(set));
          },
          [](const py::tuple& state) {
            if (state.size() != 3) throw std::invalid_argument("PatternSet: invalid state");
            return from_words(state[0].cast<Index>(),
                              state[1].cast<py::array_t<std::uint64_t, py::array::c_style>>(),
                              state[2].cast<py::array_t<double, py::array::c_style>>());
          }));
}
