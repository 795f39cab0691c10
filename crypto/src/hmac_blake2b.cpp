// HMAC-BLAKE2b (RFC 2104) and the Noise HKDF (Noise spec rev 34, section 4.3).
//
// BLAKE2b's own keyed mode is not HMAC; Noise with BLAKE2b requires HMAC with the
// 128-byte block, so it is written here on crypto_generichash's streaming API.
#include <sodium.h>

#include <cstring>

#include "teduh/crypto/noise.hpp"

namespace teduh::crypto {
namespace {

constexpr std::size_t kBlockSize = 128;

// Wipes a stack buffer on scope exit.
template <std::size_t N>
struct WipedArray {
  std::array<std::uint8_t, N> bytes{};
  ~WipedArray() { sodium_memzero(bytes.data(), bytes.size()); }
};

struct WipedHashState {
  crypto_generichash_state state{};
  WipedHashState() { crypto_generichash_init(&state, nullptr, 0, kNoiseHashSize); }
  ~WipedHashState() { sodium_memzero(&state, sizeof state); }
  void update(ByteView data) { crypto_generichash_update(&state, data.data(), data.size()); }
  void final(std::uint8_t* out) { crypto_generichash_final(&state, out, kNoiseHashSize); }
};

}  // namespace

NoiseHash hmac_blake2b(ByteView key, ByteView message) {
  WipedArray<kBlockSize> padded_key;  // K0: the key, zero-padded to the block size
  if (key.size() > kBlockSize) {
    crypto_generichash(padded_key.bytes.data(), kNoiseHashSize, key.data(), key.size(), nullptr,
                       0);
  } else if (!key.empty()) {
    std::memcpy(padded_key.bytes.data(), key.data(), key.size());
  }

  WipedArray<kBlockSize> pad;
  for (std::size_t i = 0; i < kBlockSize; ++i) pad.bytes[i] = padded_key.bytes[i] ^ 0x36;
  WipedArray<kNoiseHashSize> inner;
  {
    WipedHashState hash;
    hash.update(pad.bytes);
    hash.update(message);
    hash.final(inner.bytes.data());
  }
  for (std::size_t i = 0; i < kBlockSize; ++i) pad.bytes[i] = padded_key.bytes[i] ^ 0x5c;
  NoiseHash out{};
  WipedHashState hash;
  hash.update(pad.bytes);
  hash.update(inner.bytes);
  hash.final(out.data());
  return out;
}

void hkdf_blake2b_into(ByteView chaining_key, ByteView input_key_material, std::uint8_t* out1,
                       std::uint8_t* out2, std::uint8_t* out3) {
  // temp_key = HMAC(ck, ikm); out1 = HMAC(temp_key, 0x01);
  // out2 = HMAC(temp_key, out1 || 0x02); out3 = HMAC(temp_key, out2 || 0x03).
  WipedArray<kNoiseHashSize> temp_key;
  temp_key.bytes = hmac_blake2b(chaining_key, input_key_material);  // ck is not read again

  WipedArray<kNoiseHashSize + 1> chain;  // previous output || counter byte
  const std::uint8_t one = 0x01;
  WipedArray<kNoiseHashSize> block;
  block.bytes = hmac_blake2b(temp_key.bytes, ByteView(&one, 1));
  std::memcpy(out1, block.bytes.data(), kNoiseHashSize);

  std::memcpy(chain.bytes.data(), block.bytes.data(), kNoiseHashSize);
  chain.bytes[kNoiseHashSize] = 0x02;
  block.bytes = hmac_blake2b(temp_key.bytes, chain.bytes);
  std::memcpy(out2, block.bytes.data(), kNoiseHashSize);

  if (out3 != nullptr) {
    std::memcpy(chain.bytes.data(), block.bytes.data(), kNoiseHashSize);
    chain.bytes[kNoiseHashSize] = 0x03;
    block.bytes = hmac_blake2b(temp_key.bytes, chain.bytes);
    std::memcpy(out3, block.bytes.data(), kNoiseHashSize);
  }
}

HkdfOutputs hkdf_blake2b(ByteView chaining_key, ByteView input_key_material, int num_outputs) {
  HkdfOutputs outputs;
  outputs.out1 = SecretBytes(kNoiseHashSize);
  outputs.out2 = SecretBytes(kNoiseHashSize);
  if (num_outputs >= 3) outputs.out3 = SecretBytes(kNoiseHashSize);
  hkdf_blake2b_into(chaining_key, input_key_material, outputs.out1.data(), outputs.out2.data(),
                    num_outputs >= 3 ? outputs.out3.data() : nullptr);
  return outputs;
}

}  // namespace teduh::crypto
