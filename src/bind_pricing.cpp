// Pricing: _core.price_patterns (violated dual constraints by local search over cells),
// _core.append_patterns (the union of two pattern sets, without dense masks) and
// _core.pattern_distances (Hamming distances between the patterns of two sets).
#include "pybind11.hpp"

#include <dualnet/pattern_distance.hpp>
#include <dualnet/pattern_set_ops.hpp>
#include <dualnet/pricing.hpp>

#include <cstdint>
#include <string>

using dualnet::Index;
using dualnet::MatrixCRef;
using dualnet::PatternSet;
using dualnet::Scalar;
using dualnet::VectorCRef;

namespace {

py::tuple price(const MatrixCRef& X, const VectorCRef& dual, Scalar beta,
                const PatternSet& patterns, bool relu, Index n_starts, Index n_random,
                Index max_steps, Scalar tol, Index max_new, std::uint64_t seed,
                const std::string& method, Scalar step, Index min_distance) {
  dualnet::PricingSettings settings;
  if (method == "ascent")
    settings.method = dualnet::PricingMethod::ascent;
  else if (method == "climb")
    settings.method = dualnet::PricingMethod::climb;
  else
    throw std::invalid_argument("price_patterns: method must be 'ascent' or 'climb', got '" +
                                method + "'");
  settings.step = step;
  settings.relu = relu;
  settings.n_starts = n_starts;
  settings.n_random = n_random;
  settings.max_steps = max_steps;
  settings.tol = tol;
  settings.max_new = max_new;
  settings.seed = seed;
  settings.min_distance = min_distance;
  dualnet::InterruptCheck interrupt(python_stop_requested());
  // Safe without the GIL: X and dual are views of arrays the caller keeps alive for the call,
  // patterns is held by the caller, and the core touches no Python object (the interrupt
  // callback takes the GIL itself).
  dualnet::PricingResult result = without_gil(
      [&] { return dualnet::price_patterns(X, dual, beta, patterns, settings, &interrupt); });
  const Index k = result.values.size();
  py::array_t<double> values(k, result.values.data());
  // Witnesses as columns, (g, k), like gates.
  dualnet::Matrix witnesses_t = result.witnesses.transpose();
  py::array_t<double> witnesses({X.cols(), k});
  auto wv = witnesses.mutable_unchecked<2>();
  for (Index j = 0; j < X.cols(); ++j)
    for (Index i = 0; i < k; ++i) wv(j, i) = witnesses_t(j, i);
  return py::make_tuple(std::move(result.patterns), values, witnesses, result.max_value,
                        result.n_starts, result.n_evaluated, result.n_near);
}

PatternSet append(const PatternSet& first, const PatternSet& second) {
  try {
    return dualnet::concatenate_patterns(first, second);
  } catch (const std::invalid_argument& exc) {
    throw std::invalid_argument(std::string("append_patterns: ") + exc.what());
  }
}

}  // namespace

void bind_pricing(py::module_& m) {
  m.def("price_patterns", &price, py::arg("X").noconvert(), py::arg("dual").noconvert(),
        py::arg("beta"), py::arg("patterns"), py::kw_only(), py::arg("relu"),
        py::arg("n_starts") = -1, py::arg("n_random") = 64, py::arg("max_steps") = 32,
        py::arg("tol") = 1e-6, py::arg("max_new") = -1, py::arg("seed") = 0,
        py::arg("method") = "ascent", py::arg("step") = 0.5, py::arg("min_distance") = 0,
        "Patterns outside `patterns` whose dual constraint value at `dual` exceeds "
        "beta (1 + tol), by batched gradient ascent on the sphere (method='ascent') or local "
        "search over cells (method='climb'), skipping violators within min_distance rows of a "
        "pattern of `patterns` or of one already returned; returns (PatternSet, values (k,), "
        "witnesses (g, k), max_value, n_starts, n_evaluated, n_near).");
  m.def("append_patterns", &append, py::arg("first"), py::arg("second"),
        "A new set with the patterns and gates of `first` followed by those of `second`.");
  m.def("pattern_distances", &dualnet::pattern_distances, py::arg("first"), py::arg("second"),
        "Hamming distances (int64, shape (len(first), len(second))): the rows on which pattern "
        "i of `first` and pattern j of `second` differ.");
}
