#include <dualnet/block_products.hpp>
#include <dualnet/memory_budget.hpp>
#include <dualnet/vector_kernels.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace dualnet {

namespace {

constexpr Word kAllOnes = ~Word{0};

// Words with at least this many active rows (of 64) go through a dense 64-row product with the
// inactive rows masked out: at most 64 / 24 times the multiply-adds of their active rows, at
// matrix-vector speed, instead of a short scalar loop per active row.
constexpr int kDenseWordRows = 24;

// Calls dense(base, bits) for each word inside the n rows with at least kDenseWordRows active
// rows (bits == kAllOnes: every row) and row(k) for each active row of the other words; rows
// past n are never active (PatternSet keeps those bits zero).
template <class Dense, class Row>
void walk_active(const PatternSet& patterns, Index i, Dense&& dense, Row&& row, Index word0 = 0,
                 Index word1 = -1) {
  const Word* mask = patterns.pattern(i);
  const Index words = word1 < 0 ? patterns.words_per_pattern() : word1;
  const Index full_words = patterns.n_rows() / kWordBits;  // words with 64 rows inside n
  for (Index w = word0; w < words; ++w) {
    Word bits = mask[w];
    const Index base = w * kWordBits;
    if (w < full_words && __builtin_popcountll(bits) >= kDenseWordRows) {
      dense(base, bits);
      continue;
    }
    while (bits) {
      row(base + __builtin_ctzll(bits));
      bits &= bits - 1;
    }
  }
}

#ifdef DUALNET_X86_KERNELS
// Hand-vectorised block products for x86-64 processors with AVX2, FMA, POPCNT and BMI (every
// processor with AVX2 has the other three), selected at run time
// (the library is compiled for the baseline instruction set, so Eigen's own kernels use SSE2
// only). They walk the set bits of the pattern's words, so a block costs its n_i active rows
// whatever the pattern's density, and they hold a row of X in g / 4 registers of four doubles
// (the last one loaded under a lane mask): g <= 4 * kMaxVectors.
using namespace vector_kernels;

// The rows of one word (bits: its active rows, base: its first row) added to the gradient's two
// chains of accumulators: rows alternate between them, pairs formed inside the word.
template <int NV, bool Full>
DUALNET_VECTOR_TARGET inline void gradient_word(const Scalar* x, Index g, Word bits, Index base,
                                                const Scalar* r, __m256i tail, __m256d* even,
                                                __m256d* odd) {
  while (bits) {
    const Index k0 = base + __builtin_ctzll(bits);
    bits &= bits - 1;
    const __m256d c0 = _mm256_set1_pd(r[k0]);
    const Scalar* x0 = x + k0 * g;
    if (bits) {
      const Index k1 = base + __builtin_ctzll(bits);
      bits &= bits - 1;
      const __m256d c1 = _mm256_set1_pd(r[k1]);
      const Scalar* x1 = x + k1 * g;
      for (int v = 0; v + 1 < NV; ++v) {
        even[v] = _mm256_fmadd_pd(c0, _mm256_loadu_pd(x0 + 4 * v), even[v]);
        odd[v] = _mm256_fmadd_pd(c1, _mm256_loadu_pd(x1 + 4 * v), odd[v]);
      }
      even[NV - 1] = _mm256_fmadd_pd(c0, load_last<Full>(x0 + 4 * (NV - 1), tail), even[NV - 1]);
      odd[NV - 1] = _mm256_fmadd_pd(c1, load_last<Full>(x1 + 4 * (NV - 1), tail), odd[NV - 1]);
    } else {
      for (int v = 0; v + 1 < NV; ++v)
        even[v] = _mm256_fmadd_pd(c0, _mm256_loadu_pd(x0 + 4 * v), even[v]);
      even[NV - 1] = _mm256_fmadd_pd(c0, load_last<Full>(x0 + 4 * (NV - 1), tail), even[NV - 1]);
    }
  }
}

// Starts the gradient's accumulators: from out if accumulate, else from zero.
template <int NV>
DUALNET_VECTOR_TARGET inline void gradient_start(const Scalar* out, bool accumulate, __m256i tail,
                                                 __m256d* even, __m256d* odd) {
  for (int v = 0; v < NV; ++v) even[v] = odd[v] = _mm256_setzero_pd();
  if (!accumulate) return;
  for (int v = 0; v + 1 < NV; ++v) even[v] = _mm256_loadu_pd(out + 4 * v);
  even[NV - 1] = _mm256_maskload_pd(out + 4 * (NV - 1), tail);
}

template <int NV>
DUALNET_VECTOR_TARGET inline void gradient_finish(const __m256d* even, const __m256d* odd,
                                                  __m256i tail, Scalar* out) {
  for (int v = 0; v + 1 < NV; ++v) _mm256_storeu_pd(out + 4 * v, _mm256_add_pd(even[v], odd[v]));
  _mm256_maskstore_pd(out + 4 * (NV - 1), tail, _mm256_add_pd(even[NV - 1], odd[NV - 1]));
}

// out (+)= sum over the set bits k of mask in words [w0, w1) of r_k x_k (g entries): added to out
// if accumulate, written over it otherwise.
template <int NV, bool Full>
DUALNET_VECTOR_TARGET void gradient_avx2(const Scalar* x, Index g, const Word* mask, Index w0,
                                         Index w1, const Scalar* r, Scalar* out, bool accumulate) {
  const __m256i tail = tail_lanes(g, NV);
  __m256d even[NV], odd[NV];
  gradient_start<NV>(out, accumulate, tail, even, odd);
  for (Index w = w0; w < w1; ++w)
    gradient_word<NV, Full>(x, g, mask[w], w * kWordBits, r, tail, even, odd);
  gradient_finish<NV>(even, odd, tail, out);
}

// r_k += alpha x_k^T u for the active rows of one word (u: the weights in NV registers).
template <int NV, bool Full>
DUALNET_VECTOR_TARGET inline void prediction_word(const Scalar* x, Index g, Word bits, Index base,
                                                  const __m256d* u, Scalar alpha, __m256i tail,
                                                  Scalar* r) {
  const __m256d scale = _mm256_set1_pd(alpha);
  // Four rows at a time: four dot products reduced together into one vector.
  while (__builtin_popcountll(bits) >= 4) {
    Index k[4];
    for (int t = 0; t < 4; ++t) {
      k[t] = base + __builtin_ctzll(bits);
      bits &= bits - 1;
    }
    const __m256d a0 = row_dot<NV, Full>(x + k[0] * g, u, tail);
    const __m256d a1 = row_dot<NV, Full>(x + k[1] * g, u, tail);
    const __m256d a2 = row_dot<NV, Full>(x + k[2] * g, u, tail);
    const __m256d a3 = row_dot<NV, Full>(x + k[3] * g, u, tail);
    const __m256d sums = reduce4(a0, a1, a2, a3);
    alignas(32) Scalar s[4];
    _mm256_store_pd(s, _mm256_mul_pd(scale, sums));
    for (int t = 0; t < 4; ++t) r[k[t]] += s[t];
  }
  while (bits) {
    const Index k0 = base + __builtin_ctzll(bits);
    bits &= bits - 1;
    const __m256d a = row_dot<NV, Full>(x + k0 * g, u, tail);
    const __m128d half = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    r[k0] += alpha * _mm_cvtsd_f64(_mm_add_sd(half, _mm_unpackhi_pd(half, half)));
  }
}

template <int NV>
DUALNET_VECTOR_TARGET inline void load_weights(const Scalar* u_in, __m256i tail, __m256d* u) {
  for (int v = 0; v + 1 < NV; ++v) u[v] = _mm256_loadu_pd(u_in + 4 * v);
  u[NV - 1] = _mm256_maskload_pd(u_in + 4 * (NV - 1), tail);
}

// r_k += alpha x_k^T u for the set bits k of mask in words [w0, w1).
template <int NV, bool Full>
DUALNET_VECTOR_TARGET void prediction_avx2(const Scalar* x, Index g, const Word* mask, Index w0,
                                           Index w1, const Scalar* u_in, Scalar alpha, Scalar* r) {
  const __m256i tail = tail_lanes(g, NV);
  __m256d u[NV];
  load_weights<NV>(u_in, tail, u);
  for (Index w = w0; w < w1; ++w)
    prediction_word<NV, Full>(x, g, mask[w], w * kWordBits, u, alpha, tail, r);
}

// The prediction of one pattern (mask) and then the gradient of another (next) over all words,
// word by word: the rows of a word are read from memory once for both. The same operations in
// the same order per row and per accumulator as prediction_avx2 followed by gradient_avx2 (a
// word's rows are final once its prediction is added, and the gradient reads no other rows).
template <int NV, bool Full>
DUALNET_VECTOR_TARGET void prediction_gradient_avx2(const Scalar* x, Index g, const Word* mask,
                                                    Index w0, Index w1, const Scalar* u_in,
                                                    Scalar alpha, Scalar* r, const Word* next,
                                                    Scalar* out) {
  const __m256i tail = tail_lanes(g, NV);
  __m256d u[NV], even[NV], odd[NV];
  load_weights<NV>(u_in, tail, u);
  gradient_start<NV>(out, false, tail, even, odd);
  for (Index w = w0; w < w1; ++w) {
    prediction_word<NV, Full>(x, g, mask[w], w * kWordBits, u, alpha, tail, r);
    gradient_word<NV, Full>(x, g, next[w], w * kWordBits, r, tail, even, odd);
  }
  gradient_finish<NV>(even, odd, tail, out);
}

using GradientKernel = void (*)(const Scalar*, Index, const Word*, Index, Index, const Scalar*,
                                Scalar*, bool);
using PredictionKernel = void (*)(const Scalar*, Index, const Word*, Index, Index, const Scalar*,
                                  Scalar, Scalar*);
using PredictionGradientKernel = void (*)(const Scalar*, Index, const Word*, Index, Index,
                                          const Scalar*, Scalar, Scalar*, const Word*, Scalar*);

// Entry 2 (NV - 1) + Full of each table: the kernel for rows of NV groups of four.
template <int... K>
constexpr std::array<GradientKernel, sizeof...(K)> gradient_table(
    std::integer_sequence<int, K...>) {
  return {&gradient_avx2<K / 2 + 1, K % 2 == 1>...};
}
template <int... K>
constexpr std::array<PredictionKernel, sizeof...(K)> prediction_table(
    std::integer_sequence<int, K...>) {
  return {&prediction_avx2<K / 2 + 1, K % 2 == 1>...};
}
template <int... K>
constexpr std::array<PredictionGradientKernel, sizeof...(K)> prediction_gradient_table(
    std::integer_sequence<int, K...>) {
  return {&prediction_gradient_avx2<K / 2 + 1, K % 2 == 1>...};
}
constexpr auto kGradientKernels = gradient_table(std::make_integer_sequence<int, 2 * kMaxVectors>{});
constexpr auto kPredictionKernels =
    prediction_table(std::make_integer_sequence<int, 2 * kMaxVectors>{});
constexpr auto kPredictionGradientKernels =
    prediction_gradient_table(std::make_integer_sequence<int, 2 * kMaxVectors>{});

// 1 + the index of the kernels for rows of g entries in the tables above, or 0 if no vectorised
// kernel applies.
int vector_kernel(Index g) {
  if (g < 1 || g > 4 * kMaxVectors || !has_avx2_fma()) return 0;
  return static_cast<int>(2 * ((g + 3) / 4 - 1) + (g % 4 == 0 ? 1 : 0)) + 1;
}
#endif

// Row-chunk geometry of all_block_gradients. Sub-chunks of two words (128 rows) and pattern
// panels of 256: the dense 0/1 panel (128 x 256 doubles, 256 kB) and the scaled rows stay in
// cache while the GEMM runs. A task is a run of sub-chunks whose length depends on n only (about
// 64 tasks, at least 4096 rows each), and tasks are processed in waves of at most kWave (two
// per thread) so that the partial sums take at most kWave * g * P scalars whatever n is.
constexpr Index kSubWords = 2, kSubRows = kSubWords * kWordBits, kPanel = 256;
constexpr Index kMinTaskRows = 4096, kTargetTasks = 64, kWave = 16;

// Words per row chunk of the products that walk active rows block by block (1024 rows: 160 kB
// of X at g = 20, so the chunk's rows stay in cache while every block visits them).
constexpr Index kChunkWords = 16;

Index task_rows_for(Index n) {
  Index rows = std::max(kMinTaskRows, (n + kTargetTasks - 1) / kTargetTasks);
  return (rows + kSubRows - 1) / kSubRows * kSubRows;  // whole sub-chunks, whole words
}

using ColMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

// Byte b expanded to its eight bits as 0.0 / 1.0 (bit k to entry k): masks become dense panels
// with one 64-byte copy per eight rows instead of a shift, a mask and a conversion per row.
using ByteRows = std::array<std::array<Scalar, 8>, 256>;
const ByteRows kByteRows = [] {
  ByteRows table{};
  for (unsigned b = 0; b < 256; ++b)
    for (unsigned k = 0; k < 8; ++k) table[b][k] = static_cast<Scalar>((b >> k) & 1u);
  return table;
}();

// Joins the started threads when it goes out of scope, on every path: a std::thread destroyed
// while still joinable (an exception unwinding past it) would call std::terminate.
struct JoinAll {
  std::vector<std::thread>& pool;
  ~JoinAll() {
    for (auto& thread : pool)
      if (thread.joinable()) thread.join();
  }
};

// Calls work(t) for t = 0, ..., threads - 1: work(0) on this thread, the others on new threads
// (if the system refuses one, this thread does its work: the same calls, so the same result).
// Every started thread is joined before this returns or throws; the first exception is rethrown.
template <class Work>
void run_in_threads(Index threads, Work& work) {
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(threads));
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads - 1));
  const JoinAll join_all{pool};
  Index started = 1;
  try {
    for (; started < threads; ++started)
      pool.emplace_back([&, t = started] {
        try {
          work(t);
        } catch (...) {
          errors[static_cast<std::size_t>(t)] = std::current_exception();
        }
      });
  } catch (const std::system_error&) {
    // The system refused a thread.
  } catch (const std::bad_alloc&) {
    // No memory for another thread's state.
  }
  try {
    work(0);
    for (Index t = started; t < threads; ++t) work(t);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& thread : pool) thread.join();
  for (auto& error : errors)
    if (error) std::rethrow_exception(error);
}

