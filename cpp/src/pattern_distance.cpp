#include <dualnet/pattern_distance.hpp>

#include <stdexcept>
#include <string>

namespace dualnet {

IndexMatrix pattern_distances(const PatternSet& a, const PatternSet& b) {
  if (a.n_rows() != b.n_rows())
    throw std::invalid_argument("pattern_distances: the sets have " + std::to_string(a.n_rows()) +
                                " and " + std::to_string(b.n_rows()) + " rows");
  const Index words = a.words_per_pattern();
  IndexMatrix out(a.size(), b.size());
  for (Index i = 0; i < a.size(); ++i)
    for (Index j = 0; j < b.size(); ++j) out(i, j) = pattern_distance(a.pattern(i), b.pattern(j), words);
  return out;
}

}  // namespace dualnet
