#pragma once
// Helpers for the sync-protocol tests: fixed ids, fixed keys, seeds.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <sodium.h>

#include "teduh/crypto/keys.hpp"
#include "teduh/sync/ids.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::sync::test {

// An id whose 16 bytes are all `b` (readable in failures, ordered by b).
inline Id128 id_of(std::uint8_t b) {
  Id128 id;
  id.bytes.fill(b);
  return id;
}

// A deterministic Ed25519 key from a 32-byte seed whose bytes are all `b`.
inline crypto::SigningKey key_from_seed(std::uint8_t b) {
  crypto::init();
  unsigned char seed[crypto_sign_SEEDBYTES];
  for (auto& s : seed) s = b;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, seed);
  auto key = crypto::SigningKey::from_secret(crypto::ByteView(sk, sizeof sk));
  sodium_memzero(sk, sizeof sk);
  return std::move(*key);
}

inline std::vector<std::uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Property-test seeds: a few fixed ones, or 1..N when TEDUH_PROPERTY_SEEDS=N is set.
inline std::vector<std::uint64_t> property_seeds() {
  if (const char* env = std::getenv("TEDUH_PROPERTY_SEEDS")) {
    const unsigned long n = std::strtoul(env, nullptr, 10);
    if (n > 0) {
      std::vector<std::uint64_t> seeds;
      for (unsigned long i = 1; i <= n; ++i) seeds.push_back(i);
      return seeds;
    }
  }
  return {1, 2, 3, 42, 20260101};
}

// A small valid commit: one version per (entity, field) given.
inline Commit sample_commit() {
  Commit c;
  c.device = id_of(0xd1);
  c.seq = 7;
  c.scope = id_of(0xc1);
  c.scope_type = "kasus";
  c.versions.push_back(Version{id_of(0xc1), "kasus", "status", "asesmen", make_hlc(1767225600000, 3),
                               {VersionId{id_of(0xd2), 4, 0}, VersionId{id_of(0xd1), 6, 2}}});
  c.versions.push_back(Version{id_of(0xe1), "orang", "name", "Siti \"Ani\" Rahma\nbaris dua",
                               make_hlc(1767225600000, 4), {}});
  c.versions.push_back(Version{id_of(0xe1), "orang", "_deleted", "0", make_hlc(1767225600000, 4), {}});
  c.hlc = make_hlc(1767225600000, 4);
  return c;
}

}  // namespace teduh::sync::test
