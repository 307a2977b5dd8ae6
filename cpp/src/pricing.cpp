#include <dualnet/pricing.hpp>

#include <dualnet/cone_projection.hpp>
#include <dualnet/pattern_distance.hpp>

#include <Eigen/Cholesky>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace dualnet {

namespace {

// A gate is strictly interior when |x_k^T u| > kInteriorTol ||x_k|| ||u|| on every nonzero row
// (zero rows are active for every gate and constrain nothing).
constexpr Scalar kInteriorTol = 1e-9;
// ||Proj_K(c)|| below this fraction of ||c|| is a zero projection (round-off).
constexpr Scalar kZeroProjection = 1e-10;
// Single-row flips tried per step (the most promising by the gated prediction).
constexpr std::size_t kFlips = 8;

using Key = std::vector<Word>;

struct KeyHash {
  std::size_t operator()(const Key& key) const {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ key.size();
    for (const Word w : key) {  // splitmix64 finaliser of each word, chained
      std::uint64_t z = w + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      h ^= z ^ (z >> 31);
    }
    return static_cast<std::size_t>(h);
  }
};

// The within-cell maximiser of s * lambda^T D X u over the unit ball of the cone, for one sign s.
struct Side {
  bool ready = false;
  Scalar value = 0;
  Vector witness;            // unit direction in the closed cone (zero when the value is 0)
  std::vector<Index> rows;   // walls the maximiser touches (the projection's passive set)
};

struct Candidate {
  Vector c;                  // X^T D lambda
  bool in_current = false;
  bool climbed[2] = {false, false};
  Side side[2];              // s = +1, s = -1
};

class Search {
 public:
  Search(const MatrixCRef& X, const VectorCRef& dual, const PatternSet& current,
         const PricingSettings& settings)
      : X_(X),
        dual_(dual),
        settings_(settings),
        seen_(X.rows(), X.cols()),
        inverse_norms_(inverse_row_norms(X)),
        row_norms_(X.rowwise().norm()),
        rng_(settings.seed) {
    const Index words = current.words_per_pattern();
    current_keys_.reserve(static_cast<std::size_t>(current.size()));
    for (Index i = 0; i < current.size(); ++i)
      current_keys_.emplace(current.pattern(i), current.pattern(i) + words);
    max_scans_ = 20 * X.cols() + 20;
  }

  Index n_candidates() const { return static_cast<Index>(candidates_.size()); }
  const PatternSet& seen() const { return seen_; }
  bool in_current(Index i) const { return candidates_[i].in_current; }

  // Climbs from the cell of u (any nonzero direction) for sign s; false if no interior gate near
  // u was found.
  bool climb(const Vector& start, int s, InterruptCheck* interrupt) {
    Index at = evaluate_near(start);
    if (at < 0) return false;
    for (Index step = 0; step < settings_.max_steps; ++step) {
      if (interrupt) interrupt->poll();
      Candidate& here = candidates_[at];
      if (here.climbed[s < 0]) break;  // the climb from here was already done
      here.climbed[s < 0] = true;
      const Scalar value = climb_value(at, s);
      Index best = -1;
      Scalar best_value = value * (1 + 1e-12);
      for (const Vector& u : moves(at, s)) {
        const Index next = evaluate_near(u);
        if (next < 0 || next == at) continue;
        const Scalar v = climb_value(next, s);
        if (v > best_value) {
          best_value = v;
          best = next;
        }
      }
      if (best < 0) break;
      at = best;
    }
    return true;
  }

  // The dual constraint value of candidate i (both signs for ReLU).
  Scalar value(Index i) {
    if (!settings_.relu) return candidates_[i].c.norm();
    return std::max(side(i, 1).value, side(i, -1).value);
  }

  // A unit direction attaining value(i).
  Vector witness(Index i) {
    const Candidate& cand = candidates_[i];
    if (!settings_.relu) {
      const Scalar norm = cand.c.norm();
      return norm > 0 ? Vector(cand.c / norm) : Vector::Zero(X_.cols());
    }
    const Side& plus = side(i, 1);
    const Side& minus = side(i, -1);
    const Side& best = plus.value >= minus.value ? plus : minus;
    return best.witness.size() ? best.witness : Vector::Zero(X_.cols());
  }