// Scratch of one thread: scaled rows and the expanded mask panel.
struct GradientScratch {
  Matrix scaled;
  ColMatrix panel;
  GradientScratch(Index g, Index p) : scaled(kSubRows, g), panel(kSubRows, std::min(p, kPanel)) {}
};

// out = sum over rows [row0, row_end) of the block gradients (out is (g, P), overwritten).
void gradients_of_rows(const MatrixCRef& X, const PatternSet& patterns, const Scalar* r,
                       Index row0, Index row_end, GradientScratch& scratch, BlockMatrix& out) {
  const Index p = patterns.size();
  out.setZero();
  const Index words = patterns.words_per_pattern();
#ifdef DUALNET_X86_KERNELS
  if (const int nv = vector_kernel(X.cols())) {
    // Row chunks of kChunkWords words (their rows of X stay in cache while every pattern walks
    // its set bits in them): only the active rows are multiplied, no 0/1 panel is expanded.
    const GradientKernel kernel = kGradientKernels[static_cast<std::size_t>(nv - 1)];
    const Index word_end = std::min(words, (row_end + kWordBits - 1) / kWordBits);
    for (Index w0 = row0 / kWordBits; w0 < word_end; w0 += kChunkWords) {
      const Index w1 = std::min(word_end, w0 + kChunkWords);
      for (Index c = 0; c < p; ++c)
        kernel(X.data(), X.cols(), patterns.pattern(c), w0, w1, r, out.col(c).data(), true);
    }
    return;
  }
#endif
  for (Index sub0 = row0; sub0 < row_end; sub0 += kSubRows) {
    const Index rows = std::min(kSubRows, row_end - sub0);
    for (Index k = 0; k < rows; ++k) scratch.scaled.row(k) = r[sub0 + k] * X.row(sub0 + k);
    const Index word0 = sub0 / kWordBits;
    const Index nwords = std::min(kSubWords, words - word0);
    for (Index pan0 = 0; pan0 < p; pan0 += kPanel) {
      const Index cols = std::min(kPanel, p - pan0);
      for (Index c = 0; c < cols; ++c) {
        const Word* mask = patterns.pattern(pan0 + c) + word0;
        Scalar* column = scratch.panel.col(c).data();
        // Eight rows at a time from the byte table; rows past `rows` are never read by the GEMM.
        for (Index w = 0; w < nwords; ++w) {
          const Word bits = mask[w];
          const Index base = w * kWordBits;
          const Index bytes = (std::min(kWordBits, rows - base) + 7) / 8;
          for (Index k = 0; k < bytes; ++k)
            std::memcpy(column + base + 8 * k, kByteRows[(bits >> (8 * k)) & 0xffu].data(),
                        8 * sizeof(Scalar));
        }
      }
      out.middleCols(pan0, cols).noalias() +=
          scratch.scaled.topRows(rows).transpose() * scratch.panel.topLeftCorner(rows, cols);
    }
  }
}

