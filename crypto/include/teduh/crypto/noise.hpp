#pragma once
// The Noise channel: Noise_XX_25519_ChaChaPoly_BLAKE2b (Noise Protocol Framework, rev 34).
//
//   XX:  -> e
//        <- e, ee, s, es
//        -> s, se
//
// Built on libsodium 1.0.18: X25519 (crypto_scalarmult; an all-zero shared secret fails
// the handshake), ChaCha20-Poly1305 IETF with nonce = 4 zero bytes || LE64(n), BLAKE2b-512,
// and HMAC-BLAKE2b / HKDF written here (libsodium has neither). Checked byte for byte
// against the cacophony test vectors (tests/crypto/noise_test.cpp).
//
// Usage. The initiator (a client) always names the responder static key it expects (the
// server key pinned at enrollment) and refuses message 2 from any other key, so it never
// sends message 3 (its own identity) to the wrong server. The responder (the server)
// learns the initiator's static key from message 3 (remote_static()) and looks it up in
// its device registry. Any failure (bad tag, wrong key, wrong prologue, oversize message,
// call out of turn) poisons the object: every later call fails, and the connection must
// be dropped. Failures say "handshake failed" and nothing more about why the bytes were bad.
//
// Ephemeral keys are always fresh from the OS RNG. There is no public way to choose them;
// test vectors inject them through NoiseTestAccess, which is declared here and defined
// only in tests/crypto/noise_test.cpp. Production code must never define it.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "teduh/crypto/error.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/crypto/secure.hpp"

namespace teduh::crypto {

inline constexpr std::string_view kNoiseProtocolName = "Noise_XX_25519_ChaChaPoly_BLAKE2b";
inline constexpr std::size_t kNoiseMaxMessageSize = 65535;  // spec section 3
inline constexpr std::size_t kNoiseTagSize = 16;
// The largest plaintext of one transport message.
inline constexpr std::size_t kNoiseMaxPlaintextSize = kNoiseMaxMessageSize - kNoiseTagSize;
inline constexpr std::size_t kNoiseHashSize = 64;  // BLAKE2b-512
inline constexpr std::size_t kNoiseKeySize = 32;

using NoiseHash = std::array<std::uint8_t, kNoiseHashSize>;

// HMAC (RFC 2104) over BLAKE2b-512 with its 128-byte block; a key longer than a block is
// hashed first. The result is key material when the key is: the caller wipes it
// (sodium_memzero) or keeps it in SecretBytes.
NoiseHash hmac_blake2b(ByteView key, ByteView message);

// Noise HKDF (spec section 4.3) with HMAC-BLAKE2b: returns num_outputs (2 or 3) outputs of
// 64 bytes each, in SecretBytes.
struct HkdfOutputs {
  SecretBytes out1;
  SecretBytes out2;
  SecretBytes out3;  // empty unless num_outputs == 3
};
HkdfOutputs hkdf_blake2b(ByteView chaining_key, ByteView input_key_material, int num_outputs);
// The same HKDF writing its 64-byte outputs into buffers the caller owns (SecretBytes, or a
// stack buffer it wipes), so that the handshake does not allocate guarded pages for each
// step. out3 may be null (two outputs). out1 may be the chaining key's own buffer: the
// chaining key is read in full before anything is written.
void hkdf_blake2b_into(ByteView chaining_key, ByteView input_key_material, std::uint8_t* out1,
                       std::uint8_t* out2, std::uint8_t* out3 = nullptr);

// One direction of a Noise session: key k and nonce counter n (spec section 5.1).
class CipherState {
 public:
  CipherState() = default;
  CipherState(CipherState&&) noexcept = default;
  CipherState& operator=(CipherState&&) noexcept = default;

  [[nodiscard]] bool has_key() const { return !k_.empty(); }
  [[nodiscard]] std::uint64_t nonce() const { return n_; }

  // Without a key these return the input unchanged (spec). With a key they fail once the
  // counter reaches 2^64-1, and on a bad tag (Errc::damaged). A plaintext of more than
  // kNoiseMaxPlaintextSize bytes is refused (Errc::bad_input).
  [[nodiscard]] Result<Bytes> encrypt_with_ad(ByteView ad, ByteView plaintext);
  [[nodiscard]] Result<Bytes> decrypt_with_ad(ByteView ad, ByteView ciphertext);
  // k = first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zero bytes); n is unchanged.
  void rekey();

 private:
  friend class SymmetricState;
  void initialize_key(ByteView key);  // 32 bytes; n = 0
  SecretBytes k_;
  std::uint64_t n_ = 0;
};

// The Noise SymmetricState (spec section 5.2); internal to the handshake, public only so
// that tests can name it.
class SymmetricState {
 public:
  explicit SymmetricState(std::string_view protocol_name);
  void mix_key(ByteView input_key_material);
  void mix_hash(ByteView data);
  [[nodiscard]] Result<Bytes> encrypt_and_hash(ByteView plaintext);
  [[nodiscard]] Result<Bytes> decrypt_and_hash(ByteView ciphertext);
  [[nodiscard]] const NoiseHash& handshake_hash() const { return h_; }
  [[nodiscard]] bool has_key() const { return cipher_.has_key(); }
  // Two CipherStates: the first for initiator -> responder, the second for the reverse.
  std::pair<CipherState, CipherState> split();