 private:
  Scalar climb_value(Index i, int s) {
    if (!settings_.relu) return candidates_[i].c.norm();
    return side(i, s).value;
  }

  Side& side(Index i, int s) {
    Side& sd = candidates_[i].side[s < 0];
    if (sd.ready) return sd;
    sd.ready = true;
    const Vector c = Scalar(s) * candidates_[i].c;
    const PatternCone cone{X_, seen_, i, inverse_norms_};
    ConeProjection proj =
        project_onto_cone(cone, c, {}, -std::numeric_limits<Scalar>::infinity(), max_scans_);
    if (!proj.converged)  // once more, warm, with the scan budget of a certificate
      proj = project_onto_cone(cone, c, proj.rows, -std::numeric_limits<Scalar>::infinity(),
                               100 * X_.cols() + 100);
    const Scalar norm = proj.u.norm();
    sd.rows = proj.rows;
    // Only a converged projection is a point of the cone, so only it attains a value; a
    // projection that is zero up to round-off has no direction.
    if (proj.converged && norm > kZeroProjection * c.norm()) {
      sd.witness = proj.u / norm;
      // c^T w is the value s lambda^T D X w attained at w (equal to ||Proj_K(c)|| at convergence).
      sd.value = std::max(Scalar{0}, c.dot(sd.witness));
    } else {
      sd.witness = Vector::Zero(X_.cols());
    }
    return sd;
  }

  // Candidate moves from cell i for sign s: the gradient direction, and a point just across each
  // wall touched by the within-cell maximiser (the other touched walls kept on their side).
  std::vector<Vector> moves(Index i, int s) {
    std::vector<Vector> out;
    const Vector c = Scalar(s) * candidates_[i].c;
    const Scalar c_norm = c.norm();
    if (c_norm > 0) out.emplace_back(c / c_norm);
    add_flips(i, c, out);
    const Side& sd = side(i, s);
    const Index m = static_cast<Index>(sd.rows.size());
    if (m == 0 || sd.witness.norm() == 0) return out;
    const Index g = X_.cols();
    Matrix A(m, g);  // rows a_j = (2 D_jj - 1) x_j of the touched walls
    for (Index j = 0; j < m; ++j) {
      const Index row = sd.rows[j];
      A.row(j) = (seen_.active(row, i) ? Scalar{1} : Scalar{-1}) * X_.row(row);
    }
    const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> gram = A * A.transpose();
    const Eigen::LDLT<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>> ldlt(gram);
    if (ldlt.info() != Eigen::Success) return out;
    const Vector& p = sd.witness;
    // Signed products of every row with p and with each wall normal: O(n g (m + 1)) once.
    Vector ap = X_ * p;
    const Matrix XA = X_ * A.transpose();  // (n, m)
    for (Index k = 0; k < m; ++k) {
      Vector t = Vector::Ones(m);
      t[k] = -1;
      const Vector z = ldlt.solve(t);
      if (!z.allFinite()) continue;
      Vector delta = A.transpose() * z;
      const Scalar delta_norm = delta.norm();
      if (!(delta_norm > 0)) continue;
      delta /= delta_norm;
      const Vector xd = XA * (z / delta_norm);
      // Largest step keeping every other row on its side: ratio test, halved.
      Scalar step = 0.1;
      for (Index row = 0; row < X_.rows(); ++row) {
        if (std::find(sd.rows.begin(), sd.rows.end(), row) != sd.rows.end()) continue;
        const Scalar sign = seen_.active(row, i) ? Scalar{1} : Scalar{-1};
        const Scalar at_p = sign * ap[row];
        const Scalar along = sign * xd[row];
        if (along < 0 && at_p > 0) step = std::min(step, 0.5 * at_p / -along);
      }
      step = std::max(step, Scalar{1e-7});
      Vector u = p + step * delta;
      out.emplace_back(u / u.norm());
    }
    return out;
  }

