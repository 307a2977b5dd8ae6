// A hash set of arrangement cells keyed by their bitsets, used to deduplicate the cells that the
// enumeration reaches several times (once per extreme ray) and the patterns that sampling draws
// repeatedly. Each cell keeps the best gate it was offered: the one with the largest margin
// min_k |a_k^T g| / ||g|| (how far the gate is from every hyperplane).
//
// Two modes: keep_cells stores every bitset and gate (enumeration, sampling); otherwise only two
// independent 64-bit hashes per cell are kept (counting), 16 bytes a cell whatever n is; a false
// merge needs a simultaneous collision of both, probability about P^2 / 2^128.
#pragma once

#include <dualnet/types.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace dualnet {

// Thrown when a table would grow past its limit; `limit` is that limit.
struct CellLimitExceeded : std::length_error {
  explicit CellLimitExceeded(Index limit_)
      : std::length_error("more than " + std::to_string(limit_) + " cells"), limit(limit_) {}
  Index limit;
};

std::uint64_t hash_words(const Word* words, Index n_words, std::uint64_t seed);

class CellTable {
 public:
  // n_bits: hyperplanes; gate_dim: length of the gates; max_cells: size limit.
  CellTable(Index n_bits, Index gate_dim, bool keep_cells, Index max_cells);

  Index n_bits() const { return n_bits_; }
  Index words_per_cell() const { return words_; }
  Index gate_dim() const { return gate_dim_; }
  Index size() const { return size_; }
  bool keeps_cells() const { return keep_; }

  // Records the cell with these bits (words_per_cell() words, bits past n_bits zero) with `gate`
  // (gate_dim() values, may be null) if the cell is new or `margin` beats its current gate's.
  // Returns true when the cell is new.
  bool add(const Word* bits, const Scalar* gate, Scalar margin = 0);
  // Index of the cell with these bits, or -1.
  Index find(const Word* bits) const;

  const Word* bits(Index i) const { return bits_.data() + i * words_; }
  const Scalar* gate(Index i) const { return gates_.data() + i * gate_dim_; }
  Scalar margin(Index i) const { return margins_[i]; }

 private:
  // A slot holds the cell's hash next to its index, so probing reads one array and touches a
  // cell's bits only when the hashes agree.
  struct Slot {
    std::uint64_t hash;
    Index index;  // -1: empty
  };
  std::uint64_t second_hash(const Word* bits) const { return hash_words(bits, words_, 0x5bd1e995u); }
  bool same(Index i, const Word* bits, std::uint64_t& h2, bool& have_h2) const;
  void grow();

  Index n_bits_, gate_dim_, words_;
  bool keep_;
  Index max_cells_;
  Index size_ = 0;
  std::vector<Word> bits_;
  std::vector<Scalar> gates_;
  std::vector<Scalar> margins_;
  std::vector<std::uint64_t> check_;  // second hash of each cell (counting mode)
  std::vector<Slot> slots_;           // open addressing, load factor <= 1/2
};

}  // namespace dualnet