// out = X^T D_i r over the rows of words [word0, word1).
void gradient_words(const MatrixCRef& X, const PatternSet& patterns, Index i, const Scalar* r,
                    Scalar* out, Index word0, Index word1) {
  const Index g = X.cols();
#ifdef DUALNET_X86_KERNELS
  if (const int nv = vector_kernel(g)) {
    kGradientKernels[static_cast<std::size_t>(nv - 1)](X.data(), g, patterns.pattern(i), word0,
                                                      word1, r, out, false);
    return;
  }
#endif
  const Scalar* x = X.data();
  Eigen::Map<Vector> result(out, g);
  result.setZero();
  alignas(64) Scalar masked[kWordBits];
  walk_active(
      patterns, i,
      [&](Index base, Word bits) {
        if (bits == kAllOnes) {
          result.noalias() += X.middleRows(base, kWordBits).transpose() *
                              Eigen::Map<const Vector>(r + base, kWordBits);
          return;
        }
        for (Index k = 0; k < kWordBits; ++k) masked[k] = ((bits >> k) & 1u) ? r[base + k] : 0.0;
        result.noalias() += X.middleRows(base, kWordBits).transpose() *
                            Eigen::Map<const Vector>(masked, kWordBits);
      },
      [&](Index k) {
        const Scalar rk = r[k];
        const Scalar* xk = x + k * g;
        for (Index j = 0; j < g; ++j) out[j] += rk * xk[j];
      },
      word0, word1);
}

}  // namespace