  // Single-row flips: the rows whose flip raises the gated value ||X^T D lambda|| most (a cheap
  // prediction, O(n g) for all rows: flipping row k changes c by -+lambda_k x_k), each reached by
  // moving the cell's gate just across the row's hyperplane (other rows may flip on the way: the
  // cell reached is evaluated as it is).
  void add_flips(Index i, const Vector& c, std::vector<Vector>& out) {
    const Index n = X_.rows();
    const Eigen::Map<const Vector> gate(seen_.gate(i), X_.cols());
    const Vector xc = X_ * c;
    const Vector xu = X_ * gate;
    std::vector<std::pair<Scalar, Index>> gains;
    for (Index k = 0; k < n; ++k) {
      if (row_norms_[k] == 0 || dual_[k] == 0) continue;
      const Scalar delta = seen_.active(k, i) ? Scalar{-1} : Scalar{1};
      const Scalar gain = 2 * delta * dual_[k] * xc[k] + dual_[k] * dual_[k] * row_norms_[k] * row_norms_[k];
      if (gain > 0) gains.emplace_back(gain, k);
    }
    const std::size_t keep = std::min<std::size_t>(gains.size(), kFlips);
    std::partial_sort(gains.begin(), gains.begin() + static_cast<std::ptrdiff_t>(keep), gains.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    for (std::size_t j = 0; j < keep; ++j) {
      const Index k = gains[j].second;
      // Land where x_k^T u' = -0.01 x_k^T u: just past the hyperplane of row k.
      const Scalar t = 1.01 * xu[k] / (row_norms_[k] * row_norms_[k]);
      Vector u = gate - t * X_.row(k).transpose();
      const Scalar norm = u.norm();
      if (norm > 0) out.emplace_back(u / norm);
    }
  }

  // Evaluates the cell of u, perturbing u slightly when it lies on (or too near) a wall.
  Index evaluate_near(const Vector& start) {
    const Scalar norm = start.norm();
    if (!(norm > 0) || !start.allFinite()) return -1;
    Vector u = start / norm;
    std::normal_distribution<Scalar> normal;
    for (const Scalar scale : {0.0, 1e-6, 1e-4, 1e-2}) {
      if (scale > 0) {
        Vector noise(u.size());
        for (Index j = 0; j < noise.size(); ++j) noise[j] = normal(rng_);
        u = start / norm + scale * noise / std::sqrt(Scalar(u.size()));
        u /= u.norm();
      }
      const Index i = evaluate(u);
      if (i >= 0) return i;
    }
    return -1;
  }

  // The candidate index of the cell of the unit gate u, or -1 if u is not strictly interior.
  Index evaluate(const Vector& u) {
    const Index n = X_.rows();
    const Vector xu = X_ * u;
    Key key(static_cast<std::size_t>(seen_.words_per_pattern()), Word{0});
    for (Index k = 0; k < n; ++k) {
      if (row_norms_[k] > 0 && !(std::abs(xu[k]) > kInteriorTol * row_norms_[k])) return -1;
      if (xu[k] >= 0) key[static_cast<std::size_t>(k / kWordBits)] |= Word{1} << (k % kWordBits);
    }
    const auto found = index_.find(key);
    if (found != index_.end()) return found->second;
    const Index i = seen_.size();
    seen_.push_back(key.data(), u.data());
    Vector masked_dual(n);
    for (Index k = 0; k < n; ++k) masked_dual[k] = xu[k] >= 0 ? dual_[k] : Scalar{0};
    Candidate cand;
    cand.c = X_.transpose() * masked_dual;
    cand.in_current = current_keys_.count(key) > 0;
    candidates_.push_back(std::move(cand));
    index_.emplace(std::move(key), i);
    return i;
  }

  const MatrixCRef& X_;
  const VectorCRef& dual_;
  const PricingSettings& settings_;
  PatternSet seen_;  // every cell evaluated, with the gate it was reached by
  std::vector<Candidate> candidates_;
  std::unordered_map<Key, Index, KeyHash> index_;
  std::unordered_set<Key, KeyHash> current_keys_;
  Vector inverse_norms_;
  Vector row_norms_;
  std::mt19937_64 rng_;
  Index max_scans_;
};

// Batched Riemannian gradient ascent of f_s(u) = s lambda^T (X u)_+ (pricing.hpp). Records, per
// cell outside the current set, the best gate seen whose value exceeds the threshold.
class Ascent {
 public:
  using ColMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

