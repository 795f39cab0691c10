#pragma once
// The messages of the sync connection and their msgpack encoding (WIRE.md sections 4-6).
//
// A message is one msgpack array: [type, field1, field2, ...], the fields in the order
// below, with exactly that many elements. Type numbers are fixed for ever: a number is
// never reused for another meaning. Encoding is canonical (the smallest msgpack form of
// every integer, string, binary and array header) and the decoder accepts only the
// canonical form, so decode(b) succeeds only if encode(decode(b)) == b.
//
// Each number (message type, RejectReason, ErrorCode) is written once, in its enum here.
// Everything else about a message (which struct, its name, its field count, how it is
// read, checked and written) is its one codec entry in wire.cpp; decode() looks a type up
// by its number there, so retiring a message is deleting its struct and codec and leaving
// a comment line in MessageType: the number is then refused like any unknown one.
//
// decode() checks everything before anything is used: types, sizes, limits, orderings,
// and known enumeration values. It never throws and allocates in proportion to the input.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "teduh/crypto/keys.hpp"
#include "teduh/crypto/noise.hpp"
#include "teduh/sync/error.hpp"
#include "teduh/sync/frame.hpp"
#include "teduh/sync/ids.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::sync::wire {

// The Noise prologue: names the transport (Noise pattern, framing, chunking). A peer
// speaking another transport fails the handshake at message 2 with a bad tag.
inline constexpr std::string_view kNoisePrologue = "teduh-sync/1";
// Message-level protocol versions, negotiated by Hello / HelloReply.
inline constexpr std::uint32_t kProtocolVersion = 1;

// Limits (WIRE.md section 5).
inline constexpr std::size_t kMaxVersionsOffered = 16;
inline constexpr std::size_t kMaxSoftwareBytes = 128;
inline constexpr std::size_t kMaxEnrollmentCodeBytes = 4096;
inline constexpr std::size_t kMaxCommitsPerMessage = 4096;
inline constexpr std::size_t kMaxCommitBodySize = std::size_t{8} * 1024 * 1024;
inline constexpr std::size_t kMaxRejectionDetailBytes = 256;
inline constexpr std::size_t kMaxPurgeScopes = 4096;
inline constexpr std::size_t kMaxErrorMessageBytes = 1024;
inline constexpr std::size_t kMaxProjectionsPerMessage = 1000;
inline constexpr std::size_t kMaxProjectionBytes = std::size_t{64} * 1024;
inline constexpr std::size_t kMaxKeyWraps = 1024;
inline constexpr std::size_t kMaxWrapCompartmentBytes = 32;
inline constexpr std::size_t kMaxSealedWrapBytes = 256;
// The directory (offices and device keys), paged: at most this many entries, offices
// and devices together, per Directory message.
inline constexpr std::size_t kMaxDirectoryEntries = 4096;
inline constexpr std::size_t kMaxOfficeCodeBytes = 64;
inline constexpr std::size_t kMaxOfficeNameBytes = 256;
inline constexpr std::size_t kMaxOfficeKindBytes = 64;
inline constexpr std::size_t kMaxOfficeRegionBytes = 32;

// The type numbers (WIRE.md section 4). A retired number stays here as a comment
// ("// 19: retired, was ...") and is never given to another message.
enum class MessageType : std::uint8_t {
  hello = 1,
  hello_reply = 2,
  register_device = 3,
  register_reply = 4,
  push_commits = 5,
  push_reply = 6,
  pull = 7,
  pull_reply = 8,
  purge = 9,
  error = 10,
  close = 11,
  fetch_projections = 12,
  projection_batch = 13,
  key_wraps_request = 14,
  key_wraps = 15,
  directory_request = 16,
  directory = 17,
  pull_own = 18,
};

// Client -> server, first message. versions: ascending, distinct, each >= 1.
struct Hello {
  std::vector<std::uint32_t> versions;
  std::string client_software;  // e.g. "teduh/0.1.0"; UTF-8, may be empty
  // The greatest seq the server has acknowledged to this device, as the device recorded
  // it; 0 (none recorded) is left out on the wire (WIRE.md, Hello). A server that holds
  // less lost acknowledged commits, and says so.
  std::uint64_t acked_seq = 0;
  bool operator==(const Hello&) const = default;
};

// Server -> client. registered: the client's Noise static key names a known, active
// device; last_acked_seq is then the greatest device seq the server has accepted from it
// (0 if none, and always 0 when not registered): the client pushes from there.
struct HelloReply {
  std::uint32_t version = 0;
  Id128 server_id;
  bool registered = false;
  std::uint64_t last_acked_seq = 0;
  bool operator==(const HelloReply&) const = default;
};

// Client -> server, when HelloReply.registered is false (WIRE.md calls it Register; the
// struct's name keeps it apart from sync::Register, a field's versions in merge.hpp).
struct RegisterDevice {
  std::string enrollment_code;  // "TDH1.<body>.<sig>" (PROTOCOL.md "Enrollment code")
  DeviceId device;              // non-zero
  crypto::SignPublicKey sign_key{};
  bool operator==(const RegisterDevice&) const = default;
};

