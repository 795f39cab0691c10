// Framing and chunking (frame.hpp, WIRE.md sections 2 and 3).
#include "teduh/sync/frame.hpp"

#include <algorithm>

namespace teduh::sync::wire {

[[nodiscard]] Result<Bytes> encode_frame(ByteView payload) {
  if (payload.empty() || payload.size() > kMaxFrameSize) {
    return fail(Errc::malformed, "frame payload size out of range");
  }
  Bytes out;
  out.reserve(kFrameHeaderSize + payload.size());
  const auto n = static_cast<std::uint32_t>(payload.size());
  out.push_back(static_cast<std::uint8_t>(n >> 24));
  out.push_back(static_cast<std::uint8_t>(n >> 16));
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  out.push_back(static_cast<std::uint8_t>(n));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<void> FrameDecoder::feed(ByteView bytes) {
  if (failed_) return fail(Errc::malformed, "frame stream already failed");
  while (!bytes.empty()) {
    if (partial_.size() < kFrameHeaderSize) {
      const std::size_t take = std::min(kFrameHeaderSize - partial_.size(), bytes.size());
      partial_.insert(partial_.end(), bytes.begin(), bytes.begin() + static_cast<long>(take));
      bytes = bytes.subspan(take);
      if (partial_.size() < kFrameHeaderSize) break;
      const std::size_t length = (std::size_t{partial_[0]} << 24) |
                                 (std::size_t{partial_[1]} << 16) |
                                 (std::size_t{partial_[2]} << 8) | std::size_t{partial_[3]};
      if (length == 0 || length > max_frame_size_) {
        failed_ = true;
        partial_.clear();
        return fail(Errc::malformed, "frame length out of range");
      }
      expected_ = length;
      partial_.reserve(kFrameHeaderSize + length);
    }
    const std::size_t have = partial_.size() - kFrameHeaderSize;
    const std::size_t take = std::min(expected_ - have, bytes.size());
    partial_.insert(partial_.end(), bytes.begin(), bytes.begin() + static_cast<long>(take));
    bytes = bytes.subspan(take);
    if (partial_.size() == kFrameHeaderSize + expected_) {
      complete_.emplace_back(partial_.begin() + kFrameHeaderSize, partial_.end());
      partial_.clear();
      expected_ = 0;
    }
  }
  return {};
}

std::optional<Bytes> FrameDecoder::next() {
  if (complete_.empty()) return std::nullopt;
  Bytes frame = std::move(complete_.front());
  complete_.pop_front();
  return frame;
}

[[nodiscard]] Result<std::vector<Bytes>> split_into_chunks(ByteView message) {
  if (message.empty() || message.size() > kMaxMessageSize) {
    return fail(Errc::malformed, "message size out of range");
  }
  std::vector<Bytes> chunks;
  chunks.reserve((message.size() + kMaxChunkDataSize - 1) / kMaxChunkDataSize);
  while (!message.empty()) {
    const std::size_t take = std::min(kMaxChunkDataSize, message.size());
    Bytes chunk;
    chunk.reserve(kChunkHeaderSize + take);
    chunk.push_back(take == message.size() ? kChunkFinal : kChunkMore);
    chunk.insert(chunk.end(), message.begin(), message.begin() + static_cast<long>(take));
    chunks.push_back(std::move(chunk));
    message = message.subspan(take);
  }
  return chunks;
}

Result<std::optional<Bytes>> ChunkAssembler::add(ByteView chunk) {
  if (failed_) return fail(Errc::malformed, "chunk stream already failed");
  const auto refuse = [this](const char* why) {
    failed_ = true;
    pending_.clear();
    return fail(Errc::malformed, why);
  };
  if (chunk.size() <= kChunkHeaderSize) return refuse("empty chunk");
  const std::uint8_t flag = chunk[0];
  const ByteView data = chunk.subspan(kChunkHeaderSize);
  if (data.size() > kMaxChunkDataSize) return refuse("chunk too large");
  if (flag != kChunkMore && flag != kChunkFinal) return refuse("unknown chunk flag");
  if (flag == kChunkMore && data.size() != kMaxChunkDataSize) {
    return refuse("non-final chunk is not full");
  }
  if (pending_.size() + data.size() > max_message_size_) return refuse("message too large");
  pending_.insert(pending_.end(), data.begin(), data.end());
  if (flag == kChunkMore) return std::optional<Bytes>{};
  Bytes message = std::move(pending_);
  pending_.clear();
  return std::optional<Bytes>(std::move(message));
}

}  // namespace teduh::sync::wire