  struct Cell {
    Scalar value = 0;   // f_s(gate) (ReLU) or ||X^T D lambda|| (gated)
    int sign = 1;
    Vector gate;        // strictly interior, unit
  };

  Ascent(const MatrixCRef& X, const VectorCRef& dual, const PatternSet& current,
         const PricingSettings& settings, Scalar threshold)
      : X_(X), dual_(dual), settings_(settings), threshold_(threshold),
        row_norms_(X.rowwise().norm()), words_(current.words_per_pattern()) {
    current_keys_.reserve(static_cast<std::size_t>(current.size()));
    for (Index i = 0; i < current.size(); ++i)
      current_keys_.emplace(current.pattern(i), current.pattern(i) + words_);
  }

  // Runs the ascent from the columns of `starts` (g, S) for sign s.
  void run(ColMatrix U, int s, InterruptCheck* interrupt) {
    const Index S = U.cols();
    for (Index j = 0; j < S; ++j) {
      const Scalar norm = U.col(j).norm();
      if (norm > 0) U.col(j) /= norm;
    }
    const Vector sd = Scalar(s) * dual_;
    const Index steps = std::max<Index>(settings_.max_steps, 1);
    const Scalar pi = std::acos(Scalar{-1});
    ColMatrix Z, W, C;
    for (Index t = 0; t <= steps; ++t) {
      if (interrupt) interrupt->poll();
      Z.noalias() = X_ * U;  // (n, S)
      W = (Z.array() > 0).cast<Scalar>().colwise() * sd.array();
      C.noalias() = X_.transpose() * W;  // column j: X^T D(u_j) s lambda
      for (Index j = 0; j < S; ++j) {
        const Scalar f = C.col(j).dot(U.col(j));  // s lambda^T (X u_j)_+
        const Scalar value = settings_.relu ? f : C.col(j).norm();
        record(Z.col(j), U.col(j), value, s);
      }
      if (t == steps) break;
      const Scalar angle = settings_.step * Scalar{0.5} * (1 + std::cos(pi * Scalar(t) / Scalar(steps)));
      for (Index j = 0; j < S; ++j) {
        const Scalar c_norm = C.col(j).norm();
        if (!(c_norm > 0)) continue;
        Vector grad = C.col(j) - C.col(j).dot(U.col(j)) * U.col(j);
        U.col(j) += (angle / c_norm) * grad;
        U.col(j) /= U.col(j).norm();
      }
    }
  }

  Scalar max_value() const { return max_outside_; }
  const std::unordered_map<Key, Cell, KeyHash>& cells() const { return cells_; }
  Index n_evaluated() const { return n_evaluated_; }

 private:
  void record(const Eigen::Ref<const Vector>& z, const Eigen::Ref<const Vector>& u, Scalar value,
              int s) {
    ++n_evaluated_;
    Key key(static_cast<std::size_t>(words_), Word{0});
    bool interior = true;
    for (Index k = 0; k < z.size(); ++k) {
      if (row_norms_[k] > 0 && !(std::abs(z[k]) > kInteriorTol * row_norms_[k])) interior = false;
      if (z[k] >= 0) key[static_cast<std::size_t>(k / kWordBits)] |= Word{1} << (k % kWordBits);
    }
    if (!interior || current_keys_.count(key)) return;
    max_outside_ = std::max(max_outside_, value);
    if (!(value > threshold_)) return;
    auto [it, inserted] = cells_.try_emplace(std::move(key));
    if (inserted || value > it->second.value) {
      it->second.value = value;
      it->second.sign = s;
      it->second.gate = u;
    }
  }

