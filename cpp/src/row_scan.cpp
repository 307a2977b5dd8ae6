#include <dualnet/row_scan.hpp>
#include <dualnet/vector_kernels.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

namespace dualnet {

namespace {

// Flips the sign of values[r] for the rows row0 + r outside the mask, branch-free: the sign bit
// of each double is flipped by the complement of the mask bit. row0 is a multiple of the word
// size.
void apply_signs(const Word* mask, Index row0, Scalar* values, Index rows) {
  mask += row0 / kWordBits;
  for (Index base = 0; base < rows; base += kWordBits) {
    const Word outside = ~mask[base / kWordBits];
    const Index top = std::min(kWordBits, rows - base);
    for (Index b = 0; b < top; ++b) {
      std::uint64_t bits;
      std::memcpy(&bits, values + base + b, sizeof bits);
      bits ^= ((outside >> b) & 1u) << 63;
      std::memcpy(values + base + b, &bits, sizeof bits);
    }
  }
}

// The tests of rows [r0, rows) one by one (the fallback, and the rows past the last group of
// four of the vectorised tests).
Word rows_above_from(Index r0, const Scalar* a, const Scalar* inverse, Index rows, Scalar floor) {
  Word out = 0;
  for (Index r = r0; r < rows; ++r) out |= static_cast<Word>(-a[r] * inverse[r] > floor) << r;
  return out;
}

Word rows_crossed_before_from(Index r0, const Scalar* au, const Scalar* ad, const Scalar* inverse,
                              Index rows, Scalar moving, Scalar t) {
  Word out = 0;
  for (Index r = r0; r < rows; ++r)
    out |= static_cast<Word>((ad[r] * inverse[r] < moving) &
                             (std::max(Scalar{0}, au[r]) <= t * -ad[r]))
           << r;
  return out;
}

Scalar max_violation_from(Index r0, const Scalar* a, const Scalar* inverse, Index rows,
                          Scalar worst) {
  for (Index r = r0; r < rows; ++r) worst = std::max(worst, -a[r] * inverse[r]);
  return worst;
}

#ifdef DUALNET_X86_KERNELS
using namespace vector_kernels;

// Entry b: the sign bits to flip in four consecutive products whose outside-the-pattern bits
// are the four low bits of b (lane j <- bit j).
struct alignas(32) SignLanes {
  std::uint64_t lane[4];
};
constexpr std::array<SignLanes, 16> kSignLanes = [] {
  std::array<SignLanes, 16> table{};
  for (unsigned b = 0; b < 16; ++b)
    for (unsigned j = 0; j < 4; ++j) table[b].lane[j] = ((b >> j) & 1u) ? (1ULL << 63) : 0;
  return table;
}();

// The products of signed_row_products, four consecutive rows at a time (every product reduced
// the same way: a last group of fewer than four rows repeats its last row in the missing lanes
// and stores only its own).
template <int NV, bool Full, bool Two>
DUALNET_VECTOR_TARGET void signed_products_avx2(const Scalar* x, Index stride, Index g,
                                                const Word* mask, Index row0, Index rows,
                                                const Scalar* u_in, const Scalar* d_in,
                                                Scalar* au, Scalar* ad) {
  const __m256i tail = tail_lanes(g, NV);
  __m256d u[NV], d[NV];
  for (int j = 0; j + 1 < NV; ++j) u[j] = _mm256_loadu_pd(u_in + 4 * j);
  u[NV - 1] = _mm256_maskload_pd(u_in + 4 * (NV - 1), tail);
  if constexpr (Two) {
    for (int j = 0; j + 1 < NV; ++j) d[j] = _mm256_loadu_pd(d_in + 4 * j);
    d[NV - 1] = _mm256_maskload_pd(d_in + 4 * (NV - 1), tail);
  }
  for (Index r = 0; r < rows; r += 4) {
    const Index k = row0 + r;
    const Index left = std::min<Index>(4, rows - r);
    const Scalar* x0 = x + k * stride;
    const Scalar* x1 = x + (k + std::min<Index>(1, left - 1)) * stride;
    const Scalar* x2 = x + (k + std::min<Index>(2, left - 1)) * stride;
    const Scalar* x3 = x + (k + std::min<Index>(3, left - 1)) * stride;
    // k is a multiple of 4, so its four bits lie in one word.
    const unsigned outside =
        static_cast<unsigned>(~(mask[k / kWordBits] >> (k % kWordBits))) & 15u;
    const __m256d flip = _mm256_load_pd(reinterpret_cast<const double*>(&kSignLanes[outside]));
    const __m256d pu = _mm256_xor_pd(
        flip, reduce4(row_dot<NV, Full>(x0, u, tail), row_dot<NV, Full>(x1, u, tail),
                      row_dot<NV, Full>(x2, u, tail), row_dot<NV, Full>(x3, u, tail)));
    __m256d pd = _mm256_setzero_pd();
    if constexpr (Two)
      pd = _mm256_xor_pd(
          flip, reduce4(row_dot<NV, Full>(x0, d, tail), row_dot<NV, Full>(x1, d, tail),
                        row_dot<NV, Full>(x2, d, tail), row_dot<NV, Full>(x3, d, tail)));
    if (left == 4) {
      _mm256_storeu_pd(au + r, pu);
      if constexpr (Two) _mm256_storeu_pd(ad + r, pd);
    } else {
      alignas(32) Scalar buffer[4];
      _mm256_store_pd(buffer, pu);
      std::copy(buffer, buffer + left, au + r);
      if constexpr (Two) {
        _mm256_store_pd(buffer, pd);
        std::copy(buffer, buffer + left, ad + r);
      }
    }
  }
}

// Four lanes of a comparison mask as the low four bits of an integer.
DUALNET_VECTOR_TARGET inline Word lane_bits(__m256d mask) {
  return static_cast<Word>(_mm256_movemask_pd(mask));
}

DUALNET_VECTOR_TARGET Word rows_above_avx2(const Scalar* a, const Scalar* inverse, Index rows,
                                           Scalar floor) {
  const __m256d level = _mm256_set1_pd(floor), negate = _mm256_set1_pd(-0.0);
  Word out = 0;
  Index r = 0;
  for (; r + 4 <= rows; r += 4) {
    const __m256d v = _mm256_mul_pd(_mm256_xor_pd(negate, _mm256_loadu_pd(a + r)),
                                    _mm256_loadu_pd(inverse + r));
    out |= lane_bits(_mm256_cmp_pd(v, level, _CMP_GT_OQ)) << r;
  }
  return out | rows_above_from(r, a, inverse, rows, floor);
}

DUALNET_VECTOR_TARGET Word rows_crossed_before_avx2(const Scalar* au, const Scalar* ad,
                                                    const Scalar* inverse, Index rows,
                                                    Scalar moving, Scalar t) {
  const __m256d level = _mm256_set1_pd(moving), step = _mm256_set1_pd(t),
                negate = _mm256_set1_pd(-0.0), zero = _mm256_setzero_pd();
  Word out = 0;
  Index r = 0;
  for (; r + 4 <= rows; r += 4) {
    const __m256d d = _mm256_loadu_pd(ad + r);
    // max(u, 0) returns the second operand for NaN and for two zeros, as std::max(0, u) does.
    const __m256d a = _mm256_max_pd(_mm256_loadu_pd(au + r), zero);
    const __m256d towards =
        _mm256_cmp_pd(_mm256_mul_pd(d, _mm256_loadu_pd(inverse + r)), level, _CMP_LT_OQ);
    const __m256d early =
        _mm256_cmp_pd(a, _mm256_mul_pd(step, _mm256_xor_pd(negate, d)), _CMP_LE_OQ);
    out |= lane_bits(_mm256_and_pd(towards, early)) << r;
  }
  return out | rows_crossed_before_from(r, au, ad, inverse, rows, moving, t);
}

DUALNET_VECTOR_TARGET Scalar max_violation_avx2(const Scalar* a, const Scalar* inverse, Index rows,
                                                Scalar floor) {
  const __m256d negate = _mm256_set1_pd(-0.0);
  __m256d worst0 = _mm256_set1_pd(floor), worst1 = worst0;
  Index r = 0;
  // max(v, worst) keeps worst when v is NaN. Two chains of independent maxima; the maximum does
  // not depend on the order.
  for (; r + 8 <= rows; r += 8) {
    const __m256d v0 = _mm256_mul_pd(_mm256_xor_pd(negate, _mm256_loadu_pd(a + r)),
                                     _mm256_loadu_pd(inverse + r));
    const __m256d v1 = _mm256_mul_pd(_mm256_xor_pd(negate, _mm256_loadu_pd(a + r + 4)),
                                     _mm256_loadu_pd(inverse + r + 4));
    worst0 = _mm256_max_pd(v0, worst0);
    worst1 = _mm256_max_pd(v1, worst1);
  }
  alignas(32) Scalar lanes[8];
  _mm256_store_pd(lanes, worst0);
  _mm256_store_pd(lanes + 4, worst1);
  Scalar worst = floor;
  for (const Scalar lane : lanes) worst = std::max(worst, lane);
  return max_violation_from(r, a, inverse, rows, worst);
}

using ProductKernel = void (*)(const Scalar*, Index, Index, const Word*, Index, Index,
                               const Scalar*, const Scalar*, Scalar*, Scalar*);

// Entry 4 (NV - 1) + 2 Full + Two: the kernel for rows of NV groups of four.
template <int... K>
constexpr std::array<ProductKernel, sizeof...(K)> product_table(std::integer_sequence<int, K...>) {
  return {&signed_products_avx2<K / 4 + 1, (K / 2) % 2 == 1, K % 2 == 1>...};
}
constexpr auto kProductKernels = product_table(std::make_integer_sequence<int, 4 * kMaxVectors>{});

// 1 + the index of the kernels for rows of g entries (one vector) in the table, or 0.
int vector_kernel(Index g) {
  if (g < 1 || g > 4 * kMaxVectors || !has_avx2_fma()) return 0;
  return static_cast<int>(4 * ((g + 3) / 4 - 1) + (g % 4 == 0 ? 2 : 0)) + 1;
}
#endif

}  // namespace

Word rows_above(const Scalar* a, const Scalar* inverse, Index rows, Scalar floor) {
#ifdef DUALNET_X86_KERNELS
  if (has_avx2_fma()) return rows_above_avx2(a, inverse, rows, floor);
#endif
  return rows_above_from(0, a, inverse, rows, floor);
}

Word rows_crossed_before(const Scalar* au, const Scalar* ad, const Scalar* inverse, Index rows,
                         Scalar moving, Scalar t) {
#ifdef DUALNET_X86_KERNELS
  if (has_avx2_fma()) return rows_crossed_before_avx2(au, ad, inverse, rows, moving, t);
#endif
  return rows_crossed_before_from(0, au, ad, inverse, rows, moving, t);
}

Scalar max_violation(const Scalar* a, const Scalar* inverse, Index rows, Scalar floor) {
#ifdef DUALNET_X86_KERNELS
  if (has_avx2_fma()) return max_violation_avx2(a, inverse, rows, floor);
#endif
  return max_violation_from(0, a, inverse, rows, floor);
}

void signed_row_products(const MatrixCRef& X, const Word* mask, Index row0, Index rows,
                         const Scalar* u, const Scalar* d, Scalar* au, Scalar* ad) {
  if (rows <= 0) return;
  const Index g = X.cols();
#ifdef DUALNET_X86_KERNELS
  if (const int kernel = vector_kernel(g)) {
    kProductKernels[static_cast<std::size_t>(kernel - 1 + (d ? 1 : 0))](
        X.data(), X.outerStride(), g, mask, row0, rows, u, d, au, ad);
    return;
  }
#endif
  Eigen::Map<Vector>(au, rows).noalias() =
      X.middleRows(row0, rows) * Eigen::Map<const Vector>(u, g);
  apply_signs(mask, row0, au, rows);
  if (d) {
    Eigen::Map<Vector>(ad, rows).noalias() =
        X.middleRows(row0, rows) * Eigen::Map<const Vector>(d, g);
    apply_signs(mask, row0, ad, rows);
  }
}

}  // namespace dualnet
