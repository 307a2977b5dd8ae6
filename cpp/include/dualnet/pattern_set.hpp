// A set of ReLU activation patterns D_i = diag(1[X g_i >= 0]) stored as bitsets, one per pattern,
// with the gate g_i that produced each (docs/theory.md, section 7).
//
// Storage is pattern-major: the ceil(n / 64) words of pattern i are contiguous, so a block
// operation walks one pattern's active rows, and hashing or comparing two patterns is a word loop.
// Bits past row n - 1 in the last word are always zero (every routine below relies on it).
// Memory: P * ceil(n / 64) * 8 bytes for masks plus P * g * 8 for gates; never n * P floats.
#pragma once

#include <dualnet/memory_budget.hpp>
#include <dualnet/types.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualnet {

class PatternSet {
 public:
  // n_rows: samples n. gate_dim: length of a gate (d, or d + 1 with a bias column).
  PatternSet(Index n_rows, Index gate_dim)
      : n_rows_(n_rows), gate_dim_(gate_dim), words_per_pattern_(words_for_rows(n_rows)) {
    if (n_rows < 0 || gate_dim < 0) throw std::invalid_argument("PatternSet: negative dimensions");
  }

  Index n_rows() const { return n_rows_; }
  Index gate_dim() const { return gate_dim_; }
  Index size() const { return size_; }
  Index words_per_pattern() const { return words_per_pattern_; }

  const Word* pattern(Index i) const { return words_.data() + i * words_per_pattern_; }
  const Scalar* gate(Index i) const { return gates_.data() + i * gate_dim_; }
  const std::vector<Word>& words() const { return words_; }
  const std::vector<Scalar>& gates() const { return gates_; }

  bool active(Index row, Index i) const {
    return (pattern(i)[row / kWordBits] >> (row % kWordBits)) & Word{1};
  }

  // Appends a pattern given as words_per_pattern() words and its gate (gate_dim() scalars).
  void push_back(const Word* mask_words, const Scalar* gate_values) {
    words_.insert(words_.end(), mask_words, mask_words + words_per_pattern_);
    gates_.insert(gates_.end(), gate_values, gate_values + gate_dim_);
    if (words_per_pattern_ > 0) words_.back() &= last_word_mask();
    ++size_;
  }

  // Reserves room for n_patterns patterns; throws MemoryBudgetExceeded first if they cannot fit.
  void reserve(Index n_patterns) {
    if (n_patterns < 0) throw std::invalid_argument("PatternSet::reserve: negative n_patterns");
    check_memory_budget(memory_bytes_for(n_patterns),
                        "a set of " + std::to_string(n_patterns) + " patterns of " +
                            std::to_string(n_rows_) + " rows");
    words_.reserve(static_cast<std::size_t>(n_patterns * words_per_pattern_));
    gates_.reserve(static_cast<std::size_t>(n_patterns * gate_dim_));
  }

  // Number of active rows of pattern i.
  Index count(Index i) const {
    const Word* w = pattern(i);
    Index total = 0;
    for (Index k = 0; k < words_per_pattern_; ++k) total += __builtin_popcountll(w[k]);
    return total;
  }

  // Calls f(row) for every active row of pattern i, in increasing order.
  template <class F>
  void for_each_active(Index i, F&& f) const {
    const Word* w = pattern(i);
    for (Index k = 0; k < words_per_pattern_; ++k) {
      Word bits = w[k];
      while (bits) {
        const int b = __builtin_ctzll(bits);
        f(k * kWordBits + b);
        bits &= bits - 1;
      }
    }
  }

  // Mask that keeps the valid bits of the last word.
  Word last_word_mask() const {
    const Index tail = n_rows_ % kWordBits;
    return tail == 0 ? ~Word{0} : ((Word{1} << tail) - 1);
  }

  // Bytes n_patterns patterns take (masks and gates), saturating instead of overflowing.
  std::size_t memory_bytes_for(Index n_patterns) const {
    return saturating_add(array_bytes({n_patterns, words_per_pattern_}, sizeof(Word)),
                          array_bytes({n_patterns, gate_dim_}, sizeof(Scalar)));
  }

  std::size_t memory_bytes() const {
    return words_.size() * sizeof(Word) + gates_.size() * sizeof(Scalar);
  }

 private:
  Index n_rows_;
  Index gate_dim_;
  Index words_per_pattern_;
  Index size_ = 0;
  std::vector<Word> words_;
  std::vector<Scalar> gates_;
};

}  // namespace dualnet
