// Products with the blocks D_i X of a pattern set, walking the bit-packed masks (never n * P floats).
//
// X is (n, g) row-major, so the active rows of a pattern are contiguous g-vectors: a block
// gradient X^T D_i r and a block prediction D_i X u each stream the n_i active rows once.
#pragma once

#include <dualnet/pattern_set.hpp>
#include <dualnet/types.hpp>

#include <vector>

namespace dualnet {

// Column-major (g, P) matrix: column i is a block vector (gradient X^T D_i r, or a weight u_i).
using BlockMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

// out = X^T D_i r  (g). Reads only the active rows of pattern i. With the vectorised kernels
// (vectorised_block_products below) every active row is one fused multiply-add per four entries;
// otherwise a word with many active rows (at least 24 of its 64) is one small product with the
// inactive rows masked out and sparser words walk their set bits.
// The workspace argument is accepted for callers that keep one and is not needed.
void block_gradient(const MatrixCRef& X, const PatternSet& patterns, Index i, const Scalar* r,
                    Scalar* out, Vector* workspace = nullptr);

// The same restricted to the rows of words [word0, word1) of the mask (a part of the whole
// gradient, for callers that split the rows between threads and add the parts in a fixed order).
void block_gradient_words(const MatrixCRef& X, const PatternSet& patterns, Index i,
                          const Scalar* r, Scalar* out, Index word0, Index word1);

// r += alpha * D_i X u  (only the active rows of r change, and only they are read from X).
void add_block_prediction(const MatrixCRef& X, const PatternSet& patterns, Index i,
                          const Scalar* u, Scalar alpha, Scalar* r, Vector* workspace = nullptr);

// The same restricted to the rows of words [word0, word1) of the mask (rows 64 word0 to
// 64 word1 - 1), for callers that walk the rows in cache-sized chunks.
void add_block_prediction_words(const MatrixCRef& X, const PatternSet& patterns, Index i,
                                const Scalar* u, Scalar alpha, Scalar* r, Index word0,
                                Index word1);

// r += alpha * D_i X u, then out = X^T D_next r at the updated r (g entries): the same results,
// bit for bit, as add_block_prediction followed by block_gradient. With the vectorised kernels
// the two walk the rows together, word by word, so each row of X is read from memory once for
// both (a cyclic sweep's update of one block and the gradient of the next).
void add_block_prediction_then_gradient(const MatrixCRef& X, const PatternSet& patterns, Index i,
                                        const Scalar* u, Scalar alpha, Scalar* r, Index next,
                                        Scalar* out);

// The same restricted to the rows of words [word0, word1) of both masks: r changes on those rows
// only and out = X^T D_next r over them (a part of the whole gradient, for callers that split
// the rows between threads and add the parts in a fixed order).
void add_block_prediction_then_gradient_words(const MatrixCRef& X, const PatternSet& patterns,
                                              Index i, const Scalar* u, Scalar alpha, Scalar* r,
                                              Index next, Scalar* out, Index word0, Index word1);

// r += sum_b alphas[b] * D_{indices[b]} X weights[b] (weights[b] points to g entries), over row
// chunks of 1024 rows (each chunk's rows of X stay in cache while every block adds its
// predictions) split over n_threads threads (0: one per core; at least 4096 rows a thread). Each
// row of r is written by one thread and receives the blocks in the order given, so the result is
// the same bit for bit as calling add_block_prediction block by block, for every thread count.
void add_block_predictions(const MatrixCRef& X, const PatternSet& patterns,
                           const std::vector<Index>& indices,
                           const std::vector<const Scalar*>& weights,
                           const std::vector<Scalar>& alphas, Scalar* r, Index n_threads = 0);

// Whether the single-block products above run the vectorised kernels for gate dimension g
// (x86-64 processors with AVX2 and FMA, g <= 32): they then cost the n_i active rows of the block
// whatever its density, and walking the blocks one by one beats a dense product over all rows.
bool vectorised_block_products(Index g);

// Q = X^T D_i X  (g, g), symmetric.
Matrix block_gram(const MatrixCRef& X, const PatternSet& patterns, Index i);

// The same over the rows of words [word0, word1) of the mask (a part of the sum).
Matrix block_gram_words(const MatrixCRef& X, const PatternSet& patterns, Index i, Index word0,
                        Index word1);

// Threads used when a caller asks for 0 ("as many as the machine has"): the hardware's count of
// concurrent threads, at least 1.
Index default_thread_count();

// All block gradients at once: column i of `gradients` (resized to (g, P)) is X^T D_i r.
// Cache-blocked. With the vectorised kernels: row chunks of 1024 rows, in which every pattern
// walks its active rows (sum_i n_i * g multiply-adds, about half of n * P * g at Gaussian gates).
// Otherwise a GEMM X_c^T diag(r_c) M_c over row chunks of 128 rows, with the chunk's masks
// expanded to a dense 0/1 panel of at most 256 patterns, so the scaled rows and the panel stay in
// cache: about n * P * g multiply-adds at matrix-multiply speed.
// Multi-threaded over n_threads threads (0: default_thread_count()). Deterministic: the rows are
// cut into tasks whose boundaries depend on n only, each task's partial sum is computed by one
// thread alone, and the partials are added in task order, so the result is bit-for-bit the same
// for every thread count.
void all_block_gradients(const MatrixCRef& X, const PatternSet& patterns, const Scalar* r,
                         BlockMatrix& gradients, Index n_threads = 0);

// Bytes of scratch all_block_gradients allocates beyond `gradients` (for memory estimates).
std::size_t all_block_gradients_scratch_bytes(Index n_rows, Index gate_dim, Index n_patterns);

}  // namespace dualnet