 private:
  CipherState cipher_;
  SecretBytes ck_;
  NoiseHash h_{};
};

// A completed session: the two directions, the peer's static key and the handshake hash.
// encrypt/decrypt take and give whole Noise transport messages (at most 65535 bytes).
// After a failed decrypt the transport is poisoned (the peer sent bad bytes; drop it).
class Transport {
 public:
  Transport(Transport&&) noexcept = default;
  Transport& operator=(Transport&&) noexcept = default;

  // Fails (bad_input) for a plaintext over kNoiseMaxPlaintextSize, or when poisoned.
  [[nodiscard]] Result<Bytes> encrypt(ByteView plaintext);
  // Fails (damaged) for any altered, replayed, reordered or truncated message.
  [[nodiscard]] Result<Bytes> decrypt(ByteView message);
  void rekey_send() { send_.rekey(); }
  void rekey_receive() { receive_.rekey(); }

  [[nodiscard]] const DhPublicKey& remote_static() const { return remote_static_; }
  // Unique per session; usable for channel binding.
  [[nodiscard]] const NoiseHash& handshake_hash() const { return handshake_hash_; }
  [[nodiscard]] std::uint64_t send_nonce() const { return send_.nonce(); }
  [[nodiscard]] std::uint64_t receive_nonce() const { return receive_.nonce(); }

 private:
  friend class HandshakeState;
  Transport(CipherState send, CipherState receive, const DhPublicKey& remote_static,
            const NoiseHash& handshake_hash);
  CipherState send_;
  CipherState receive_;
  DhPublicKey remote_static_{};
  NoiseHash handshake_hash_{};
  bool poisoned_ = false;
};

struct NoiseTestAccess;  // tests only; see the header comment

class HandshakeState {
 public:
  enum class Role { initiator, responder };

  // A client: pinned_responder is the server's X25519 static key given at enrollment.
  // Fails (bad_input) if static_key cannot be copied.
  [[nodiscard]] static Result<HandshakeState> initiator(const DhKeyPair& static_key,
                                                        ByteView prologue,
                                                        const DhPublicKey& pinned_responder);
  [[nodiscard]] static Result<HandshakeState> responder(const DhKeyPair& static_key,
                                                        ByteView prologue);

  HandshakeState(HandshakeState&&) noexcept = default;
  HandshakeState& operator=(HandshakeState&&) noexcept = default;

  [[nodiscard]] Role role() const { return role_; }
  // True when it is this side's turn to write (initiator: messages 1 and 3).
  [[nodiscard]] bool is_my_turn() const;
  [[nodiscard]] bool is_complete() const { return step_ == 3; }
  [[nodiscard]] bool failed() const { return failed_; }

  // Writes the next handshake message with its payload. Handshake payloads are not
  // confidential in message 1 (sent in clear); keep them empty or public.
  // Fails out of turn, after completion, when poisoned, or for a message over 65535 bytes.
  [[nodiscard]] Result<Bytes> write_message(ByteView payload);
  // Reads the peer's next handshake message and returns its payload.
  // handshake_failed for bad bytes (including a prologue mismatch, which shows as a bad
  // tag in message 2 or 3); peer_not_pinned when the responder's static key is not the
  // pinned one (the initiator then refuses to write message 3).
  [[nodiscard]] Result<Bytes> read_message(ByteView message);

  // The peer's static key; set once read (initiator: after message 2, responder: after 3).
  [[nodiscard]] const std::optional<DhPublicKey>& remote_static() const { return remote_static_; }
  [[nodiscard]] const NoiseHash& handshake_hash() const { return symmetric_.handshake_hash(); }

  // After the third message: the transport for this side. Consumes the handshake state.
  [[nodiscard]] Result<Transport> split() &&;

 private:
  friend struct NoiseTestAccess;
  HandshakeState(Role role, DhKeyPair static_key, ByteView prologue);
  [[nodiscard]] static Result<HandshakeState> make(Role role, const DhKeyPair& static_key,
                                                   ByteView prologue,
                                                   std::optional<DhPublicKey> pinned,
                                                   std::optional<DhKeyPair> ephemeral);
  [[nodiscard]] Result<void> dh_and_mix(const DhKeyPair& local, const DhPublicKey& remote);
  [[nodiscard]] Result<void> write_e(Bytes& out);
  [[nodiscard]] Result<void> write_s(Bytes& out);
  [[nodiscard]] Result<void> read_e(ByteView& in);
  [[nodiscard]] Result<void> read_s(ByteView& in);
  template <class T>
  [[nodiscard]] Result<T> poison(Errc code, const char* what);

  Role role_;
  int step_ = 0;  // messages processed so far, 0..3
  bool failed_ = false;
  SymmetricState symmetric_;
  DhKeyPair s_;
  std::optional<DhKeyPair> e_;
  std::optional<DhKeyPair> injected_e_;  // tests only (NoiseTestAccess)
  std::optional<DhPublicKey> re_;
  std::optional<DhPublicKey> remote_static_;
  std::optional<DhPublicKey> pinned_responder_;
};

}  // namespace teduh::crypto
