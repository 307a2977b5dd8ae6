#include <dualnet/patterns_cell_table.hpp>

#include <dualnet/memory_budget.hpp>

#include <algorithm>

namespace dualnet {

namespace {
inline std::uint64_t mix64(std::uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}
}  // namespace

std::uint64_t hash_words(const Word* words, Index n_words, std::uint64_t seed) {
  std::uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL);
  for (Index k = 0; k < n_words; ++k) h = mix64(h ^ (words[k] + 0x9e3779b97f4a7c15ULL * std::uint64_t(k + 1)));
  return h;
}

CellTable::CellTable(Index n_bits, Index gate_dim, bool keep_cells, Index max_cells)
    : n_bits_(n_bits),
      gate_dim_(keep_cells ? gate_dim : 0),
      words_(words_for_rows(n_bits)),
      keep_(keep_cells),
      max_cells_(max_cells),
      slots_(64, Slot{0, -1}) {}

bool CellTable::same(Index i, const Word* bits, std::uint64_t& h2, bool& have_h2) const {
  if (keep_) return std::equal(bits, bits + words_, bits_.data() + i * words_);
  if (!have_h2) {
    h2 = second_hash(bits);
    have_h2 = true;
  }
  return check_[i] == h2;
}

bool CellTable::add(const Word* bits, const Scalar* gate, Scalar margin) {
  const std::uint64_t h = hash_words(bits, words_, 0);
  const std::size_t mask = slots_.size() - 1;
  std::uint64_t h2 = 0;
  bool have_h2 = false;
  std::size_t s = h & mask;
  for (;; s = (s + 1) & mask) {
    const Slot& slot = slots_[s];
    if (slot.index < 0) break;
    if (slot.hash == h && same(slot.index, bits, h2, have_h2)) {
      if (gate && keep_ && margin > margins_[slot.index]) {
        margins_[slot.index] = margin;
        std::copy(gate, gate + gate_dim_, gates_.data() + slot.index * gate_dim_);
      }
      return false;
    }
  }
  if (size_ >= max_cells_) throw CellLimitExceeded(max_cells_);
  slots_[s] = Slot{h, size_};
  if (keep_) {
    bits_.insert(bits_.end(), bits, bits + words_);
    if (gate)
      gates_.insert(gates_.end(), gate, gate + gate_dim_);
    else
      gates_.insert(gates_.end(), static_cast<std::size_t>(gate_dim_), 0.0);
    margins_.push_back(gate ? margin : -1.0);
  } else {
    check_.push_back(have_h2 ? h2 : second_hash(bits));
  }
  ++size_;
  if (2 * static_cast<std::size_t>(size_) > slots_.size()) grow();
  return true;
}

void CellTable::grow() {
  // The table doubles: before allocating, check what it will hold once the new slots fill to the
  // load limit (slots, hashes, and the kept bitsets and gates), so that a runaway enumeration
  // stops with the estimate rather than exhausting memory.
  const std::size_t new_slots = saturating_mul(slots_.size(), 2);
  const std::size_t per_cell = sizeof(Slot) + 2 * sizeof(std::uint64_t) +
                               static_cast<std::size_t>(words_) * sizeof(Word) +
                               static_cast<std::size_t>(gate_dim_) * sizeof(Scalar);
  check_memory_budget(saturating_add(saturating_mul(new_slots, sizeof(Slot)),
                                     saturating_mul(new_slots / 2, per_cell)),
                      "a table of " + std::to_string(new_slots / 2) + " arrangement cells");
  std::vector<Slot> slots(slots_.size() * 2, Slot{0, -1});
  const std::size_t mask = slots.size() - 1;
  for (const Slot& slot : slots_) {
    if (slot.index < 0) continue;
    std::size_t s = slot.hash & mask;
    while (slots[s].index >= 0) s = (s + 1) & mask;
    slots[s] = slot;
  }
  slots_.swap(slots);
}

}  // namespace dualnet
