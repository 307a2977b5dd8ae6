// The all-blocks gradient pass X^T D_i r over a pattern set (for Python code that needs every
// block's gradient at once, and for the benchmarks), the fused single-block products of the
// solver's sweeps and the Gram matrix of a support's design (for the tests), and the default
// thread count.
#include "pybind11.hpp"

#include <dualnet/block_products.hpp>
#include <dualnet/support_gram.hpp>

#include <string>
#include <vector>

namespace {

void check_shapes(const dualnet::MatrixCRef& X, const dualnet::PatternSet& patterns,
                  const dualnet::VectorCRef& r, const char* r_name = "r") {
  if (patterns.n_rows() != X.rows() || patterns.gate_dim() != X.cols())
    throw std::invalid_argument(
        "patterns has (n_rows, gate_dim) = (" + std::to_string(patterns.n_rows()) + ", " +
        std::to_string(patterns.gate_dim()) + ") but X has shape (" + std::to_string(X.rows()) +
        ", " + std::to_string(X.cols()) + ")");
  if (r.size() != X.rows())
    throw std::invalid_argument(std::string(r_name) + " has " + std::to_string(r.size()) +
                                " entries but X has " + std::to_string(X.rows()) + " rows");
}

void check_pattern_index(const char* name, dualnet::Index i, const dualnet::PatternSet& patterns) {
  if (i < 0 || i >= patterns.size())
    throw std::invalid_argument(std::string(name) + " must be in [0, " +
                                std::to_string(patterns.size()) + "), got " + std::to_string(i));
}

}  // namespace

void bind_block_products(py::module_& m) {
  m.def("default_thread_count", &dualnet::default_thread_count,
        "Threads used when n_threads is 0: the machine's count of concurrent threads.");
  m.def(
      "block_gradients",
      [](const dualnet::MatrixCRef& X, const dualnet::PatternSet& patterns,
         const dualnet::VectorCRef& r, dualnet::Index n_threads) {
        check_shapes(X, patterns, r);
        // Safe without the GIL: views of caller-held arrays, no Python objects in the core.
        return without_gil([&] {
          dualnet::BlockMatrix gradients;
          dualnet::all_block_gradients(X, patterns, r.data(), gradients, n_threads);
          return gradients;
        });
      },
      py::arg("X").noconvert(), py::arg("patterns"), py::arg("r").noconvert(), py::kw_only(),
      py::arg("n_threads") = 0,
      "Every block gradient X^T D_i r as the columns of a (g, P) array, over n_threads threads "
      "(0: one per core); the result does not depend on n_threads.");
  m.def(
      "block_prediction_then_gradient",
      [](const dualnet::MatrixCRef& X, const dualnet::PatternSet& patterns, dualnet::Index i,
         const dualnet::VectorCRef& u, dualnet::Scalar alpha, const dualnet::VectorCRef& r,
         dualnet::Index next, dualnet::Index word0, dualnet::Index word1) {
        check_shapes(X, patterns, r);
        check_pattern_index("i", i, patterns);
        check_pattern_index("next", next, patterns);
        if (u.size() != X.cols())
          throw std::invalid_argument("u has " + std::to_string(u.size()) +
                                      " entries but X has " + std::to_string(X.cols()) +
                                      " columns");
        const dualnet::Index words = patterns.words_per_pattern();
        if (word1 < 0) word1 = words;
        if (word0 < 0 || word0 > word1 || word1 > words)
          throw std::invalid_argument("the words [word0, word1) = [" + std::to_string(word0) +
                                      ", " + std::to_string(word1) + ") are not inside [0, " +
                                      std::to_string(words) + ")");
        dualnet::Vector updated = r, gradient(X.cols());
        without_gil([&] {
          dualnet::add_block_prediction_then_gradient_words(X, patterns, i, u.data(), alpha,
                                                            updated.data(), next,
                                                            gradient.data(), word0, word1);
          return 0;
        });
        return py::make_tuple(updated, gradient);
      },
      py::arg("X").noconvert(), py::arg("patterns"), py::arg("i"), py::arg("u").noconvert(),
      py::arg("alpha"), py::arg("r").noconvert(), py::arg("next"), py::kw_only(),
      py::arg("word0") = 0, py::arg("word1") = -1,
      "(r + alpha D_i X u, X^T D_next (r + alpha D_i X u)): one block's update of a residual and "
      "the next block's gradient at it, as the solver's sweeps compute them (r is not modified), "
      "over the rows of words [word0, word1) of the masks (word1 = -1: to the last word).");
  m.def(
      "support_gram",
      [](const dualnet::MatrixCRef& X, const dualnet::PatternSet& patterns,
         const std::vector<dualnet::Scalar>& signs, const dualnet::VectorCRef& y,
         const std::string& method) {
        check_shapes(X, patterns, y, "y");
        dualnet::SupportGramMethod chosen;
        if (method == "auto")
          chosen = dualnet::SupportGramMethod::automatic;
        else if (method == "grouped")
          chosen = dualnet::SupportGramMethod::grouped;
        else if (method == "chunked")
          chosen = dualnet::SupportGramMethod::chunked;
        else
          throw std::invalid_argument("method must be 'auto', 'grouped' or 'chunked', got '" +
                                      method + "'");
        dualnet::SupportGram formed = without_gil(
            [&] { return dualnet::support_gram(X, patterns, signs, y.data(), chosen); });
        return py::make_tuple(std::move(formed.gram), std::move(formed.c), formed.grouped);
      },
      py::arg("X").noconvert(), py::arg("patterns"), py::arg("signs"), py::arg("y").noconvert(),
      py::kw_only(), py::arg("method") = "auto",
      "(G, c, grouped): G = A^T A (P g, P g) and c = A^T y of A = [s_1 D_1 X, ..., s_P D_P X], "
      "the Gram matrix of the gated polish; grouped tells whether it was formed by row "
      "signatures ('grouped' forces them when they fit, 'chunked' the rank updates).");
}