void block_gradient(const MatrixCRef& X, const PatternSet& patterns, Index i, const Scalar* r,
                    Scalar* out, Vector* /*workspace*/) {
  gradient_words(X, patterns, i, r, out, 0, patterns.words_per_pattern());
}

void add_block_prediction(const MatrixCRef& X, const PatternSet& patterns, Index i,
                          const Scalar* u, Scalar alpha, Scalar* r, Vector* /*workspace*/) {
  add_block_prediction_words(X, patterns, i, u, alpha, r, 0, patterns.words_per_pattern());
}

void add_block_prediction_then_gradient(const MatrixCRef& X, const PatternSet& patterns, Index i,
                                        const Scalar* u, Scalar alpha, Scalar* r, Index next,
                                        Scalar* out) {
  add_block_prediction_then_gradient_words(X, patterns, i, u, alpha, r, next, out, 0,
                                           patterns.words_per_pattern());
}

void add_block_prediction_then_gradient_words(const MatrixCRef& X, const PatternSet& patterns,
                                              Index i, const Scalar* u, Scalar alpha, Scalar* r,
                                              Index next, Scalar* out, Index word0, Index word1) {
#ifdef DUALNET_X86_KERNELS
  if (const int nv = vector_kernel(X.cols())) {
    kPredictionGradientKernels[static_cast<std::size_t>(nv - 1)](
        X.data(), X.cols(), patterns.pattern(i), word0, word1, u, alpha, r,
        patterns.pattern(next), out);
    return;
  }
#endif
  add_block_prediction_words(X, patterns, i, u, alpha, r, word0, word1);
  gradient_words(X, patterns, next, r, out, word0, word1);
}

