// The classification-loss solver: _core.solve_binary_loss, _core.solve_cross_entropy_gated and
// _core.LossSolution.
#include "pybind11.hpp"

#include <dualnet/loss_solver.hpp>

#include <optional>
#include <string>

using dualnet::Index;
using dualnet::LossKind;
using dualnet::LossSettings;
using dualnet::LossSolution;
using dualnet::Matrix;
using dualnet::MatrixCRef;
using dualnet::PatternSet;
using dualnet::Scalar;
using dualnet::VectorCRef;

namespace {

LossSettings settings_of(LossKind loss, bool relu, Scalar tol, Index max_iter,
                         Index max_inner_iter, bool verbose) {
  LossSettings settings;
  settings.loss = loss;
  settings.program = relu ? dualnet::ConvexProgram::relu : dualnet::ConvexProgram::gated;
  settings.tol = tol;
  settings.max_iter = max_iter;
  settings.max_inner_iter = max_inner_iter;
  settings.verbose = verbose;
  return settings;
}

LossSolution solve_binary(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns,
                          Scalar beta, const std::string& loss, bool relu, Scalar tol,
                          Index max_iter, Index max_inner_iter, const std::optional<Matrix>& v0,
                          const std::optional<Matrix>& w0,
                          const std::optional<dualnet::Vector>& multipliers, bool verbose) {
  LossKind kind;
  if (loss == "logistic")
    kind = LossKind::logistic;
  else if (loss == "hinge")
    kind = LossKind::hinge;
  else
    throw std::invalid_argument("loss must be 'logistic' or 'hinge', got '" + loss + "'");
  const LossSettings settings = settings_of(kind, relu, tol, max_iter, max_inner_iter, verbose);
  dualnet::InterruptCheck interrupt(python_stop_requested());
  // Safe without the GIL: X and y are views of arrays the caller keeps alive for the call,
  // patterns is held by the caller, v0/w0/multipliers are copies, and the core touches no
  // Python object (the interrupt callback takes the GIL itself).
  return without_gil([&] {
    return dualnet::solve_binary_loss(X, y, patterns, beta, settings, v0 ? &*v0 : nullptr,
                                      w0 ? &*w0 : nullptr, multipliers ? &*multipliers : nullptr,
                                      &interrupt);
  });
}

LossSolution solve_cross_entropy(const MatrixCRef& X, const MatrixCRef& Y,
                                 const PatternSet& patterns, Scalar beta, Scalar tol,
                                 Index max_iter, const std::optional<Matrix>& v0, bool verbose) {
  const LossSettings settings =
      settings_of(LossKind::cross_entropy, false, tol, max_iter, 1, verbose);
  dualnet::InterruptCheck interrupt(python_stop_requested());
  // Safe without the GIL: as above (views of caller-held arrays, a copied warm start).
  return without_gil([&] {
    return dualnet::solve_cross_entropy_gated(X, Y, patterns, beta, settings,
                                              v0 ? &*v0 : nullptr, &interrupt);
  });
}

}  // namespace

void bind_loss_solver(py::module_& m) {
  py::class_<LossSolution>(m, "LossSolution",
                           "Solution of a convex program under a classification loss, with its "
                           "certified duality gap.")
      .def_readonly("v", &LossSolution::v,
                    "Blocks, shape (g, P); cross-entropy: (g, P * K), block i in columns "
                    "i K .. i K + K - 1.")
      .def_readonly("w", &LossSolution::w, "Blocks w_i, same shape as v; 0 if gated.")
      .def_readonly("primal_objective", &LossSolution::primal_objective)
      .def_readonly("dual_objective", &LossSolution::dual_objective)
      .def_readonly("duality_gap", &LossSolution::duality_gap)
      .def_readonly("relative_gap", &LossSolution::relative_gap)
      .def_readonly("converged", &LossSolution::converged)
      .def_readonly("n_iter", &LossSolution::n_iter)
      .def_readonly("n_inner_iter", &LossSolution::n_inner_iter)
      .def_readonly("dual", &LossSolution::dual, "Certified dual point, shape (n, K) (K = 1 binary).")
      .def_property_readonly("status",
                             [](const LossSolution& s) { return dualnet::status_name(s.status); },
                             "\"converged\", \"max_iter\" (outer iterations exhausted) or "
                             "\"stalled\" (binary losses: no step decreased the objective with the "
                             "subproblems at their finest tolerance; the gap is still above tol).")
      .def_readonly("max_cone_violation", &LossSolution::max_cone_violation)
      .def_readonly("n_active", &LossSolution::n_active);

  m.def("solve_binary_loss", &solve_binary, py::arg("X").noconvert(), py::arg("y").noconvert(),
        py::arg("patterns"), py::arg("beta"), py::kw_only(), py::arg("loss"), py::arg("relu"),
        py::arg("tol") = 1e-6, py::arg("max_iter") = 500, py::arg("max_inner_iter") = 10000,
        py::arg("v0") = py::none(), py::arg("w0") = py::none(),
        py::arg("multipliers") = py::none(), py::arg("verbose") = false,
        "Solve the gated or ReLU convex program under the logistic or hinge loss (y in {-1, +1}) "
        "by proximal Newton steps around solve_convex; hinge: multipliers (n,) start the "
        "augmented Lagrangian (y * dual of an earlier solve on the same samples, for example).");
  m.def("solve_cross_entropy_gated", &solve_cross_entropy, py::arg("X").noconvert(),
        py::arg("Y").noconvert(), py::arg("patterns"), py::arg("beta"), py::kw_only(),
        py::arg("tol") = 1e-6, py::arg("max_iter") = 100000, py::arg("v0") = py::none(),
        py::arg("verbose") = false,
        "Solve the gated program with nuclear norms under softmax cross-entropy (Y one-hot).");
}
