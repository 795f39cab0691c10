// Noise_XX_25519_ChaChaPoly_BLAKE2b: CipherState, SymmetricState, HandshakeState
// (Noise spec rev 34, sections 5.1-5.3 and 7.5). See noise.hpp for the contract.
#include "teduh/crypto/noise.hpp"

#include <sodium.h>

#include <cstring>
#include <limits>

namespace teduh::crypto {
namespace {

constexpr std::uint64_t kMaxNonce = std::numeric_limits<std::uint64_t>::max();

// 96-bit IETF nonce: 4 zero bytes || little-endian 64-bit counter (spec section 12.3).
std::array<std::uint8_t, crypto_aead_chacha20poly1305_IETF_NPUBBYTES> make_nonce(std::uint64_t n) {
  std::array<std::uint8_t, crypto_aead_chacha20poly1305_IETF_NPUBBYTES> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
  return nonce;
}

// ENCRYPT(k, n, ad, plaintext) without any state.
Bytes aead_encrypt(const SecretBytes& k, std::uint64_t n, ByteView ad, ByteView plaintext) {
  Bytes out(plaintext.size() + kNoiseTagSize);
  const auto nonce = make_nonce(n);
  unsigned long long out_len = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &out_len, plaintext.data(),
                                            plaintext.size(), ad.data(), ad.size(), nullptr,
                                            nonce.data(), k.data());
  out.resize(static_cast<std::size_t>(out_len));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// CipherState

void CipherState::initialize_key(ByteView key) {
  // Overwrite the key in place when there is one (each handshake step replaces it):
  // the same guarded buffer, without a fresh sodium_malloc and sodium_free per step.
  if (k_.size() == kNoiseKeySize) {
    std::memcpy(k_.data(), key.data(), kNoiseKeySize);
  } else {
    k_ = SecretBytes::copy_of(key.first(kNoiseKeySize));
  }
  n_ = 0;
}

Result<Bytes> CipherState::encrypt_with_ad(ByteView ad, ByteView plaintext) {
  if (plaintext.size() > kNoiseMaxPlaintextSize) {
    return fail(Errc::bad_input, "Noise plaintext too large");
  }
  if (!has_key()) return Bytes(plaintext.begin(), plaintext.end());
  if (n_ == kMaxNonce) return fail(Errc::bad_input, "Noise nonce exhausted");
  Bytes out = aead_encrypt(k_, n_, ad, plaintext);
  ++n_;
  return out;
}

Result<Bytes> CipherState::decrypt_with_ad(ByteView ad, ByteView ciphertext) {
  if (ciphertext.size() > kNoiseMaxMessageSize) {
    return fail(Errc::damaged, "Noise message too large");
  }
  if (!has_key()) return Bytes(ciphertext.begin(), ciphertext.end());
  if (n_ == kMaxNonce) return fail(Errc::damaged, "Noise nonce exhausted");
  if (ciphertext.size() < kNoiseTagSize) return fail(Errc::damaged, "Noise message too short");
  Bytes out(ciphertext.size() - kNoiseTagSize);
  const auto nonce = make_nonce(n_);
  unsigned long long out_len = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &out_len, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(),
                                                nonce.data(), k_.data()) != 0) {
    return fail(Errc::damaged, "Noise message failed authentication");
  }
  out.resize(static_cast<std::size_t>(out_len));
  ++n_;  // only after success (spec section 5.1)
  return out;
}

void CipherState::rekey() {
  if (!has_key()) return;
  const std::array<std::uint8_t, kNoiseKeySize> zeros{};
  Bytes out = aead_encrypt(k_, kMaxNonce, {}, zeros);
  std::memcpy(k_.data(), out.data(), kNoiseKeySize);
  sodium_memzero(out.data(), out.size());
}

// ---------------------------------------------------------------------------------------
// SymmetricState

SymmetricState::SymmetricState(std::string_view protocol_name) {
  if (protocol_name.size() <= kNoiseHashSize) {
    std::memcpy(h_.data(), protocol_name.data(), protocol_name.size());  // zero-padded
  } else {
    crypto_generichash(h_.data(), h_.size(),
                       reinterpret_cast<const unsigned char*>(protocol_name.data()),
                       protocol_name.size(), nullptr, 0);
  }
  ck_ = SecretBytes::copy_of(h_);
}

void SymmetricState::mix_key(ByteView input_key_material) {
  // ck and k are replaced in their own guarded buffers; the second output passes through
  // a wiped stack buffer, as the HKDF's own intermediate values do.
  std::array<std::uint8_t, kNoiseHashSize> out2{};
  hkdf_blake2b_into(ck_.view(), input_key_material, ck_.data(), out2.data());
  cipher_.initialize_key(ByteView(out2.data(), kNoiseKeySize));  // truncated to 32 bytes (HASHLEN 64)
  sodium_memzero(out2.data(), out2.size());
}

void SymmetricState::mix_hash(ByteView data) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, h_.size());
  crypto_generichash_update(&state, h_.data(), h_.size());
  crypto_generichash_update(&state, data.data(), data.size());
  crypto_generichash_final(&state, h_.data(), h_.size());
}