bool vectorised_block_products(Index g) {
#ifdef DUALNET_X86_KERNELS
  return vector_kernel(g) != 0;
#else
  return g < 0;  // never
#endif
}

void add_block_prediction_words(const MatrixCRef& X, const PatternSet& patterns, Index i,
                                const Scalar* u, Scalar alpha, Scalar* r, Index word0,
                                Index word1) {
  const Index g = X.cols();
#ifdef DUALNET_X86_KERNELS
  if (const int nv = vector_kernel(g)) {
    kPredictionKernels[static_cast<std::size_t>(nv - 1)](X.data(), g, patterns.pattern(i), word0,
                                                        word1, u, alpha, r);
    return;
  }
#endif
  const Scalar* x = X.data();
  const Eigen::Map<const Vector> weights(u, g);
  alignas(64) Scalar products[kWordBits];
  walk_active(
      patterns, i,
      [&](Index base, Word bits) {
        if (bits == kAllOnes) {
          Eigen::Map<Vector>(r + base, kWordBits).noalias() +=
              alpha * (X.middleRows(base, kWordBits) * weights);
          return;
        }
        Eigen::Map<Vector>(products, kWordBits).noalias() = X.middleRows(base, kWordBits) * weights;
        for (Index k = 0; k < kWordBits; ++k)
          if ((bits >> k) & 1u) r[base + k] += alpha * products[k];
      },
      [&](Index k) {
        const Scalar* xk = x + k * g;
        Scalar s = 0;
        for (Index j = 0; j < g; ++j) s += xk[j] * u[j];
        r[k] += alpha * s;
      },
      word0, word1);
}

