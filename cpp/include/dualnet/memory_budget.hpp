// Memory guard: a request whose storage cannot fit fails before anything is allocated, with the
// estimate in the message, instead of swapping the machine to a halt or dying half-way through.
//
// Pattern sets and solver blocks grow combinatorially (theory.md section 7: P grows like n^r), so
// every routine that sizes storage from the data calls check_memory_budget() with its estimate
// first. Estimates are computed with saturating arithmetic: a product that overflows std::size_t
// is "too much", never a small wrapped-around number.
//
// Failure is MemoryBudgetExceeded, not std::invalid_argument: the arguments are valid, the machine
// is too small for them. The binding maps it to Python's MemoryError (numpy's convention for an
// array that cannot be allocated), keeping the message.
#pragma once

#include <dualnet/types.hpp>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace dualnet {

class MemoryBudgetExceeded : public std::runtime_error {
 public:
  MemoryBudgetExceeded(const std::string& message, std::size_t required, std::size_t budget)
      : std::runtime_error(message), message_(message), required_bytes_(required),
        budget_bytes_(budget) {}
  // The full message; what() stops at the first NUL a caller's name might contain.
  const std::string& message() const { return message_; }
  std::size_t required_bytes() const { return required_bytes_; }
  std::size_t budget_bytes() const { return budget_bytes_; }

 private:
  std::string message_;
  std::size_t required_bytes_;
  std::size_t budget_bytes_;
};

constexpr std::size_t kUnknownMemory = 0;
constexpr std::size_t kMaxBytes = std::numeric_limits<std::size_t>::max();

// Share of physical memory one request may take by default: the rest is left to the caller's own
// arrays (X, results, copies numpy makes) and to the rest of the machine.
constexpr double kDefaultMemoryFraction = 0.5;

// Installed physical memory in bytes, or kUnknownMemory where the system does not say.
inline std::size_t physical_memory_bytes() {
#if defined(_SC_PHYS_PAGES) && defined(_SC_PAGESIZE)
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page_size <= 0) return kUnknownMemory;
  const auto p = static_cast<std::size_t>(pages), s = static_cast<std::size_t>(page_size);
  return p > kMaxBytes / s ? kMaxBytes : p * s;
#else
  return kUnknownMemory;
#endif
}

// The memory limit of the control group (container) this process runs in, or kUnknownMemory.
// Containers report the host's physical memory through sysconf; their real limit is here.
inline std::size_t cgroup_memory_limit_bytes() {
  for (const char* path : {"/sys/fs/cgroup/memory.max",                      // cgroup v2
                           "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {  // cgroup v1
    std::FILE* file = std::fopen(path, "r");
    if (!file) continue;
    unsigned long long limit = 0;
    const int parsed = std::fscanf(file, "%llu", &limit);  // "max" (no limit) does not parse
    std::fclose(file);
    if (parsed == 1 && limit > 0) return static_cast<std::size_t>(limit);
  }
  return kUnknownMemory;
}

// The budget used when the caller gives none. The environment variable DUALNET_MEMORY_BUDGET
// (a number of bytes) sets it; otherwise it is kDefaultMemoryFraction of the smaller of physical
// memory and the container's limit, or no limit (kMaxBytes) if neither is known. Read on each
// call (cheap next to the allocations it guards), so it is never stale.
inline std::size_t default_memory_budget() {
  if (const char* text = std::getenv("DUALNET_MEMORY_BUDGET")) {
    char* end = nullptr;
    errno = 0;
    const unsigned long long value = std::strtoull(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || text[0] == '-')
      throw std::invalid_argument(
          std::string("DUALNET_MEMORY_BUDGET must be a number of bytes, got '") + text + "'");
    return static_cast<std::size_t>(value);
  }
  std::size_t memory = physical_memory_bytes();
  const std::size_t limit = cgroup_memory_limit_bytes();
  if (limit != kUnknownMemory && (memory == kUnknownMemory || limit < memory)) memory = limit;
  if (memory == kUnknownMemory) return kMaxBytes;
  return static_cast<std::size_t>(static_cast<double>(memory) * kDefaultMemoryFraction);
}

inline std::size_t saturating_add(std::size_t a, std::size_t b) {
  return a > kMaxBytes - b ? kMaxBytes : a + b;
}

inline std::size_t saturating_mul(std::size_t a, std::size_t b) {
  if (a == 0 || b == 0) return 0;
  return a > kMaxBytes / b ? kMaxBytes : a * b;
}

// Bytes of an array with the given extents and element size, saturating at kMaxBytes.
// Negative extents are a caller bug in the estimate, reported as such.
inline std::size_t array_bytes(std::initializer_list<Index> extents, std::size_t element_size) {
  std::size_t total = element_size;
  for (const Index e : extents) {
    if (e < 0) throw std::invalid_argument("array_bytes: negative extent " + std::to_string(e));
    total = saturating_mul(total, static_cast<std::size_t>(e));
  }
  return total;
}

// "1.50 GiB", "512 B", or "more than 16 EiB" for a saturated estimate.
inline std::string format_bytes(std::size_t bytes) {
  if (bytes == kMaxBytes) return "more than 16 EiB";
  static const char* const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 6) {
    value /= 1024.0;
    ++unit;
  }
  char buffer[48];
  if (unit == 0)
    std::snprintf(buffer, sizeof buffer, "%zu B", bytes);
  else
    std::snprintf(buffer, sizeof buffer, "%.2f %s", value, units[unit]);
  return buffer;
}

// The size for a message: "1.50 GiB (1610612736 bytes)", or "more than 16 EiB" when saturated.
inline std::string describe_bytes(std::size_t bytes) {
  if (bytes == kMaxBytes) return format_bytes(bytes);
  return format_bytes(bytes) + " (" + std::to_string(bytes) + " bytes)";
}

// Throws MemoryBudgetExceeded if `required_bytes` (an estimate of what `what` is about to
// allocate) exceeds `budget_bytes`. Call it before the first allocation the estimate covers.
inline void check_memory_budget(std::size_t required_bytes, const std::string& what,
                                std::size_t budget_bytes = default_memory_budget()) {
  if (required_bytes <= budget_bytes) return;
  throw MemoryBudgetExceeded(what + " needs about " + describe_bytes(required_bytes) +
                                 ", estimated before allocating; the memory budget is " +
                                 describe_bytes(budget_bytes),
                             required_bytes, budget_bytes);
}

}  // namespace dualnet
