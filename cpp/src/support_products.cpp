#include <dualnet/support_products.hpp>

#include <algorithm>
#include <vector>

namespace dualnet {

void support_predictions(const MatrixCRef& X, const PatternSet& support, const BlockMatrix& U,
                         Scalar* out) {
  const Index n = X.rows(), k = support.size();
  std::fill(out, out + n, Scalar{0});
  if (n == 0 || k == 0) return;
  if (vectorised_block_products(X.cols())) {
    std::vector<Index> indices(static_cast<std::size_t>(k));
    std::vector<const Scalar*> weights(static_cast<std::size_t>(k));
    for (Index j = 0; j < k; ++j) {
      indices[static_cast<std::size_t>(j)] = j;
      weights[static_cast<std::size_t>(j)] = U.col(j).data();
    }
    add_block_predictions(X, support, indices, weights,
                          std::vector<Scalar>(static_cast<std::size_t>(k), Scalar{1}), out);
    return;
  }
  // Chunks of four words: the (256 x k) product panel stays in cache while it is masked.
  constexpr Index kChunkWords = 4, kChunk = kChunkWords * kWordBits;
  BlockMatrix products(kChunk, k);
  const Index words = support.words_per_pattern();
  for (Index row0 = 0; row0 < n; row0 += kChunk) {
    const Index rows = std::min(kChunk, n - row0);
    products.topRows(rows).noalias() = X.middleRows(row0, rows) * U;
    const Index word0 = row0 / kWordBits;
    const Index nwords = std::min(kChunkWords, words - word0);
    Scalar* target = out + row0;
    for (Index j = 0; j < k; ++j) {
      const Word* mask = support.pattern(j) + word0;
      const Scalar* column = products.col(j).data();
      for (Index w = 0; w < nwords; ++w) {
        const Word bits = mask[w];
        const Index base = w * kWordBits;
        const Index top = std::min(kWordBits, rows - base);
        for (Index b = 0; b < top; ++b)
          target[base + b] += column[base + b] * static_cast<Scalar>((bits >> b) & 1u);
      }
    }
  }
}

}  // namespace dualnet