Result<Bytes> SymmetricState::encrypt_and_hash(ByteView plaintext) {
  auto ciphertext = cipher_.encrypt_with_ad(h_, plaintext);
  if (!ciphertext) return ciphertext;
  mix_hash(*ciphertext);
  return ciphertext;
}

Result<Bytes> SymmetricState::decrypt_and_hash(ByteView ciphertext) {
  auto plaintext = cipher_.decrypt_with_ad(h_, ciphertext);
  if (!plaintext) return plaintext;
  mix_hash(ciphertext);
  return plaintext;
}

std::pair<CipherState, CipherState> SymmetricState::split() {
  std::array<std::uint8_t, kNoiseHashSize> out1{};
  std::array<std::uint8_t, kNoiseHashSize> out2{};
  hkdf_blake2b_into(ck_.view(), {}, out1.data(), out2.data());
  std::pair<CipherState, CipherState> result;
  result.first.initialize_key(ByteView(out1.data(), kNoiseKeySize));
  result.second.initialize_key(ByteView(out2.data(), kNoiseKeySize));
  sodium_memzero(out1.data(), out1.size());
  sodium_memzero(out2.data(), out2.size());
  return result;
}

// ---------------------------------------------------------------------------------------
// Transport

Transport::Transport(CipherState send, CipherState receive, const DhPublicKey& remote_static,
                     const NoiseHash& handshake_hash)
    : send_(std::move(send)),
      receive_(std::move(receive)),
      remote_static_(remote_static),
      handshake_hash_(handshake_hash) {}

Result<Bytes> Transport::encrypt(ByteView plaintext) {
  if (poisoned_) return fail(Errc::damaged, "Noise session already failed");
  return send_.encrypt_with_ad({}, plaintext);
}

Result<Bytes> Transport::decrypt(ByteView message) {
  if (poisoned_) return fail(Errc::damaged, "Noise session already failed");
  auto plaintext = receive_.decrypt_with_ad({}, message);
  if (!plaintext) poisoned_ = true;
  return plaintext;
}

// ---------------------------------------------------------------------------------------
// HandshakeState

namespace {

[[nodiscard]] Result<DhKeyPair> copy_key_pair(const DhKeyPair& key) {
  return DhKeyPair::from_secret(key.secret_key().view());
}

}  // namespace

HandshakeState::HandshakeState(Role role, DhKeyPair static_key, ByteView prologue)
    : role_(role), symmetric_(kNoiseProtocolName), s_(std::move(static_key)) {
  symmetric_.mix_hash(prologue);
}

Result<HandshakeState> HandshakeState::make(Role role, const DhKeyPair& static_key,
                                            ByteView prologue, std::optional<DhPublicKey> pinned,
                                            std::optional<DhKeyPair> ephemeral) {
  init();
  auto s = copy_key_pair(static_key);
  if (!s) return fail(Errc::bad_input, "Noise static key is not a valid X25519 key");
  HandshakeState state(role, std::move(*s), prologue);
  state.pinned_responder_ = pinned;
  state.injected_e_ = std::move(ephemeral);
  return state;
}

Result<HandshakeState> HandshakeState::initiator(const DhKeyPair& static_key, ByteView prologue,
                                                 const DhPublicKey& pinned_responder) {
  return make(Role::initiator, static_key, prologue, pinned_responder, std::nullopt);
}

Result<HandshakeState> HandshakeState::responder(const DhKeyPair& static_key, ByteView prologue) {
  return make(Role::responder, static_key, prologue, std::nullopt, std::nullopt);
}

bool HandshakeState::is_my_turn() const {
  if (failed_ || is_complete()) return false;
  const bool initiator_writes = step_ % 2 == 0;  // messages 1 and 3
  return initiator_writes == (role_ == Role::initiator);
}

template <class T>
Result<T> HandshakeState::poison(Errc code, const char* what) {
  failed_ = true;
  e_.reset();
  return fail(code, what);
}

Result<void> HandshakeState::dh_and_mix(const DhKeyPair& local, const DhPublicKey& remote) {
  std::array<std::uint8_t, crypto_scalarmult_BYTES> shared{};
  // crypto_scalarmult fails for a low-order point (all-zero result): refuse the peer.
  const bool ok =
      crypto_scalarmult(shared.data(), local.secret_key().data(), remote.data()) == 0;
  if (ok) symmetric_.mix_key(shared);
  sodium_memzero(shared.data(), shared.size());
  if (!ok) return fail(Errc::handshake_failed, "Noise handshake failed");
  return {};
}

Result<void> HandshakeState::write_e(Bytes& out) {
  if (injected_e_) {
    e_ = std::move(injected_e_);
    injected_e_.reset();
  } else {
    e_ = DhKeyPair::generate();
  }
  const DhPublicKey& pub = e_->public_key();
  out.insert(out.end(), pub.begin(), pub.end());
  symmetric_.mix_hash(pub);
  return {};
}

