#include <dualnet/block_products.hpp>
#include <dualnet/memory_budget.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
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
void walk_active(const PatternSet& patterns, Index i, Dense&& dense, Row&& row) {
  const Word* mask = patterns.pattern(i);
  const Index words = patterns.words_per_pattern();
  const Index full_words = patterns.n_rows() / kWordBits;  // words with 64 rows inside n
  for (Index w = 0; w < words; ++w) {
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

// Row-chunk geometry of all_block_gradients. Sub-chunks of two words (128 rows) and pattern
// panels of 256: the dense 0/1 panel (128 x 256 doubles, 256 kB) and the scaled rows stay in
// cache while the GEMM runs. A task is a run of sub-chunks whose length depends on n only (about
// 64 tasks, at least 4096 rows each), and tasks are processed in waves of kWave so that the
// partial sums take kWave * g * P scalars whatever n is.
constexpr Index kSubWords = 2, kSubRows = kSubWords * kWordBits, kPanel = 256;
constexpr Index kMinTaskRows = 4096, kTargetTasks = 64, kWave = 16;

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

}  // namespace

void block_gradient(const MatrixCRef& X, const PatternSet& patterns, Index i, const Scalar* r,
                    Scalar* out, Vector* /*workspace*/) {
  const Index g = X.cols();
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
      });
}

void add_block_prediction(const MatrixCRef& X, const PatternSet& patterns, Index i,
                          const Scalar* u, Scalar alpha, Scalar* r, Vector* /*workspace*/) {
  const Index g = X.cols();
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
      });
}

Matrix block_gram(const MatrixCRef& X, const PatternSet& patterns, Index i) {
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
  patterns.for_each_active(i, [&](Index k) {
    gathered.row(filled++) = X.row(k);
    if (filled == kChunk) flush();
  });
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
  std::vector<BlockMatrix> partials(static_cast<std::size_t>(std::min(tasks, kWave)),
                                    BlockMatrix(g, p));
  std::vector<GradientScratch> scratch(static_cast<std::size_t>(threads), GradientScratch(g, p));
  for (Index wave0 = 0; wave0 < tasks; wave0 += kWave) {
    const Index wave = std::min(kWave, tasks - wave0);
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

}  // namespace dualnet
