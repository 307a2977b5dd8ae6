#include <dualnet/support_gram.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace dualnet {

namespace {

void check_arguments(const MatrixCRef& X, const PatternSet& support,
                     const std::vector<Scalar>& signs) {
  if (support.n_rows() != X.rows() || support.gate_dim() != X.cols())
    throw std::invalid_argument("support_gram: the support has (n_rows, gate_dim) = (" +
                                std::to_string(support.n_rows()) + ", " +
                                std::to_string(support.gate_dim()) + ") but X has shape (" +
                                std::to_string(X.rows()) + ", " + std::to_string(X.cols()) + ")");
  if (static_cast<Index>(signs.size()) != support.size())
    throw std::invalid_argument("support_gram: " + std::to_string(signs.size()) +
                                " signs for " + std::to_string(support.size()) + " patterns");
}

// Chunks of 256 rows: G += A_chunk^T A_chunk by a symmetric rank update.
void chunked_gram(const MatrixCRef& X, const PatternSet& support, const std::vector<Scalar>& signs,
                  const Scalar* y, InterruptCheck* interrupt, SupportGram& out) {
  const Index n = X.rows(), g = X.cols(), k = support.size(), m = k * g;
  out.gram = Eigen::MatrixXd::Zero(m, m);
  out.c = Vector::Zero(m);
  out.grouped = false;
  constexpr Index kChunk = 256;
  Eigen::MatrixXd chunk(std::min(kChunk, n), m);
  const Eigen::Map<const Vector> targets(y, n);
  for (Index start = 0; start < n; start += kChunk) {
    if (interrupt) interrupt->poll();
    const Index rows = std::min(kChunk, n - start);
    for (Index b = 0; b < k; ++b) {
      auto block = chunk.block(0, b * g, rows, g);
      block = signs[static_cast<std::size_t>(b)] * X.middleRows(start, rows);
      for (Index t = 0; t < rows; ++t)
        if (!support.active(start + t, b)) block.row(t).setZero();
    }
    const auto used = chunk.topRows(rows);
    out.gram.selfadjointView<Eigen::Lower>().rankUpdate(used.transpose());
    out.c.noalias() += used.transpose() * targets.segment(start, rows);
  }
  out.gram.triangularView<Eigen::StrictlyUpper>() = out.gram.transpose();
}

// By row signatures (k <= 64: one word each). Returns false, leaving `out` alone, when the
// signatures outgrow the accumulators' cap or (automatic) the scattering would not pay.
bool grouped_gram(const MatrixCRef& X, const PatternSet& support, const std::vector<Scalar>& signs,
                  const Scalar* y, bool automatic, InterruptCheck* interrupt, SupportGram& out) {
  const Index n = X.rows(), g = X.cols(), k = support.size(), m = k * g;
  if (k > kWordBits || g == 0) return false;
  const Index triangle = g * (g + 1) / 2, stride = triangle + g;  // lower triangle of S, then t
  const std::size_t max_groups =
      support_gram_group_scalars(n, g) / static_cast<std::size_t>(stride);
  std::unordered_map<std::uint64_t, std::size_t> group_of;
  std::vector<std::uint64_t> signatures;
  std::vector<Scalar> sums;
  sums.reserve(max_groups * static_cast<std::size_t>(stride));
  std::vector<Word> panel(static_cast<std::size_t>(k));
  const Index words = support.words_per_pattern();
  for (Index w = 0; w < words; ++w) {
    if (interrupt && w % 64 == 0) interrupt->poll();
    Word any = 0;
    for (Index j = 0; j < k; ++j) any |= panel[static_cast<std::size_t>(j)] = support.pattern(j)[w];
    while (any) {
      const int bit = __builtin_ctzll(any);
      any &= any - 1;
      std::uint64_t signature = 0;
      for (Index j = 0; j < k; ++j)
        signature |= ((panel[static_cast<std::size_t>(j)] >> bit) & Word{1}) << j;
      const auto [slot, inserted] = group_of.try_emplace(signature, signatures.size());
      if (inserted) {
        if (signatures.size() >= max_groups) return false;
        signatures.push_back(signature);
        sums.resize(sums.size() + static_cast<std::size_t>(stride), Scalar{0});
      }
      const Index t = w * kWordBits + bit;
      const Scalar* x = X.data() + t * X.outerStride();  // row-major: row t is contiguous
      Scalar* s = sums.data() + slot->second * static_cast<std::size_t>(stride);
      for (Index i = 0, at = 0; i < g; at += ++i) {
        const Scalar xi = x[i];
        for (Index j = 0; j <= i; ++j) s[at + j] += xi * x[j];
      }
      const Scalar yt = y[t];
      for (Index i = 0; i < g; ++i) s[triangle + i] += yt * x[i];
    }
  }
  double scattered = 0;
  for (const std::uint64_t signature : signatures) {
    const double members = __builtin_popcountll(signature);
    scattered += 0.5 * members * (members + 1) * static_cast<double>(g * g);
  }
  const double accumulated = static_cast<double>(n) * static_cast<double>(stride);
  const double rank_updates = 0.25 * static_cast<double>(n) * static_cast<double>(m) *
                              static_cast<double>(m);
  if (automatic && 4 * (accumulated + scattered) > rank_updates) return false;

  out.gram = Eigen::MatrixXd::Zero(m, m);
  out.c = Vector::Zero(m);
  out.grouped = true;
  Eigen::MatrixXd full(g, g);
  std::vector<Index> members;
  for (std::size_t group = 0; group < signatures.size(); ++group) {
    if (interrupt && group % 1024 == 0) interrupt->poll();
    const Scalar* s = sums.data() + group * static_cast<std::size_t>(stride);
    for (Index i = 0, at = 0; i < g; at += ++i)
      for (Index j = 0; j <= i; ++j) full(i, j) = full(j, i) = s[at + j];
    const Eigen::Map<const Vector> moment(s + triangle, g);
    members.clear();
    for (std::uint64_t bits = signatures[group]; bits; bits &= bits - 1)
      members.push_back(__builtin_ctzll(bits));
    // Members ascend, so (a, b) with q <= p is in the lower block triangle.
    for (std::size_t p = 0; p < members.size(); ++p) {
      const Index a = members[p];
      const Scalar sa = signs[static_cast<std::size_t>(a)];
      out.c.segment(a * g, g) += sa * moment;
      for (std::size_t q = 0; q <= p; ++q) {
        const Index b = members[q];
        out.gram.block(a * g, b * g, g, g) += (sa * signs[static_cast<std::size_t>(b)]) * full;
      }
    }
  }
  out.gram.triangularView<Eigen::StrictlyUpper>() = out.gram.transpose();
  return true;
}

}  // namespace

std::size_t support_gram_group_scalars(Index n, Index g) {
  const std::size_t eighth = static_cast<std::size_t>(std::max<Index>(n, 0)) *
                             static_cast<std::size_t>(std::max<Index>(g, 0)) / 8;
  return std::min<std::size_t>(std::max<std::size_t>(eighth, std::size_t{1} << 18), 2000000);
}

SupportGram support_gram(const MatrixCRef& X, const PatternSet& support,
                         const std::vector<Scalar>& signs, const Scalar* y,
                         SupportGramMethod method, InterruptCheck* interrupt) {
  check_arguments(X, support, signs);
  SupportGram out;
  const Index m = support.size() * X.cols();
  if (m == 0 || X.rows() == 0) {  // nothing to sum, and no empty products for Eigen's kernels
    out.gram = Eigen::MatrixXd::Zero(m, m);
    out.c = Vector::Zero(m);
    return out;
  }
  if (method != SupportGramMethod::chunked &&
      grouped_gram(X, support, signs, y, method == SupportGramMethod::automatic, interrupt, out))
    return out;
  chunked_gram(X, support, signs, y, interrupt, out);
  return out;
}

}  // namespace dualnet
