#pragma once
// Helpers for the sync-protocol tests: fixed ids, fixed keys, seeds.
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <span>
#include <string>
#include <string_view>
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

// A hand-written msgpack writer for canonical-form tests: every header is written in the
// form asked for (a tag byte), or in the shortest form when the tag is 0. Writing a value
// in a longer form than needed gives the non-canonical bytes the decoders must refuse.
//   uint: 0xcc..0xcf (unsigned, 1..8 bytes), 0xd0..0xd3 (signed, 1..8 bytes)
//   str: 0xd9, 0xda, 0xdb; bin: 0xc4, 0xc5, 0xc6; array: 0xdc, 0xdd; map: 0xde, 0xdf
struct RawWriter {
  std::vector<std::uint8_t> out;

  void be(std::uint64_t v, int width) {
    for (int i = width - 1; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  static int width_of(std::uint8_t tag) { return 1 << (tag & 0x03); }
  void uint(std::uint64_t v, std::uint8_t tag = 0) {
    if (tag == 0) {
      if (v < 0x80) return out.push_back(static_cast<std::uint8_t>(v));
      tag = v < 0x100 ? 0xcc : v < 0x10000 ? 0xcd : v < 0x100000000ull ? 0xce : 0xcf;
    }
    out.push_back(tag);
    be(v, width_of(tag));
  }
  void header(std::size_t n, std::uint8_t tag, std::uint8_t fix, std::size_t fix_max, std::uint8_t first,
              int first_width) {
    if (tag == 0) {
      if (n <= fix_max && fix != 0) return out.push_back(static_cast<std::uint8_t>(fix | n));
      tag = first;
      int w = first_width;
      while ((w < 4) && n >= (std::uint64_t{1} << (8 * w))) {
        ++tag;
        w *= 2;
      }
      out.push_back(tag);
      return be(n, w);
    }
    out.push_back(tag);
    be(n, 1 << (tag - first + (first_width == 2 ? 1 : 0)));
  }
  void str(std::string_view s, std::uint8_t tag = 0) {
    header(s.size(), tag, 0xa0, 31, 0xd9, 1);
    out.insert(out.end(), s.begin(), s.end());
  }
  void bin(std::span<const std::uint8_t> b, std::uint8_t tag = 0) {
    header(b.size(), tag, 0, 0, 0xc4, 1);
    out.insert(out.end(), b.begin(), b.end());
  }
  void array(std::size_t n, std::uint8_t tag = 0) { header(n, tag, 0x90, 15, 0xdc, 2); }
  void map(std::size_t n, std::uint8_t tag = 0) { header(n, tag, 0x80, 15, 0xde, 2); }
};

// A commit body written by RawWriter: forms[name] is the tag for the item called name
// (see the names below; an item of a version or a supersedes entry gets the tag in every
// version or entry). With no forms this is exactly encode_commit_body's output.
inline std::vector<std::uint8_t> raw_commit_body(const Commit& c, const std::map<std::string, std::uint8_t>& forms) {
  auto f = [&](const char* name) -> std::uint8_t {
    auto it = forms.find(name);
    return it == forms.end() ? 0 : it->second;
  };
  RawWriter w;
  w.array(7, f("root"));
  w.uint(Commit::kFormatVersion, f("format"));
  w.bin(c.device.bytes, f("device"));
  w.uint(c.seq, f("seq"));
  w.bin(c.scope.bytes, f("scope"));
  w.str(c.scope_type, f("scope_type"));
  w.uint(c.hlc, f("hlc"));
  w.array(c.versions.size(), f("versions"));
  for (const auto& v : c.versions) {
    w.array(6, f("version"));
    w.bin(v.entity.bytes, f("entity"));
    w.str(v.entity_type, f("entity_type"));
    w.str(v.field, f("field"));
    w.str(v.value, f("value"));
    w.uint(v.hlc, f("version_hlc"));
    w.array(v.supersedes.size(), f("supersedes"));
    for (const auto& s : v.supersedes) {
      w.array(3, f("version_id"));
      w.bin(s.device.bytes, f("superseded_device"));
      w.uint(s.seq, f("superseded_seq"));
      w.uint(s.index, f("superseded_index"));
    }
  }
  return w.out;
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
