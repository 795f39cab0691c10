#pragma once
// Framing and chunking of the sync connection (WIRE.md sections 2 and 3). Pure logic:
// bytes in, bytes out, no sockets, never throws.
//
//   TCP stream   = frame*
//   frame        = length (4 bytes, big-endian, 1..65535) || length bytes
//   frame bytes  = one Noise message (the three handshake messages, then transport
//                  messages)
//   Noise plaintext of a transport message = chunk
//   chunk        = flag (1 byte: 0x00 more follows, 0x01 final) || data
//   message      = data of its chunks, in order: every chunk but the last carries exactly
//                  kMaxChunkDataSize bytes, the last 1..kMaxChunkDataSize; a message is
//                  1..kMaxMessageSize bytes.
//
// The canonical split (full chunks, then the rest) means that one message has exactly
// one encoding, and that a peer cannot make the receiver spin on empty chunks.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "teduh/crypto/noise.hpp"
#include "teduh/sync/error.hpp"

namespace teduh::sync::wire {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline constexpr std::size_t kFrameHeaderSize = 4;
inline constexpr std::size_t kMaxFrameSize = crypto::kNoiseMaxMessageSize;  // 65535
inline constexpr std::size_t kChunkHeaderSize = 1;
inline constexpr std::size_t kMaxChunkDataSize = crypto::kNoiseMaxPlaintextSize - kChunkHeaderSize;
inline constexpr std::size_t kMaxMessageSize = std::size_t{16} * 1024 * 1024;  // 16 MiB

inline constexpr std::uint8_t kChunkMore = 0x00;
inline constexpr std::uint8_t kChunkFinal = 0x01;

// length || payload. Fails (malformed) for an empty payload or one over kMaxFrameSize.
[[nodiscard]] Result<Bytes> encode_frame(ByteView payload);

// Cuts a byte stream into frames. Feed it whatever the socket returned, in any pieces;
// take the complete frames with next(). A length prefix of 0 or over the limit fails at
// once (as soon as its 4 bytes have arrived), before any payload is buffered; the decoder
// then stays failed and the connection must be dropped. Buffered bytes never exceed
// kFrameHeaderSize + max_frame_size plus the frames not yet taken.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::size_t max_frame_size = kMaxFrameSize)
      : max_frame_size_(max_frame_size) {}

  [[nodiscard]] Result<void> feed(ByteView bytes);
  // The next complete frame's payload, in order; nullopt when none is complete.
  std::optional<Bytes> next();

  [[nodiscard]] bool failed() const { return failed_; }
  // True when no partial frame is buffered: the stream may end here without truncation
  // (the session layer still requires a Close message, WIRE.md section 3).
  [[nodiscard]] bool at_frame_boundary() const { return partial_.empty(); }

 private:
  std::size_t max_frame_size_;
  bool failed_ = false;
  Bytes partial_;                  // header and payload of the frame being read
  std::size_t expected_ = 0;       // payload length once the header is complete, else 0
  std::deque<Bytes> complete_;
};

// Splits one encoded message into chunks (Noise plaintexts), canonically.
// Fails (malformed) for an empty message or one over kMaxMessageSize.
[[nodiscard]] Result<std::vector<Bytes>> split_into_chunks(ByteView message);

// Reassembles chunks into messages. add() returns the message when the final chunk
// arrives, nullopt while more are expected, and an error for a bad flag, a short
// non-final chunk, an empty chunk or a message over the limit; it then stays failed.
class ChunkAssembler {
 public:
  explicit ChunkAssembler(std::size_t max_message_size = kMaxMessageSize)
      : max_message_size_(max_message_size) {}

  [[nodiscard]] Result<std::optional<Bytes>> add(ByteView chunk);
  // True between messages (no partial message buffered).
  [[nodiscard]] bool idle() const { return pending_.empty(); }
  [[nodiscard]] bool failed() const { return failed_; }

 private:
  std::size_t max_message_size_;
  bool failed_ = false;
  Bytes pending_;
};

}  // namespace teduh::sync::wire