  const MatrixCRef& X_;
  const VectorCRef& dual_;
  const PricingSettings& settings_;
  Scalar threshold_;
  Vector row_norms_;
  Index words_;
  std::unordered_set<Key, KeyHash> current_keys_;
  std::unordered_map<Key, Cell, KeyHash> cells_;
  Scalar max_outside_ = 0;
  Index n_evaluated_ = 0;
};

// Keeps the returned patterns at least min_distance + 1 rows away from every pattern of the
// priced set and from each other (settings.min_distance; nothing is skipped when it is 0).
class Separation {
 public:
  Separation(const PatternSet& current, Index min_distance)
      : current_(current), min_distance_(min_distance) {}

  // True (and counted) when the pattern is too near one of the set or one accepted.
  bool near(const Word* pattern) {
    if (min_distance_ <= 0) return false;
    const Index words = current_.words_per_pattern();
    bool found = false;
    for (Index i = 0; i < current_.size() && !found; ++i)
      found = pattern_distance(pattern, current_.pattern(i), words) <= min_distance_;
    for (std::size_t i = 0; i < accepted_.size() && !found; ++i)
      found = pattern_distance(pattern, accepted_[i], words) <= min_distance_;
    if (found) ++n_near_;
    return found;
  }

  // Records a returned pattern (its words must outlive this object).
  void accept(const Word* pattern) {
    if (min_distance_ > 0) accepted_.push_back(pattern);
  }

  Index n_near() const { return n_near_; }

