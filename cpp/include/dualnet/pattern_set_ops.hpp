// Whole-set operations on bit-packed pattern sets: selection, concatenation, exact deduplication
// and lookup, and the patterns of given gates. Each works on the words of the bitsets (O(n / 64)
// per pattern plus hashing); none builds the dense n x P masks.
#pragma once

#include <dualnet/pattern_set.hpp>
#include <dualnet/types.hpp>

#include <cstdint>
#include <vector>

namespace dualnet {

// The patterns (and gates) at `indices`, in that order (repeats allowed).
PatternSet select_patterns(const PatternSet& set, const std::vector<Index>& indices);

// The patterns of `first` followed by those of `second` (same n_rows and gate_dim).
PatternSet concatenate_patterns(const PatternSet& first, const PatternSet& second);

// A 64-bit hash of each pattern's bits (gates ignored): equal patterns have equal hashes.
std::vector<std::uint64_t> pattern_hashes(const PatternSet& set);

// Indices, in increasing order, of the first occurrence of each distinct pattern (bits compared
// exactly; gates ignored).
std::vector<Index> first_occurrences(const PatternSet& set);

// For each pattern of `queries`, the last index in `set` holding the same bits, or -1.
std::vector<Index> find_patterns(const PatternSet& set, const PatternSet& queries);

// For each pattern i, the mean over its rows of how many patterns of the set contain the row
// (itself included): sum_j |D_i and D_j| / |D_i|, 0 for an empty pattern. O(n P) bit visits.
std::vector<Scalar> mean_row_coverage(const PatternSet& set);

// The patterns 1[X g_j >= 0] of the gates g_j (columns of `gates`, shape (g, m)), each with its
// gate; X is (n, g). O(n g) per gate with one row-block buffer, never an (n, m) array.
PatternSet patterns_of_gates(const MatrixCRef& X, const MatrixCRef& gates);

}  // namespace dualnet