void block_gradient_words(const MatrixCRef& X, const PatternSet& patterns, Index i,
                          const Scalar* r, Scalar* out, Index word0, Index word1) {
  gradient_words(X, patterns, i, r, out, word0, word1);
}

Matrix block_gram(const MatrixCRef& X, const PatternSet& patterns, Index i) {
  return block_gram_words(X, patterns, i, 0, patterns.words_per_pattern());
}

Matrix block_gram_words(const MatrixCRef& X, const PatternSet& patterns, Index i, Index word0,
                        Index word1) {
  const Index g = X.cols();
  constexpr Index kChunk = 256;
  Matrix gathered(kChunk, g);
  ColMatrix gram = ColMatrix::Zero(g, g);
  Index filled = 0;
  auto flush = [&] {
    if (filled == 0) return;
    gram.selfadjointView<Eigen::Lower>().rankUpdate(gathered.topRows(filled).transpose());
    filled = 0;
  };
  const Word* mask = patterns.pattern(i);
  for (Index w = word0; w < word1; ++w)
    for (Word bits = mask[w]; bits != 0; bits &= bits - 1) {
      gathered.row(filled++) = X.row(w * kWordBits + __builtin_ctzll(bits));
      if (filled == kChunk) flush();
    }
  flush();
  Matrix q = gram.selfadjointView<Eigen::Lower>();
  return q;
}

Index default_thread_count() {
  const unsigned count = std::thread::hardware_concurrency();
  return count == 0 ? Index{1} : static_cast<Index>(count);
}

std::size_t all_block_gradients_scratch_bytes(Index n_rows, Index gate_dim, Index n_patterns) {
  const Index tasks = n_rows == 0 ? 0 : (n_rows + task_rows_for(n_rows) - 1) / task_rows_for(n_rows);
  const Index partials = std::min(tasks, kWave);
  const std::size_t per_thread = saturating_add(
      array_bytes({kSubRows, gate_dim}, sizeof(Scalar)),
      array_bytes({kSubRows, std::min(n_patterns, kPanel)}, sizeof(Scalar)));
  return saturating_add(array_bytes({partials, gate_dim, n_patterns}, sizeof(Scalar)),
                        saturating_mul(per_thread, static_cast<std::size_t>(partials)));
}