 private:
  const PatternSet& current_;
  std::vector<const Word*> accepted_;
  Index min_distance_;
  Index n_near_ = 0;
};

std::string shape(Index rows, Index cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

// The climb over cells (pricing.hpp) from the starts `order` of `pool`.
void price_by_climb(const MatrixCRef& X, const VectorCRef& dual, const PatternSet& current,
                    const PricingSettings& settings, Scalar threshold,
                    const std::vector<Vector>& pool, const std::vector<std::size_t>& order,
                    PricingResult& result, InterruptCheck* interrupt) {
  const Index g = X.cols();
  Search search(X, dual, current, settings);
  for (const std::size_t j : order) {
    if (interrupt) interrupt->poll();
    search.climb(pool[j], 1, interrupt);
    search.climb(pool[j], -1, interrupt);
    ++result.n_starts;
  }

  std::vector<std::pair<Scalar, Index>> found;
  for (Index i = 0; i < search.n_candidates(); ++i) {
    if (search.in_current(i)) continue;
    if (interrupt) interrupt->poll();
    const Scalar v = search.value(i);
    result.max_value = std::max(result.max_value, v);
    if (v > threshold) found.emplace_back(v, i);
  }
  result.n_evaluated = search.n_candidates();
  std::stable_sort(found.begin(), found.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  Separation separation(current, settings.min_distance);
  std::vector<std::pair<Scalar, Index>> kept;
  for (const auto& entry : found) {
    if (settings.max_new >= 0 && static_cast<Index>(kept.size()) >= settings.max_new) break;
    const Word* pattern = search.seen().pattern(entry.second);
    if (separation.near(pattern)) continue;
    separation.accept(pattern);
    kept.push_back(entry);
  }
  found = std::move(kept);
  result.n_near = separation.n_near();

  const Index k = static_cast<Index>(found.size());
  result.patterns.reserve(k);
  result.values.resize(k);
  result.witnesses.resize(k, g);
  for (Index j = 0; j < k; ++j) {
    const Index i = found[static_cast<std::size_t>(j)].second;
    result.patterns.push_back(search.seen().pattern(i), search.seen().gate(i));
    result.values[j] = found[static_cast<std::size_t>(j)].first;
    result.witnesses.row(j) = search.witness(i).transpose();
  }
}

// The batched ascent (pricing.hpp) from the starts `order` of `pool`; the returned patterns'
// values are refined by cone projection (ReLU).
void price_by_ascent(const MatrixCRef& X, const VectorCRef& dual, const PatternSet& current,
                     const PricingSettings& settings, Scalar threshold,
                     const std::vector<Vector>& pool, const std::vector<std::size_t>& order,
                     PricingResult& result, InterruptCheck* interrupt) {
  const Index g = X.cols();
  const Index n = X.rows();
  Ascent ascent(X, dual, current, settings, threshold);
  constexpr std::size_t kBatch = 256;  // columns per GEMM: bounds the (n, batch) work arrays
  for (std::size_t first = 0; first < order.size(); first += kBatch) {
    const std::size_t count = std::min(kBatch, order.size() - first);
    Ascent::ColMatrix U(g, static_cast<Index>(count));
    for (std::size_t j = 0; j < count; ++j) U.col(static_cast<Index>(j)) = pool[order[first + j]];
    ascent.run(U, 1, interrupt);
    ascent.run(U, -1, interrupt);
    result.n_starts += static_cast<Index>(count);
  }
  result.n_evaluated = ascent.n_evaluated();
  result.max_value = ascent.max_value();

  // Candidates by witnessed value; the exact values (projections) are taken for the best ones.
  std::vector<std::pair<Scalar, const Key*>> ranked;
  for (const auto& [key, cell] : ascent.cells()) ranked.emplace_back(cell.value, &key);
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && *a.second < *b.second);
  });
  // The best max_new by witnessed value (one per witness) are returned, with their exact values
  // (projections).
  constexpr std::size_t kMaxCandidates = 1 << 16;  // bounds the work on pathological inputs
  if (ranked.size() > kMaxCandidates) ranked.resize(kMaxCandidates);
  PatternSet found(n, g);
  found.reserve(static_cast<Index>(ranked.size()));
  for (const auto& [value, key] : ranked) found.push_back(key->data(), ascent.cells().at(*key).gate.data());
  const Vector inverse_norms = inverse_row_norms(X);
  const Index max_scans = 100 * g + 100;
  struct Out { Scalar value; Index index; Vector witness; };
  // Neighbouring cells whose maximiser is the same point of a shared wall (the same witness,
  // hence the same value) add nothing once one of them is in: one is kept.
  std::vector<Out> out;
  Separation separation(current, settings.min_distance);
  for (Index i = 0; i < found.size(); ++i) {
    if (interrupt) interrupt->poll();
    if (separation.near(found.pattern(i))) continue;
    Vector masked(n);
    for (Index k = 0; k < n; ++k) masked[k] = found.active(k, i) ? dual[k] : Scalar{0};
    const Vector c = X.transpose() * masked;
    Out best;
    if (!settings.relu) {
      const Scalar norm = c.norm();
      best = {norm, i, Vector(c / norm)};
    } else {
      const Ascent::Cell& cell = ascent.cells().at(*ranked[static_cast<std::size_t>(i)].second);
      best = {cell.value, i, cell.gate};
      const PatternCone cone{X, found, i, inverse_norms};
      for (const int s : {1, -1}) {
        const Vector sc = Scalar(s) * c;
        const ConeProjection proj =
            project_onto_cone(cone, sc, {}, -std::numeric_limits<Scalar>::infinity(), max_scans);
        const Scalar norm = proj.u.norm();
        if (!proj.converged || !(norm > kZeroProjection * sc.norm())) continue;
        const Vector w = proj.u / norm;
        const Scalar value = sc.dot(w);  // attained at w, a point of the closed cell
        if (value > best.value) best = {value, i, w};
      }
    }
    bool repeated = false;
    for (const Out& kept : out)
      if ((kept.witness - best.witness).norm() <= 1e-9) repeated = true;
    if (!repeated) {
      separation.accept(found.pattern(i));
      out.push_back(std::move(best));
    }
    if (settings.max_new >= 0 && static_cast<Index>(out.size()) >= settings.max_new) break;
  }
  result.n_near = separation.n_near();
  std::stable_sort(out.begin(), out.end(), [](const Out& a, const Out& b) { return a.value > b.value; });
  const Index k = static_cast<Index>(out.size());
  result.patterns.reserve(k);
  result.values.resize(k);
  result.witnesses.resize(k, g);
  for (Index j = 0; j < k; ++j) {
    const Out& o = out[static_cast<std::size_t>(j)];
    result.patterns.push_back(found.pattern(o.index), found.gate(o.index));
    result.values[j] = o.value;
    result.witnesses.row(j) = o.witness.transpose();
    result.max_value = std::max(result.max_value, o.value);
  }
}

}  // namespace

