#include <dualnet/block_products.hpp>
#include <dualnet/block_solver.hpp>
#include <dualnet/certificate.hpp>
#include <dualnet/cone_projection.hpp>
#include <dualnet/convex_solver.hpp>
#include <dualnet/memory_budget.hpp>

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualnet {

namespace {

std::string shape(Index rows, Index cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

void check_data_shapes(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns) {
  const Index n = X.rows(), g = X.cols();
  if (y.size() != n)
    throw std::invalid_argument("X has shape " + shape(n, g) + " but y has " +
                                std::to_string(y.size()) + " entries");
  if (patterns.n_rows() != n || patterns.gate_dim() != g)
    throw std::invalid_argument("patterns has (n_rows, gate_dim) = " +
                                shape(patterns.n_rows(), patterns.gate_dim()) +
                                " but X has shape " + shape(n, g));
  if (patterns.size() == 0)
    throw std::invalid_argument("patterns is empty: at least one pattern is needed");
}

constexpr Scalar kTiny = std::numeric_limits<Scalar>::min();

// Upper estimate of what a solve allocates, checked before the first allocation: the blocks
// (g x P, twice for ReLU), the block gradients, the result's v and w, and in the worst case (every
// block visited) one BlockGram per pattern (Gram matrix, eigenvectors and eigenvalues).
std::size_t solver_memory_bytes(Index g, Index p, bool relu) {
  const Index blocks = relu ? 2 * p : p;
  std::size_t bytes = array_bytes({g, blocks}, sizeof(Scalar));
  bytes = saturating_add(bytes, array_bytes({3, g, p}, sizeof(Scalar)));
  bytes = saturating_add(bytes, array_bytes({p, 2 * g * g + g + 1}, sizeof(Scalar)));
  return saturating_add(bytes, array_bytes({blocks, 4}, sizeof(Scalar)));  // bounds, flags
}

class Engine {
 public:
  Engine(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns, Scalar beta,
         const SolverSettings& settings, InterruptCheck* interrupt)
      : X_(X), y_(y), patterns_(patterns), beta_(beta), settings_(settings),
        interrupt_(interrupt), relu_(settings.program == ConvexProgram::relu), n_(X.rows()),
        g_(X.cols()), p_(patterns.size()), nb_(relu_ ? 2 * p_ : p_) {
    u_.setZero(g_, nb_);
    grams_.resize(static_cast<std::size_t>(p_));
    counts_.resize(static_cast<std::size_t>(p_));
    for (Index i = 0; i < p_; ++i) counts_[static_cast<std::size_t>(i)] = patterns.count(i);
    if (relu_) {
      cone_states_.resize(static_cast<std::size_t>(nb_));
      bound_rows_.resize(static_cast<std::size_t>(nb_));
    }
    bounds_.setZero(nb_);
    in_ws_.assign(static_cast<std::size_t>(nb_), 0);
  }

  void warm_start(const Matrix* v0, const Matrix* w0) {
    if (!v0 && !w0) return;
    if (!relu_) {
      if (v0) u_ += *v0;
      if (w0) u_ -= *w0;
      return;
    }
    for (Index j = 0; j < nb_; ++j) {
      const Matrix* source = j < p_ ? v0 : w0;
      if (!source) continue;
      Vector c = source->col(pattern_of(j));
      if (c.norm() == 0) continue;
      // A warm start must be feasible for the ReLU program: project it onto its cone.
      ConeProjection proj = project_onto_cone(cone(pattern_of(j)), c);
      u_.col(j) = proj.u;
    }
  }

  ConvexSolution run() {
    ConvexSolution out;
    refresh_residual();
    certify();
    // Initial working set: the nonzero blocks and the most violating ones.
    std::vector<Index> nonzero;
    for (Index j = 0; j < nb_; ++j)
      if (u_.col(j).squaredNorm() > 0) nonzero.push_back(j);
    for (Index j : nonzero) add_to_ws(j);
    grow_ws(std::max<Index>(10, static_cast<Index>(nonzero.size())));

    Index epochs = 0;
    double work = 0;
    bool converged = relative_gap() <= settings_.tol;
    while (!converged && epochs < settings_.max_iter) {
      for (Index j : ws_) {
        if (interrupt_) interrupt_->poll();
        work += update_block(j);
      }
      ++epochs;
      record_residual();
      if (work < certificate_work_ && epochs < settings_.max_iter) continue;
      work = 0;
      refresh_residual();
      certify();
      if (settings_.verbose)
        std::fprintf(stderr,
                     "dualnet: epoch %ld  working set %ld  primal %.12e  dual %.12e  "
                     "relative gap %.3e\n",
                     static_cast<long>(epochs), static_cast<long>(ws_.size()), primal_,
                     best_dual_, relative_gap());
      if (relative_gap() <= settings_.tol) {
        converged = true;
        break;
      }
      // The working set is solved well relative to the full gap: the gap comes from outside.
      if (ws_relative_gap_ <= 0.3 * relative_gap()) {
        grow_ws(std::max<Index>(10, static_cast<Index>(ws_.size())));
        history_.clear();  // a new support: the recursion of the residuals changes
      }
    }

    // ReLU: the map-back to a network is exact on the cones, so make the returned blocks
    // feasible: project any block that round-off left outside its cone, and recertify.
    if (relu_) {
      bool changed = false;
      for (Index j = 0; j < nb_; ++j) {
        Vector u = u_.col(j);
        if (u.squaredNorm() == 0) continue;
        const PatternCone c = cone(pattern_of(j));
        if (c.relative_violation(u) > 0) {
          ConeProjection proj = project_onto_cone(c, u);
          u_.col(j) = proj.u;
          changed = true;
        }
      }
      if (changed) {
        refresh_residual();
        certify();
        converged = relative_gap() <= settings_.tol;
      }
      for (Index j = 0; j < nb_; ++j) {
        Vector u = u_.col(j);
        if (u.squaredNorm() > 0)
          out.max_cone_violation =
              std::max(out.max_cone_violation, cone(pattern_of(j)).relative_violation(u));
      }
    }

    out.v = Matrix(u_.leftCols(p_));
    out.w = relu_ ? Matrix(u_.rightCols(p_)) : Matrix::Zero(g_, p_);
    out.primal_objective = primal_;
    out.dual_objective = best_dual_;
    out.duality_gap = primal_ - best_dual_;
    out.relative_gap = relative_gap();
    out.converged = converged;
    out.status = converged ? SolverStatus::converged : SolverStatus::max_iter;
    out.n_iter = epochs;
    out.dual = best_theta_;
    for (Index i = 0; i < p_; ++i) {
      bool active = u_.col(i).squaredNorm() > 0;
      if (relu_) active = active || u_.col(p_ + i).squaredNorm() > 0;
      out.n_active += active ? 1 : 0;
    }
    return out;
  }

 private:
  Index pattern_of(Index j) const { return j < p_ ? j : j - p_; }
  Scalar sign_of(Index j) const { return j < p_ ? Scalar{1} : Scalar{-1}; }
  PatternCone cone(Index i) const { return PatternCone{X_, patterns_, i}; }

  const BlockGram& gram(Index i) {
    auto& slot = grams_[static_cast<std::size_t>(i)];
    if (!slot) slot = std::make_unique<BlockGram>(make_block_gram(block_gram(X_, patterns_, i)));
    return *slot;
  }

  Scalar relative_gap() const { return (primal_ - best_dual_) / std::max(primal_, kTiny); }

  // r = y - sum_j s_j D_i X u_j, from scratch (no drift in the certified quantities).
  void refresh_residual() {
    r_ = y_;
    for (Index j = 0; j < nb_; ++j) {
      if (u_.col(j).squaredNorm() == 0) continue;
      add_block_prediction(X_, patterns_, pattern_of(j), u_.col(j).data(), -sign_of(j), r_.data());
    }
    Scalar penalty = 0;
    for (Index j = 0; j < nb_; ++j) penalty += u_.col(j).norm();
    primal_ = 0.5 * r_.squaredNorm() + beta_ * penalty;
  }

  // Certificate at the current iterate: the residual itself and, once enough epochs are
  // recorded, its extrapolation (below); the best dual point seen so far is kept (any feasible
  // point certifies, and the primal only decreases).
  void certify() {
    certificate_work_ = 0;
    ws_relative_gap_ = std::numeric_limits<Scalar>::infinity();
    certify_point(r_);
    Vector extrapolated;
    if (extrapolate(extrapolated)) certify_point(extrapolated);
  }

  // Bounds of every block's dual norm at the residual-like point `r`, the rescaled dual point
  // theta = r / max(1, max bound / beta) and its objective.
  void certify_point(const Vector& r) {
    all_block_gradients(X_, patterns_, r.data(), gradients_);
    Index scans = 0;
    Scalar max_bound = 0, max_ws_bound = 0;
    for (Index j = 0; j < nb_; ++j) {
      const Index i = pattern_of(j);
      Scalar bound;
      if (!relu_) {
        bound = gradients_.col(i).norm();
      } else {
        const Vector c = sign_of(j) * gradients_.col(i);
        ConeBound b =
            cone_dual_norm_bound(cone(i), c, beta_, bound_rows_[static_cast<std::size_t>(j)]);
        bound = b.bound;
        scans += b.n_scans;
      }
      bounds_[j] = bound;
      max_bound = std::max(max_bound, bound);
      if (in_ws_[static_cast<std::size_t>(j)]) max_ws_bound = std::max(max_ws_bound, bound);
    }
    Vector theta = r / dual_scaling(max_bound, beta_);
    const Scalar dual = dual_objective_value(theta, y_);
    if (dual > best_dual_ || best_theta_.size() == 0) {
      best_dual_ = dual;
      best_theta_ = std::move(theta);
    }
    const Scalar ws_dual = dual_objective_value(r / dual_scaling(max_ws_bound, beta_), y_);
    ws_relative_gap_ =
        std::min(ws_relative_gap_, (primal_ - ws_dual) / std::max(primal_, kTiny));
    certificate_work_ += 0.5 * static_cast<double>(n_) * static_cast<double>(p_) *
                             static_cast<double>(g_) +
                         2.0 * static_cast<double>(scans) * static_cast<double>(n_ * g_);
  }

  // Dual extrapolation (Massias, Gramfort & Salmon, ICML 2018, "Celer"): once the support is
  // identified, the residuals of successive epochs follow a linear recursion, and the affine
  // combination sum_k c_k r_k with c = z / 1^T z, (U^T U) z = 1, U the differences of the last
  // K + 1 residuals, lies much closer to the optimal dual point than r itself. It is only a
  // candidate: the certificate rescales it like any other point.
  bool extrapolate(Vector& out) const {
    const Index k = static_cast<Index>(history_.size()) - 1;
    if (k < kExtrapolation) return false;
    Eigen::MatrixXd diffs(n_, k);
    for (Index j = 0; j < k; ++j)
      diffs.col(j) = history_[static_cast<std::size_t>(j + 1)] - history_[static_cast<std::size_t>(j)];
    const Eigen::MatrixXd gram = diffs.transpose() * diffs;
    Eigen::LDLT<Eigen::MatrixXd> ldlt(gram);
    if (ldlt.info() != Eigen::Success) return false;
    const Vector z = ldlt.solve(Vector::Ones(k));
    const Scalar total = z.sum();
    if (!z.allFinite() || !std::isfinite(total) || total == 0) return false;
    out = Vector::Zero(n_);
    for (Index j = 0; j < k; ++j) out += (z[j] / total) * history_[static_cast<std::size_t>(j + 1)];
    return out.allFinite();
  }

  void record_residual() {
    if (static_cast<Index>(history_.size()) == kExtrapolation + 1) history_.pop_front();
    history_.push_back(r_);
  }

  void add_to_ws(Index j) {
    if (in_ws_[static_cast<std::size_t>(j)]) return;
    in_ws_[static_cast<std::size_t>(j)] = 1;
    ws_.push_back(j);
  }

  // Adds up to `count` blocks outside the working set whose bound exceeds beta, largest first.
  void grow_ws(Index count) {
    std::vector<Index> candidates;
    for (Index j = 0; j < nb_; ++j)
      if (!in_ws_[static_cast<std::size_t>(j)] && bounds_[j] > beta_) candidates.push_back(j);
    const Index take = std::min<Index>(count, static_cast<Index>(candidates.size()));
    std::partial_sort(candidates.begin(), candidates.begin() + take, candidates.end(),
                      [&](Index a, Index b) { return bounds_[a] > bounds_[b]; });
    for (Index k = 0; k < take; ++k) add_to_ws(candidates[static_cast<std::size_t>(k)]);
  }

  // Exact minimisation over block j; returns its cost in multiply-adds (for the schedule).
  double update_block(Index j) {
    const Index i = pattern_of(j);
    const Scalar s = sign_of(j);
    const BlockGram& q = gram(i);
    Vector gradient(g_);
    block_gradient(X_, patterns_, i, r_.data(), gradient.data());
    const Vector u_old = u_.col(j);
    const Vector b = s * gradient + q.gram * u_old;
    Vector u_new;
    double cost = 2.0 * static_cast<double>(counts_[static_cast<std::size_t>(i)] * g_);
    if (!relu_) {
      u_new = group_block_minimizer(q.vectors, q.values, b, beta_);
    } else {
      u_new = u_old;
      const Index scans =
          cone_block_minimizer(cone(i), q, b, beta_, u_new, cone_states_[static_cast<std::size_t>(j)]);
      cost += 2.0 * static_cast<double>(scans * n_ * g_);
    }
    const Vector delta = u_new - u_old;
    if (delta.squaredNorm() > 0) {
      add_block_prediction(X_, patterns_, i, delta.data(), -s, r_.data());
      u_.col(j) = u_new;
    }
    return cost;
  }

  const MatrixCRef& X_;
  const VectorCRef& y_;
  const PatternSet& patterns_;
  const Scalar beta_;
  const SolverSettings settings_;
  InterruptCheck* interrupt_;
  const bool relu_;
  const Index n_, g_, p_, nb_;

  BlockMatrix u_;  // (g, nb): column j is block j
  Vector r_;       // residual y - yhat: the dual iterate
  Scalar primal_ = 0;
  Scalar best_dual_ = -std::numeric_limits<Scalar>::infinity();
  Vector best_theta_;
  Scalar ws_relative_gap_ = 0;
  static constexpr Index kExtrapolation = 5;
  std::deque<Vector> history_;  // residuals after the last epochs (for extrapolation)
  double certificate_work_ = 0;
  BlockMatrix gradients_;
  Vector bounds_;
  std::vector<Index> counts_;
  std::vector<std::unique_ptr<BlockGram>> grams_;
  std::vector<ConeBlockState> cone_states_;
  std::vector<std::vector<Index>> bound_rows_;
  std::vector<char> in_ws_;
  std::vector<Index> ws_;
};

}  // namespace

void validate_convex_problem(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns,
                             Scalar beta, const SolverSettings& settings, const Matrix* v0,
                             const Matrix* w0) {
  const Index g = X.cols(), p = patterns.size();
  check_data_shapes(X, y, patterns);
  if (!(beta > 0) || !std::isfinite(beta))
    throw std::invalid_argument("beta must be positive and finite, got " + std::to_string(beta));
  if (!(settings.tol > 0))
    throw std::invalid_argument("tol must be positive, got " + std::to_string(settings.tol));
  if (settings.max_iter <= 0)
    throw std::invalid_argument("max_iter must be positive, got " +
                                std::to_string(settings.max_iter));
  if (!X.allFinite()) throw std::invalid_argument("X contains NaN or infinity");
  if (!y.allFinite()) throw std::invalid_argument("y contains NaN or infinity");
  const Matrix* starts[2] = {v0, w0};
  const char* names[2] = {"v0", "w0"};
  for (int k = 0; k < 2; ++k) {
    if (!starts[k]) continue;
    if (starts[k]->rows() != g || starts[k]->cols() != p)
      throw std::invalid_argument(std::string(names[k]) + " has shape " +
                                  shape(starts[k]->rows(), starts[k]->cols()) +
                                  " but (gate_dim, n_patterns) = " + shape(g, p));
    if (!starts[k]->allFinite())
      throw std::invalid_argument(std::string(names[k]) + " contains NaN or infinity");
  }
}

ConvexSolution solve_convex(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns,
                            Scalar beta, const SolverSettings& settings, const Matrix* v0,
                            const Matrix* w0, InterruptCheck* interrupt) {
  validate_convex_problem(X, y, patterns, beta, settings, v0, w0);
  check_memory_budget(solver_memory_bytes(X.cols(), patterns.size(),
                                          settings.program == ConvexProgram::relu),
                      "solve_convex over " + std::to_string(patterns.size()) +
                          " patterns of gate dimension " + std::to_string(X.cols()));
  Engine engine(X, y, patterns, beta, settings, interrupt);
  engine.warm_start(v0, w0);
  return engine.run();
}

Scalar beta_max(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns,
                ConvexProgram program) {
  const Index g = X.cols();
  check_data_shapes(X, y, patterns);
  BlockMatrix gradients;
  const Vector target = y;
  all_block_gradients(X, patterns, target.data(), gradients);
  Scalar best = 0;
  for (Index i = 0; i < patterns.size(); ++i) {
    const Vector c = gradients.col(i);
    if (program == ConvexProgram::gated) {
      best = std::max(best, c.norm());
    } else {
      const PatternCone cone{X, patterns, i};
      // Converged projections: the exact cone dual norms (their bounds, were a projection
      // stopped by its scan cap, are still upper bounds).
      best = std::max(best, project_onto_cone(cone, c, {}, -1, 100 * g + 100).bound);
      best = std::max(best, project_onto_cone(cone, Vector(-c), {}, -1, 100 * g + 100).bound);
    }
  }
  return best;
}

}  // namespace dualnet
