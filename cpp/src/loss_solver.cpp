#include <dualnet/block_products.hpp>
#include <dualnet/certificate.hpp>
#include <dualnet/cone_projection.hpp>
#include <dualnet/convex_solver.hpp>
#include <dualnet/loss_solver.hpp>
#include <dualnet/memory_budget.hpp>

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualnet {

namespace {

constexpr Scalar kTiny = std::numeric_limits<Scalar>::min();
// The least curvature of a Newton model: its square root scales rows of X, which must stay far
// from the subnormal range (check_row_scale).
constexpr Scalar kCurvatureFloor = 1e-100;

std::string shape(Index rows, Index cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

SolverSettings convex_settings(const LossSettings& settings) {
  SolverSettings out;
  out.program = settings.program;
  out.tol = settings.tol;
  out.max_iter = std::min(settings.max_iter, settings.max_inner_iter);
  return out;
}

Scalar relative(Scalar primal, Scalar dual) { return (primal - dual) / std::max(primal, kTiny); }

// The certified quantities of a result, from the objective and the best dual point.
void fill_certificate(LossSolution& out, Scalar primal, Scalar dual, Matrix theta, bool converged,
                      Index n_iter) {
  out.primal_objective = primal;
  out.dual_objective = dual;
  out.duality_gap = primal - dual;
  out.relative_gap = relative(primal, dual);
  out.converged = converged;
  out.status = converged ? SolverStatus::converged : SolverStatus::max_iter;
  out.n_iter = n_iter;
  out.dual = std::move(theta);
}

// ---------------------------------------------------------------------------------------------
// Binary losses: proximal Newton around solve_convex.

class BinaryEngine {
 public:
  BinaryEngine(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns, Scalar beta,
               const LossSettings& settings, InterruptCheck* interrupt)
      : X_(X), y_(y), patterns_(patterns), beta_(beta), settings_(settings),
        interrupt_(interrupt), relu_(settings.program == ConvexProgram::relu),
        hinge_(settings.loss == LossKind::hinge), n_(X.rows()), g_(X.cols()),
        p_(patterns.size()) {
    v_.setZero(g_, p_);
    w_.setZero(g_, p_);
    if (relu_) {
      inverse_norms_ = inverse_row_norms(X);
      bound_rows_.resize(static_cast<std::size_t>(2 * p_));
    }
    if (hinge_) {
      envelope_step_ = settings.hinge_step;
      multipliers_.setZero(n_);
    }
  }

  void warm_start(const Matrix* v0, const Matrix* w0, const Vector* multipliers0) {
    if (hinge_ && multipliers0)
      multipliers_ = multipliers0->cwiseMax(Scalar{0}).cwiseMin(Scalar{1});
    if (!relu_) {
      if (v0) v_ += *v0;
      if (w0) v_ -= *w0;
      return;
    }
    const Matrix* sources[2] = {v0, w0};
    Matrix* targets[2] = {&v_, &w_};
    for (int s = 0; s < 2; ++s) {
      if (!sources[s]) continue;
      for (Index i = 0; i < p_; ++i) {
        const Vector c = sources[s]->col(i);
        if (c.squaredNorm() == 0) continue;
        poll();
        targets[s]->col(i) = project_onto_cone(cone(i), c).u;
      }
    }
  }

  LossSolution run() {
    predict(v_, w_, z_);
    penalty_ = penalty(v_, w_);
    certify();
    Index iteration = 0, inner_epochs = 0;
    Scalar inner_factor = 0.1;
    // Epoch budget of a subproblem: small at first (an early Newton step only needs a descent
    // direction, and from zero at small beta the subproblem is as hard as a squared-loss fit),
    // quadrupled whenever a step fails to decrease the objective.
    Index inner_cap = 200;
    bool stalled = false;
    Scalar floor_ratio = 0.01;
    const auto converged = [&] { return relative(best_primal_, best_dual_) <= settings_.tol; };
    while (!converged() && iteration < settings_.max_iter) {
      poll();
      ++iteration;
      // Hinge: the multipliers move once the envelope problem is solved to a tenth of the best
      // certified gap (the hinge objective of the iterates is not monotone across updates).
      if (hinge_ && envelope_primal_ - envelope_dual_ <= 0.1 * (best_primal_ - best_dual_)) {
        update_multipliers();
        continue;
      }
      Vector gradient, curvature;
      model_derivatives(z_, gradient, curvature);
      const Scalar largest = curvature.maxCoeff();
      for (Index k = 0; k < n_; ++k)
        curvature[k] = std::max({curvature[k], floor_ratio * std::abs(gradient[k]), 1e-12 * largest,
                                 kCurvatureFloor});
      const Vector root = curvature.cwiseSqrt();
      Matrix scaled = root.asDiagonal() * X_;
      const Vector target = root.cwiseProduct(z_) - gradient.cwiseQuotient(root);
      // The subproblem's objective at the warm start, to turn the outer gap into its tolerance.
      const Scalar start = 0.5 * gradient.cwiseQuotient(root).squaredNorm() + beta_ * penalty_;
      const Scalar outer_gap = hinge_ ? envelope_primal_ - envelope_dual_ : primal_ - best_dual_;
      SolverSettings inner;
      inner.program = settings_.program;
      inner.max_iter = std::min(settings_.max_inner_iter, inner_cap);
      inner.tol = std::clamp(inner_factor * outer_gap / std::max(start, kTiny), Scalar{1e-13},
                             Scalar{1e-3});
      const ConvexSolution sub =
          solve_convex(scaled, target, patterns_, beta_, inner, &v_, relu_ ? &w_ : nullptr,
                       interrupt_);
      inner_epochs += sub.n_iter;
      Vector z_new;
      predict(sub.v, sub.w, z_new);
      const Vector dz = z_new - z_;
      const Scalar penalty_new = penalty(sub.v, sub.w);
      const Scalar decrease = gradient.dot(dz) + beta_ * (penalty_new - penalty_);
      const Scalar current = model_loss(z_) + beta_ * penalty_;
      bool accepted = false, full_step = false;
      if (decrease < 0) {
        for (Scalar t = 1; t > 1e-10; t /= 2) {
          const Matrix v_t = v_ + t * (sub.v - v_);
          const Matrix w_t = w_ + t * (sub.w - w_);
          const Scalar penalty_t = penalty(v_t, w_t);
          const Vector z_t = z_ + t * dz;
          const Scalar value = model_loss(z_t) + beta_ * penalty_t;
          if (value <= current + 1e-4 * t * decrease) {
            v_ = v_t;
            w_ = w_t;
            accepted = true;
            full_step = t == 1;
            break;
          }
        }
      }
      // The subproblem's certified dual point theta' maps to lambda = sqrt(h) theta' (its block
      // dual norms at X' = diag(sqrt h) X are those of lambda at X, and the cones are unchanged).
      // It approximates the dual at the subproblem's solution, one Newton step ahead of
      // -grad L(z): near the optimum it certifies gaps that -grad L(z) only reaches once the
      // predictions are exact to the square root of the objective's round-off.
      const Vector mapped_dual = root.cwiseProduct(sub.dual);
      if (!accepted) {
        certify_candidate(mapped_dual);
        if (converged()) break;
        // No decrease along the subproblem's solution: solve the next ones more accurately; once
        // they are as accurate as they get, the problem (the hinge's: at these multipliers) is
        // solved to round-off, so the hinge moves its multipliers and the other losses stop.
        if (inner.tol > 1e-13 || inner_cap < settings_.max_inner_iter) {
          inner_factor /= 100;
          inner_cap = std::min(4 * inner_cap, settings_.max_inner_iter);
          continue;
        }
        if (!hinge_ || update_multipliers() == 0) {
          stalled = true;
          break;
        }
        inner_factor = 0.1;
        continue;
      }
      floor_ratio = full_step ? std::max(floor_ratio / 4, hinge_ ? Scalar{1e-3} : Scalar{1e-8})
                              : std::min(floor_ratio * 4, Scalar{0.01});
      predict(v_, w_, z_);  // from scratch: no drift in the certified quantities
      penalty_ = penalty(v_, w_);
      certify();
      certify_candidate(mapped_dual);
      if (hinge_) {
        Index previous = -1;
        for (const Scalar eps : {Scalar{1e-3}, Scalar{1e-6}, Scalar{1e-9}})
          if (!converged()) previous = certify_margin_set(eps, previous);
      }
      if (settings_.verbose)
        std::fprintf(stderr,
                     "dualnet: newton step %ld  inner epochs %ld  primal %.12e  dual %.12e  "
                     "relative gap %.3e\n",
                     static_cast<long>(iteration), static_cast<long>(sub.n_iter), primal_,
                     best_dual_, relative(best_primal_, best_dual_));
    }
    LossSolution out;
    out.v = best_v_;
    out.w = best_w_;
    fill_certificate(out, best_primal_, best_dual_, best_theta_, converged(), iteration);
    if (!out.converged && stalled) out.status = SolverStatus::stalled;
    out.n_inner_iter = inner_epochs;
    for (Index i = 0; i < p_; ++i) {
      const Vector v = best_v_.col(i), w = best_w_.col(i);
      if (v.squaredNorm() > 0 || w.squaredNorm() > 0) ++out.n_active;
      if (!relu_) continue;
      for (const Vector* u : {&v, &w})
        if (u->squaredNorm() > 0)
          out.max_cone_violation = std::max(out.max_cone_violation, cone(i).relative_violation(*u));
    }
    return out;
  }

 private:
  void poll() {
    if (interrupt_) interrupt_->poll();
  }
  PatternCone cone(Index i) const { return PatternCone{X_, patterns_, i, inverse_norms_}; }

  // The loss the Newton steps minimise: the logistic loss, or the hinge's envelope at the current
  // multipliers and mu.
  Scalar model_loss(const Vector& z) const {
    return hinge_ ? hinge_envelope_value(z, y_, multipliers_, envelope_step_)
                  : binary_loss_value(LossKind::logistic, z, y_);
  }
  void model_derivatives(const Vector& z, Vector& gradient, Vector& curvature) const {
    if (hinge_)
      hinge_envelope_derivatives(z, y_, multipliers_, envelope_step_, gradient, curvature);
    else
      logistic_derivatives(z, y_, gradient, curvature);
  }

  // Hinge: the multiplier step of the augmented Lagrangian method, q <- the envelope's p at the
  // current prediction (a proximal point step on the dual, with the mu of the problem just
  // solved). Returns the largest change of q. The dual steps are damped by (mu / 2) ||p - q||^2:
  // when the certified gap did not halve since the previous step, mu is divided by 4 for the
  // next ones (the usual penalty increase of augmented Lagrangian methods), down to 0.03. A
  // smaller mu makes the Newton subproblems' curvature (1 / mu on the margin band, about 1e-3
  // elsewhere) so uneven that their solves cost more than the moves they save: with 0.01 the
  // saved round solves of breast_cancer's default fit took about three times as long.
  Scalar update_multipliers() {
    // The envelope's gradient is -y p with y = +-1, so p = -y * gradient exactly.
    Vector gradient, curvature;
    model_derivatives(z_, gradient, curvature);
    Scalar change = 0;
    for (Index k = 0; k < n_; ++k) {
      const Scalar q = -y_[k] * gradient[k];
      change = std::max(change, std::abs(q - multipliers_[k]));
      multipliers_[k] = q;
    }
    const Scalar gap = best_primal_ - best_dual_;
    if (gap > 0.5 * gap_at_update_) envelope_step_ = std::max(envelope_step_ / 4, Scalar{0.03});
    gap_at_update_ = gap;
    certify();
    return change;
  }

  // The envelope problem's dual objective at a certified hinge dual point theta: the hinge's
  // minus (mu / 2) ||p - q||^2, p = y * theta.
  Scalar envelope_dual_objective(Scalar dual, const Vector& theta) const {
    return dual - 0.5 * envelope_step_ * (y_.cwiseProduct(theta) - multipliers_).squaredNorm();
  }

  // z = sum_i D_i X (v_i - w_i)
  void predict(const Matrix& v, const Matrix& w, Vector& z) {
    z.setZero(n_);
    for (Index i = 0; i < p_; ++i) {
      const Vector u = v.col(i) - w.col(i);
      if (u.squaredNorm() == 0) continue;
      add_block_prediction(X_, patterns_, i, u.data(), 1, z.data(), &workspace_);
    }
  }

  Scalar penalty(const Matrix& v, const Matrix& w) const {
    return v.colwise().norm().sum() + (relu_ ? w.colwise().norm().sum() : Scalar{0});
  }

  // Upper bound of max_i (dual norm of block i at lambda) over all blocks.
  Scalar max_block_bound(const Vector& lambda) {
    all_block_gradients(X_, patterns_, lambda.data(), gradients_);
    Scalar best = 0;
    for (Index i = 0; i < p_; ++i) {
      poll();
      if (!relu_) {
        best = std::max(best, gradients_.col(i).norm());
        continue;
      }
      for (Index s = 0; s < 2; ++s) {
        const Vector c = (s == 0 ? Scalar{1} : Scalar{-1}) * gradients_.col(i);
        const ConeBound b = cone_dual_norm_bound(
            cone(i), c, beta_, bound_rows_[static_cast<std::size_t>(2 * i + s)], 20);
        best = std::max(best, b.bound);
      }
    }
    return best;
  }

  // The certified point from -grad L at the current prediction (the envelope's gradient for the
  // hinge: its p lies in the hinge's dual domain).
  void certify() {
    Vector gradient, curvature;
    const LossKind kind = settings_.loss;
    model_derivatives(z_, gradient, curvature);
    const Vector lambda = -gradient;
    const Vector theta = lambda / dual_scaling(max_block_bound(lambda), beta_);
    const Scalar dual = binary_dual_objective(kind, theta, y_);
    primal_ = binary_loss_value(kind, z_, y_) + beta_ * penalty_;
    if (primal_ < best_primal_) {
      best_primal_ = primal_;
      best_v_ = v_;
      best_w_ = w_;
    }
    if (dual > best_dual_ || best_theta_.size() == 0) {
      best_dual_ = dual;
      best_theta_ = theta;
    }
    if (hinge_) {
      envelope_primal_ = model_loss(z_) + beta_ * penalty_;
      envelope_dual_ = envelope_dual_objective(dual, theta);
    }
  }

  // A second dual candidate `lambda` (block dual norms unchecked): rescaled to dual feasibility,
  // then moved towards the gradient point best_theta_ (inside the conjugate's domain) until
  // p = y * theta lies in [0, 1]; the segment stays dual feasible (both ends are), and the
  // concave dual objective is maximised over the admissible part of it.
  void certify_candidate(const Vector& lambda) {
    if (!lambda.allFinite() || best_theta_.size() != n_) return;
    const Vector candidate = lambda / dual_scaling(max_block_bound(lambda), beta_);
    const Vector& anchor = best_theta_;
    Scalar t_max = 1;
    for (Index k = 0; k < n_; ++k) {
      const Scalar p0 = y_[k] * anchor[k], p1 = y_[k] * candidate[k];
      if (p1 > 1 && p1 > p0) t_max = std::min(t_max, (1 - p0) / (p1 - p0));
      if (p1 < 0 && p1 < p0) t_max = std::min(t_max, p0 / (p0 - p1));
    }
    t_max = std::max(t_max, Scalar{0});
    const LossKind kind = settings_.loss;
    const auto point = [&](Scalar t) { return Vector(anchor + t * (candidate - anchor)); };
    const auto value = [&](Scalar t) { return binary_dual_objective(kind, point(t), y_); };
    Scalar lo = 0, hi = t_max;
    if (kind == LossKind::logistic) {  // golden-section search of the concave objective
      const Scalar ratio = 0.5 * (std::sqrt(Scalar{5}) - 1);
      Scalar a = hi - ratio * (hi - lo), b = lo + ratio * (hi - lo);
      Scalar fa = value(a), fb = value(b);
      for (int k = 0; k < 60 && hi - lo > 1e-15; ++k) {
        if (fa < fb) {
          lo = a;
          a = b;
          fa = fb;
          b = lo + ratio * (hi - lo);
          fb = value(b);
        } else {
          hi = b;
          b = a;
          fb = fa;
          a = hi - ratio * (hi - lo);
          fa = value(a);
        }
      }
    }
    Scalar t = t_max;
    if (kind == LossKind::logistic && value(0.5 * (lo + hi)) > value(t_max)) t = 0.5 * (lo + hi);
    const Vector theta = point(t);
    const Scalar dual = binary_dual_objective(kind, theta, y_);
    if (hinge_) {
      envelope_dual_ = std::max(envelope_dual_, envelope_dual_objective(dual, theta));
    }
    if (dual > best_dual_) {
      best_dual_ = dual;
      best_theta_ = theta;
    }
  }

  // Hinge: on the margin set M = {k : |y_k z_k - 1| <= eps} the hinge's multipliers p are not
  // given by any gradient; outside it p is 1 (margin below 1) or 0 (above). p_M is taken from the
  // stationarity of the nonzero blocks, s X^T D_i (y * p) = beta u_i / ||u_i|| (s = +1 for v_i,
  // -1 for w_i; the cone multipliers of ReLU blocks are left out), by least squares, clipped
  // into [0, 1] and certified like any candidate (a margin set that is wrong only costs a
  // weaker candidate). Near the optimum this is the exact dual point while the envelope's
  // gradient still lags by the multipliers' error.
  // Returns the size of the margin set; skips the work when it equals `previous` (the sets are
  // nested in eps, so the same size is the same set).
  Index certify_margin_set(Scalar eps, Index previous) {
    std::vector<Index> margin_rows;
    Vector p(n_);
    for (Index k = 0; k < n_; ++k) {
      const Scalar margin = y_[k] * z_[k];
      p[k] = margin < 1 ? Scalar{1} : Scalar{0};
      if (std::abs(margin - 1) <= eps) margin_rows.push_back(k);
    }
    const Index m = static_cast<Index>(margin_rows.size());
    if (m == previous) return m;
    if (m > 0) {
      for (Index k : margin_rows) p[k] = 0;
      std::vector<std::pair<Index, Scalar>> blocks;  // (pattern, sign) of the nonzero blocks
      for (Index i = 0; i < p_; ++i) {
        if (v_.col(i).squaredNorm() > 0) blocks.emplace_back(i, Scalar{1});
        if (relu_ && w_.col(i).squaredNorm() > 0) blocks.emplace_back(i, Scalar{-1});
      }
      if (blocks.empty()) return m;
      const Index rows = g_ * static_cast<Index>(blocks.size());
      if (static_cast<double>(rows) * static_cast<double>(m) > 5e7) return m;  // too large to factor
      Eigen::MatrixXd a = Eigen::MatrixXd::Zero(rows, m);
      Vector b(rows);
      const Vector fixed = y_.cwiseProduct(p);
      for (std::size_t j = 0; j < blocks.size(); ++j) {
        const Index i = blocks[j].first;
        const Scalar sign = blocks[j].second;
        const Vector u = sign > 0 ? Vector(v_.col(i)) : Vector(w_.col(i));
        Vector known = Vector::Zero(g_);
        block_gradient(X_, patterns_, i, fixed.data(), known.data());
        b.segment(static_cast<Index>(j) * g_, g_) = beta_ * u / u.norm() - sign * known;
        for (Index c = 0; c < m; ++c) {
          const Index k = margin_rows[static_cast<std::size_t>(c)];
          if (patterns_.active(k, i))
            a.block(static_cast<Index>(j) * g_, c, g_, 1) = sign * y_[k] * X_.row(k).transpose();
        }
      }
      const Vector solved = a.completeOrthogonalDecomposition().solve(b);
      if (!solved.allFinite()) return m;
      for (Index c = 0; c < m; ++c)
        p[margin_rows[static_cast<std::size_t>(c)]] = std::clamp(solved[c], Scalar{0}, Scalar{1});
    }
    certify_candidate(y_.cwiseProduct(p));
    return m;
  }

  const MatrixCRef& X_;
  const VectorCRef& y_;
  const PatternSet& patterns_;
  const Scalar beta_;
  const LossSettings settings_;
  InterruptCheck* interrupt_;
  const bool relu_, hinge_;
  const Index n_, g_, p_;
  Vector inverse_norms_;
  std::vector<ConeBoundCache> bound_rows_;  // per block and sign: the warm start of its cone bound
  Matrix v_, w_;
  Vector z_, workspace_;
  BlockMatrix gradients_;
  Scalar penalty_ = 0, primal_ = 0, envelope_step_ = 0;
  // The iterate of the lowest objective (the hinge's iterates are not monotone), returned.
  Scalar best_primal_ = std::numeric_limits<Scalar>::infinity();
  Matrix best_v_, best_w_;
  Scalar envelope_primal_ = 0, envelope_dual_ = 0;
  Vector multipliers_;  // hinge: the augmented Lagrangian's q, in [0, 1]
  Scalar gap_at_update_ = std::numeric_limits<Scalar>::infinity();
  Scalar best_dual_ = -std::numeric_limits<Scalar>::infinity();
  Vector best_theta_;
};

// ---------------------------------------------------------------------------------------------
// Cross-entropy, gated program with nuclear norms: block coordinate proximal gradient.

// Singular values of a small (g, K) matrix.
Vector singular_values(const Eigen::MatrixXd& a) {
  return Eigen::JacobiSVD<Eigen::MatrixXd>(a).singularValues();
}

class NuclearEngine {
 public:
  NuclearEngine(const MatrixCRef& X, const MatrixCRef& Y, const PatternSet& patterns, Scalar beta,
                const LossSettings& settings, InterruptCheck* interrupt)
      : X_(X), Y_(Y), patterns_(patterns), beta_(beta), settings_(settings),
        interrupt_(interrupt), n_(X.rows()), g_(X.cols()), p_(patterns.size()), k_(Y.cols()),
        lipschitz_(Vector::Constant(p_, -1)), step_estimates_(Vector::Zero(p_)), in_ws_(static_cast<std::size_t>(p_), 0) {
    v_.setZero(g_, p_ * k_);
  }

  void warm_start(const Matrix* v0) {
    if (v0) v_ = *v0;
  }

  LossSolution run() {
    predict();
    certify();
    for (Index i = 0; i < p_; ++i)
      if (block(i).squaredNorm() > 0 || bounds_[i] > beta_) add_to_ws(i);
    Index epoch = 0;
    bool converged = relative(primal_, best_dual_) <= settings_.tol;
    while (!converged && epoch < settings_.max_iter) {
      for (Index i : ws_) step_block(i);
      ++epoch;
      anderson_step();
      if (epoch % 5 != 0 && epoch < settings_.max_iter) continue;
      predict();  // from scratch: no drift in the certified quantities
      certify();
      for (Index i = 0; i < p_; ++i)
        if (bounds_[i] > beta_) add_to_ws(i);
      if (settings_.verbose)
        std::fprintf(stderr, "dualnet: epoch %ld  working set %ld  primal %.12e  dual %.12e  "
                     "relative gap %.3e\n", static_cast<long>(epoch),
                     static_cast<long>(ws_.size()), primal_, best_dual_,
                     relative(primal_, best_dual_));
      converged = relative(primal_, best_dual_) <= settings_.tol;
    }
    LossSolution out;
    out.v = v_;
    out.w = Matrix::Zero(g_, p_ * k_);
    fill_certificate(out, primal_, best_dual_, best_theta_, converged, epoch);
    for (Index i = 0; i < p_; ++i) out.n_active += block(i).squaredNorm() > 0 ? 1 : 0;
    return out;
  }

 private:
  void poll() {
    if (interrupt_) interrupt_->poll();
  }
  Eigen::MatrixXd block(Index i) const { return v_.middleCols(i * k_, k_); }

  void add_to_ws(Index i) {
    if (in_ws_[static_cast<std::size_t>(i)]) return;
    in_ws_[static_cast<std::size_t>(i)] = 1;
    ws_.push_back(i);
  }

  void predict() {
    z_.setZero(n_, k_);
    for (Index i = 0; i < p_; ++i) {
      const Eigen::MatrixXd b = block(i);
      if (b.squaredNorm() == 0) continue;
      patterns_.for_each_active(i, [&](Index row) { z_.row(row) += X_.row(row) * b; });
    }
    probabilities_ = softmax_rows(z_);
  }

  Scalar block_lipschitz(Index i) {
    if (lipschitz_[i] < 0) {
      const Matrix gram = block_gram(X_, patterns_, i);
      Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(Eigen::MatrixXd(gram),
                                                         Eigen::EigenvaluesOnly);
      lipschitz_[i] = 0.5 * std::max(eig.eigenvalues().maxCoeff(), Scalar{0});
    }
    return lipschitz_[i];
  }

  // Cross-entropy of the rows of Z (n_i, K) against the rows of Y, and the softmax of Z.
  static Scalar rows_loss(const Eigen::MatrixXd& Z, const Eigen::MatrixXd& Y, Eigen::MatrixXd* soft) {
    Scalar total = 0;
    for (Index r = 0; r < Z.rows(); ++r) {
      const Scalar top = Z.row(r).maxCoeff();
      const Eigen::RowVectorXd e = (Z.row(r).array() - top).exp();
      const Scalar sum = e.sum();
      total += top + std::log(sum) - Y.row(r).dot(Z.row(r));
      if (soft) soft->row(r) = e / sum;
    }
    return total;
  }

  // Proximal gradient steps on block i until it stops moving (at most 20), with an adaptive
  // step: the curvature estimate L starts at the last accepted one (the first time at 1/64 of
  // the global bound) and doubles until the sufficient-decrease condition
  // f(V') <= f(V) + <G, V' - V> + L/2 ||V' - V||^2 holds on the block's rows; the global bound
  // lambda_max(X^T D_i X) / 2 always satisfies it. Confident predictions have a softmax
  // curvature far below 1/2, so the steps are much longer than with the global bound.
  void step_block(Index i) {
    poll();
    const Scalar global = block_lipschitz(i);
    if (!(global > 0)) return;
    std::vector<Index> rows;
    rows.reserve(static_cast<std::size_t>(patterns_.count(i)));
    patterns_.for_each_active(i, [&](Index row) { rows.push_back(row); });
    const Index m = static_cast<Index>(rows.size());
    Eigen::MatrixXd xi(m, g_), zi(m, k_), yi(m, k_), pi(m, k_);
    for (Index r = 0; r < m; ++r) {
      const Index row = rows[static_cast<std::size_t>(r)];
      xi.row(r) = X_.row(row);
      zi.row(r) = z_.row(row);
      yi.row(r) = Y_.row(row);
    }
    Scalar f0 = rows_loss(zi, yi, &pi);
    Scalar& estimate = step_estimates_[i];
    Scalar lipschitz = estimate > 0 ? std::min(global, estimate) : global / 64;
    Eigen::MatrixXd old = block(i);
    for (int repeat = 0; repeat < 20; ++repeat) {
      const Eigen::MatrixXd gradient = xi.transpose() * (pi - yi);
      Eigen::MatrixXd updated, delta, z_new, p_new(m, k_);
      Scalar f1 = 0;
      for (;;) {
        const Eigen::MatrixXd moved = old - gradient / lipschitz;
        Eigen::JacobiSVD<Eigen::MatrixXd> svd(moved, Eigen::ComputeThinU | Eigen::ComputeThinV);
        const Vector shrunk =
            (svd.singularValues().array() - beta_ / lipschitz).max(Scalar{0}).matrix();
        updated = svd.matrixU() * shrunk.asDiagonal() * svd.matrixV().transpose();
        delta = updated - old;
        z_new = zi + xi * delta;
        f1 = rows_loss(z_new, yi, &p_new);
        const Scalar model = f0 + (gradient.array() * delta.array()).sum() +
                             0.5 * lipschitz * delta.squaredNorm();
        if (f1 <= model + 1e-12 * std::abs(f0) || lipschitz >= global) break;
        lipschitz = std::min(global, 2 * lipschitz);
      }
      estimate = lipschitz;
      const Scalar change = delta.norm();
      if (change == 0) break;
      old = updated;
      zi = z_new;
      pi = p_new;
      f0 = f1;
      if (change <= 1e-3 * std::max(updated.norm(), kTiny)) break;
    }
    v_.middleCols(i * k_, k_) = old;
    for (Index r = 0; r < m; ++r) {
      const Index row = rows[static_cast<std::size_t>(r)];
      z_.row(row) = zi.row(r);
      probabilities_.row(row) = pi.row(r);
    }
  }

  Scalar nuclear_penalty(const Matrix& v) const {
    Scalar total = 0;
    for (Index i = 0; i < p_; ++i) {
      const Eigen::MatrixXd b = v.middleCols(i * k_, k_);
      if (b.squaredNorm() > 0) total += singular_values(b).sum();
    }
    return total;
  }

  Matrix predictions(const Matrix& v) const {
    Matrix z = Matrix::Zero(n_, k_);
    for (Index i = 0; i < p_; ++i) {
      const Eigen::MatrixXd b = v.middleCols(i * k_, k_);
      if (b.squaredNorm() == 0) continue;
      patterns_.for_each_active(i, [&](Index row) { z.row(row) += X_.row(row) * b; });
    }
    return z;
  }

  // Anderson acceleration of the epochs' iterates (as in the squared-loss solver; Bertrand et
  // al., NeurIPS 2022): every kHistory epochs the affine combination of the last iterates that
  // minimises the norm of the combined differences replaces the iterate if it lowers the
  // objective. Cyclic block steps on overlapping blocks converge linearly but slowly along a few
  // directions; the extrapolation follows them.
  void anderson_step() {
    history_.push_back(v_);
    if (static_cast<Index>(history_.size()) < kHistory + 1) return;
    Eigen::MatrixXd diffs(g_ * p_ * k_, kHistory);
    for (Index j = 0; j < kHistory; ++j) {
      const Matrix d = history_[static_cast<std::size_t>(j + 1)] - history_[static_cast<std::size_t>(j)];
      diffs.col(j) = Eigen::Map<const Vector>(d.data(), d.size());
    }
    Eigen::MatrixXd gram = diffs.transpose() * diffs;
    const Scalar trace = gram.trace();
    std::vector<Matrix> window;
    window.swap(history_);
    history_.push_back(window.back());
    if (!(trace > 0)) return;
    gram.diagonal().array() += 1e-12 * trace;
    Vector c = gram.ldlt().solve(Vector::Ones(kHistory));
    const Scalar total = c.sum();
    if (!c.allFinite() || !std::isfinite(total) || total == 0) return;
    c /= total;
    Matrix candidate = Matrix::Zero(g_, p_ * k_);
    for (Index j = 0; j < kHistory; ++j) candidate += c[j] * window[static_cast<std::size_t>(j + 1)];
    const Matrix z = predictions(candidate);
    const Scalar value = cross_entropy_value(z, Y_) + beta_ * nuclear_penalty(candidate);
    const Scalar current = cross_entropy_value(z_, Y_) + beta_ * nuclear_penalty(v_);
    if (!(value < current)) return;
    v_ = candidate;
    z_ = z;
    probabilities_ = softmax_rows(z_);
    history_.clear();
    history_.push_back(v_);
  }

  void certify() {
    const Matrix lambda = Matrix(Y_) - probabilities_;
    bounds_.setZero(p_);
    std::vector<BlockMatrix> gradients(static_cast<std::size_t>(k_));
    for (Index c = 0; c < k_; ++c) {
      const Vector column = lambda.col(c);
      all_block_gradients(X_, patterns_, column.data(), gradients[static_cast<std::size_t>(c)]);
    }
    Scalar largest = 0, penalty = 0;
    Eigen::MatrixXd a(g_, k_);
    for (Index i = 0; i < p_; ++i) {
      poll();
      for (Index c = 0; c < k_; ++c) a.col(c) = gradients[static_cast<std::size_t>(c)].col(i);
      bounds_[i] = singular_values(a)[0];
      largest = std::max(largest, bounds_[i]);
      const Eigen::MatrixXd b = block(i);
      if (b.squaredNorm() > 0) penalty += singular_values(b).sum();
    }
    const Matrix theta = lambda / dual_scaling(largest, beta_);
    const Scalar dual = cross_entropy_dual_objective(theta, Y_);
    primal_ = cross_entropy_value(z_, Y_) + beta_ * penalty;
    if (dual > best_dual_ || best_theta_.size() == 0) {
      best_dual_ = dual;
      best_theta_ = theta;
    }
  }

  const MatrixCRef& X_;
  const MatrixCRef& Y_;
  const PatternSet& patterns_;
  const Scalar beta_;
  const LossSettings settings_;
  InterruptCheck* interrupt_;
  const Index n_, g_, p_, k_;
  Vector lipschitz_;       // lambda_max(X^T D_i X) / 2 (computed on first use; -1 before)
  Vector step_estimates_;  // last accepted curvature estimate of each block (0: none yet)
  std::vector<char> in_ws_;
  std::vector<Index> ws_;
  Matrix v_;  // (g, P K)
  Matrix z_, probabilities_;  // (n, K)
  Vector bounds_;
  static constexpr Index kHistory = 5;
  std::vector<Matrix> history_;  // iterates of the epochs since the last Anderson step
  Scalar primal_ = 0;
  Scalar best_dual_ = -std::numeric_limits<Scalar>::infinity();
  Matrix best_theta_;
};

}  // namespace

LossSolution solve_binary_loss(const MatrixCRef& X, const VectorCRef& y, const PatternSet& patterns,
                               Scalar beta, const LossSettings& settings, const Matrix* v0,
                               const Matrix* w0, const Vector* multipliers0,
                               InterruptCheck* interrupt) {
  validate_convex_problem(X, y, patterns, beta, convex_settings(settings), v0, w0);
  if (multipliers0 && multipliers0->size() != X.rows())
    throw std::invalid_argument("multipliers must have shape (n_samples,) = (" +
                                std::to_string(X.rows()) + ",), got (" +
                                std::to_string(multipliers0->size()) + ",)");
  if (multipliers0 && !multipliers0->allFinite())
    throw std::invalid_argument("multipliers contain NaN or infinity");
  if (settings.loss == LossKind::cross_entropy)
    throw std::invalid_argument("loss: cross-entropy takes one-hot targets (solve_cross_entropy)");
  for (Index k = 0; k < y.size(); ++k)
    if (y[k] != 1 && y[k] != -1)
      throw std::invalid_argument("y must hold -1 or +1 only, got " + std::to_string(y[k]) +
                                  " at index " + std::to_string(k));
  const bool relu = settings.program == ConvexProgram::relu;
  check_memory_budget(saturating_add(array_bytes({relu ? 10 : 7, X.cols(), patterns.size()},
                                                 sizeof(Scalar)),
                                     array_bytes({X.rows(), X.cols()}, sizeof(Scalar))),
                      "the loss solver over " + std::to_string(patterns.size()) + " patterns");
  BinaryEngine engine(X, y, patterns, beta, settings, interrupt);
  engine.warm_start(v0, w0, multipliers0);
  return engine.run();
}

LossSolution solve_cross_entropy_gated(const MatrixCRef& X, const MatrixCRef& Y,
                                       const PatternSet& patterns, Scalar beta,
                                       const LossSettings& settings, const Matrix* v0,
                                       InterruptCheck* interrupt) {
  const Index k = Y.cols();
  if (k < 2)
    throw std::invalid_argument("Y must have at least 2 columns (classes), got shape " +
                                shape(Y.rows(), k));
  const Vector first_class = Y.col(0);
  const Matrix v0_first = v0 && v0->cols() == patterns.size() * k
                              ? Matrix(v0->leftCols(patterns.size())) : Matrix();
  if (v0 && v0->cols() != patterns.size() * k)
    throw std::invalid_argument("v0 has shape " + shape(v0->rows(), v0->cols()) + " but " +
                                shape(X.cols(), patterns.size() * k) + " is needed");
  validate_convex_problem(X, first_class, patterns, beta, convex_settings(settings),
                          v0 ? &v0_first : nullptr, nullptr);
  if (v0 && !v0->allFinite()) throw std::invalid_argument("v0 contains NaN or infinity");
  for (Index row = 0; row < Y.rows(); ++row) {
    Scalar total = 0;
    for (Index c = 0; c < k; ++c) {
      if (Y(row, c) != 0 && Y(row, c) != 1)
        throw std::invalid_argument("Y must be one-hot, got " + std::to_string(Y(row, c)) +
                                    " at row " + std::to_string(row));
      total += Y(row, c);
    }
    if (total != 1)
      throw std::invalid_argument("Y must be one-hot: row " + std::to_string(row) + " sums to " +
                                  std::to_string(total));
  }
  check_memory_budget(array_bytes({3 + k, X.cols(), patterns.size() * k}, sizeof(Scalar)),
                      "the cross-entropy solver over " + std::to_string(patterns.size()) +
                          " patterns and " + std::to_string(k) + " classes");
  NuclearEngine engine(X, Y, patterns, beta, settings, interrupt);
  engine.warm_start(v0);
  return engine.run();
}

}  // namespace dualnet
