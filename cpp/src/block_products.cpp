#include <dualnet/block_products.hpp>

#include <algorithm>

namespace dualnet {

namespace {

bool use_dense(const PatternSet& patterns, Index i, const Vector* workspace) {
  return workspace && 4 * patterns.count(i) > patterns.n_rows();
}

// values[k] *= [row k active], branch-free.
void mask_rows(const PatternSet& patterns, Index i, Scalar* values) {
  const Word* mask = patterns.pattern(i);
  const Index n = patterns.n_rows();
  for (Index base = 0; base < n; base += kWordBits) {
    const Word bits = mask[base / kWordBits];
    const Index top = std::min(kWordBits, n - base);
    for (Index b = 0; b < top; ++b) values[base + b] *= static_cast<Scalar>((bits >> b) & 1u);
  }
}

}  // namespace

void block_gradient(const MatrixCRef& X, const PatternSet& patterns, Index i, const Scalar* r,
                    Scalar* out, Vector* workspace) {
  const Index n = X.rows(), g = X.cols();
  if (use_dense(patterns, i, workspace)) {
    Vector& masked = *workspace;
    masked = Eigen::Map<const Vector>(r, n);
    mask_rows(patterns, i, masked.data());
    Eigen::Map<Vector>(out, g).noalias() = X.transpose() * masked;
    return;
  }
  const Scalar* x = X.data();
  std::fill(out, out + g, Scalar{0});
  patterns.for_each_active(i, [&](Index k) {
    const Scalar rk = r[k];
    const Scalar* xk = x + k * g;
    for (Index j = 0; j < g; ++j) out[j] += rk * xk[j];
  });
}

void add_block_prediction(const MatrixCRef& X, const PatternSet& patterns, Index i,
                          const Scalar* u, Scalar alpha, Scalar* r, Vector* workspace) {
  const Index n = X.rows(), g = X.cols();
  if (use_dense(patterns, i, workspace)) {
    Vector& products = *workspace;
    products.noalias() = X * Eigen::Map<const Vector>(u, g);
    mask_rows(patterns, i, products.data());
    Eigen::Map<Vector>(r, n) += alpha * products;
    return;
  }
  const Scalar* x = X.data();
  patterns.for_each_active(i, [&](Index k) {
    const Scalar* xk = x + k * g;
    Scalar s = 0;
    for (Index j = 0; j < g; ++j) s += xk[j] * u[j];
    r[k] += alpha * s;
  });
}

Matrix block_gram(const MatrixCRef& X, const PatternSet& patterns, Index i) {
  const Index g = X.cols();
  constexpr Index kChunk = 256;
  Matrix gathered(kChunk, g);
  Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> gram =
      Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>::Zero(g, g);
  Index filled = 0;
  auto flush = [&] {
    if (filled == 0) return;
    gram.selfadjointView<Eigen::Lower>().rankUpdate(gathered.topRows(filled).transpose());
    filled = 0;
  };
  patterns.for_each_active(i, [&](Index k) {
    gathered.row(filled++) = X.row(k);
    if (filled == kChunk) flush();
  });
  flush();
  Matrix q = gram.selfadjointView<Eigen::Lower>();
  return q;
}

void all_block_gradients(const MatrixCRef& X, const PatternSet& patterns, const Scalar* r,
                         BlockMatrix& gradients) {
  const Index n = X.rows(), g = X.cols(), p = patterns.size();
  gradients.setZero(g, p);
  if (n == 0 || p == 0) return;
  // Row chunks of two words and pattern panels of 256: the dense 0/1 panel (128 x 256 doubles,
  // 256 kB) and the scaled rows stay in cache while the GEMM runs.
  constexpr Index kChunkWords = 2, kChunk = kChunkWords * kWordBits, kPanel = 256;
  using ColMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  Matrix scaled(kChunk, g);
  ColMatrix panel(kChunk, std::min(p, kPanel));
  const Index words = patterns.words_per_pattern();
  for (Index row0 = 0; row0 < n; row0 += kChunk) {
    const Index rows = std::min(kChunk, n - row0);
    for (Index k = 0; k < rows; ++k) scaled.row(k) = r[row0 + k] * X.row(row0 + k);
    const Index word0 = row0 / kWordBits;
    const Index nwords = std::min(kChunkWords, words - word0);
    for (Index pan0 = 0; pan0 < p; pan0 += kPanel) {
      const Index cols = std::min(kPanel, p - pan0);
      for (Index c = 0; c < cols; ++c) {
        const Word* mask = patterns.pattern(pan0 + c) + word0;
        Scalar* column = panel.col(c).data();
        for (Index w = 0; w < nwords; ++w) {
          const Word bits = mask[w];
          const Index base = w * kWordBits;
          const Index top = std::min(kWordBits, rows - base);
          for (Index b = 0; b < top; ++b) column[base + b] = static_cast<Scalar>((bits >> b) & 1u);
        }
      }
      gradients.middleCols(pan0, cols).noalias() +=
          scaled.topRows(rows).transpose() * panel.topLeftCorner(rows, cols);
    }
  }
}

}  // namespace dualnet
