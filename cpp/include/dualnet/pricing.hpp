// Pricing (column generation) for the convex programs of docs/theory.md, section 7: given a dual
// point lambda, search activation patterns whose dual constraint is violated.
//
// The dual constraint of pattern D with cone K = {u : (2D - I) X u >= 0} and c = X^T D lambda is
//     gated: ||c|| <= beta,        ReLU: max(||Proj_K(c)||, ||Proj_K(-c)||) <= beta,
// and the ReLU value of D is the largest |lambda^T (X u)_+| over unit u in the closure of the cell
// of D, so maximising it over every pattern is maximising the piecewise-linear function
// |lambda^T (X u)_+| on the unit sphere. Exact maximisation is as hard as enumerating the cells;
// this is a local search (hill climbing over cells) from many starts: from the cell of a gate u,
// move to the cell of the gradient direction +-c/||c|| (the fixed-point step of projected ascent
// on the sphere), or across one wall of the cone touched by the within-cell maximiser
// Proj_K(+-c) (a single-row flip), whichever raises the value most; stop when no move does.
// Every cell reached is evaluated once (patterns are hashed bitsets).
//
// A second, much cheaper search (the default, PricingMethod::ascent) runs Riemannian gradient
// ascent of f_s(u) = s lambda^T (X u)_+ on the unit sphere, batched over all starts (two GEMMs per
// step), with a step angle decaying to zero (cosine schedule). It records every cell it passes
// through whose own gate already attains f_s(u) > beta (1 + tol): the gate is then the witness of
// a real violation, so no projection is needed to find it, only to report the cell's exact value
// (the projection ||Proj_K(+-c)|| >= f_s(u) is taken for the returned patterns alone).
// Single-cell moves of the climb are local to a cell's walls; the ascent crosses many walls per
// step and reaches the maxima of f that lie on walls (where the climb's gradient jumps oscillate). Each returned pattern
// carries a strictly interior gate (the point the search stood on) and a witness direction w,
// ||w|| = 1, in the closed cell that attains its value: |lambda^T (X w)_+| (ReLU) or
// ||X^T D lambda|| (gated) -- a violation that can be checked directly.
//
// With min_distance > 0 the returned patterns are spread out: taken by decreasing value, a
// violator within min_distance rows (Hamming distance) of a pattern of the given set or of a
// pattern already returned is skipped (and counted), since its block nearly repeats that
// pattern's block; max_value still covers every pattern found.
#pragma once

#include <dualnet/interrupt.hpp>
#include <dualnet/pattern_set.hpp>
#include <dualnet/types.hpp>

#include <cstdint>

namespace dualnet {

enum class PricingMethod { ascent, climb };

struct PricingSettings {
  PricingMethod method = PricingMethod::ascent;
  bool relu = true;            // ReLU (cone-aware) values, else gated values
  Index n_starts = -1;         // starts searched; -1: every data row, every gate, and n_random
  Index n_random = 64;         // random Gaussian start directions (part of the start pool)
  Index max_steps = 32;        // moves per climb, or ascent steps per start
  Scalar step = 0.5;           // ascent: first step angle (radians), decaying to 0
  Scalar tol = 1e-6;           // a pattern violates when its value > beta (1 + tol)
  Index max_new = -1;          // most patterns returned (the largest values); -1: all
  Index min_distance = 0;      // skip violators within this many rows of a pattern of the given
                               // set or of one already returned (pattern_distance.hpp); 0: none
  std::uint64_t seed = 0;      // seeds the random starts and the perturbations
};

struct PricingResult {
  PatternSet patterns;    // new violating patterns (not in the given set), by decreasing value
  Vector values;          // their dual constraint values (> beta (1 + tol))
  Matrix witnesses;       // (k, g): row j is a unit direction in the closed cell j attaining values[j]
  Scalar max_value = 0;   // largest value found among patterns outside the given set (0 if none)
  Index n_starts = 0;     // starts searched
  Index n_evaluated = 0;  // distinct patterns evaluated
  Index n_near = 0;       // violators skipped as within min_distance rows of a kept pattern

  PricingResult(Index n_rows, Index gate_dim) : patterns(n_rows, gate_dim) {}
};

// X: (n, g) row-major (with the ones column when a bias is used); dual: (n,); current: the
// patterns already in the program (n_rows == n, gate_dim == g). Deterministic for a given seed.
PricingResult price_patterns(const MatrixCRef& X, const VectorCRef& dual, Scalar beta,
                             const PatternSet& current, const PricingSettings& settings,
                             InterruptCheck* interrupt = nullptr);

}  // namespace dualnet
