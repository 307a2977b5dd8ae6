// The Gram matrix of a support's design, for the gated program's direct Newton polish.
//
// A = [s_1 D_1 X, ..., s_k D_k X] (n x k g), D_j the j-th pattern of a support PatternSet and
// s_j = +-1; G = A^T A (k g x k g, block (a, b) = s_a s_b X^T D_a D_b X) and c = A^T y.
//
// Two ways to the same matrices (equal up to round-off):
//  - grouped by row signature: the rows active in exactly the same support blocks (the same cell
//    of the k hyperplanes) contribute S_sigma = sum x_t x_t^T to every block pair of their
//    signature, so G = sum_sigma (sigma sigma^T) (x) S_sigma costs n g^2 / 2 multiply-adds for the
//    S_sigma plus (k_sigma^2 / 2) g^2 additions per signature. With few blocks most rows share
//    their cell with many others (k = 10 random patterns: at most 1,024 signatures, at
//    n = 10^5 about 100 rows each), and this is tens of times cheaper than
//  - chunked rank updates: A formed over chunks of 256 rows and G += A_chunk^T A_chunk (n m^2 / 2
//    multiply-adds at matrix-multiply speed, m = k g), used when the rows have too many distinct
//    signatures (from about k = 16 at n = 10^5 nearly every row has its own).
// Memory: beside G, the chunk (256 m) or the signatures' accumulators, capped at
// support_gram_group_scalars(n, g) scalars; never n * k floats.
#pragma once

#include <dualnet/interrupt.hpp>
#include <dualnet/pattern_set.hpp>
#include <dualnet/types.hpp>

#include <Eigen/Core>

#include <cstddef>
#include <vector>

namespace dualnet {

struct SupportGram {
  Eigen::MatrixXd gram;  // (k g, k g), symmetric
  Vector c;              // (k g)
  bool grouped = false;  // formed by row signatures (else by chunked rank updates)
};

enum class SupportGramMethod { automatic, grouped, chunked };

// Scalars the signature accumulators may take: an eighth of X's size, at least 2^18 (2 MiB) and
// at most 2e6 (16 MB), the polish's slot in memory.py (shared with the ReLU polish's row chunks
// of its reduced design: a polish is either).
std::size_t support_gram_group_scalars(Index n, Index g);

// G and c for the support blocks of `support` with signs `signs` (one per pattern, +-1) and
// targets y (n). `automatic` groups by signature when four times its operation count is below
// n m^2 / 4 (half the rank updates' multiply-adds: a per-row hash lookup or a scattered addition
// costs several times a multiply-add at matrix-multiply speed; at n = 2000, g = 5, k = 3 the
// grouping took twice as long); `grouped` whenever the accumulators fit their cap (for the
// tests); both fall back to the rank updates otherwise. Polls `interrupt` (may be null).
SupportGram support_gram(const MatrixCRef& X, const PatternSet& support,
                         const std::vector<Scalar>& signs, const Scalar* y,
                         SupportGramMethod method = SupportGramMethod::automatic,
                         InterruptCheck* interrupt = nullptr);

}  // namespace dualnet