void all_block_gradients(const MatrixCRef& X, const PatternSet& patterns, const Scalar* r,
                         BlockMatrix& gradients, Index n_threads) {
  const Index n = X.rows(), g = X.cols(), p = patterns.size();
  gradients.setZero(g, p);
  if (n == 0 || p == 0) return;
  if (n_threads < 0)
    throw std::invalid_argument("n_threads must be >= 0 (0: one per core), got " +
                                std::to_string(n_threads));
  const Index task_rows = task_rows_for(n);
  const Index tasks = (n + task_rows - 1) / task_rows;
  if (tasks == 1) {  // one task: its partial is the result, no thread is worth starting
    GradientScratch scratch(g, p);
    gradients_of_rows(X, patterns, r, 0, n, scratch, gradients);
    return;
  }
  const Index threads =
      std::min(n_threads == 0 ? default_thread_count() : n_threads, std::min(tasks, kWave));
  // Waves of two tasks per thread (one task alone), so that the partial sums held at once are
  // few: the reduction adds them in task order whatever the wave size, so the result does not
  // depend on it.
  const Index wave_size = std::min(tasks, threads == 1 ? Index{1} : std::min(kWave, 2 * threads));
  std::vector<BlockMatrix> partials(static_cast<std::size_t>(wave_size), BlockMatrix(g, p));
  std::vector<GradientScratch> scratch(static_cast<std::size_t>(threads), GradientScratch(g, p));
  for (Index wave0 = 0; wave0 < tasks; wave0 += wave_size) {
    const Index wave = std::min(wave_size, tasks - wave0);
    // Thread t computes tasks t, t + threads, ... of the wave into their own partials.
    auto work = [&](Index t) {
      for (Index k = t; k < wave; k += threads) {
        const Index row0 = (wave0 + k) * task_rows;
        gradients_of_rows(X, patterns, r, row0, std::min(n, row0 + task_rows),
                          scratch[static_cast<std::size_t>(t)],
                          partials[static_cast<std::size_t>(k)]);
      }
    };
    if (threads == 1) {
      work(0);
    } else {
      run_in_threads(threads, work);
    }
    // Fixed-order reduction: task order, whatever thread computed each partial.
    for (Index k = 0; k < wave; ++k) gradients += partials[static_cast<std::size_t>(k)];
  }
}

void add_block_predictions(const MatrixCRef& X, const PatternSet& patterns,
                           const std::vector<Index>& indices,
                           const std::vector<const Scalar*>& weights,
                           const std::vector<Scalar>& alphas, Scalar* r, Index n_threads) {
  const Index count = static_cast<Index>(indices.size());
  if (static_cast<Index>(weights.size()) != count || static_cast<Index>(alphas.size()) != count)
    throw std::invalid_argument("add_block_predictions: " + std::to_string(indices.size()) +
                                " indices but " + std::to_string(weights.size()) +
                                " weights and " + std::to_string(alphas.size()) + " alphas");
  if (n_threads < 0)
    throw std::invalid_argument("n_threads must be >= 0 (0: one per core), got " +
                                std::to_string(n_threads));
  const Index words = patterns.words_per_pattern();
  if (count == 0 || words == 0) return;
  const Index chunks = (words + kChunkWords - 1) / kChunkWords;
  auto chunk = [&](Index c) {
    const Index w0 = c * kChunkWords, w1 = std::min(words, w0 + kChunkWords);
    for (Index b = 0; b < count; ++b)
      add_block_prediction_words(X, patterns, indices[static_cast<std::size_t>(b)],
                                 weights[static_cast<std::size_t>(b)],
                                 alphas[static_cast<std::size_t>(b)], r, w0, w1);
  };
  // At least kMinTaskRows rows per thread: below that, starting a thread costs more than it saves.
  const Index threads = std::min(n_threads == 0 ? default_thread_count() : n_threads,
                                 std::max<Index>(1, patterns.n_rows() / kMinTaskRows));
  if (threads <= 1) {
    for (Index c = 0; c < chunks; ++c) chunk(c);
    return;
  }
  auto work = [&](Index t) {
    for (Index c = t; c < chunks; c += threads) chunk(c);
  };
  run_in_threads(threads, work);
}

}  // namespace dualnet
