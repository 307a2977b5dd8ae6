// Building blocks of the hand-vectorised row kernels (block_products.cpp, row_scan.cpp): rows of
// X held in vectors of four doubles on x86-64 processors with AVX2, FMA, POPCNT and BMI (every
// processor with AVX2 has the other three), selected at run time. The library is compiled for
// the baseline instruction set (Eigen's own kernels use SSE2 only); only the functions marked
// DUALNET_VECTOR_TARGET use these instructions, and only after has_avx2_fma() said yes.
//
// A row of g entries is NV = ceil(g / 4) vectors, the last one loaded under a lane mask when g is
// not a multiple of 4 (Full = false): g <= 4 * kMaxVectors.
#pragma once

#include <dualnet/types.hpp>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(_WIN32)
#define DUALNET_X86_KERNELS 1
#include <immintrin.h>
// Functions compiled for the instruction sets the vectorised kernels need.
#define DUALNET_VECTOR_TARGET __attribute__((target("avx2,fma,popcnt,bmi")))

namespace dualnet::vector_kernels {

constexpr int kMaxVectors = 8;

inline bool has_avx2_fma() {
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi");
  }();
  return supported;
}

// Lanes of the last vector of a row inside the row (g - 4 (NV - 1) of them).
DUALNET_VECTOR_TARGET inline __m256i tail_lanes(Index g, int nv) {
  const long long left = static_cast<long long>(g) - 4LL * (nv - 1);
  return _mm256_set_epi64x(left > 3 ? -1 : 0, left > 2 ? -1 : 0, left > 1 ? -1 : 0, -1);
}

// The last group of four entries of a row: a plain load when g is a multiple of 4 (Full), else
// a load under the lane mask (lanes past g read as 0, nothing past the row is touched).
template <bool Full>
DUALNET_VECTOR_TARGET inline __m256d load_last(const Scalar* p, __m256i tail) {
  if constexpr (Full) {
    return _mm256_loadu_pd(p);
  } else {
    return _mm256_maskload_pd(p, tail);
  }
}

// x_k^T u for one row, as a vector whose four lanes sum to it (the last group first, then the
// others in order: the same operations for every row).
template <int NV, bool Full>
DUALNET_VECTOR_TARGET inline __m256d row_dot(const Scalar* xk, const __m256d* u, __m256i tail) {
  __m256d acc = _mm256_mul_pd(load_last<Full>(xk + 4 * (NV - 1), tail), u[NV - 1]);
  for (int v = 0; v + 1 < NV; ++v) acc = _mm256_fmadd_pd(_mm256_loadu_pd(xk + 4 * v), u[v], acc);
  return acc;
}

// (sum of the lanes of a0, ..., sum of the lanes of a3), each as (l0 + l1) + (l2 + l3).
DUALNET_VECTOR_TARGET inline __m256d reduce4(__m256d a0, __m256d a1, __m256d a2, __m256d a3) {
  const __m256d h01 = _mm256_hadd_pd(a0, a1);  // a0 01, a1 01, a0 23, a1 23
  const __m256d h23 = _mm256_hadd_pd(a2, a3);
  return _mm256_add_pd(_mm256_permute2f128_pd(h01, h23, 0x20),
                       _mm256_permute2f128_pd(h01, h23, 0x31));
}

}  // namespace dualnet::vector_kernels
#endif
