// The simulation's allocator under SecretBytes (issue 14, speed).
//
// crypto::SecretBytes takes every key from sodium_malloc: its own mapping with guard
// pages, mlock'ed, and unmapped again by sodium_free. That costs five system calls and
// a TLB flush per key, and a sync's Noise handshake makes about a dozen keys on each side:
// a tenth of the simulation's time went there. In this binary only (not in teduh,
// teduhd or any other test), sodium_malloc and sodium_free are defined here and take
// plain heap memory instead, in the manner of the simulated randomness: the code above
// them (SecretBytes, every key holder) is the real code, and nothing in the simulation
// depends on where a key lives. What the guard pages would catch, a write past either
// end, is still caught here by a canary on each side, checked on free (abort); ASan
// builds of the simulation see the heap buffers directly. Libsodium itself never calls
// sodium_malloc, so no buffer crosses between the two allocators.
//
// `teduh_sim --guarded-memory` uses libsodium's own allocator (found with dlsym).
#include <dlfcn.h>
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace teduh::sim {
bool g_guarded_memory = false;  // set by sim_main before anything allocates a key
}

namespace {

constexpr std::size_t kHeader = 32;  // size, then a canary; keeps 16-byte alignment
constexpr std::size_t kTrailer = 16;
constexpr std::uint64_t kCanary = 0x5eb7a1c0ffee7ed5ull;

using MallocFn = void* (*)(std::size_t);
using FreeFn = void (*)(void*);

MallocFn real_malloc() {
  static auto fn = reinterpret_cast<MallocFn>(dlsym(RTLD_NEXT, "sodium_malloc"));
  return fn;
}
FreeFn real_free() {
  static auto fn = reinterpret_cast<FreeFn>(dlsym(RTLD_NEXT, "sodium_free"));
  return fn;
}

// Whether a pointer came from libsodium's allocator: decided once, at the first call,
// so a run never mixes the two.
bool guarded() {
  static const bool g = teduh::sim::g_guarded_memory && real_malloc() != nullptr && real_free() != nullptr;
  return g;
}

}  // namespace

extern "C" void* sodium_malloc(const size_t size) {
  if (guarded()) return real_malloc()(size);
  auto* block = static_cast<unsigned char*>(std::malloc(kHeader + size + kTrailer));
  if (block == nullptr) return nullptr;
  std::memcpy(block, &size, sizeof size);
  for (std::size_t off = 8; off < kHeader; off += 8) std::memcpy(block + off, &kCanary, 8);
  unsigned char* data = block + kHeader;
  std::memset(data, 0xdb, size);  // libsodium's fill: nothing may rely on zeros
  for (std::size_t off = 0; off < kTrailer; off += 8) std::memcpy(data + size + off, &kCanary, 8);
  return data;
}

extern "C" void sodium_free(void* ptr) {
  if (guarded()) return real_free()(ptr);
  if (ptr == nullptr) return;
  auto* data = static_cast<unsigned char*>(ptr);
  unsigned char* block = data - kHeader;
  std::size_t size = 0;
  std::memcpy(&size, block, sizeof size);
  for (std::size_t off = 8; off < kHeader; off += 8) {
    if (std::memcmp(block + off, &kCanary, 8) != 0) std::abort();  // written before the buffer
  }
  for (std::size_t off = 0; off < kTrailer; off += 8) {
    if (std::memcmp(data + size + off, &kCanary, 8) != 0) std::abort();  // written past its end
  }
  sodium_memzero(block, kHeader + size + kTrailer);
  std::free(block);
}