// s: our static public key, encrypted once a key is mixed in (messages 2 and 3 both).
Result<void> HandshakeState::write_s(Bytes& out) {
  auto c = symmetric_.encrypt_and_hash(s_.public_key());
  if (!c) return fail(Errc::handshake_failed, "Noise handshake failed");
  out.insert(out.end(), c->begin(), c->end());
  return {};
}

Result<void> HandshakeState::read_e(ByteView& in) {
  if (in.size() < kDhKeySize) return fail(Errc::handshake_failed, "Noise handshake failed");
  DhPublicKey re{};
  std::memcpy(re.data(), in.data(), kDhKeySize);
  in = in.subspan(kDhKeySize);
  re_ = re;
  symmetric_.mix_hash(re);
  return {};
}

Result<void> HandshakeState::read_s(ByteView& in) {
  const std::size_t len = kDhKeySize + (symmetric_.has_key() ? kNoiseTagSize : 0);
  if (in.size() < len) return fail(Errc::handshake_failed, "Noise handshake failed");
  auto rs = symmetric_.decrypt_and_hash(in.first(len));
  if (!rs || rs->size() != kDhKeySize) {
    return fail(Errc::handshake_failed, "Noise handshake failed");
  }
  in = in.subspan(len);
  DhPublicKey key{};
  std::memcpy(key.data(), rs->data(), kDhKeySize);
  remote_static_ = key;
  return {};
}

Result<Bytes> HandshakeState::write_message(ByteView payload) {
  if (failed_) return fail(Errc::handshake_failed, "Noise handshake already failed");
  if (!is_my_turn()) return poison<Bytes>(Errc::handshake_failed, "Noise message out of turn");

  Bytes out;
  Result<void> ok;
  switch (step_) {
    case 0:  // -> e
      ok = write_e(out);
      break;
    case 1:  // <- e, ee, s, es
      ok = write_e(out);
      if (ok) ok = dh_and_mix(*e_, *re_);
      if (ok) ok = write_s(out);
      if (ok) ok = dh_and_mix(s_, *re_);  // es, responder side: DH(s, re)
      break;
    case 2:  // -> s, se
      ok = write_s(out);
      if (ok) ok = dh_and_mix(s_, *re_);  // se, initiator side: DH(s, re)
      break;
    default:
      break;
  }
  if (!ok) return poison<Bytes>(Errc::handshake_failed, "Noise handshake failed");

  auto c = symmetric_.encrypt_and_hash(payload);
  if (!c || out.size() + c->size() > kNoiseMaxMessageSize) {
    return poison<Bytes>(Errc::handshake_failed, "Noise handshake message too large");
  }
  out.insert(out.end(), c->begin(), c->end());
  ++step_;
  return out;
}

Result<Bytes> HandshakeState::read_message(ByteView message) {
  if (failed_) return fail(Errc::handshake_failed, "Noise handshake already failed");
  if (is_complete() || is_my_turn()) {
    return poison<Bytes>(Errc::handshake_failed, "Noise message out of turn");
  }
  if (message.size() > kNoiseMaxMessageSize) {
    return poison<Bytes>(Errc::handshake_failed, "Noise handshake message too large");
  }

  ByteView in = message;
  Result<void> ok;
  switch (step_) {
    case 0:  // -> e
      ok = read_e(in);
      break;
    case 1:  // <- e, ee, s, es
      ok = read_e(in);
      if (ok) ok = dh_and_mix(*e_, *re_);
      if (ok) ok = read_s(in);
      if (ok && !equal_ct(*remote_static_, *pinned_responder_)) {
        // Before es and before message 3: the wrong server never learns who we are.
        return poison<Bytes>(Errc::peer_not_pinned, "the server's key is not the pinned key");
      }
      if (ok) ok = dh_and_mix(*e_, *remote_static_);  // es, initiator side: DH(e, rs)
      break;
    case 2:  // -> s, se
      ok = read_s(in);
      if (ok) ok = dh_and_mix(*e_, *remote_static_);  // se, responder side: DH(e, rs)
      break;
    default:
      break;
  }
  if (!ok) return poison<Bytes>(Errc::handshake_failed, "Noise handshake failed");

  auto payload = symmetric_.decrypt_and_hash(in);
  if (!payload) return poison<Bytes>(Errc::handshake_failed, "Noise handshake failed");
  ++step_;
  return payload;
}

Result<Transport> HandshakeState::split() && {
  if (failed_ || !is_complete() || !remote_static_) {
    return fail(Errc::handshake_failed, "Noise handshake not complete");
  }
  auto [initiator_to_responder, responder_to_initiator] = symmetric_.split();
  e_.reset();
  if (role_ == Role::initiator) {
    return Transport(std::move(initiator_to_responder), std::move(responder_to_initiator),
                     *remote_static_, symmetric_.handshake_hash());
  }
  return Transport(std::move(responder_to_initiator), std::move(initiator_to_responder),
                   *remote_static_, symmetric_.handshake_hash());
}

}  // namespace teduh::crypto