PricingResult price_patterns(const MatrixCRef& X, const VectorCRef& dual, Scalar beta,
                             const PatternSet& current, const PricingSettings& settings,
                             InterruptCheck* interrupt) {
  const Index n = X.rows();
  const Index g = X.cols();
  if (dual.size() != n)
    throw std::invalid_argument("price_patterns: dual has " + std::to_string(dual.size()) +
                                " entries but X has shape " + shape(n, g));
  if (current.n_rows() != n || current.gate_dim() != g)
    throw std::invalid_argument("price_patterns: patterns has (n_rows, gate_dim) = " +
                                shape(current.n_rows(), current.gate_dim()) +
                                " but X has shape " + shape(n, g));
  if (!(beta > 0) || !std::isfinite(beta))
    throw std::invalid_argument("price_patterns: beta must be positive and finite, got " +
                                std::to_string(beta));
  if (!X.allFinite()) throw std::invalid_argument("price_patterns: X contains NaN or infinity");
  if (!dual.allFinite())
    throw std::invalid_argument("price_patterns: dual contains NaN or infinity");
  if (settings.n_random < 0 || settings.max_steps < 0 || !(settings.tol >= 0) ||
      settings.min_distance < 0)
    throw std::invalid_argument(
        "price_patterns: n_random, max_steps, tol and min_distance must be non-negative");
  if (!(settings.step > 0) || !std::isfinite(settings.step))
    throw std::invalid_argument("price_patterns: step must be positive and finite, got " +
                                std::to_string(settings.step));

  PricingResult result(n, g);
  if (n == 0 || g == 0) return result;

  // The start pool: the current gates (finite ones), the data rows, random directions.
  std::vector<Vector> pool;
  for (Index i = 0; i < current.size(); ++i) {
    const Eigen::Map<const Vector> gate(current.gate(i), g);
    if (gate.allFinite() && gate.norm() > 0) pool.emplace_back(gate);
  }
  for (Index k = 0; k < n; ++k)
    if (X.row(k).norm() > 0) pool.emplace_back(X.row(k).transpose());
  std::mt19937_64 rng(settings.seed ^ 0x5851f42d4c957f2dULL);
  std::normal_distribution<Scalar> normal;
  for (Index r = 0; r < settings.n_random; ++r) {
    Vector u(g);
    for (Index j = 0; j < g; ++j) u[j] = normal(rng);
    pool.push_back(std::move(u));
  }
  std::vector<std::size_t> order(pool.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (settings.n_starts >= 0 && static_cast<std::size_t>(settings.n_starts) < pool.size()) {
    // A seeded subset, uniformly over the pool (partial Fisher-Yates).
    for (std::size_t j = 0; j < static_cast<std::size_t>(settings.n_starts); ++j) {
      std::uniform_int_distribution<std::size_t> pick(j, pool.size() - 1);
      std::swap(order[j], order[pick(rng)]);
    }
    order.resize(static_cast<std::size_t>(settings.n_starts));
  }

  const Scalar threshold = beta * (1 + settings.tol);
  if (settings.method == PricingMethod::ascent)
    price_by_ascent(X, dual, current, settings, threshold, pool, order, result, interrupt);
  else
    price_by_climb(X, dual, current, settings, threshold, pool, order, result, interrupt);
  return result;
}

}  // namespace dualnet
