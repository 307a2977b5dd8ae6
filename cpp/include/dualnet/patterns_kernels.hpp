// The two loops that every pattern kernel runs over a column of scores x_k^T g: packing their
// signs into a bitset, and the smallest magnitude (the gate's margin). Two lanes at a time where
// SSE2 (baseline on x86-64) exists, scalar elsewhere.
#pragma once

#include <dualnet/types.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace dualnet {

// bits[w] bit b = (s[64 w + b] > 0), for the m scores s.
inline void pack_signs(const double* s, Index m, Word* bits) {
  for (Index base = 0, w = 0; base < m; base += kWordBits, ++w) {
    const Index len = std::min(kWordBits, m - base);
    const double* p = s + base;
    Word word = 0;
    Index b = 0;
#if defined(__SSE2__)
    const __m128d zero = _mm_setzero_pd();
    for (; b + 2 <= len; b += 2)
      word |= Word(_mm_movemask_pd(_mm_cmpgt_pd(_mm_loadu_pd(p + b), zero))) << b;
#endif
    for (; b < len; ++b) word |= Word(p[b] > 0) << b;
    bits[w] = word;
  }
}

// min_j |s_j| over the entries with |s_j| > floor (infinity if none); n_below counts the others.
inline double min_abs_above(const double* s, Index m, double floor, Index& n_below) {
  double best = std::numeric_limits<double>::infinity();
  Index below = 0, j = 0;
#if defined(__SSE2__)
  const __m128d sign = _mm_set1_pd(-0.0), lim = _mm_set1_pd(floor), inf = _mm_set1_pd(best);
  __m128d acc = inf;
  for (; j + 2 <= m; j += 2) {
    const __m128d a = _mm_andnot_pd(sign, _mm_loadu_pd(s + j));
    const __m128d above = _mm_cmpgt_pd(a, lim);
    acc = _mm_min_pd(acc, _mm_or_pd(_mm_and_pd(above, a), _mm_andnot_pd(above, inf)));
    const int mask = _mm_movemask_pd(above);
    below += 2 - (mask & 1) - (mask >> 1);
  }
  double lanes[2];
  _mm_storeu_pd(lanes, acc);
  best = std::min(lanes[0], lanes[1]);
#endif
  for (; j < m; ++j) {
    const double a = std::abs(s[j]);
    if (a > floor)
      best = std::min(best, a);
    else
      ++below;
  }
  n_below = below;
  return best;
}

}  // namespace dualnet
