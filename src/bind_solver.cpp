// The convex solver: _core.solve_convex, _core.ConvexSolution, _core.beta_max, the cone
// projection kernel _core.project_onto_pattern_cone and its row scan (_core.cone_row_products,
// _core.cone_scan_tests).
#include "pybind11.hpp"

#include <dualnet/cone_projection.hpp>
#include <dualnet/convex_solver.hpp>
#include <dualnet/deflated_preconditioner.hpp>
#include <dualnet/row_scan.hpp>

#include <algorithm>
#include <optional>
#include <string>

using dualnet::ConvexProgram;
using dualnet::ConvexSolution;
using dualnet::Index;
using dualnet::Matrix;
using dualnet::MatrixCRef;
using dualnet::PatternSet;
using dualnet::Scalar;
using dualnet::Vector;
using dualnet::VectorCRef;

namespace {

ConvexProgram program_of(bool relu) { return relu ? ConvexProgram::relu : ConvexProgram::gated; }

ConvexSolution solve(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns,
                     Scalar beta, bool relu, Scalar tol, Index max_iter,
                     const std::optional<Matrix>& v0, const std::optional<Matrix>& w0,
                     bool verbose, Index n_threads) {
  dualnet::SolverSettings settings;
  settings.program = program_of(relu);
  settings.tol = tol;
  settings.max_iter = max_iter;
  settings.verbose = verbose;
  settings.n_threads = n_threads;
  dualnet::InterruptCheck interrupt(python_stop_requested());
  // Safe without the GIL: X and y are views of arrays the caller keeps alive for the call,
  // patterns is held by the caller, v0/w0 are copies, and the core touches no Python object
  // (the interrupt callback takes the GIL itself).
  return without_gil([&] {
    return dualnet::solve_convex(X, y, patterns, beta, settings, v0 ? &*v0 : nullptr,
                                 w0 ? &*w0 : nullptr, &interrupt);
  });
}

// The checks shared by the bindings of one pattern cone: X and the patterns agree, index exists.
void check_cone(const MatrixCRef& X, const PatternSet& patterns, Index index) {
  if (patterns.n_rows() != X.rows() || patterns.gate_dim() != X.cols())
    throw std::invalid_argument("patterns has (n_rows, gate_dim) = (" +
                                std::to_string(patterns.n_rows()) + ", " +
                                std::to_string(patterns.gate_dim()) + ") but X has shape (" +
                                std::to_string(X.rows()) + ", " + std::to_string(X.cols()) + ")");
  if (index < 0 || index >= patterns.size())
    throw std::invalid_argument("index " + std::to_string(index) + " is out of range for " +
                                std::to_string(patterns.size()) + " patterns");
}

py::tuple project(const MatrixCRef& X, const PatternSet& patterns, Index index, const Vector& c) {
  check_cone(X, patterns, index);
  if (c.size() != X.cols())
    throw std::invalid_argument("c has " + std::to_string(c.size()) + " entries but X has " +
                                std::to_string(X.cols()) + " columns");
  if (!c.allFinite()) throw std::invalid_argument("c contains NaN or infinity");
  // Safe without the GIL: X is a view the caller keeps alive, c a copy; no Python objects.
  const dualnet::ConeProjection result = without_gil([&] {
    const Vector inverse_norms = dualnet::inverse_row_norms(X);
    const dualnet::PatternCone cone{X, patterns, index, inverse_norms};
    return dualnet::project_onto_cone(cone, c, {}, -1, 100 * X.cols() + 100);
  });
  return py::make_tuple(py::array_t<double>(result.u.size(), result.u.data()), result.bound);
}

Vector cone_rows_least_squares(const MatrixCRef& X, const PatternSet& patterns, Index index,
                               const std::vector<Index>& rows, const Vector& rhs,
                               bool minimum_norm) {
  check_cone(X, patterns, index);
  for (Index k : rows)
    if (k < 0 || k >= X.rows())
      throw std::invalid_argument("row " + std::to_string(k) + " is out of range for X with " +
                                  std::to_string(X.rows()) + " rows");
  // Safe without the GIL: X is a view the caller keeps alive, rows and rhs are copies.
  return without_gil([&] {
    const Vector inverse_norms = dualnet::inverse_row_norms(X);
    const dualnet::PatternCone cone{X, patterns, index, inverse_norms};
    return dualnet::cone_rows_least_squares(cone, rows, rhs, minimum_norm);
  });
}

py::tuple cone_row_products(const MatrixCRef& X, const PatternSet& patterns, Index index,
                            const Vector& u, const std::optional<Vector>& d, Index block_rows) {
  check_cone(X, patterns, index);
  for (const Vector* v : {&u, d ? &*d : nullptr})
    if (v && v->size() != X.cols())
      throw std::invalid_argument(std::string(v == &u ? "u" : "d") + " has " +
                                  std::to_string(v->size()) + " entries but X has " +
                                  std::to_string(X.cols()) + " columns");
  if (block_rows < 0 || block_rows % dualnet::kWordBits != 0)
    throw std::invalid_argument("block_rows must be a nonnegative multiple of 64, got " +
                                std::to_string(block_rows));
  const Index n = X.rows(), step = block_rows == 0 ? std::max<Index>(n, 1) : block_rows;
  Vector au(n), ad(d ? n : 0);
  // Safe without the GIL: X is a view the caller keeps alive, the rest are copies.
  without_gil([&] {
    for (Index k0 = 0; k0 < n; k0 += step)
      dualnet::signed_row_products(X, patterns.pattern(index), k0, std::min(step, n - k0),
                                   u.data(), d ? d->data() : nullptr, au.data() + k0,
                                   d ? ad.data() + k0 : nullptr);
    return 0;
  });
  return py::make_tuple(py::array_t<double>(n, au.data()),
                        d ? py::object(py::array_t<double>(n, ad.data())) : py::object(py::none()));
}

py::tuple cone_scan_tests(const VectorCRef& au, const VectorCRef& ad, const VectorCRef& inverse,
                          Scalar floor, Scalar moving, Scalar t) {
  const Index n = au.size();
  if (ad.size() != n || inverse.size() != n)
    throw std::invalid_argument("au, ad and inverse must have one length, got " +
                                std::to_string(n) + ", " + std::to_string(ad.size()) + " and " +
                                std::to_string(inverse.size()));
  py::array_t<bool> above(n), crossed(n);
  bool* above_out = above.mutable_data();
  bool* crossed_out = crossed.mutable_data();
  for (Index base = 0; base < n; base += dualnet::kWordBits) {
    const Index rows = std::min(dualnet::kWordBits, n - base);
    const dualnet::Word a =
        dualnet::rows_above(au.data() + base, inverse.data() + base, rows, floor);
    const dualnet::Word c = dualnet::rows_crossed_before(
        au.data() + base, ad.data() + base, inverse.data() + base, rows, moving, t);
    for (Index r = 0; r < rows; ++r) {
      above_out[base + r] = (a >> r) & 1u;
      crossed_out[base + r] = (c >> r) & 1u;
    }
  }
  const Scalar worst = dualnet::max_violation(au.data(), inverse.data(), n, floor);
  return py::make_tuple(above, crossed, worst);
}

}  // namespace

