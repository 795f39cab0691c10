// libFuzzer target: the frame decoder, the message decoder and the commit body decoder
// (which share one msgpack reader) on hostile bytes.
//
// Properties checked on every input (a violation aborts, so libFuzzer reports it):
//  - nothing crashes, leaks or trips a sanitizer, whatever the bytes;
//  - a message or commit body that decodes re-encodes to exactly the same bytes (one
//    canonical form);
//  - the frame decoder yields the same frames whether the stream arrives at once or in
//    pieces whose sizes the input chooses;
//  - the chunk assembler never returns a message over its limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "teduh/sync/frame.hpp"
#include "teduh/sync/version.hpp"
#include "teduh/sync/wire.hpp"

using namespace teduh::sync::wire;

namespace {

std::vector<Bytes> frames_of(ByteView stream, ByteView piece_sizes, bool& ok) {
  FrameDecoder decoder(4096);  // a small limit, so that length errors are reached often
  std::vector<Bytes> frames;
  std::size_t pos = 0;
  std::size_t k = 0;
  ok = true;
  while (pos < stream.size()) {
    std::size_t n = piece_sizes.empty() ? stream.size() : 1 + piece_sizes[k++ % piece_sizes.size()];
    n = std::min(n, stream.size() - pos);
    if (!decoder.feed(stream.subspan(pos, n))) {
      ok = false;
      break;
    }
    pos += n;
    while (auto f = decoder.next()) frames.push_back(std::move(*f));
  }
  return frames;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);

  // 1. The whole input as one message.
  if (auto message = decode(input)) {
    auto again = encode(*message);
    if (!again || *again != Bytes(input.begin(), input.end())) std::abort();
  }

  // 2. The whole input as a commit body.
  if (auto commit = teduh::sync::decode_commit_body(input)) {
    if (teduh::sync::encode_commit_body(*commit) != Bytes(input.begin(), input.end())) std::abort();
  }

  // 3. The input as a frame stream: first byte chooses piece sizes for incremental feeding.
  if (!input.empty()) {
    const std::size_t split = std::min<std::size_t>(input[0] % 8, input.size() - 1);
    const ByteView pieces = input.subspan(1, split);
    const ByteView stream = input.subspan(1 + split);
    bool ok_whole = false;
    bool ok_pieces = false;
    const auto whole = frames_of(stream, {}, ok_whole);
    const auto pieced = frames_of(stream, pieces, ok_pieces);
    if (ok_whole != ok_pieces) std::abort();
    if (ok_whole && whole != pieced) std::abort();

    // 4. Each frame as a chunk (plaintext), reassembled and decoded.
    ChunkAssembler assembler(1 << 20);
    for (const auto& frame : whole) {
      auto r = assembler.add(frame);
      if (!r) break;
      if (*r) {
        if ((*r)->size() > (1u << 20)) std::abort();
        (void)decode(**r);
      }
    }
  }
  return 0;
}