struct RegisterReply {
  bool ok = false;
  bool operator==(const RegisterReply&) const = default;
};

// Client -> server: the device's own commits, seq ascending.
struct PushCommits {
  std::vector<SignedCommit> commits;
};

// Why the server refused a pushed commit (WIRE.md "RejectReason"): the one reason enum of
// client and server. These numbers travel in PushReply; the server's refused_commits table
// stores older numbers of its own, mapped explicitly (server records.hpp, SCHEMA.md).
enum class RejectReason : std::uint32_t {
  bad_signature = 1,   // the signature does not verify with the device's key
  invalid_commit = 2,  // the body does not decode or breaks a schema or scope rule
  not_authorized = 3,  // the device may not write in this scope
  out_of_order = 4,    // seq is not last_acked + 1 (a gap); resend from acked_seq + 1
  wrong_device = 5,    // the commit names another device than the authenticated one
  // 6: retired, was clock_too_far (never sent: a server does not refuse a commit for its
  // clock, PROTOCOL.md section 2); refused on the wire like any unknown number.
  seq_taken = 7,       // the server holds this (device, seq) with another body: the store
                       // was restored from an older copy (PROTOCOL.md section 5B)
};
// Its name in WIRE.md ("bad_signature", ...), for logs; empty for a number not above.
std::string_view to_string(RejectReason reason);
// A reason above; decode() refuses a PushReply with any other number.
bool known(RejectReason reason);

struct CommitRejection {
  std::uint64_t seq = 0;
  RejectReason reason = RejectReason::invalid_commit;
  std::string detail;  // UTF-8, for logs and people; never a field value
  bool operator==(const CommitRejection&) const = default;
};

// Server -> client. acked_seq: the greatest device seq now stored (accepted or
// deduplicated); a rejected commit is not acked.
struct PushReply {
  std::uint64_t acked_seq = 0;
  std::vector<CommitRejection> rejections;
  bool operator==(const PushReply&) const = default;
};

// Client -> server: commits with server seq > cursor, at most max_commits of them.
struct Pull {
  std::uint64_t cursor = 0;
  std::uint32_t max_commits = 0;  // 1..kMaxCommitsPerMessage
  bool operator==(const Pull&) const = default;
};

struct PulledCommit {
  std::uint64_t server_seq = 0;
  SignedCommit commit;
};

// Server -> client. commits: server_seq ascending, each > the request's cursor.
// next_cursor >= the last server_seq; more: the client should pull again.
struct PullReply {
  std::vector<PulledCommit> commits;
  std::uint64_t next_cursor = 0;
  bool more = false;
};

// Server -> client, before a PullReply: drop these scopes and everything in them.
struct Purge {
  std::vector<EntityId> scopes;  // non-empty, non-zero ids
  bool operator==(const Purge&) const = default;
};

enum class ErrorCode : std::uint32_t {
  protocol_violation = 1,   // malformed or unexpected message
  unsupported_version = 2,  // no common protocol version
  not_registered = 3,       // an unknown device sent something other than Register
  device_revoked = 4,       // the device is revoked
  enrollment_refused = 5,   // the code is invalid, expired, already used or mismatched
  not_authorized = 6,       // the request is outside the device's rights
  too_large = 7,            // a limit was exceeded
  server_busy = 8,          // try again later
  internal = 9,             // the server failed; nothing was half applied
};
// Its name in WIRE.md, for logs; empty for a number not above.
std::string_view to_string(ErrorCode code);
// A code above; decode() refuses an Error with any other number.
bool known(ErrorCode code);

struct ErrorMessage {
  ErrorCode code = ErrorCode::internal;
  std::string message;  // UTF-8, one sentence; never a field value
  bool operator==(const ErrorMessage&) const = default;
};

// Either side: the last message of a session. A stream that ends without it was cut.
struct Close {
  bool operator==(const Close&) const = default;
};

// Client -> server, from a central office device: the de-identified projections of the
// cases changed after cursor (a server seq), at most max_projections (PROTOCOL.md 5C).
struct FetchProjections {
  std::uint64_t cursor = 0;
  std::uint32_t max_projections = 0;  // 1..kMaxProjectionsPerMessage
  bool operator==(const FetchProjections&) const = default;
};

struct SignedProjection {
  EntityId scope;                  // the case, non-zero
  std::uint64_t server_seq = 0;    // the last log position it reflects, >= 1
  std::string body;                // UTF-8 JSON, 1..kMaxProjectionBytes
  crypto::Signature signature{};   // Ed25519 by the server key (PROTOCOL.md 5C)
  bool operator==(const SignedProjection&) const = default;
};

// Server -> client: the projections, and where to continue (more: fetch again).
struct ProjectionBatch {
  std::vector<SignedProjection> projections;
  std::uint64_t next_cursor = 0;
  bool more = false;
  bool operator==(const ProjectionBatch&) const = default;
};

