#include <dualnet/block_products.hpp>
#include <dualnet/block_solver.hpp>
#include <dualnet/certificate.hpp>
#include <dualnet/cone_projection.hpp>
#include <dualnet/convex_solver.hpp>
#include <dualnet/deflated_preconditioner.hpp>
#include <dualnet/helper_thread.hpp>
#include <dualnet/memory_budget.hpp>
#include <dualnet/pattern_set_ops.hpp>
#include <dualnet/residual_history.hpp>
#include <dualnet/support_gram.hpp>
#include <dualnet/support_products.hpp>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/QR>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace dualnet {

namespace {

std::string shape(Index rows, Index cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

// The cones' geometry squares the rows of X (row norms, Gram matrices of active rows): a nonzero
// row whose entries are all below 1e-150 in magnitude squares to a subnormal or to zero, and
// one above 1e150 to infinity, which the projections cannot work with.
void check_row_scale(const MatrixCRef& X) {
  for (Index k = 0; k < X.rows(); ++k) {
    const Scalar largest = X.row(k).cwiseAbs().maxCoeff();
    if (largest == 0 || (largest >= 1e-150 && largest <= 1e150)) continue;
    char text[240];
    std::snprintf(text, sizeof(text),
                  "X row %ld has largest entry %.3g in magnitude: a nonzero row must have an "
                  "entry between 1e-150 and 1e150 (its square must stay a normal double); "
                  "rescale X",
                  static_cast<long>(k), largest);
    throw std::invalid_argument(text);
  }
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
// (g x P, twice for ReLU), the block gradients, the result's v and w, in the worst case (every
// block visited) one BlockGram per pattern (Gram matrix, eigenvectors and eigenvalues), and the
// conjugate-gradient polish's four g x g matrices per support block (the block's Hessian, its
// factor, its rows of the coarse space and of their product), every block in the support.
std::size_t solver_memory_bytes(Index g, Index p, bool relu) {
  const Index blocks = relu ? 2 * p : p;
  std::size_t bytes = array_bytes({g, blocks}, sizeof(Scalar));
  bytes = saturating_add(bytes, array_bytes({3, g, p}, sizeof(Scalar)));
  if (relu) bytes = saturating_add(bytes, array_bytes({g, blocks}, sizeof(Index)));  // bound caches' rows
  if (relu) bytes = saturating_add(bytes, array_bytes({p, 8}, sizeof(Scalar)));  // pattern hash table
  bytes = saturating_add(bytes, array_bytes({p, 2 * g * g + g + 1}, sizeof(Scalar)));
  bytes = saturating_add(bytes, array_bytes({blocks, 4 * g * g}, sizeof(Scalar)));
  return saturating_add(bytes, array_bytes({blocks, 4}, sizeof(Scalar)));  // bounds, flags
}

// The blocks (g, nb) of one epoch as the Anderson window keeps them: only the columns that are
// not all +0.0 are stored (most blocks are outside the support and exactly 0), so a window of
// K + 1 iterates costs K + 1 times the support, not K + 1 times every block. col(j) reads a
// stored column or a shared column of +0.0: the same values as the full matrix, bit for bit.
class BlockSnapshot {
 public:
  explicit BlockSnapshot(const BlockMatrix& u) : position_(static_cast<std::size_t>(u.cols()), -1),
                                                 zero_(Vector::Zero(u.rows())) {
    Index stored = 0;
    for (Index j = 0; j < u.cols(); ++j)
      if (!all_positive_zero(u, j)) position_[static_cast<std::size_t>(j)] = stored++;
    values_.resize(u.rows(), stored);
    for (Index j = 0; j < u.cols(); ++j)
      if (position_[static_cast<std::size_t>(j)] >= 0)
        values_.col(position_[static_cast<std::size_t>(j)]) = u.col(j);
  }

  Eigen::Ref<const Vector> col(Index j) const {
    const Index at = position_[static_cast<std::size_t>(j)];
    if (at < 0) return zero_;
    return values_.col(at);
  }

 private:
  static bool all_positive_zero(const BlockMatrix& u, Index j) {
    for (Index t = 0; t < u.rows(); ++t)
      if (u(t, j) != 0 || std::signbit(u(t, j))) return false;
    return true;
  }

  std::vector<Index> position_;  // column -> its index in values_, -1 for a column of +0.0
  BlockMatrix values_;
  Vector zero_;
};

class Engine {
 public:
  Engine(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns, Scalar beta,
         const SolverSettings& settings, InterruptCheck* interrupt)
      : X_(X), y_(y), patterns_(patterns), beta_(beta), settings_(settings),
        interrupt_(interrupt), relu_(settings.program == ConvexProgram::relu), n_(X.rows()),
        g_(X.cols()), p_(patterns.size()), nb_(relu_ ? 2 * p_ : p_) {
    if (relu_) inverse_norms_ = inverse_row_norms(X);
    u_.setZero(g_, nb_);
    grams_.resize(static_cast<std::size_t>(p_));
    counts_.resize(static_cast<std::size_t>(p_));
    for (Index i = 0; i < p_; ++i) counts_[static_cast<std::size_t>(i)] = patterns.count(i);
    if (relu_) {
      cone_states_.resize(static_cast<std::size_t>(nb_));
      bound_caches_.resize(static_cast<std::size_t>(nb_));
      bound_references_.resize(static_cast<std::size_t>(nb_));
    }
    bounds_.setZero(nb_);
    in_ws_.assign(static_cast<std::size_t>(nb_), 0);
    screened_.assign(static_cast<std::size_t>(nb_), 0);
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
      poll();
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
    apply_screening();

    Index epochs = 0;
    double work = 0, since_polish = 0, polish_cost = 0;
    Scalar last_objective = primal_;
    bool idle_certified = false;
    bool converged = relative_gap() <= settings_.tol;
    while (!converged && epochs < settings_.max_iter) {
      const double epoch_work = sweep();
      for (Index j : pending_ws_) add_to_ws(j);
      pending_ws_.clear();
      work += epoch_work;
      since_polish += epoch_work;
      ++epochs;
      anderson_step();
      // The polish runs once the epochs since the last one cost half as much as it did, so that
      // polishes that do not pay off take at most about two thirds of the time (polishing half
      // or twice as often was not consistently faster on small benchmark problems); a polish
      // that moved the iterate is certified right away (near the optimum its residual closes
      // the gap).
      bool polished = false;
      if (epochs % (kExtrapolation + 1) == 0 && 2 * since_polish >= polish_cost) {
        polish_cost = newton_polish(polished);
        work += polish_cost;
        since_polish = 0;
      }
      // Certify when the extrapolated dual point of the last window is ready (late in a solve it
      // is the point that closes the gap: r itself lags, its dual-norm excess is linear in the
      // distance to the optimum while the primal error is quadratic), when the epochs since the
      // last certificate cost twice as much as one (so certificates take at most about a third
      // of the time), or when the working set stalls: an epoch gaining less than 1e-3 of the
      // last certified gap means the working-set problem is nearly solved and the remaining gap
      // is the outside blocks'. A stall alone waits for epochs worth one certificate: late in a
      // solve the gap is the dual point's lag, every epoch looks stalled, and certifying each
      // one would cost more than the epochs themselves.
      const Scalar objective = working_objective();
      const bool stalled = last_objective - objective <= 1e-3 * (primal_ - best_dual_);
      // An epoch that changed nothing (the working-set problem is solved to round-off) is
      // certified at once, whatever the certificate costs: further epochs cannot help, only new
      // blocks can (once per such streak: if the certificate adds none, waiting is no worse).
      // ReLU only: a gated certificate is one GEMM, so the usual schedule reaches it soon.
      const bool idle = last_objective - objective <= 1e-13 * objective;
      const bool idle_check = relu_ && idle && !idle_certified;
      idle_certified = idle;
      last_objective = objective;
      // An extrapolated point is certified once the epochs since the last certificate cost half
      // as much as one (with many small patterns a certificate costs tens of epochs).
      const bool candidate_ready = dual_candidate_.size() == n_ && 2 * work >= certificate_work_;
      if (!candidate_ready && !polished && !idle_check && work < 2 * certificate_work_ &&
          !(stalled && work >= certificate_work_) && epochs < settings_.max_iter)
        continue;
      work = 0;
      refresh_residual();
      certify();
      apply_screening();
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
        // ReLU: by twice the support (celer's rule), since face transfers move blocks to their
        // neighbours and the sweeps need not carry every violating block; gated: by the size.
        Index support = 0;
        for (Index col : ws_) support += u_.col(col).squaredNorm() > 0 ? 1 : 0;
        grow_ws(std::max<Index>(10, relu_ ? 2 * support : static_cast<Index>(ws_.size())));
      }
    }

    // Blocks at round-off level (extrapolation and projections can leave 1e-40 instead of 0)
    // are set to 0, so that n_active and the map-back count real neurons only. ReLU: the
    // map-back to a network is exact on the cones, so make the returned blocks feasible:
    // project any block that round-off left outside its cone. Then recertify.
    bool changed = false;
    if (relu_) {
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
    }
    const Scalar largest = u_.colwise().norm().maxCoeff();
    for (Index j = 0; j < nb_; ++j) {
      const Scalar norm = u_.col(j).norm();
      if (norm > 0 && norm <= 1e-13 * largest) {
        u_.col(j).setZero();
        changed = true;
      }
    }
    if (changed) {
      refresh_residual();
      certify();
      converged = relative_gap() <= settings_.tol;
    }
    if (relu_) {
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
    out.screened = Eigen::Array<bool, 2, Eigen::Dynamic>::Constant(2, p_, false);
    for (Index j = 0; j < nb_; ++j)
      out.screened(j < p_ ? 0 : 1, pattern_of(j)) = screened_[static_cast<std::size_t>(j)] != 0;
    out.dual = std::move(best_theta_);
    for (Index i = 0; i < p_; ++i) {
      bool active = u_.col(i).squaredNorm() > 0;
      if (relu_) active = active || u_.col(p_ + i).squaredNorm() > 0;
      out.n_active += active ? 1 : 0;
    }
    return out;
  }

 private:
  void poll() {
    if (interrupt_) interrupt_->poll();
  }
  Index pattern_of(Index j) const { return j < p_ ? j : j - p_; }
  Scalar sign_of(Index j) const { return j < p_ ? Scalar{1} : Scalar{-1}; }
  PatternCone cone(Index i) const { return PatternCone{X_, patterns_, i, inverse_norms_}; }

  // The patterns (and gates) of the support's blocks, in its order: the set the polish's
  // products walk.
  PatternSet support_patterns(const std::vector<Index>& support) const {
    std::vector<Index> indices;
    indices.reserve(support.size());
    for (Index col : support) indices.push_back(pattern_of(col));
    return select_patterns(patterns_, indices);
  }

  const BlockGram& gram(Index i) {
    auto& slot = grams_[static_cast<std::size_t>(i)];
    if (!slot) slot = std::make_unique<BlockGram>(make_block_gram(split_block_gram(i)));
    return *slot;
  }

  Scalar relative_gap() const { return (primal_ - best_dual_) / std::max(primal_, kTiny); }

  // Objective from the tracked residual (no pass over X); blocks outside the working set are 0.
  Scalar working_objective() const {
    Scalar penalty = 0;
    for (Index col : ws_) penalty += u_.col(col).norm();
    return 0.5 * r_.squaredNorm() + beta_ * penalty;
  }

  // r = y - sum_j s_j D_i X u_j, from scratch (no drift in the certified quantities).
  void refresh_residual() { primal_ = residual_from_scratch(r_); }

  // r = y - sum_j s_j D_i X u_j at the current blocks; returns the primal objective there.
  Scalar residual_from_scratch(Vector& r) const {
    r = y_;
    std::vector<Index> indices;
    std::vector<const Scalar*> weights;
    std::vector<Scalar> alphas;
    for (Index j = 0; j < nb_; ++j) {
      if (u_.col(j).squaredNorm() == 0) continue;
      indices.push_back(pattern_of(j));
      weights.push_back(u_.col(j).data());
      alphas.push_back(-sign_of(j));
    }
    // All blocks in one pass over the rows (the same sums as block by block).
    add_block_predictions(X_, patterns_, indices, weights, alphas, r.data(), settings_.n_threads);
    Scalar penalty = 0;
    for (Index j = 0; j < nb_; ++j) penalty += u_.col(j).norm();
    return 0.5 * r.squaredNorm() + beta_ * penalty;
  }

  // Gated: what the certificate at the current iterate (residual from scratch, every block's
  // bound) says of a polish: the requested gap closes, or blocks outside the support (and not
  // screened) violate their dual constraints by more than the requested gap allows (the
  // support's problem is not the whole problem: solving it further cannot close the gap, the
  // support must grow first; they are appended to `missing`), or neither. Nothing of the
  // solver's state changes, so asking does not alter the course of a solve that goes on.
  enum class PolishCheck { gap_closes, block_missing, undecided };
  PolishCheck gated_polish_check(std::vector<Index>& missing) const {
    Vector r;
    const Scalar primal = residual_from_scratch(r);
    BlockMatrix gradients;
    all_block_gradients(X_, patterns_, r.data(), gradients, settings_.n_threads);
    const Vector norms = gradients.colwise().norm().transpose();
    const Scalar scaling = dual_scaling(norms.maxCoeff(), beta_);
    const Scalar dual = std::max(
        best_dual_, r.dot(y_) / scaling - 0.5 * r.squaredNorm() / (scaling * scaling));
    if (primal - dual <= settings_.tol * std::max(primal, kTiny)) return PolishCheck::gap_closes;
    for (Index j = 0; j < nb_; ++j)
      if (!screened_[static_cast<std::size_t>(j)] && u_.col(j).squaredNorm() == 0 &&
          norms[j] > (1 + settings_.tol) * beta_)
        missing.push_back(j);
    return missing.empty() ? PolishCheck::undecided : PolishCheck::block_missing;
  }

  // Certificate at the current iterate: the residual itself and, once enough epochs are
  // recorded, its extrapolation (below); the best dual point seen so far is kept (any feasible
  // point certifies, and the primal only decreases).
  void certify() {
    certificate_work_ = 0;
    ws_relative_gap_ = std::numeric_limits<Scalar>::infinity();
    certify_point(r_);
    if (dual_candidate_.size() == n_) {
      certify_point(dual_candidate_);
      dual_candidate_.resize(0);
    }
  }

  // Bounds of every block's dual norm at the residual-like point `r`, the rescaled dual point
  // theta = r / max(1, max bound / beta) and its objective.
  void certify_point(const Vector& r) {
    all_block_gradients(X_, patterns_, r.data(), gradients_, settings_.n_threads);
    Index scans = 0, solves = 0;
    Scalar max_bound = 0, max_ws_bound = 0;
    for (Index j = 0; j < nb_; ++j) {
      poll();
      const Index i = pattern_of(j);
      Scalar bound;
      if (!relu_) {
        bound = gradients_.col(i).norm();
      } else {
        const auto c = sign_of(j) * gradients_.col(i);
        const Scalar c_norm = c.norm();
        // The cone dual norm N is sublinear and N(x) <= ||x||, so the bound B computed at an
        // earlier c0 gives N(c) <= B + ||c - c0|| at O(g) cost: blocks well inside the dual
        // ball between certificates need no projection (most of them, with many patterns).
        BoundReference& reference = bound_references_[static_cast<std::size_t>(j)];
        const Scalar moved = reference.c.size() == g_
                                 ? reference.bound + (c - reference.c).norm()
                                 : std::numeric_limits<Scalar>::infinity();
        if (c_norm <= beta_ || moved <= beta_) {
          bound = std::min(c_norm, moved);
        } else {
          // A few scans per certificate: the bound is valid at any iterate, and the next
          // certificate resumes from the rows kept (the first ones, from scratch, would
          // otherwise cost g scans for every violating block).
          reference.c = c;
          ConeBound b = cone_dual_norm_bound(cone(i), reference.c, beta_,
                                             bound_caches_[static_cast<std::size_t>(j)], 6);
          bound = reference.bound = b.bound;
          scans += b.n_scans;
          solves += b.n_solves;
        }
      }
      bounds_[j] = bound;
      max_bound = std::max(max_bound, bound);
      if (in_ws_[static_cast<std::size_t>(j)]) max_ws_bound = std::max(max_ws_bound, bound);
    }
    // Dual objectives of r / s from two inner products (no length-n temporary); the best point
    // is written over the previous best's buffer.
    const Scalar ry = r.dot(y_), rr = r.squaredNorm();
    auto scaled_dual = [&](Scalar s) { return ry / s - 0.5 * rr / (s * s); };
    const Scalar scaling = dual_scaling(max_bound, beta_);
    const Scalar dual = scaled_dual(scaling);
    screen(scaling, dual);
    if (dual > best_dual_ || best_theta_.size() == 0) {
      best_dual_ = dual;
      best_theta_ = r / scaling;
    }
    const Scalar ws_dual = scaled_dual(dual_scaling(max_ws_bound, beta_));
    ws_relative_gap_ =
        std::min(ws_relative_gap_, (primal_ - ws_dual) / std::max(primal_, kTiny));
    // The GEMM pass runs at matrix-multiply speed (counted at half its multiply-adds); the scans
    // of the cone projections are counted up to four GEMM passes, since the first certificates
    // project from scratch and later ones are warm-started; each projection also pays small
    // least-squares factorisations and allocations (counted as 20 g^2 + 500: with many small
    // patterns they, not the scans, are the certificate's cost).
    // The GEMM's 0/1 panels cost about two operations per mask bit on top (most of the pass
    // when g is small).
    const double gemm = 0.5 * static_cast<double>(n_) * static_cast<double>(p_) *
                            static_cast<double>(g_) +
                        2.0 * static_cast<double>(n_) * static_cast<double>(p_);
    certificate_work_ +=
        gemm + std::min(4 * gemm, 2.0 * static_cast<double>(scans) * static_cast<double>(n_ * g_)) +
        static_cast<double>(solves) * (20.0 * static_cast<double>(g_ * g_) + 500);
  }

  // Gap Safe screening (Fercoq, Gramfort & Salmon, ICML 2015; Ndiaye, Fercoq, Gramfort &
  // Salmon, JMLR 2017), for both programs. The dual objective is 1-strongly concave, so the
  // dual optimum theta* (unique) satisfies ||theta - theta*|| <= rho = sqrt(2 (P(u) - D(theta)))
  // for any feasible theta. A block j that is nonzero at some optimum satisfies
  // s theta*^T D_i X u_j = beta ||u_j|| (its optimality condition, u_j in K_i for ReLU), so its
  // dual norm N_j(theta*) = max_{u in K_i, ||u|| <= 1} s theta*^T D_i X u equals beta (K_i = R^g
  // for the gated program). N_j is sublinear with N_j(c) <= ||c||, hence
  //   N_j(theta*) <= N_j(theta) + ||X^T D_i (theta* - theta)|| <= B_j / scaling + rho ||D_i X||_2,
  // with B_j the certified bound at the point r = scaling * theta. When that is below beta the
  // block is 0 at every optimum: it is set to 0 and never updated again. ||D_i X||_2 is
  // sqrt(l_max) of the block Gram when it is known, else ||X||_2 (D_i is a 0/1 diagonal).
  void screen(Scalar scaling, Scalar dual) {
    const Scalar rho = std::sqrt(2 * std::max(Scalar{0}, primal_ - dual));
    if (!std::isfinite(rho)) return;
    if (data_norm_ < 0) {
      const Eigen::MatrixXd gram = X_.transpose() * X_;
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(gram, Eigen::EigenvaluesOnly);
      data_norm_ = std::sqrt(std::max(Scalar{0}, eig.eigenvalues().maxCoeff()));
    }
    // A relative margin far above round-off in the bounds (they are computed in floating point).
    const Scalar threshold = beta_ * (1 - 1e-9);
    for (Index j = 0; j < nb_; ++j) {
      if (screened_[static_cast<std::size_t>(j)]) continue;
      const auto& slot = grams_[static_cast<std::size_t>(pattern_of(j))];
      const Scalar norm = slot ? std::sqrt(slot->max_value) : data_norm_;
      if (bounds_[j] / scaling + rho * norm < threshold) {
        screened_[static_cast<std::size_t>(j)] = 1;
        screening_pending_ = true;
      }
    }
  }

  // Removes the screened blocks from the working set, setting them to 0 (the residual follows).
  void apply_screening() {
    if (!screening_pending_) return;
    screening_pending_ = false;
    std::vector<Index> kept;
    bool changed = false;
    for (Index j : ws_) {
      if (!screened_[static_cast<std::size_t>(j)]) {
        kept.push_back(j);
        continue;
      }
      in_ws_[static_cast<std::size_t>(j)] = 0;
      if (u_.col(j).squaredNorm() > 0) {
        add_block_prediction(X_, patterns_, pattern_of(j), u_.col(j).data(), sign_of(j), r_.data(),
                             &workspace_);
        u_.col(j).setZero();
        changed = true;
      }
      if (relu_) cone_states_[static_cast<std::size_t>(j)].working_rows.clear();
    }
    ws_.swap(kept);
    if (changed) {
      anderson_u_.clear();
      anderson_r_.clear();
      refresh_residual();
    }
  }

  // Dual extrapolation (Massias, Gramfort & Salmon, ICML 2018, "Celer"): once the support is
  // identified, the residuals of successive epochs follow a linear recursion, and the affine
  // combination sum_k c_k r_k with c = z / 1^T z, (U^T U) z = 1, U the differences of the last
  // K + 1 residuals, lies much closer to the optimal dual point than r itself. It is only a
  // candidate: the certificate rescales it like any other point.
  // The residuals are those of the K + 1 epochs since the last Anderson step (consecutive BCD
  // epochs: no jump inside the window); the candidate is certified at the next check.
  // Returns false when there is no candidate; otherwise the weights z / 1^T z (to be combined by
  // the caller once the history's unused first difference is released).
  bool extrapolation_weights(const ResidualHistory& history, Vector& weights) const {
    const Index k = history.size() - 1;
    if (k < 1) return false;
    const Eigen::MatrixXd gram = history.difference_gram();
    Eigen::LDLT<Eigen::MatrixXd> ldlt(gram);
    if (ldlt.info() != Eigen::Success) return false;
    const Vector z = ldlt.solve(Vector::Ones(k));
    const Scalar total = z.sum();
    if (!z.allFinite() || !std::isfinite(total) || total == 0) return false;
    weights = z / total;
    return true;
  }

  // Anderson acceleration of the primal iterates (as in skglm: Bertrand et al., NeurIPS 2022):
  // every K + 1 epochs, the affine combination sum_k c_k u_k of the last iterates with
  // c = z / 1^T z, (U^T U) z = 1, U their differences, replaces the iterate if it lowers the
  // objective (and, ReLU, stays in the cones). The residual is affine in u, so the same
  // combination of the recorded residuals is the residual of the combination: the test costs
  // O(K n), no pass over X. Cyclic BCD on strongly overlapping blocks (similar patterns) converges
  // linearly but slowly; the extrapolation follows the slow direction.
  void anderson_step() {
    anderson_u_.emplace_back(u_);
    anderson_r_.push(r_);
    if (static_cast<Index>(anderson_u_.size()) < kExtrapolation + 1) return;
    Vector dual_weights;
    const bool extrapolated = extrapolation_weights(anderson_r_, dual_weights);
    const Index k = kExtrapolation;
    Eigen::MatrixXd gram;
    {
      const Index ws = static_cast<Index>(ws_.size());
      Eigen::MatrixXd diffs(g_ * ws, k);
      for (Index j = 0; j < k; ++j)
        for (Index b = 0; b < ws; ++b) {
          const Index col = ws_[static_cast<std::size_t>(b)];
          diffs.col(j).segment(b * g_, g_) = anderson_u_[static_cast<std::size_t>(j + 1)].col(col) -
                                            anderson_u_[static_cast<std::size_t>(j)].col(col);
        }
      gram = diffs.transpose() * diffs;
    }
    // Both Gram matrices are formed; neither combination reads the first residual difference,
    // so it is released before the extrapolated dual point takes its length-n buffer.
    anderson_r_.release_first_step();
    if (!extrapolated) {
      dual_candidate_.resize(0);
    } else {
      anderson_r_.combine(dual_weights, dual_candidate_);
      if (!dual_candidate_.allFinite()) dual_candidate_.resize(0);
    }
    const Scalar trace = gram.trace();
    if (trace > 0) {
      gram.diagonal().array() += 1e-12 * trace;
      Vector c = gram.ldlt().solve(Vector::Ones(k));
      const Scalar total = c.sum();
      if (c.allFinite() && std::isfinite(total) && total != 0) {
        c /= total;
        BlockMatrix u = BlockMatrix::Zero(g_, nb_);
        for (Index j = 0; j < k; ++j)
          for (Index col : ws_) u.col(col) += c[j] * anderson_u_[static_cast<std::size_t>(j + 1)].col(col);
        // The residual of the combination is the same combination of the residuals, built over
        // the history's own buffer (no length-n allocation).
        try_iterate(u, anderson_r_.combine_in_place(c));
      }
    }
    anderson_u_.clear();
    anderson_r_.clear();
  }

  // Newton polish on the identified support. Cyclic BCD converges at a rate 1 - 1/kappa on
  // strongly overlapping blocks (similar patterns, 1-D data, small beta); with the support and the
  // tight cone rows fixed, the objective is smooth in the reduced coordinates z_j (u_j = Z_j z_j,
  // Z_j a basis of the null space of the block's tight rows), and Newton's method converges
  // quadratically. Small problems (m <= 400 and n m^2 / 4 <= 100 n g k, m the sum of the free
  // dimensions of the k nonzero blocks) form the reduced Gram matrix and solve each Newton system
  // directly (gated: newton_direct; ReLU: newton_faces, which also finds the faces); larger ones
  // solve it by conjugate gradients with matrix-free Hessian products (two passes over the
  // support's rows at matrix-multiply speed each), preconditioned by the exact block diagonal of
  // the Hessian (Z_j^T X^T D_i X Z_j plus the penalty's curvature). A step is only a candidate:
  // try_iterate keeps it if the objective decreases (cone-projected first), so safety rests on
  // that test. Returns the cost in multiply-adds; `accepted` tells whether an iterate was kept.
  double newton_polish(bool& accepted) {
    accepted = false;
    double cost = 0;
    bool restart = true;
    // Gated: a round also restarts on the blocks its certificate check found missing (newton_cg),
    // so that one polish can take the support from the sweeps' to the optimum's. With 16 rounds
    // bench_solver.py's 10^5 x 20 x 200 problem took 45 epochs, with 8 as with the former 4, 72.
    // The same check and growth after the direct branch's exact support solves (small supports,
    // early in a solve) grew too much too soon: 12 gated problems took 5.7 s against 4.0 s.
    // ReLU (conjugate-gradient branch): rounds also restart on new tight rows; more than 4
    // rounds cost more than they save (twice the CPU time at 2000 x 20 x 100 with 64), the
    // sweeps and the face transfers identify the faces as well.
    const int rounds = relu_ ? 4 : 16;
    for (int round = 0; round < rounds && restart; ++round)
      cost += newton_polish_once(accepted, restart);
    return cost;
  }

  // One polish on the current support; `restart` tells that the support changed on the way
  // (blocks set to 0 or, gated, missing blocks added; ReLU: also the tight rows): a new polish
  // may pay off.
  double newton_polish_once(bool& accepted, bool& restart) {
    restart = false;
    std::vector<Index> support;
    for (Index col : ws_)
      if (u_.col(col).squaredNorm() > 0) support.push_back(col);
    if (support.empty()) return 0;
    std::vector<Eigen::MatrixXd> bases;
    Index m = 0;
    for (Index col : support) {
      Eigen::MatrixXd basis =
          relu_ ? face_basis(cone_states_[static_cast<std::size_t>(col)].working_rows)
                : Eigen::MatrixXd::Identity(g_, g_);
      if (basis.cols() == 0) return 0;
      m += basis.cols();
      bases.push_back(std::move(basis));
    }
    const double nm = static_cast<double>(n_) * static_cast<double>(m);
    // The Gram-space branches while forming the Gram matrix by rank updates (n m^2 / 2
    // multiply-adds at matrix-multiply speed) costs at most ~100 matrix-free Hessian products of
    // the CG branch (n g k each; with m = g k that is m <= 400, a Gram matrix of 1.3 MB at most;
    // memory.py counts it). Gated: row signatures often form it for far less (support_gram.hpp).
    const double gram_cost = 0.25 * nm * static_cast<double>(m);
    const double product_cost = static_cast<double>(n_) * static_cast<double>(g_) *
                                static_cast<double>(support.size());
    const bool gram_space = m <= 400 && gram_cost <= 100 * product_cost;
    if (!relu_ && gram_space) return newton_direct(support, bases, m, accepted);
    if (relu_ && gram_space) return newton_faces(support, accepted);
    return newton_cg(support, bases, m, accepted, restart);
  }

  // The ReLU program's branch of newton_polish for small supports: an active-set method over the
  // cones' faces that descends only at its end. W_b starts as every row tight at the block (its
  // smallest face). Each iteration solves the support's problem with every block held on its
  // face (the rows W_b tight: u_b = Z_b z_b, a group lasso in z, by gram_space_newton on the
  // reduced Gram matrix, blocks it set to 0 coming back when they violate), then moves each
  // block from its current point towards that solution up to the first cone row it crosses,
  // which joins W_b (the blocks stay in their cones, each stopped at its own row). When no block
  // is stopped, every block reached the solution on its face, and the row of each block with the
  // most negative multiplier leaves W_b. When no row leaves, the point is optimal for the
  // support (its KKT conditions hold on every face). The intermediate points need not lower the
  // objective: stopping the blocks at different fractions of a coupled step is not a descent
  // step, and requiring descent there (the CG branch's blocked_step) accepted almost none: the
  // steps were cut at the first row any of ~50 blocks met, t ~ 1e-6. The best point seen is
  // kept if try_iterate finds it lower than the current one. On planted20's final 66-pattern
  // set (bench_vs_sgd.py: at the optimum 58 blocks on faces with 10-19 of their 20 dimensions
  // held), the closing solve took 9 epochs and 0.41 s instead of 1,287 and 5.0 s; on the
  // near-duplicate sets of tests/test_core_solver.py at n = 2000, d = 12 (seeds 0-2),
  // 81, 72, 99 epochs instead of 459, 576, 306.
  double newton_faces(const std::vector<Index>& support, bool& accepted) {
    const Index k = static_cast<Index>(support.size());
    BlockMatrix u(g_, k);
    std::vector<std::vector<Index>> rows(static_cast<std::size_t>(k));
    for (Index b = 0; b < k; ++b) {
      const Index col = support[static_cast<std::size_t>(b)];
      u.col(b) = u_.col(col);
      rows[static_cast<std::size_t>(b)] = cone(pattern_of(col)).tight_rows(u.col(b), 1e-12);
    }
    const double block_cost = static_cast<double>(n_) * static_cast<double>(g_);
    double cost = 0;
    const Scalar start = working_objective();
    Scalar best = start, last_solution = std::numeric_limits<Scalar>::infinity();
    BlockMatrix best_u;
    Vector r, data_gradient(g_);
    std::vector<std::vector<Index>> best_rows;
    // r = y - the support's predictions at the blocks w (one pass over the rows of each).
    auto residual_of = [&](const BlockMatrix& w, Vector& out) {
      out = y_;
      for (Index b = 0; b < k; ++b) {
        if (w.col(b).squaredNorm() == 0) continue;
        const Index col = support[static_cast<std::size_t>(b)];
        add_block_prediction(X_, patterns_, pattern_of(col), w.col(b).data(), -sign_of(col),
                             out.data(), &workspace_);
      }
      cost += block_cost * static_cast<double>(k);
    };
    // The Gram matrix of the last iteration, its bases and their offsets: an iteration changes
    // the rows of a few blocks (on planted20's final set 0-16 of 61 stopped, about half
    // releasing), and only their columns are formed again.
    Eigen::MatrixXd gram;
    Vector c;
    std::vector<Eigen::MatrixXd> bases(static_cast<std::size_t>(k));
    std::vector<Index> offsets;
    std::vector<char> changed(static_cast<std::size_t>(k), 1);
    for (int iteration = 0; iteration < 50; ++iteration) {
      poll();
      const std::vector<Index> formed_offsets = std::move(offsets);
      offsets.assign(static_cast<std::size_t>(k + 1), 0);
      Index changed_width = 0;
      for (Index b = 0; b < k; ++b) {
        const std::size_t sb = static_cast<std::size_t>(b);
        if (changed[sb]) bases[sb] = face_basis(rows[sb]);
        offsets[sb + 1] = offsets[sb] + bases[sb].cols();
        if (changed[sb]) changed_width += bases[sb].cols();
      }
      const Index m = offsets.back();
      Vector z(m);
      std::vector<char> nonzero(static_cast<std::size_t>(k), 0);
      if (m > 0) {
        if (formed_offsets.empty() || 2 * changed_width >= m) {
          reduced_gram(support, bases, offsets, gram, c);
          cost += static_cast<double>(n_) * static_cast<double>(m) *
                  (static_cast<double>(g_) + 0.25 * static_cast<double>(m));
        } else {
          update_reduced_gram(support, bases, offsets, changed, formed_offsets, gram, c);
          cost += static_cast<double>(n_) * static_cast<double>(m) *
                  (static_cast<double>(g_) + 0.5 * static_cast<double>(changed_width));
        }
        std::fill(changed.begin(), changed.end(), 0);
        for (Index b = 0; b < k; ++b) {
          const std::size_t sb = static_cast<std::size_t>(b);
          z.segment(offsets[sb], bases[sb].cols()) = bases[sb].transpose() * u.col(b);
          nonzero[sb] = z.segment(offsets[sb], bases[sb].cols()).squaredNorm() > 0;
        }
        bool moved = false;
        cost += gram_space_newton(gram, c, offsets, z, nonzero, moved, true);
      }
      // Each block towards its face's solution, up to the first row it crosses.
      bool blocked = false;
      for (Index b = 0; b < k; ++b) {
        const std::size_t sb = static_cast<std::size_t>(b);
        const Index width = bases[sb].cols();
        const Vector target =
            nonzero[sb] ? Vector(bases[sb] * z.segment(offsets[sb], width)) : Vector::Zero(g_);
        const Vector d = target - u.col(b);
        PatternCone::Crossing crossing;
        if (d.squaredNorm() > 0) {
          crossing = cone(pattern_of(support[sb])).first_crossing(u.col(b), d, rows[sb]);
          cost += block_cost;
        }
        if (crossing.row >= 0) {
          u.col(b) += crossing.t * d;
          rows[sb].push_back(crossing.row);
          changed[sb] = 1;
          blocked = true;
        } else {
          u.col(b) = target;
        }
      }
      // The point's objective in Gram space (each block's point is in the span of this
      // iteration's basis: it lies between two points of it), no pass over the rows.
      Scalar penalty = 0;
      for (Index b = 0; b < k; ++b) {
        const std::size_t sb = static_cast<std::size_t>(b);
        penalty += u.col(b).norm();
        z.segment(offsets[sb], bases[sb].cols()) = bases[sb].transpose() * u.col(b);
      }
      const Scalar fit = m > 0 ? 0.5 * z.dot(gram * z) - c.dot(z) : Scalar{0};
      const Scalar objective = fit + 0.5 * y_.squaredNorm() + beta_ * penalty;
      if (objective < best) {
        best = objective;
        best_u = u;
        best_rows = rows;
      }
      if (blocked) continue;
      // Every block reached its face's solution. The iteration stops there when that solution
      // is worse than the starting point (the rows added on the way hold the blocks on faces
      // too small; releasing them one at a time would cost as many solves again), when it is
      // not lower than the last one (a degenerate point, with more tight rows than its face
      // needs, can cycle), or when no row leaves.
      if (!(objective < std::min(start, last_solution))) break;
      last_solution = objective;
      residual_of(u, r);
      bool released = false;
      for (Index b = 0; b < k; ++b) {
        const std::size_t sb = static_cast<std::size_t>(b);
        if (rows[sb].empty()) continue;
        const Index col = support[sb];
        block_gradient(X_, patterns_, pattern_of(col), r.data(), data_gradient.data(), &workspace_);
        cost += block_cost;
        const Index leaving = leaving_row(col, u.col(b), data_gradient, rows[sb]);
        if (leaving < 0) continue;
        rows[sb].erase(rows[sb].begin() + leaving);
        changed[sb] = 1;
        released = true;
      }
      if (!released) break;
    }
    if (!(best < start)) return cost;
    residual_of(best_u, r);
    BlockMatrix candidate = u_;
    std::vector<std::vector<Index>> saved(static_cast<std::size_t>(k));
    for (Index b = 0; b < k; ++b) {
      const std::size_t sb = static_cast<std::size_t>(b);
      candidate.col(support[sb]) = best_u.col(b);
      auto& held = cone_states_[static_cast<std::size_t>(support[sb])].working_rows;
      saved[sb].swap(held);
      held = best_rows[sb];
    }
    if (try_iterate(candidate, r)) {
      accepted = true;
      return cost;
    }
    for (Index b = 0; b < k; ++b) {
      const std::size_t sb = static_cast<std::size_t>(b);
      cone_states_[static_cast<std::size_t>(support[sb])].working_rows.swap(saved[sb]);
    }
    return cost;
  }

  // G = (A Z)^T (A Z) and c = (A Z)^T y of the support's reduced design A Z (its columns for
  // block b: s_b D_i X Z_b), formed over chunks of rows: no n x m design is kept.
  void reduced_gram(const std::vector<Index>& support, const std::vector<Eigen::MatrixXd>& bases,
                    const std::vector<Index>& offsets, Eigen::MatrixXd& gram, Vector& c) const {
    const Index m = offsets.back();
    gram.setZero(m, m);
    c.setZero(m);
    Eigen::MatrixXd chunk(std::min(kDesignChunk, n_), m);
    for (Index first = 0; first < n_; first += kDesignChunk) {
      const Index count = std::min(kDesignChunk, n_ - first);
      auto part = chunk.topRows(count);
      reduced_design_rows(support, bases, offsets, first, part);
      gram.selfadjointView<Eigen::Lower>().rankUpdate(part.transpose());
      c.noalias() += part.transpose() * y_.segment(first, count);
    }
    gram.triangularView<Eigen::StrictlyUpper>() = gram.transpose();
  }

  // reduced_gram after the bases of the blocks with changed[b] set changed: the entries between
  // two unchanged blocks are moved from `gram` (formed at `formed_offsets`), the columns of the
  // changed ones formed again (n m m_c multiply-adds, m_c their width, instead of n m^2 / 2).
  void update_reduced_gram(const std::vector<Index>& support,
                           const std::vector<Eigen::MatrixXd>& bases,
                           const std::vector<Index>& offsets, const std::vector<char>& changed,
                           const std::vector<Index>& formed_offsets, Eigen::MatrixXd& gram,
                           Vector& c) const {
    const std::size_t k = support.size();
    const Index m = offsets.back();
    Eigen::MatrixXd updated(m, m);
    Vector updated_c(m);
    std::vector<Index> columns;  // the changed blocks' columns, in order
    for (std::size_t b = 0; b < k; ++b) {
      const Index width = bases[b].cols();
      if (changed[b]) {
        for (Index t = 0; t < width; ++t) columns.push_back(offsets[b] + t);
        continue;
      }
      updated_c.segment(offsets[b], width) = c.segment(formed_offsets[b], width);
      for (std::size_t a = 0; a < k; ++a)
        if (!changed[a])
          updated.block(offsets[a], offsets[b], bases[a].cols(), width) =
              gram.block(formed_offsets[a], formed_offsets[b], bases[a].cols(), width);
    }
    const Index mc = static_cast<Index>(columns.size());
    Eigen::MatrixXd cross = Eigen::MatrixXd::Zero(m, mc);
    Vector cross_c = Vector::Zero(mc);
    Eigen::MatrixXd chunk(std::min(kDesignChunk, n_), m), picked(std::min(kDesignChunk, n_), mc);
    for (Index first = 0; first < n_; first += kDesignChunk) {
      const Index count = std::min(kDesignChunk, n_ - first);
      auto part = chunk.topRows(count);
      reduced_design_rows(support, bases, offsets, first, part);
      auto part_changed = picked.topRows(count);
      for (Index t = 0; t < mc; ++t)
        part_changed.col(t) = part.col(columns[static_cast<std::size_t>(t)]);
      cross.noalias() += part.transpose() * part_changed;
      cross_c.noalias() += part_changed.transpose() * y_.segment(first, count);
    }
    for (Index t = 0; t < mc; ++t) {
      const Index col = columns[static_cast<std::size_t>(t)];
      updated.col(col) = cross.col(t);
      updated.row(col) = cross.col(t).transpose();
      updated_c[col] = cross_c[t];
    }
    gram.swap(updated);
    c.swap(updated_c);
  }

  // Rows first .. first + part.rows() of the reduced design A Z into part (their columns for
  // block b: s_b D_i X Z_b).
  template <class Rows>
  void reduced_design_rows(const std::vector<Index>& support,
                           const std::vector<Eigen::MatrixXd>& bases,
                           const std::vector<Index>& offsets, Index first, Rows& part) const {
    const Index count = part.rows();
    for (std::size_t b = 0; b < support.size(); ++b) {
      const Index width = bases[b].cols();
      if (width == 0) continue;
      const Index i = pattern_of(support[b]);
      auto columns = part.middleCols(offsets[b], width);
      columns.noalias() = sign_of(support[b]) * (X_.middleRows(first, count) * bases[b]);
      for (Index t = 0; t < count; ++t)
        if (!patterns_.active(first + t, i)) columns.row(t).setZero();
    }
  }

  // The gated program's branch of newton_polish (bases are identities: no cone rows): Newton's
  // method on the support's coordinates z in Gram space (gram_space_newton). G = (A Z)^T (A Z)
  // and c = (A Z)^T y are formed once over row chunks (no n x m design is kept). The final point
  // is kept only if try_iterate finds the exact objective lower; otherwise its residual is still
  // offered to the next certificate as a dual candidate (it is the residual of a nearly exact
  // support solve, the point that closes the gap when the primal is already accurate).
  double newton_direct(const std::vector<Index>& support, const std::vector<Eigen::MatrixXd>& bases,
                       Index m, bool& accepted) {
    const Index k = static_cast<Index>(support.size());
    std::vector<Index> offsets(static_cast<std::size_t>(k + 1), 0);
    for (Index b = 0; b < k; ++b)
      offsets[static_cast<std::size_t>(b + 1)] =
          offsets[static_cast<std::size_t>(b)] + bases[static_cast<std::size_t>(b)].cols();
    auto offset_of = [&](Index b) { return offsets[static_cast<std::size_t>(b)]; };
    auto width_of = [&](Index b) { return bases[static_cast<std::size_t>(b)].cols(); };

    // Bases are identities (gated), so the Gram matrix in z is the support design's own.
    const PatternSet blocks = support_patterns(support);
    std::vector<Scalar> signs;
    for (Index col : support) signs.push_back(sign_of(col));
    SupportGram formed = support_gram(X_, blocks, signs, y_.data(), SupportGramMethod::automatic,
                                      interrupt_);
    const Eigen::MatrixXd& gram = formed.gram;
    const Vector& c = formed.c;
    // Counted at what the rank updates cost (n m^2 / 4, plus n m g for the copies), even when
    // the row signatures formed G for far less: the schedule takes the last polish's cost as
    // the next one's, and the next, on a larger support, costs about that. Counting the grouped
    // formation's own operations polished again sooner and was slower on the larger problems
    // (12 problems of bench_solver.py's kind, seeds 0-3, one thread: 5.47 s against 4.97 s
    // before grouping; 4.55 s counted this way).
    double cost = static_cast<double>(n_) * static_cast<double>(m) *
                  (static_cast<double>(g_) + 0.25 * static_cast<double>(m));

    Vector z(m);
    for (Index b = 0; b < k; ++b)
      z.segment(offset_of(b), width_of(b)) =
          bases[static_cast<std::size_t>(b)].transpose() * u_.col(support[static_cast<std::size_t>(b)]);
    std::vector<char> alive(static_cast<std::size_t>(k), 0);
    for (Index b = 0; b < k; ++b)
      alive[static_cast<std::size_t>(b)] = z.segment(offset_of(b), width_of(b)).squaredNorm() > 0;
    bool moved = false;
    cost += gram_space_newton(gram, c, offsets, z, alive, moved);
    if (!moved) return cost;
    // Back to the blocks; the residual moves by the change (block products, no pass over X).
    BlockMatrix u = u_;
    Vector r = r_;
    for (Index b = 0; b < k; ++b) {
      const Index col = support[static_cast<std::size_t>(b)];
      const Vector block = bases[static_cast<std::size_t>(b)] * z.segment(offset_of(b), width_of(b));
      const Vector delta = block - u_.col(col);
      if (delta.squaredNorm() == 0) continue;
      add_block_prediction(X_, patterns_, pattern_of(col), delta.data(), -sign_of(col), r.data(),
                           &workspace_);
      u.col(col) = block;
    }
    cost += 2.0 * static_cast<double>(n_) * static_cast<double>(g_) * static_cast<double>(k);
    if (try_iterate(u, r)) {
      accepted = true;
      return cost;
    }
    dual_candidate_ = r;
    return cost;
  }

  // Newton's method for the group lasso in Gram space: minimises 1/2 z^T G z - c^T z +
  // beta sum_b ||z_b|| (up to the constant 1/2 ||y||^2) over the blocks z_b (offsets[b] to
  // offsets[b + 1]) from z, blocks with alive[b] == 0 held at 0. Its gradient and Hessian cost
  // O(m^2) and each step one m x m factorisation, whatever n. Near-duplicate blocks (patterns a
  // few rows apart) make G nearly singular, which slows the block sweeps to a crawl but not an
  // exact solve. The support is updated as in an active-set method for the group lasso:
  //  - a block whose exact minimiser given the others is 0 (||c_j - (G z)_j + G_jj z_j|| <= beta)
  //    is set to 0;
  //  - a step that takes a block close to the origin (the segment z_j + t p_j passes within half
  //    of ||z_j|| of 0, the smooth model of its norm breaking down there) is cut at the closest
  //    point and the block is set to 0 (a ratio test on the group norms).
  // Every step is kept only if the objective decreases (backtracking). With `revive`, blocks at
  // 0 whose minimiser given the others is not 0 come back after the steps and the steps resume
  // (at most 8 passes). Returns the cost in multiply-adds; `moved` tells whether z changed.
  double gram_space_newton(const Eigen::MatrixXd& gram, const Vector& c,
                           const std::vector<Index>& offsets, Vector& z, std::vector<char>& alive,
                           bool& moved, bool revive = false) {
    const Index k = static_cast<Index>(offsets.size()) - 1;
    const Index m = offsets.back();
    auto offset_of = [&](Index b) { return offsets[static_cast<std::size_t>(b)]; };
    auto width_of = [&](Index b) {
      return offsets[static_cast<std::size_t>(b + 1)] - offsets[static_cast<std::size_t>(b)];
    };
    const double mm = static_cast<double>(m) * static_cast<double>(m);
    double cost = 0;
    auto objective = [&](const Vector& x) {
      Scalar penalty = 0;
      for (Index b = 0; b < k; ++b) penalty += x.segment(offset_of(b), width_of(b)).norm();
      return 0.5 * x.dot(gram * x) - c.dot(x) + beta_ * penalty;
    };
    for (int pass = 0; pass < (revive ? 8 : 1); ++pass) {
      for (int iteration = 0; iteration < 50; ++iteration) {
        poll();
        const Vector gz = gram * z;
        cost += mm;
        bool zeroed = false;
        for (Index b = 0; b < k; ++b) {
          if (!alive[static_cast<std::size_t>(b)]) continue;
          const Index o = offset_of(b), w = width_of(b);
          const Vector linear =
              c.segment(o, w) - gz.segment(o, w) + gram.block(o, o, w, w) * z.segment(o, w);
          if (linear.norm() > beta_) continue;
          z.segment(o, w).setZero();
          alive[static_cast<std::size_t>(b)] = 0;
          zeroed = moved = true;
        }
        if (zeroed) continue;
        std::vector<Index> coords;  // reduced coordinates of the blocks still nonzero
        Vector gradient = gz - c;
        for (Index b = 0; b < k; ++b) {
          if (!alive[static_cast<std::size_t>(b)]) continue;
          const Index o = offset_of(b), w = width_of(b);
          gradient.segment(o, w) += (beta_ / z.segment(o, w).norm()) * z.segment(o, w);
          for (Index t = 0; t < w; ++t) coords.push_back(o + t);
        }
        const Index ma = static_cast<Index>(coords.size());
        if (ma == 0) break;
        Eigen::MatrixXd hessian(ma, ma);
        Vector rhs(ma);
        for (Index a = 0; a < ma; ++a) {
          rhs[a] = -gradient[coords[static_cast<std::size_t>(a)]];
          for (Index q = 0; q < ma; ++q)
            hessian(a, q) =
                gram(coords[static_cast<std::size_t>(a)], coords[static_cast<std::size_t>(q)]);
        }
        // The penalty's curvature beta / ||z_j|| (I - z_j z_j^T / ||z_j||^2) on each block.
        for (Index b = 0, at = 0; b < k; ++b) {
          if (!alive[static_cast<std::size_t>(b)]) continue;
          const Index w = width_of(b);
          const Vector zb = z.segment(offset_of(b), w);
          const Scalar norm = zb.norm();
          hessian.block(at, at, w, w) +=
              (beta_ / norm) *
              (Eigen::MatrixXd::Identity(w, w) - zb * zb.transpose() / (norm * norm));
          at += w;
        }
        // Converged: the gradient is at round-off level of its terms.
        if (rhs.norm() <= 1e-13 * (c.norm() + beta_ * std::sqrt(static_cast<Scalar>(k)))) break;
        hessian.diagonal().array() += 1e-14 * hessian.diagonal().maxCoeff() + kTiny;
        cost += static_cast<double>(ma) * static_cast<double>(ma) * static_cast<double>(ma) / 3;
        const Vector step_a = hessian.ldlt().solve(rhs);
        if (!step_a.allFinite()) break;
        Vector step = Vector::Zero(m);
        for (Index a = 0; a < ma; ++a) step[coords[static_cast<std::size_t>(a)]] = step_a[a];
        // Ratio test: the first block to pass near the origin.
        Scalar limit = 1;
        Index closing = -1;
        for (Index b = 0; b < k; ++b) {
          if (!alive[static_cast<std::size_t>(b)]) continue;
          const Index o = offset_of(b), w = width_of(b);
          const Scalar pp = step.segment(o, w).squaredNorm();
          if (!(pp > 0)) continue;
          const Scalar at = -z.segment(o, w).dot(step.segment(o, w)) / pp;
          if (at > 0 && at < limit &&
              (z.segment(o, w) + at * step.segment(o, w)).norm() <= 0.5 * z.segment(o, w).norm()) {
            limit = at;
            closing = b;
          }
        }
        Vector target = z + limit * step;
        if (closing >= 0) target.segment(offset_of(closing), width_of(closing)).setZero();
        const Scalar current = objective(z);
        Scalar fraction = 1;
        bool decreased = false;
        for (int search = 0; search < 40; ++search, fraction *= 0.5) {
          cost += mm;
          if (objective(Vector(z + fraction * (target - z))) < current) {
            decreased = true;
            break;
          }
        }
        if (!decreased) break;
        z += fraction * (target - z);
        moved = true;
        if (fraction == 1 && closing >= 0) alive[static_cast<std::size_t>(closing)] = 0;
      }
      if (!revive) break;
      // A block at 0 whose exact minimiser given the others is not 0 any more comes back at
      // that minimiser (the zeroing above is greedy: from a start far from the solution, a
      // block can be zeroed that the solution needs).
      const Vector gz = gram * z;
      cost += mm;
      bool revived = false;
      for (Index b = 0; b < k; ++b) {
        const Index o = offset_of(b), w = width_of(b);
        if (alive[static_cast<std::size_t>(b)] || w == 0) continue;
        const Vector linear = c.segment(o, w) - gz.segment(o, w);
        if (!(linear.norm() > beta_ * (1 + 1e-12))) continue;
        Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(gram.block(o, o, w, w));
        z.segment(o, w) =
            group_block_minimizer(eig.eigenvectors(), eig.eigenvalues(), linear, beta_);
        if (z.segment(o, w).squaredNorm() == 0) continue;
        alive[static_cast<std::size_t>(b)] = 1;
        revived = moved = true;
      }
      if (!revived) break;
    }
    return cost;
  }

  // The row of a block's held rows whose multiplier is the most negative, or -1: the
  // multipliers mu solve A_W^T mu = gradient of the objective in the block (the KKT condition on
  // the face), with `data_gradient` = X^T D_i r at the block u; a row with mu < 0 holds the
  // block on a face the objective would leave (the active-set method's release).
  Index leaving_row(Index col, const Vector& u, const Vector& data_gradient,
                    const std::vector<Index>& rows) const {
    const Scalar norm = u.norm();
    if (rows.empty() || !(norm > 0)) return -1;
    const Index i = pattern_of(col);
    const Vector grad = -sign_of(col) * data_gradient + (beta_ / norm) * u;
    const Vector mu = cone_rows_least_squares(cone(i), rows, grad);
    Index leaving = -1;
    Scalar most_negative = -1e-12 * (data_gradient.norm() + beta_);
    for (std::size_t j = 0; j < rows.size(); ++j) {
      const Scalar scaled = mu[static_cast<Index>(j)] * X_.row(rows[j]).norm();
      if (scaled < most_negative) {
        most_negative = scaled;
        leaving = static_cast<Index>(j);
      }
    }
    return leaving;
  }

  // An orthonormal basis (g, g - rank) of the null space of the rows x_k, k in `rows`: the
  // directions a block can move in while those cone rows stay tight.
  Eigen::MatrixXd face_basis(const std::vector<Index>& rows) const {
    if (rows.empty()) return Eigen::MatrixXd::Identity(g_, g_);
    Eigen::MatrixXd a(g_, static_cast<Index>(rows.size()));
    for (std::size_t j = 0; j < rows.size(); ++j)
      a.col(static_cast<Index>(j)) = X_.row(rows[j]).transpose();
    Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(a);
    const Eigen::MatrixXd q = qr.householderQ();
    return q.rightCols(g_ - qr.rank());
  }

  // A row of a support block's cone that a polish step would cross: the block's position in the
  // support, its offset and width in the reduced coordinates, the row, and the fraction t of the
  // step at which the row becomes tight.
  struct BlockedRow {
    Index position, offset, width, row;
    Scalar t;
  };

  // The blocks with the support's columns replaced by u_b = Z_b z_b.
  BlockMatrix blocks_of(const std::vector<Index>& support, const std::vector<Eigen::MatrixXd>& bases,
                        const Vector& z) const {
    BlockMatrix u = u_;
    Index at = 0;
    for (std::size_t b = 0; b < support.size(); ++b) {
      const Index width = bases[b].cols();
      u.col(support[b]) = bases[b] * z.segment(at, width);
      at += width;
    }
    return u;
  }

  // try_iterate(u, r) with each item's row held tight in its block; the rows stay held only if
  // the iterate is kept.
  bool try_holding_rows(BlockMatrix& u, Vector& r, const std::vector<Index>& support,
                        const std::vector<BlockedRow>& rows_to_add) {
    std::vector<std::vector<Index>> saved;
    for (const BlockedRow& item : rows_to_add) {
      auto& rows = cone_states_[static_cast<std::size_t>(support[static_cast<std::size_t>(item.position)])].working_rows;
      saved.push_back(rows);
      rows.push_back(item.row);
    }
    const bool kept = try_iterate(u, r);
    if (!kept)
      for (std::size_t q = 0; q < rows_to_add.size(); ++q)
        cone_states_[static_cast<std::size_t>(support[static_cast<std::size_t>(rows_to_add[q].position)])]
            .working_rows = saved[q];
    return kept;
  }

  // The active-set step of a ReLU polish whose Newton step crosses cone rows (`blocked`, from
  // ratio_test): each block stopped at its own first row, which joins its tight rows; if that
  // point does not lower the objective, the whole step shortened to the first row any block
  // meets. `evaluate(z, rows)` tries a point with rows held. True when the polish must restart
  // on new bases (a point was kept, `accepted` set, or rows already tight are now held).
  template <class Evaluate>
  bool blocked_step(const std::vector<Index>& support, const Vector& z, const Vector& step,
                    const std::vector<BlockedRow>& blocked, Evaluate&& evaluate, bool& accepted) {
    Scalar shortest = 1;
    for (const BlockedRow& item : blocked) shortest = std::min(shortest, item.t);
    std::vector<BlockedRow> first;
    for (const BlockedRow& item : blocked)
      if (item.t == shortest) first.push_back(item);
    Vector bent = z;
    for (const BlockedRow& item : blocked)
      bent.segment(item.offset, item.width) += (item.t - 1) * step.segment(item.offset, item.width);
    bent += step;
    if (evaluate(bent, blocked) ||
        (shortest > 0 && evaluate(Vector(z + shortest * step), first))) {
      accepted = true;
      return true;
    }
    if (shortest > 0) return false;
    // Rows already tight but not held: hold them (the iterate does not move) and restart.
    for (const BlockedRow& item : first)
      cone_states_[static_cast<std::size_t>(support[static_cast<std::size_t>(item.position)])]
          .working_rows.push_back(item.row);
    return true;
  }

  // Ratio test of a polish step in the reduced coordinates z (u_b = Z_b z_b): for each support
  // block, the first row (not already held tight) that u_b + t d_b reaches for t in [0, 1).
  // Blocks that already hold g - 1 rows are left out (one more would pin them to 0).
  std::vector<BlockedRow> ratio_test(const std::vector<Index>& support,
                                     const std::vector<Eigen::MatrixXd>& bases, const Vector& z,
                                     const Vector& step) {
    std::vector<BlockedRow> blocked;
    Index offset = 0;
    for (std::size_t b = 0; b < support.size(); ++b) {
      const Index width = bases[b].cols();
      const Index col = support[b];
      const Vector u = bases[b] * z.segment(offset, width);
      const Vector d = bases[b] * step.segment(offset, width);
      const Scalar d_norm = d.norm();
      const auto& rows = cone_states_[static_cast<std::size_t>(col)].working_rows;
      if (d_norm > 0 && static_cast<Index>(rows.size()) + 1 < g_) {
        const PatternCone::Crossing crossing = cone(pattern_of(col)).first_crossing(u, d, rows);
        if (crossing.row >= 0)
          blocked.push_back(
              BlockedRow{static_cast<Index>(b), offset, width, crossing.row, crossing.t});
      }
      offset += width;
    }
    return blocked;
  }

  // The large-problem branch of newton_polish: Newton steps on the reduced coordinates, each
  // system solved by preconditioned conjugate gradients (inexact Newton: the CG residual only
  // has to fall below min(0.1, sqrt(||gradient|| / ||first gradient||)) times the gradient, as
  // in Eisenstat & Walker, SIAM J. Sci. Comput. 1996), then a backtracking line search on the
  // exact objective (the residual moves along the precomputed A Z p, O(n) per trial).
  double newton_cg(const std::vector<Index>& support, const std::vector<Eigen::MatrixXd>& bases,
                   Index m, bool& accepted, bool& restart) {
    const Index k = static_cast<Index>(support.size());
    const PatternSet blocks = support_patterns(support);
    std::vector<Index> offsets(static_cast<std::size_t>(k + 1), 0);
    for (Index b = 0; b < k; ++b)
      offsets[static_cast<std::size_t>(b + 1)] = offsets[static_cast<std::size_t>(b)] + bases[static_cast<std::size_t>(b)].cols();
    auto segment = [&](Vector& x, Index b) {
      return x.segment(offsets[static_cast<std::size_t>(b)], bases[static_cast<std::size_t>(b)].cols());
    };
    auto csegment = [&](const Vector& x, Index b) {
      return x.segment(offsets[static_cast<std::size_t>(b)], bases[static_cast<std::size_t>(b)].cols());
    };
    // One product costs about n g k multiply-adds at matrix-multiply speed (counted at half, as
    // the certificate's GEMM) plus n k masked additions.
    const double product_cost = 0.5 * static_cast<double>(n_) * static_cast<double>(g_) *
                                    static_cast<double>(k) + static_cast<double>(n_ * k);
    double cost = 0;
    BlockMatrix lifted(g_, k), gradients;
    auto apply_design = [&](const Vector& x, Vector& out) {  // out = A Z x  (n)
      for (Index b = 0; b < k; ++b)
        lifted.col(b) = sign_of(support[static_cast<std::size_t>(b)]) * (bases[static_cast<std::size_t>(b)] * csegment(x, b));
      out.resize(n_);
      support_predictions(X_, blocks, lifted, out.data(), settings_.n_threads);
      cost += product_cost;
    };
    auto apply_transpose = [&](const Vector& r, Vector& out) {  // out = Z^T A^T r  (m)
      all_block_gradients(X_, blocks, r.data(), gradients, settings_.n_threads);
      out.resize(m);
      for (Index b = 0; b < k; ++b)
        segment(out, b) = sign_of(support[static_cast<std::size_t>(b)]) *
                          (bases[static_cast<std::size_t>(b)].transpose() * gradients.col(b));
      cost += product_cost;
    };

    Vector z(m);
    for (Index b = 0; b < k; ++b)
      segment(z, b) = bases[static_cast<std::size_t>(b)].transpose() * u_.col(support[static_cast<std::size_t>(b)]);
    const Vector& r = r_;  // the residual at z: try_iterate moves both together
    Scalar first_gradient = -1;
    // The coarse space of the preconditioner (below): u_b = s_b w for every support block b, the
    // same weights w in every block (E_b = s_b Z_b^T in the reduced coordinates). Blocks overlap
    // (two random patterns share about a quarter of the rows, each holding half), so these g
    // directions change the predictions about k / 2 times more than a single block's and carry
    // Hessian eigenvalues about k / 2 times above the rest, which the exact block diagonal
    // leaves in place. Their products H E are approximated without a pass over the rows:
    // A Z E = diag(c) X up to the cones' projections, c_t the number of support blocks holding
    // row t, and c on the rows of block b by its mean there, so that
    // (H E)_b ~= s_b mean_b(c) Z_b^T X^T D_b X (the cached Gram) plus the penalty's curvature.
    // At the solutions of bench_solver.py's gated problems this cut the conjugate-gradient
    // iterations to a residual of 1e-2 by about 40 % (2000 x 20 x 100: 22 to 14,
    // 20000 x 20 x 200: 21 to 12), as many as with the exact H E. ReLU: not used; on sets of
    // near-duplicate patterns (tests/test_core_solver.py) it changed the course of the solves
    // both ways (2000 x 12: 459, 576, 369 epochs became 639, 522, 333), and on bench_solver.py's
    // problems it was as fast as the block diagonal alone.
    // The data term of H E is fixed for the whole call (support and bases are); each Newton
    // step adds the penalty's curvature, which moves with z.
    const bool deflate = !relu_;
    Eigen::MatrixXd coarse, coarse_data_term;
    if (deflate) {
      coarse.resize(m, g_);
      coarse_data_term.resize(m, g_);
      const std::vector<Scalar> coverage = mean_row_coverage(blocks);
      for (Index b = 0; b < k; ++b) {
        const std::size_t sb = static_cast<std::size_t>(b);
        const Eigen::MatrixXd& basis = bases[sb];
        coarse.middleRows(offsets[sb], basis.cols()) = sign_of(support[sb]) * basis.transpose();
        coarse_data_term.middleRows(offsets[sb], basis.cols()) =
            (sign_of(support[sb]) * coverage[sb]) *
            (basis.transpose() * gram(pattern_of(support[sb])).gram);
      }
    }
    // Gated: Newton stops once every block's gradient g_j is below tol * beta / 100. The gap at
    // the residual is sum_j z_j^T g_j, and rescaling the residual into the dual set costs at
    // most max_j ||g_j|| / beta of the primal, so the support's share of the relative gap stays
    // below tol / 50; the last step from there (the longest CG solve) only closed a gap nobody
    // asked for: 2000 x 20 x 100 took 87 ms instead of 145, 20000 x 20 x 200 1.1 s instead of
    // 1.9. ReLU: the reduced gradient leaves out the cones' multipliers, and the same rule
    // lengthened the 20000 x 20 x 200 solve (72 epochs against 54), so it polishes to round-off.
    const Scalar gradient_target = relu_ ? Scalar{0} : 0.01 * settings_.tol * beta_;
    // The certificate check below runs first once every block's gradient is below 0.1 beta (or
    // 100 times the target, if that is higher), then again from 100 times the target.
    Scalar check_level = std::max(Scalar{100} * gradient_target, Scalar{0.1} * beta_);
    for (int iteration = 0; iteration < 10; ++iteration) {
      poll();
      Vector gradient;
      apply_transpose(r, gradient);
      gradient = -gradient;
      std::vector<Scalar> norms(static_cast<std::size_t>(k));
      std::vector<Eigen::LLT<Eigen::MatrixXd>> preconditioner(static_cast<std::size_t>(k));
      std::vector<Eigen::MatrixXd> curvatures(static_cast<std::size_t>(k));
      for (Index b = 0; b < k; ++b) {
        const Eigen::MatrixXd& basis = bases[static_cast<std::size_t>(b)];
        curvatures[static_cast<std::size_t>(b)] =
            basis.transpose() * gram(pattern_of(support[static_cast<std::size_t>(b)])).gram * basis;
      }
      // A block whose exact minimiser given the others (restricted to its free directions) is 0
      // leaves the support: that block step (b = Z^T A_j^T r + Z^T Q Z z_j, ||b|| <= beta)
      // lowers the objective, and a Newton step on a block heading for 0 would be cut short by
      // the line search. The polish restarts on the smaller support.
      for (Index b = 0; b < k; ++b) {
        const Vector zb = csegment(z, b);
        const Vector block_b = -csegment(gradient, b) + curvatures[static_cast<std::size_t>(b)] * zb;
        if (block_b.norm() > beta_) continue;
        const Index col = support[static_cast<std::size_t>(b)];
        add_block_prediction(X_, patterns_, pattern_of(col), u_.col(col).data(), sign_of(col),
                             r_.data(), &workspace_);
        u_.col(col).setZero();
        restart = true;
      }
      if (restart) {
        accepted = true;
        return cost;
      }
      Scalar penalty = 0;
      for (Index b = 0; b < k; ++b) {
        const Vector zb = csegment(z, b);
        const Scalar norm = zb.norm();
        if (!(norm > 0)) return cost;
        norms[static_cast<std::size_t>(b)] = norm;
        penalty += norm;
        segment(gradient, b) += (beta_ / norm) * zb;
        const Index width = bases[static_cast<std::size_t>(b)].cols();
        Eigen::MatrixXd block = curvatures[static_cast<std::size_t>(b)];
        block += (beta_ / norm) * (Eigen::MatrixXd::Identity(width, width) - zb * zb.transpose() / (norm * norm));
        block.diagonal().array() += 1e-12 * block.diagonal().maxCoeff() + kTiny;
        preconditioner[static_cast<std::size_t>(b)].compute(block);
      }
      const Scalar gradient_norm = gradient.norm();
      if (first_gradient < 0) first_gradient = gradient_norm;
      if (!(gradient_norm > 0) || gradient_norm <= 1e-12 * first_gradient) return cost;
      Scalar largest_block_gradient = 0;
      for (Index b = 0; b < k; ++b)
        largest_block_gradient = std::max(largest_block_gradient, csegment(gradient, b).norm());
      if (largest_block_gradient <= gradient_target) return cost;
      // Gated: once every block's gradient is within 100 times the target, the support may
      // already be solved well enough for the requested gap (the target is a sufficient
      // condition, usually met one or two Newton steps after the gap closes): the certificate
      // at the current residual decides (two passes over the rows, counted as two certificates).
      // When it shows violating blocks outside the support instead, the next steps would solve
      // a problem that is not the whole one: each such block joins the working set and takes
      // its exact block step (nonzero: it violates), and the polish restarts on the grown
      // support. One earlier check, at gradients below 0.1 beta, finds them before Newton's
      // steps solve the smaller support to 100 times the target. Against ending the polish
      // there and leaving the blocks to the sweeps (the check then from 1e-4 beta): 12 gated
      // problems of bench_solver.py's kind (seeds 0-3, one thread) 3.96 s in all against
      // 4.47-4.62 s; its 10^5 x 20 x 200 problem 45 epochs, 3.1-3.6 s against 108 and 5.7-6.1 s;
      // bench_scale.py's 10^5 problem 36 epochs, 1.45-1.62 s against 63 and 2.24-2.26 s, its
      // 10^6 problem 51 s against 77 s (two threads). The check from 1e-2 or 1e-4 beta was
      // slower with growth (10^5: 3.5-4.0 and 4.6-4.8 s), at every Newton step slower still.
      if (!relu_ && iteration > 0 && largest_block_gradient <= check_level) {
        check_level = std::min(check_level, Scalar{100} * gradient_target);
        if (check_or_grow(cost, accepted, restart)) return cost;
      }
      auto block_precondition = [&](const Vector& x, Vector& out) {
        out.resize(m);
        for (Index b = 0; b < k; ++b)
          segment(out, b) = preconditioner[static_cast<std::size_t>(b)].solve(csegment(x, b));
      };
      DeflatedPreconditioner deflated;  // without a coarse space: the block diagonal alone
      if (deflate) {
        Eigen::MatrixXd hessian_coarse = coarse_data_term;
        for (Index b = 0; b < k; ++b) {
          const std::size_t sb = static_cast<std::size_t>(b);
          const Index width = bases[sb].cols();
          const Vector zb = csegment(z, b);
          const auto eb = coarse.middleRows(offsets[sb], width);
          hessian_coarse.middleRows(offsets[sb], width) +=
              (beta_ / norms[sb]) * (eb - zb * (zb.transpose() * eb) / (norms[sb] * norms[sb]));
        }
        deflated.build(coarse, std::move(hessian_coarse));
      }
      auto precondition = [&](const Vector& x, Vector& out) {
        deflated.apply(x, out, block_precondition);
      };
      auto apply_hessian = [&](const Vector& x, Vector& out) {
        Vector ax;
        apply_design(x, ax);
        apply_transpose(ax, out);
        for (Index b = 0; b < k; ++b) {
          const Vector zb = csegment(z, b);
          const Scalar norm = norms[static_cast<std::size_t>(b)];
          const Vector xb = csegment(x, b);
          segment(out, b) += (beta_ / norm) * (xb - zb * (zb.dot(xb) / (norm * norm)));
        }
      };
      // Preconditioned CG on H p = -gradient.
      const Scalar forcing = std::min(0.1, std::sqrt(gradient_norm / first_gradient));
      Vector step = Vector::Zero(m), residual = -gradient, preconditioned, direction, hd;
      precondition(residual, preconditioned);
      direction = preconditioned;
      Scalar rz = residual.dot(preconditioned);
      int cg = 0;
      for (; cg < 100; ++cg) {
        apply_hessian(direction, hd);
        const Scalar curvature = direction.dot(hd);
        if (!(curvature > 0)) break;
        const Scalar alpha = rz / curvature;
        step += alpha * direction;
        residual -= alpha * hd;
        if (residual.norm() <= std::max(forcing * gradient_norm, 0.5 * gradient_target)) break;
        precondition(residual, preconditioned);
        const Scalar rz_next = residual.dot(preconditioned);
        direction = preconditioned + (rz_next / rz) * direction;
        rz = rz_next;
      }
      if (!step.allFinite() || step.squaredNorm() == 0) return cost;
      // ReLU: when the step below is rejected (try_iterate projects the blocks it pushed out of
      // their cones back, which can undo most of it), an active-set step (blocked_step) is
      // tried: each block stopped at the first row it would cross, which it then holds.
      Vector moved;
      auto try_active_set_step = [&]() {
        if (!relu_) return;
        const std::vector<BlockedRow> blocked = ratio_test(support, bases, z, step);
        if (blocked.empty()) return;
        auto evaluate = [&](const Vector& cz, const std::vector<BlockedRow>& rows_to_add) {
          BlockMatrix u = blocks_of(support, bases, cz);
          apply_design(Vector(cz - z), moved);
          moved = r - moved;  // the candidate residual, over the product's buffer
          return try_holding_rows(u, moved, support, rows_to_add);
        };
        // The polish restarts on the new faces. Each restart costs a conjugate-gradient solve:
        // at 10^5 x 20 x 200 the solve took 72 epochs and 18 s CPU against 54 epochs and 14 s
        // without restarts, but on sets of near-duplicate patterns (planted20's final sets)
        // without restarts the closing solve took 3,202 and 7,119 epochs against 2,153 and 1,659.
        if (blocked_step(support, z, step, blocked, evaluate, accepted)) restart = true;
      };
      apply_design(step, moved);
      const Scalar current = 0.5 * r.squaredNorm() + beta_ * penalty;
      // candidate_r is an expression (r - moved): its norm is taken without a length-n temporary.
      auto objective_at = [&](const Vector& candidate_z, const auto& candidate_r) {
        Scalar candidate_penalty = 0;
        for (Index b = 0; b < k; ++b) candidate_penalty += csegment(candidate_z, b).norm();
        return 0.5 * candidate_r.squaredNorm() + beta_ * candidate_penalty;
      };
      // A block the full step reverses (z_j^T (z_j + p_j) <= 0) is heading for 0, where the
      // smooth model of its norm breaks down: when the full step does not lower the objective,
      // the same step with those blocks set to 0 is tried before backtracking.
      if (!(objective_at(z + step, r - moved) < current)) {
        Vector zeroed = z + step;
        bool any = false;
        for (Index b = 0; b < k; ++b)
          if (csegment(z, b).dot(csegment(zeroed, b)) <= 0) {
            segment(zeroed, b).setZero();
            any = true;
          }
        if (any) {
          Vector change;
          apply_design(Vector(zeroed - z), change);
          if (objective_at(zeroed, r - change) < current) {
            step = zeroed - z;
            moved.swap(change);
          }
        }
      }
      Scalar t = 1;
      bool decreased = false;
      for (int search = 0; search < 30; ++search, t *= 0.5) {
        Scalar candidate_penalty = 0;
        for (Index b = 0; b < k; ++b) candidate_penalty += (csegment(z, b) + t * csegment(step, b)).norm();
        const Scalar candidate = 0.5 * (r - t * moved).squaredNorm() + beta_ * candidate_penalty;
        if (candidate < current) {
          decreased = true;
          break;
        }
      }
      if (!decreased) {
        try_active_set_step();
        return cost;
      }
      BlockMatrix u = blocks_of(support, bases, Vector(z + t * step));
      moved = r - t * moved;  // the candidate residual, over the product's buffer
      if (!try_iterate(u, moved)) {
        try_active_set_step();
        return cost;
      }
      accepted = true;
      for (Index b = 0; b < k; ++b)
        segment(z, b) = bases[static_cast<std::size_t>(b)].transpose() * u_.col(support[static_cast<std::size_t>(b)]);
      // Zeroed blocks leave the support (restart); a short step means the support or the
      // iterate is not yet in Newton's quadratic region: the block sweeps go first.
      for (Index b = 0; b < k; ++b)
        if (u_.col(support[static_cast<std::size_t>(b)]).squaredNorm() == 0) restart = true;
      // Converged to round-off: the gradient fell by 1e-10 (Newton's last step from 1e-5 of
      // the first gradient to there is already quadratic).
      if (restart || gradient_norm <= 1e-10 * first_gradient) break;
      // Gated: a short step is often the sign of a support that lacks blocks (the working set
      // of the first polishes is the sweeps' early one): the check runs there too, and a
      // support that grows is polished again at once instead of after the sweeps' next epochs.
      // bench_solver.py's 10^5 x 20 x 200 problem took 27 epochs instead of 45 (2.4 s against
      // 2.9-3.2 s), 12 gated problems 3.22-3.27 s against 3.50-3.66 s, bench_scale.py's 10^6
      // problem 27 epochs and 30.3 s against 45 and 44.1 s, problems.py's 10^6 x 20 x 200
      // 29.7 s against 42.0 s.
      if (t < 0.0625) {
        if (!relu_) check_or_grow(cost, accepted, restart);
        break;
      }
    }
    return cost;
  }

  // The gated polish's certificate check at the current residual, and the growth it may call
  // for (see newton_cg): returns true when the polish round ends there (the gap closes, or
  // blocks outside the support violated their constraints and took their steps).
  bool check_or_grow(double& cost, bool& accepted, bool& restart) {
    cost += 2 * certificate_work_;
    std::vector<Index> missing;
    const PolishCheck check = gated_polish_check(missing);
    if (check == PolishCheck::gap_closes) {
      refresh_residual();
      certify();
      return true;
    }
    if (check != PolishCheck::block_missing) return false;
    for (Index j : missing) {
      poll();  // at 10^6 rows a block's first step (its Gram matrix) takes ~50 ms
      add_to_ws(j);
      cost += update_block(j, false);
      if (u_.col(j).squaredNorm() > 0) restart = true;
    }
    // Then one sweep over the working set, so that every block (the support's too) answers
    // the new ones before Newton's method restarts: bench_solver.py's 10^5 x 20 x 200 problem
    // grew its support in 3 rounds instead of 6 (12 % less polish work), 12 gated problems
    // took 3.70-3.86 s against 3.99-4.27 s, bench_scale.py's 10^6 problem 48.2 s against
    // 51.9 s, a 10^6 x 20 x 200 problem of problems.py 56.2 s (45 epochs) against 64.2 s (54).
    if (restart) {
      accepted = true;  // the block steps lowered the objective
      cost += sweep();
    }
    return true;
  }

  // Replaces the iterate by (u, r) if its objective is lower. ReLU: a block the extrapolation
  // pushed out of its cone is projected back first (and r corrected for it), and the working
  // rows are refreshed to the rows still tight.
  bool try_iterate(BlockMatrix& u, Vector& r) {
    if (relu_) {
      for (Index col : ws_) {
        Vector block = u.col(col);
        if (block.squaredNorm() == 0) continue;
        const Index i = pattern_of(col);
        const PatternCone c = cone(i);
        if (c.relative_violation(block) <= 0) continue;
        const ConeProjection proj =
            project_onto_cone(c, block, cone_states_[static_cast<std::size_t>(col)].working_rows);
        if (!proj.converged) return false;
        const Vector change = proj.u - block;
        add_block_prediction(X_, patterns_, i, change.data(), -sign_of(col), r.data());
        u.col(col) = proj.u;
      }
    }
    Scalar penalty = 0, current_penalty = 0;
    for (Index col : ws_) {
      penalty += u.col(col).norm();
      current_penalty += u_.col(col).norm();
    }
    const Scalar candidate = 0.5 * r.squaredNorm() + beta_ * penalty;
    const Scalar current = 0.5 * r_.squaredNorm() + beta_ * current_penalty;
    if (!(candidate < current)) return false;
    if (relu_) {
      for (Index col : ws_) {
        const Vector block = u.col(col);
        auto& rows = cone_states_[static_cast<std::size_t>(col)].working_rows;
        const Scalar norm = block.norm();
        std::vector<Index> tight;
        for (Index row : rows) {
          const Scalar dot = X_.row(row).dot(block);
          if (norm > 0 && std::abs(dot) <= 1e-12 * X_.row(row).norm() * norm) tight.push_back(row);
        }
        rows.swap(tight);
      }
    }
    for (Index col : ws_) u_.col(col) = u.col(col);
    r_ = r;
    return true;
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
      if (!in_ws_[static_cast<std::size_t>(j)] && !screened_[static_cast<std::size_t>(j)] &&
          bounds_[j] > beta_)
        candidates.push_back(j);
    const Index take = std::min<Index>(count, static_cast<Index>(candidates.size()));
    std::partial_sort(candidates.begin(), candidates.begin() + take, candidates.end(),
                      [&](Index a, Index b) { return bounds_[a] > bounds_[b]; });
    for (Index k = 0; k < take; ++k) add_to_ws(candidates[static_cast<std::size_t>(k)]);
  }

  // One epoch of cyclic block coordinate descent: exact steps over the working set in order,
  // each block's prediction fused with the next one's gradient. Returns the cost.
  double sweep() {
    double work = 0;
    for (std::size_t t = 0; t < ws_.size(); ++t) {
      poll();
      work += update_block(ws_[t], true, t + 1 < ws_.size() ? ws_[t + 1] : -1);
    }
    return work;
  }

  // Exact minimisation over block j; returns its cost in multiply-adds (for the schedule).
  // `next`: the block the sweep updates right after this one (-1: none). When this block moves,
  // its prediction and next's gradient are computed in one walk over the rows, and next's
  // update starts from that gradient (unless a face transfer changed r in between).
  double update_block(Index j, bool transfer = true, Index next = -1) {
    const Index i = pattern_of(j);
    const Scalar s = sign_of(j);
    Vector gradient(g_);
    if (next_gradient_block_ == j)
      gradient = next_gradient_;
    else
      split_block_gradient(i, gradient.data());
    next_gradient_block_ = -1;
    double cost = 2.0 * static_cast<double>(counts_[static_cast<std::size_t>(i)] * g_);
    const Vector u_old = u_.col(j);
    // A zero block whose gradient is within beta stays 0 (the group lasso's block minimiser;
    // ReLU: the cone's projection is no longer, and a zero block has no face to transfer), so
    // its Gram matrix is not formed until the block moves. A Gram matrix costs g times the
    // multiply-adds of a gradient; of the 80 blocks the first polish of bench_scale.py's 10^6
    // problem added to the working set, 64 were back within beta when their turn came (that
    // growth took 3.0 s instead of 4.7).
    if (u_old.squaredNorm() == 0 && gradient.norm() <= beta_) {
      // ReLU: a zero block holds no rows (as cone_block_minimizer leaves it).
      if (relu_) cone_states_[static_cast<std::size_t>(j)].working_rows.clear();
      return cost;
    }
    const BlockGram& q = gram(i);
    const Vector b = s * gradient + q.gram * u_old;
    Vector u_new;
    if (!relu_) {
      u_new = group_block_minimizer(q.vectors, q.values, b, beta_);
    } else {
      u_new = u_old;
      const Index scans =
          cone_block_minimizer(cone(i), q, b, beta_, u_new, cone_states_[static_cast<std::size_t>(j)]);
      cost += 2.0 * static_cast<double>(scans * n_ * g_);
    }
    const Vector delta = u_new - u_old;
    if (delta.squaredNorm() > 0 && next >= 0) {
      next_gradient_.resize(g_);
      fused_update(i, delta.data(), -s, pattern_of(next), next_gradient_.data());
      next_gradient_block_ = next;
      u_.col(j) = u_new;
    } else if (delta.squaredNorm() > 0) {
      add_block_prediction(X_, patterns_, i, delta.data(), -s, r_.data(), &workspace_);
      u_.col(j) = u_new;
    }
    if (relu_ && transfer) cost += transfer_across_face(j, q, b);
    return cost;
  }

  // The sweeps' fused product: block i's prediction added to r, then block next's gradient at
  // the new r. From kSplitRows rows on, the rows are cut into two halves of the words whose
  // gradients are added in that order, the second half on a helper thread when n_threads allows
  // two: the same result for every thread count. There a block update streams its rows of X
  // from memory (10^5 x 20: 16 MB), so each core's half runs at its own share of the bandwidth.
  void fused_update(Index i, const Scalar* delta, Scalar alpha, Index next, Scalar* gradient) {
    if (n_ < kSplitRows) {
      add_block_prediction_then_gradient(X_, patterns_, i, delta, alpha, r_.data(), next,
                                         gradient);
      return;
    }
    const Index words = patterns_.words_per_pattern(), half = words / 2;
    second_half_gradient_.resize(g_);
    auto first = [&] {
      add_block_prediction_then_gradient_words(X_, patterns_, i, delta, alpha, r_.data(), next,
                                               gradient, 0, half);
    };
    auto second = [&] {
      add_block_prediction_then_gradient_words(X_, patterns_, i, delta, alpha, r_.data(), next,
                                               second_half_gradient_.data(), half, words);
    };
    run_halves(first, second);
    Eigen::Map<Vector>(gradient, g_) += second_half_gradient_;
  }

  // out = X^T D_i r, from kSplitRows rows on as two halves of the words added in that order
  // (as fused_update's gradient). A sweep's first block and the blocks a polish adds take
  // their gradient this way; at 10^6 rows one such pass took ~25 ms on one core.
  void split_block_gradient(Index i, Scalar* out) {
    if (n_ < kSplitRows) {
      block_gradient(X_, patterns_, i, r_.data(), out, &workspace_);
      return;
    }
    const Index words = patterns_.words_per_pattern(), half = words / 2;
    second_half_gradient_.resize(g_);
    run_halves([&] { block_gradient_words(X_, patterns_, i, r_.data(), out, 0, half); },
               [&] {
                 block_gradient_words(X_, patterns_, i, r_.data(), second_half_gradient_.data(),
                                      half, words);
               });
    Eigen::Map<Vector>(out, g_) += second_half_gradient_;
  }

  // X^T D_i X, from kSplitRows rows on as the sum of the two halves' (about n g^2 / 4
  // multiply-adds each: ~50 ms on one core at 10^6 x 20).
  Matrix split_block_gram(Index i) {
    if (n_ < kSplitRows) return block_gram(X_, patterns_, i);
    const Index words = patterns_.words_per_pattern(), half = words / 2;
    Matrix first, second;
    run_halves([&] { first = block_gram_words(X_, patterns_, i, 0, half); },
               [&] { second = block_gram_words(X_, patterns_, i, half, words); });
    return first + second;
  }

  // Runs first() on this thread and second() on the sweep helper, or both here in turn: the
  // same calls, so the same result, whatever the thread count.
  template <class First, class Second>
  void run_halves(First&& first, Second&& second) {
    if (HelperThread* helper = sweep_helper()) {
      helper->run(first, second);
    } else {
      first();
      second();
    }
  }

  // The helper thread of run_halves, started on first use if n_threads allows two threads
  // (null otherwise, or if the system refuses the thread: the halves then run in turn).
  HelperThread* sweep_helper() {
    if (!helper_started_) {
      helper_started_ = true;
      const Index threads =
          settings_.n_threads == 0 ? default_thread_count() : settings_.n_threads;
      if (threads >= 2) {
        try {
          helper_ = std::make_unique<HelperThread>();
        } catch (const std::system_error&) {
        }
      }
    }
    return helper_.get();
  }

  // Face transfer (ReLU). A block held on a row k of its cone by a positive multiplier is pushed
  // across that face by the gradient; if the pattern with row k flipped is in the set, its cone
  // contains u too (they differ only in row k, and x_k^T u = 0) and predicts the same
  // D X u, so u moves to that block (added to it: the penalty ||u + u'|| <= ||u|| + ||u'||
  // does not increase), which is then minimised from there and can cross the face. Cyclic
  // sweeps alone pass mass between the two blocks a little per epoch (thousands of epochs on
  // complete pattern sets of low-dimensional data, where most optima lie on shared faces).
  // b is the block's linear term of its last update (the gradient there is Q u - b + beta u/|u|).
  double transfer_across_face(Index j, const BlockGram& q, const Vector& b) {
    const auto& rows = cone_states_[static_cast<std::size_t>(j)].working_rows;
    const Vector u = u_.col(j);
    const Scalar norm = u.norm();
    if (rows.empty() || !(norm > 0)) return 0;
    const Index i = pattern_of(j);
    const Index m = static_cast<Index>(rows.size());
    Eigen::MatrixXd a(g_, m);
    for (Index t = 0; t < m; ++t) {
      const Index k = rows[static_cast<std::size_t>(t)];
      a.col(t) = (patterns_.active(k, i) ? Scalar{1} : Scalar{-1}) * X_.row(k).transpose();
    }
    const Vector grad = q.gram * u - b + (beta_ / norm) * u;
    const Vector mu = cone_rows_least_squares(cone(i), rows, grad);
    Index best = -1;
    Scalar largest = 1e-9 * (b.norm() + beta_);
    for (Index t = 0; t < m; ++t) {
      const Scalar scaled = mu[t] * a.col(t).norm();
      if (scaled > largest) {
        largest = scaled;
        best = t;
      }
    }
    if (best < 0) return 0;
    const Index neighbour = neighbour_pattern(i, rows[static_cast<std::size_t>(best)]);
    if (neighbour < 0) return 0;
    const Index target = j < p_ ? neighbour : neighbour + p_;
    if (screened_[static_cast<std::size_t>(target)]) return 0;
    const Scalar s = sign_of(j);
    next_gradient_block_ = -1;  // r changes: the next block's gradient is computed again
    add_block_prediction(X_, patterns_, i, u.data(), s, r_.data(), &workspace_);
    add_block_prediction(X_, patterns_, neighbour, u.data(), -s, r_.data(), &workspace_);
    u_.col(target) += u;
    u_.col(j).setZero();
    cone_states_[static_cast<std::size_t>(j)].working_rows.clear();
    cone_states_[static_cast<std::size_t>(target)].working_rows.clear();
    if (!in_ws_[static_cast<std::size_t>(target)]) pending_ws_.push_back(target);
    ++n_transfers_;
    return 4.0 * static_cast<double>(n_ * g_) + update_block(target, false);
  }

  // Index of the pattern equal to pattern i with row k flipped, or -1 (hash table built on
  // first use: one entry per pattern).
  Index neighbour_pattern(Index i, Index k) {
    const Index words = patterns_.words_per_pattern();
    auto hash_words = [&](const Word* w) {
      std::uint64_t h = 1469598103934665603ull;
      for (Index t = 0; t < words; ++t) h = (h ^ w[t]) * 1099511628211ull + (h >> 29);
      return h;
    };
    if (pattern_index_.empty())
      for (Index t = 0; t < p_; ++t) pattern_index_.emplace(hash_words(patterns_.pattern(t)), t);
    std::vector<Word> flipped(patterns_.pattern(i), patterns_.pattern(i) + words);
    flipped[static_cast<std::size_t>(k / kWordBits)] ^= Word{1} << (k % kWordBits);
    const auto range = pattern_index_.equal_range(hash_words(flipped.data()));
    for (auto it = range.first; it != range.second; ++it)
      if (std::equal(flipped.begin(), flipped.end(), patterns_.pattern(it->second))) return it->second;
    return -1;
  }

  const MatrixCRef& X_;
  const VectorCRef& y_;
  const PatternSet& patterns_;
  const Scalar beta_;
  const SolverSettings settings_;
  InterruptCheck* interrupt_;
  const bool relu_;
  const Index n_, g_, p_, nb_;

  Vector inverse_norms_;  // ReLU: 1 / ||x_k||, shared by the cones
  BlockMatrix u_;  // (g, nb): column j is block j
  Vector workspace_;  // (n) masked products of dense patterns
  Vector next_gradient_;          // block gradient of the sweep's next block (update_block)
  Index next_gradient_block_ = -1;  // that block, or -1
  static constexpr Index kSplitRows = 32768;  // the split_* and fused products halve from here
  static constexpr Index kDesignChunk = 256;  // rows of the reduced design formed at a time
  Vector second_half_gradient_;  // the second half's gradient (fused_update, split_block_gradient)
  std::unique_ptr<HelperThread> helper_;
  bool helper_started_ = false;
  Vector r_;       // residual y - yhat: the dual iterate
  Scalar primal_ = 0;
  Scalar best_dual_ = -std::numeric_limits<Scalar>::infinity();
  Vector best_theta_;
  Scalar ws_relative_gap_ = 0;
  static constexpr Index kExtrapolation = 8;
  Vector dual_candidate_;  // extrapolated residual waiting for the next certificate
  std::deque<BlockSnapshot> anderson_u_;  // iterates of the window, for Anderson acceleration
  ResidualHistory anderson_r_;  // residuals of the same epochs (float32 differences)
  double certificate_work_ = 0;
  BlockMatrix gradients_;
  Vector bounds_;
  std::vector<Index> counts_;
  std::vector<std::unique_ptr<BlockGram>> grams_;
  std::vector<ConeBlockState> cone_states_;
  std::vector<ConeBoundCache> bound_caches_;
  struct BoundReference {
    Vector c;  // the block's c = s X^T D_i r at its last cone bound (empty before)
    Scalar bound = 0;
  };
  std::vector<BoundReference> bound_references_;
  std::vector<char> in_ws_;
  std::vector<Index> ws_;
  std::vector<char> screened_;  // blocks proved 0 at every optimum (Gap Safe screening)
  bool screening_pending_ = false;
  Scalar data_norm_ = -1;  // ||X||_2, computed on first use
  std::vector<Index> pending_ws_;  // blocks a face transfer filled, joining ws_ after the epoch
  std::unordered_multimap<std::uint64_t, Index> pattern_index_;  // pattern hash -> index (ReLU)
  Index n_transfers_ = 0;
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
  check_row_scale(X);
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
  if (program == ConvexProgram::gated) {
    for (Index i = 0; i < patterns.size(); ++i) best = std::max(best, gradients.col(i).norm());
    return best;
  }
  // ReLU: ||Proj_K(c)|| <= ||c||, so blocks are visited by decreasing ||c|| and the scan stops
  // once ||c|| cannot beat the best; each projection stops as soon as its certified bound is
  // below the best so far (it cannot be the maximum), and runs to convergence otherwise.
  const Vector inverse_norms = inverse_row_norms(X);
  std::vector<std::pair<Scalar, Index>> order;  // (||c||, signed block: i or -(i + 1))
  for (Index i = 0; i < patterns.size(); ++i) {
    const Scalar norm = gradients.col(i).norm();
    order.emplace_back(norm, i);
    order.emplace_back(norm, -(i + 1));
  }
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (const auto& [norm, signed_block] : order) {
    if (norm <= best) break;
    const Index i = signed_block >= 0 ? signed_block : -signed_block - 1;
    const Vector c = signed_block >= 0 ? Vector(gradients.col(i)) : Vector(-gradients.col(i));
    const PatternCone cone{X, patterns, i, inverse_norms};
    const ConeProjection proj = project_onto_cone(cone, c, {}, best, 100 * g + 100);
    best = std::max(best, proj.bound);
  }
  return best;
}

}  // namespace dualnet
