#include <dualnet/pattern_set_ops.hpp>

#include <dualnet/patterns_cell_table.hpp>

#include <algorithm>
#include <numeric>
#include <string>
#include <unordered_map>

namespace dualnet {

namespace {

bool same_bits(const PatternSet& a, Index i, const PatternSet& b, Index j) {
  return std::equal(a.pattern(i), a.pattern(i) + a.words_per_pattern(), b.pattern(j));
}

}  // namespace

PatternSet select_patterns(const PatternSet& set, const std::vector<Index>& indices) {
  for (Index i : indices)
    if (i < 0 || i >= set.size())
      throw std::invalid_argument("indices: " + std::to_string(i) + " is out of range for " +
                                  std::to_string(set.size()) + " patterns");
  PatternSet out(set.n_rows(), set.gate_dim());
  out.reserve(static_cast<Index>(indices.size()));
  for (Index i : indices) out.push_back(set.pattern(i), set.gate(i));
  return out;
}

std::vector<Scalar> mean_row_coverage(const PatternSet& set) {
  std::vector<Index> coverage(static_cast<std::size_t>(set.n_rows()), 0);
  for (Index i = 0; i < set.size(); ++i)
    set.for_each_active(i, [&](Index t) { ++coverage[static_cast<std::size_t>(t)]; });
  std::vector<Scalar> mean(static_cast<std::size_t>(set.size()), 0);
  for (Index i = 0; i < set.size(); ++i) {
    const Index rows = set.count(i);
    if (rows == 0) continue;
    Index total = 0;
    set.for_each_active(i, [&](Index t) { total += coverage[static_cast<std::size_t>(t)]; });
    mean[static_cast<std::size_t>(i)] = static_cast<Scalar>(total) / static_cast<Scalar>(rows);
  }
  return mean;
}

PatternSet concatenate_patterns(const PatternSet& first, const PatternSet& second) {
  if (first.n_rows() != second.n_rows() || first.gate_dim() != second.gate_dim())
    throw std::invalid_argument(
        "the sets have (n_rows, gate_dim) = (" + std::to_string(first.n_rows()) + ", " +
        std::to_string(first.gate_dim()) + ") and (" + std::to_string(second.n_rows()) + ", " +
        std::to_string(second.gate_dim()) + ")");
  PatternSet out(first.n_rows(), first.gate_dim());
  out.reserve(first.size() + second.size());
  for (const PatternSet* set : {&first, &second})
    for (Index i = 0; i < set->size(); ++i) out.push_back(set->pattern(i), set->gate(i));
  return out;
}

std::vector<std::uint64_t> pattern_hashes(const PatternSet& set) {
  std::vector<std::uint64_t> out(static_cast<std::size_t>(set.size()));
  for (Index i = 0; i < set.size(); ++i)
    out[static_cast<std::size_t>(i)] = hash_words(set.pattern(i), set.words_per_pattern(), 0);
  return out;
}

std::vector<Index> first_occurrences(const PatternSet& set) {
  const std::vector<std::uint64_t> hashes = pattern_hashes(set);
  // Patterns with equal hashes, in increasing index order; a pattern is kept unless an earlier
  // one of its hash has the same bits.
  std::unordered_map<std::uint64_t, std::vector<Index>> kept;
  kept.reserve(hashes.size());
  std::vector<Index> out;
  for (Index i = 0; i < set.size(); ++i) {
    std::vector<Index>& same_hash = kept[hashes[static_cast<std::size_t>(i)]];
    const bool seen = std::any_of(same_hash.begin(), same_hash.end(),
                                  [&](Index j) { return same_bits(set, j, set, i); });
    if (seen) continue;
    same_hash.push_back(i);
    out.push_back(i);
  }
  return out;
}

std::vector<Index> find_patterns(const PatternSet& set, const PatternSet& queries) {
  if (set.n_rows() != queries.n_rows())
    throw std::invalid_argument("the sets have " + std::to_string(set.n_rows()) + " and " +
                                std::to_string(queries.n_rows()) + " rows");
  const std::vector<std::uint64_t> hashes = pattern_hashes(set);
  std::unordered_multimap<std::uint64_t, Index> table;
  table.reserve(hashes.size());
  for (Index i = 0; i < set.size(); ++i) table.emplace(hashes[static_cast<std::size_t>(i)], i);
  std::vector<Index> out(static_cast<std::size_t>(queries.size()), -1);
  for (Index q = 0; q < queries.size(); ++q) {
    const std::uint64_t hash = hash_words(queries.pattern(q), queries.words_per_pattern(), 0);
    const auto range = table.equal_range(hash);
    Index& found = out[static_cast<std::size_t>(q)];
    for (auto it = range.first; it != range.second; ++it)
      if (it->second > found && same_bits(set, it->second, queries, q)) found = it->second;
  }
  return out;
}

PatternSet patterns_of_gates(const MatrixCRef& X, const MatrixCRef& gates) {
  const Index n = X.rows(), g = X.cols(), m = gates.cols();
  if (gates.rows() != g)
    throw std::invalid_argument("gates has shape (" + std::to_string(gates.rows()) + ", " +
                                std::to_string(m) + ") but X has " + std::to_string(g) +
                                " columns");
  PatternSet out(n, g);
  out.reserve(m);
  const Index words = out.words_per_pattern();
  std::vector<Word> bits(static_cast<std::size_t>(m * words), Word{0});
  // Rows in blocks of whole words, so that a block's scores fill whole words of every pattern;
  // the (rows, m) score buffer stays at about 2^18 entries.
  const Index words_per_block = std::clamp<Index>(262144 / std::max<Index>(m, 1) / kWordBits, 1, 64);
  const Index block = words_per_block * kWordBits;
  Matrix scores;
  for (Index k0 = 0; k0 < n; k0 += block) {
    const Index rows = std::min(block, n - k0);
    scores.noalias() = X.middleRows(k0, rows) * gates;
    for (Index r = 0; r < rows; ++r) {
      const Index k = k0 + r;
      const Word bit = Word{1} << (k % kWordBits);
      Word* column = bits.data() + k / kWordBits;
      for (Index j = 0; j < m; ++j)
        if (scores(r, j) >= 0) column[j * words] |= bit;
    }
  }
  std::vector<Scalar> gate(static_cast<std::size_t>(g));
  for (Index j = 0; j < m; ++j) {
    for (Index c = 0; c < g; ++c) gate[static_cast<std::size_t>(c)] = gates(c, j);
    out.push_back(bits.data() + j * words, gate.data());
  }
  return out;
}

}  // namespace dualnet