// Client -> server: every compartment key wrap addressed to this device (PROTOCOL.md
// 5D). No fields: a device holds at most a few wraps per compartment generation.
struct KeyWrapsRequest {
  bool operator==(const KeyWrapsRequest&) const = default;
};

// One compartment key generation, sealed (crypto_box_seal) to the requesting device's
// X25519 key, and the administrator's Ed25519 signature over
// sync::wrap_signed_bytes(compartment, generation, device, sealed).
struct KeyWrap {
  std::string compartment;        // 1..kMaxWrapCompartmentBytes of [a-z0-9_]
  std::uint32_t generation = 0;   // >= 1
  Bytes sealed;                   // 1..kMaxSealedWrapBytes
  crypto::Signature signature{};
  bool operator==(const KeyWrap&) const = default;
};

// Server -> client: the wraps of the requesting device only, at most kMaxKeyWraps,
// ordered by (compartment, generation).
struct KeyWraps {
  std::vector<KeyWrap> wraps;
  bool operator==(const KeyWraps&) const = default;
};

// Client -> server: the next page of the directory, from cursor (0 at first; then the
// previous page's next_cursor). WIRE.md section 4 "Directory".
struct DirectoryRequest {
  std::uint64_t cursor = 0;
  bool operator==(const DirectoryRequest&) const = default;
};

// An office as the server knows it (`teduhd office add`).
struct DirectoryOffice {
  std::string code;    // 1..kMaxOfficeCodeBytes
  std::string name;    // 0..kMaxOfficeNameBytes
  std::string kind;    // jenis_kantor code, 1..kMaxOfficeKindBytes
  std::string region;  // BPS kode wilayah, 0..kMaxOfficeRegionBytes
  bool operator==(const DirectoryOffice&) const = default;
};

// A registered device: its id, its Ed25519 commit-signing key and its office. Never the
// user's name or role.
struct DirectoryDevice {
  DeviceId device;  // non-zero
  crypto::SignPublicKey sign_key{};
  std::string office;  // 1..kMaxOfficeCodeBytes
  bool operator==(const DirectoryDevice&) const = default;
};

// Server -> client: one page of the directory. Offices come first (every page of offices
// before any page of devices); offices + devices <= kMaxDirectoryEntries. more: request
// again from next_cursor.
struct Directory {
  std::vector<DirectoryOffice> offices;
  std::vector<DirectoryDevice> devices;
  std::uint64_t next_cursor = 0;
  bool more = false;
  bool operator==(const Directory&) const = default;
};

// Client -> server: this device's own commits with seq > after_seq, as the server holds
// them, for a store restored from an older copy (PROTOCOL.md section 5B). Answered with a
// PullReply whose commits are the device's own, seq (and server_seq) ascending, and whose
// next_cursor is the greatest device seq the reply covered (pass it back as after_seq).
struct PullOwn {
  std::uint64_t after_seq = 0;
  std::uint32_t max_commits = 0;  // 1..kMaxCommitsPerMessage
  bool operator==(const PullOwn&) const = default;
};

// Every message. The order means nothing on the wire (a message's number is its codec's,
// wire.cpp); it is kept in number order for the reader.
using Message = std::variant<Hello, HelloReply, RegisterDevice, RegisterReply, PushCommits, PushReply,
                             Pull, PullReply, Purge, ErrorMessage, Close, FetchProjections,
                             ProjectionBatch, KeyWrapsRequest, KeyWraps, DirectoryRequest, Directory,
                             PullOwn>;

MessageType type_of(const Message& message);
// The message's name in WIRE.md ("Hello", ...), for logs; empty for a number no message has.
std::string_view name_of(MessageType type);

// Checks the limits and rules that decode() checks. encode() calls it.
[[nodiscard]] Result<void> validate(const Message& message);
// Canonical msgpack bytes; fails (malformed) when validate() fails, so an invalid
// message is never sent.
[[nodiscard]] Result<Bytes> encode(const Message& message);
// Fails with malformed for anything but the canonical encoding of a valid message of a
// known type. Never throws.
[[nodiscard]] Result<Message> decode(ByteView bytes);

// A message channel on a completed Noise session: encode + chunk + encrypt + frame out,
// and frame payload -> decrypt -> reassemble -> decode in. Any failure is final: the
// peer loses the connection.
class SecureChannel {
 public:
  explicit SecureChannel(crypto::Transport transport) : transport_(std::move(transport)) {}

  // The bytes to write to the socket for one message (one or more frames).
  [[nodiscard]] Result<Bytes> seal(const Message& message);
  // One frame payload from FrameDecoder: the message when it was the last chunk.
  [[nodiscard]] Result<std::optional<Message>> open(ByteView frame_payload);

  [[nodiscard]] bool close_received() const { return close_received_; }
  [[nodiscard]] const crypto::Transport& transport() const { return transport_; }

 private:
  crypto::Transport transport_;
  ChunkAssembler assembler_;
  bool failed_ = false;
  bool close_received_ = false;
};

}  // namespace teduh::sync::wire