void bind_solver(py::module_& m) {
  py::class_<ConvexSolution>(m, "ConvexSolution",
                             "Solution of the convex program with its certified duality gap.")
      .def_readonly("v", &ConvexSolution::v, "Blocks v_i as columns, shape (g, P).")
      .def_readonly("w", &ConvexSolution::w, "Blocks w_i as columns, shape (g, P); 0 if gated.")
      .def_readonly("primal_objective", &ConvexSolution::primal_objective)
      .def_readonly("dual_objective", &ConvexSolution::dual_objective)
      .def_readonly("duality_gap", &ConvexSolution::duality_gap)
      .def_readonly("relative_gap", &ConvexSolution::relative_gap)
      .def_readonly("converged", &ConvexSolution::converged)
      .def_readonly("n_iter", &ConvexSolution::n_iter)
      .def_readonly("dual", &ConvexSolution::dual, "Certified dual-feasible point, shape (n,).")
      .def_property_readonly("status",
                             [](const ConvexSolution& s) { return dualnet::status_name(s.status); })
      .def_readonly("max_cone_violation", &ConvexSolution::max_cone_violation)
      .def_readonly("n_active", &ConvexSolution::n_active)
      .def_property_readonly(
          "screened",
          [](const ConvexSolution& s) {
            py::array_t<bool> out({Index{2}, static_cast<Index>(s.screened.cols())});
            auto view = out.mutable_unchecked<2>();
            for (Index r = 0; r < 2; ++r)
              for (Index c = 0; c < s.screened.cols(); ++c) view(r, c) = s.screened(r, c);
            return out;
          },
          "Blocks proved zero at every optimum by Gap Safe screening, shape (2, P): row 0 the v "
          "blocks, row 1 the w blocks (all False for the gated program).");

  m.def("solve_convex", &solve, py::arg("X").noconvert(), py::arg("y").noconvert(),
        py::arg("patterns"), py::arg("beta"), py::kw_only(), py::arg("relu"),
        py::arg("tol") = 1e-6, py::arg("max_iter") = 10000, py::arg("v0") = py::none(),
        py::arg("w0") = py::none(), py::arg("verbose") = false, py::arg("n_threads") = 0,
        "Solve the gated (relu=False) or exact ReLU (relu=True) convex program over the patterns.");

  m.def(
      "beta_max",
      [](const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns, bool relu) {
        // Safe without the GIL: views of caller-held arrays, no Python objects in the core.
        return without_gil([&] { return dualnet::beta_max(X, y, patterns, program_of(relu)); });
      },
      py::arg("X").noconvert(), py::arg("y").noconvert(), py::arg("patterns"), py::kw_only(),
      py::arg("relu"), "Smallest beta at which the convex program's solution is zero.");

  m.def("project_onto_pattern_cone", &project, py::arg("X").noconvert(), py::arg("patterns"),
        py::arg("index"), py::arg("c"),
        "Projection of c onto K_index = {u : (2 D_i - I) X u >= 0} and the certified bound "
        "||c + A^T mu|| on max over the cone's unit ball of c^T u; returns (u, bound).");

  m.def("cone_rows_least_squares", &cone_rows_least_squares, py::arg("X").noconvert(),
        py::arg("patterns"), py::arg("index"), py::arg("rows"), py::arg("rhs"), py::kw_only(),
        py::arg("minimum_norm") = false,
        "The least-squares solve of the cone projection and the block updates: argmin_z "
        "||A_R z - rhs|| over the columns a_k = (2 [D_index]_kk - 1) x_k, k in rows (unpivoted "
        "Householder QR, or for numerically dependent columns a column-pivoting QR's basic "
        "solution, the minimum-norm solution when minimum_norm).");

  m.def("cone_row_products", &cone_row_products, py::arg("X").noconvert(), py::arg("patterns"),
        py::arg("index"), py::arg("u"), py::arg("d") = py::none(), py::kw_only(),
        py::arg("block_rows") = 0,
        "The row scan of the cone projection: (2 D_i - I) X u and, if d is given, "
        "(2 D_i - I) X d, computed over row blocks of block_rows rows (a multiple of 64; 0: all "
        "rows at once); returns (Au, Ad or None). The same bits for every block size.");

  m.def(
      "deflated_preconditioner",
      [](const Eigen::MatrixXd& block_inverse, const Eigen::MatrixXd& coarse,
         const Eigen::MatrixXd& hessian_coarse, const Eigen::MatrixXd& x) {
        auto shape = [](const Eigen::MatrixXd& a) {
          return "(" + std::to_string(a.rows()) + ", " + std::to_string(a.cols()) + ")";
        };
        const Index m = block_inverse.rows();
        if (block_inverse.cols() != m || coarse.rows() != m || hessian_coarse.rows() != m ||
            coarse.cols() != hessian_coarse.cols() || x.rows() != m)
          throw std::invalid_argument(
              "block_inverse must be (m, m), coarse and hessian_coarse (m, c) and x (m, k); got "
              "block_inverse " + shape(block_inverse) + ", coarse " + shape(coarse) +
              ", hessian_coarse " + shape(hessian_coarse) + ", x " + shape(x));
        dualnet::DeflatedPreconditioner preconditioner;
        const bool active = preconditioner.build(coarse, hessian_coarse);
        Eigen::MatrixXd out(m, x.cols());
        auto block_solve = [&](const dualnet::Vector& v, dualnet::Vector& w) {
          w = block_inverse * v;
        };
        for (Index j = 0; j < x.cols(); ++j) {
          dualnet::Vector column = x.col(j), applied;
          preconditioner.apply(column, applied, block_solve);
          out.col(j) = applied;
        }
        return py::make_tuple(out, active);
      },
      py::arg("block_inverse"), py::arg("coarse"), py::arg("hessian_coarse"), py::arg("x"),
      "(P x, active): the Newton polish's two-level preconditioner P applied to the columns of x, "
      "with B^{-1} = block_inverse, coarse space E = coarse and H E ~= hessian_coarse; active is "
      "False when E^T (H E) is not positive definite (then P = B^{-1}).");
  m.def("cone_scan_tests", &cone_scan_tests, py::arg("au").noconvert(),
        py::arg("ad").noconvert(), py::arg("inverse").noconvert(), py::kw_only(),
        py::arg("floor"), py::arg("moving"), py::arg("t"),
        "The per-row tests of the cone scans on given products: (above, crossed, worst) with "
        "above = -au * inverse > floor, crossed = (ad * inverse < moving) & (max(0, au) <= "
        "t * -ad), worst = max(floor, max(-au * inverse)) skipping NaN.");
}
