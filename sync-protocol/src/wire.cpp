// Message encoding and decoding (wire.hpp, WIRE.md sections 4-6), with the library's one
// msgpack reader and writer (codec_util.hpp: strict, non-throwing, allocation-free reads).
//
// Everything about one message lives in its Codec below, in the manner of leveldb's
// version_edit tags: its type (named from MessageType, where the number is written once),
// its name, its number of fields, and how it is read, checked and written. decode() finds
// the codec by the number on the wire, never by the variant's order, so a number whose
// message is retired is simply absent from the table and refused like any unknown one.
#include "teduh/sync/wire.hpp"

#include "teduh/sync/compartment.hpp"

#include "codec_util.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <utility>

namespace teduh::sync::wire {
namespace {

// ---------------------------------------------------------------------------------------
// Field readers, checks and writers shared by the codecs

using detail::is_utf8;
using detail::Packer;
using detail::pack_bool;
using detail::pack_bytes;
using detail::Reader;
using detail::pack_string;

tl::unexpected<Error> malformed(const char* what) {
  return fail(Errc::malformed, std::string("malformed message: ") + what);
}

tl::unexpected<Error> invalid(const char* what) {
  return fail(Errc::malformed, std::string("invalid message: ") + what);
}

// Field readers that turn a failure into an error naming the field. `var` names the
// variable the macro declares: it cannot be parenthesized.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define TEDUH_READ(var, expr, what)         \
  auto var = (expr);                        \
  if (!var) return malformed(what)
// NOLINTEND(bugprone-macro-parentheses)

[[nodiscard]] Result<std::string> read_text(Reader& r, std::size_t max_bytes, const char* what) {
  auto s = r.text(max_bytes);
  if (!s) return malformed(what);
  return std::string(*s);
}

[[nodiscard]] Result<Id128> read_id(Reader& r, const char* what) {
  auto id = r.id();
  if (!id) return malformed(what);
  return *id;
}

template <std::size_t N>
[[nodiscard]] Result<std::array<std::uint8_t, N>> read_fixed(Reader& r, const char* what) {
  auto b = r.fixed<N>();
  if (!b) return malformed(what);
  return *b;
}

[[nodiscard]] Result<std::uint32_t> read_u32(Reader& r, const char* what) {
  auto v = r.uint();
  if (!v || *v > std::numeric_limits<std::uint32_t>::max()) return malformed(what);
  return static_cast<std::uint32_t>(*v);
}

[[nodiscard]] Result<std::uint64_t> read_u64(Reader& r, const char* what) {
  auto v = r.uint();
  if (!v) return malformed(what);
  return *v;
}

[[nodiscard]] Result<bool> read_bool(Reader& r, const char* what) {
  auto v = r.boolean();
  if (!v) return malformed(what);
  return *v;
}

[[nodiscard]] Result<std::size_t> read_array(Reader& r, std::size_t max, const char* what) {
  auto n = r.array();
  if (!n || *n > max) return malformed(what);
  return *n;
}

// A list: an array of at most `max` items, each read by read_item(r), a Result<T>.
template <class ReadItem>
[[nodiscard]] auto read_list(Reader& r, std::size_t max, const char* what, ReadItem read_item)
    -> Result<std::vector<typename std::invoke_result_t<ReadItem, Reader&>::value_type>> {
  TEDUH_READ(n, read_array(r, max, what), what);
  std::vector<typename std::invoke_result_t<ReadItem, Reader&>::value_type> items;
  items.reserve(*n);
  for (std::size_t i = 0; i < *n; ++i) items.push_back(TEDUH_TRY(read_item(r)));
  return items;
}

// A list as read_list reads it: the count, then write_item(pk, item) for each item.
template <class T, class WriteItem>
void write_list(Packer& pk, const std::vector<T>& items, WriteItem write_item) {
  pk.pack_array(static_cast<std::uint32_t>(items.size()));
  for (const T& item : items) write_item(pk, item);
}

// The start of a record in a list: an array of exactly `fields` items.
[[nodiscard]] Result<void> read_record(Reader& r, std::size_t fields, const char* what) {
  if (r.array() != fields) return malformed(what);
  return {};
}

bool text_ok(const std::string& s, std::size_t max) { return s.size() <= max && is_utf8(s); }

// SignedCommit = [device: id, seq: uint, body: bin, signature: sig64] (PushCommits, PullReply).
[[nodiscard]] Result<SignedCommit> read_signed_commit(Reader& r) {
  auto n = r.array();
  if (n != 4u) return malformed("signed commit");
  SignedCommit c;
  TEDUH_READ(device, read_id(r, "commit device"), "commit device");
  TEDUH_READ(seq, read_u64(r, "commit seq"), "commit seq");
  auto body = r.bin();
  if (!body) return malformed("commit body");
  TEDUH_READ(sig, read_fixed<crypto::kSignatureSize>(r, "commit signature"), "commit signature");
  c.device = *device;
  c.seq = *seq;
  c.body.assign(body->begin(), body->end());
  c.signature = *sig;
  return c;
}

[[nodiscard]] Result<void> validate_commit(const SignedCommit& c) {
  if (c.device.is_zero()) return invalid("commit device is zero");
  if (c.seq == 0) return invalid("commit seq is zero");
  if (c.body.empty() || c.body.size() > kMaxCommitBodySize) return invalid("commit body size");
  return {};
}

// A commit as an item of PushCommits or PullReply, where any flaw in it reads "commit".
[[nodiscard]] Result<SignedCommit> read_commit_item(Reader& r) {
  TEDUH_READ(c, read_signed_commit(r), "commit");
  return std::move(*c);
}

void write_commit(Packer& pk, const SignedCommit& c) {
  pk.pack_array(4);
  pack_bytes(pk, c.device.bytes);
  pk.pack_uint64(c.seq);
  pack_bytes(pk, c.body);
  pack_bytes(pk, c.signature);
}

// The end of every paged reply (PullReply, ProjectionBatch, Directory): next cursor: uint,
// more: bool.
template <class M>
[[nodiscard]] Result<void> read_page_end(Reader& r, M& m) {
  TEDUH_READ(next, read_u64(r, "next cursor"), "next cursor");
  TEDUH_READ(more, read_bool(r, "more"), "more");
  m.next_cursor = *next;
  m.more = *more;
  return {};
}

template <class M>
void write_page_end(Packer& pk, const M& m) {
  pk.pack_uint64(m.next_cursor);
  pack_bool(pk, m.more);
}

// A request's page size (Pull, PullOwn, FetchProjections): 1 to the message's limit.
[[nodiscard]] Result<void> validate_page_size(std::uint64_t max, std::size_t limit,
                                              const char* what) {
  if (max == 0 || max > limit) return invalid(what);
  return {};
}

// ---------------------------------------------------------------------------------------
// The message table: one Codec per message type.
//
// A codec holds: kType (a MessageType), kName (as in WIRE.md), kMinFields and kMaxFields
// (the fields after the type; equal but for Hello's optional last field), fields_of(m)
// (how many a given message writes), read(r, fields) (the fields, in order, from a reader
// positioned after the type), validate(m) (every rule and limit of WIRE.md section 5:
// encode() and decode() both call it) and write(pk, m) (the fields, in order).
// A message type without a codec does not compile.

template <class M>
struct Codec;

// The usual case: exactly N fields.
template <std::size_t N>
struct Fixed {
  static constexpr std::size_t kMinFields = N;
  static constexpr std::size_t kMaxFields = N;
  template <class M>
  static std::size_t fields_of(const M&) { return N; }
};

template <>
struct Codec<Hello> {
  static constexpr MessageType kType = MessageType::hello;
  static constexpr std::string_view kName = "Hello";
  // versions, client_software, and acked_seq only when it is not 0 (WIRE.md, Hello): the
  // only optional field of any message, so that a message keeps one encoding.
  static constexpr std::size_t kMinFields = 2;
  static constexpr std::size_t kMaxFields = 3;
  static std::size_t fields_of(const Hello& m) { return m.acked_seq > 0 ? 3 : 2; }
  [[nodiscard]] static Result<Hello> read(Reader& r, std::size_t fields) {
    Hello m;
    m.versions = TEDUH_TRY(read_list(r, kMaxVersionsOffered, "hello versions",
                                     [](Reader& in) { return read_u32(in, "hello version"); }));
    TEDUH_READ(sw, read_text(r, kMaxSoftwareBytes, "client software"), "client software");
    m.client_software = std::move(*sw);
    if (fields == 3) {
      auto acked = TEDUH_TRY(read_u64(r, "hello acked seq"));
      // 0 is said by leaving the field out: one encoding per message.
      if (acked == 0) return malformed("hello acked seq of 0 sent");
      m.acked_seq = acked;
    }
    return m;
  }
  [[nodiscard]] static Result<void> validate(const Hello& m) {
    if (m.versions.empty() || m.versions.size() > kMaxVersionsOffered) {
      return invalid("hello versions count");
    }
    for (std::size_t i = 0; i < m.versions.size(); ++i) {
      if (m.versions[i] == 0 || (i > 0 && m.versions[i] <= m.versions[i - 1])) {
        return invalid("hello versions not ascending");
      }
    }
    if (!text_ok(m.client_software, kMaxSoftwareBytes)) return invalid("client software");
    return {};
  }
  static void write(Packer& pk, const Hello& m) {
    write_list(pk, m.versions, [](Packer& out, std::uint32_t v) { out.pack_uint64(v); });
    pack_string(pk, m.client_software);
    if (m.acked_seq > 0) pk.pack_uint64(m.acked_seq);
  }
};

template <>
struct Codec<HelloReply> : Fixed<4> {
  static constexpr MessageType kType = MessageType::hello_reply;
  static constexpr std::string_view kName = "HelloReply";
  [[nodiscard]] static Result<HelloReply> read(Reader& r, std::size_t) {
    HelloReply m;
    TEDUH_READ(v, read_u32(r, "version"), "version");
    TEDUH_READ(id, read_id(r, "server id"), "server id");
    TEDUH_READ(reg, read_bool(r, "registered"), "registered");
    TEDUH_READ(acked, read_u64(r, "last acked seq"), "last acked seq");
    m.version = *v;
    m.server_id = *id;
    m.registered = *reg;
    m.last_acked_seq = *acked;
    return m;
  }
  [[nodiscard]] static Result<void> validate(const HelloReply& m) {
    if (m.version == 0) return invalid("version is zero");
    if (m.server_id.is_zero()) return invalid("server id is zero");
    if (!m.registered && m.last_acked_seq != 0) return invalid("acked seq of unknown device");
    return {};
  }
  static void write(Packer& pk, const HelloReply& m) {
    pk.pack_uint64(m.version);
    pack_bytes(pk, m.server_id.bytes);
    pack_bool(pk, m.registered);
    pk.pack_uint64(m.last_acked_seq);
  }
};

template <>
struct Codec<RegisterDevice> : Fixed<3> {
  static constexpr MessageType kType = MessageType::register_device;
  static constexpr std::string_view kName = "Register";
  [[nodiscard]] static Result<RegisterDevice> read(Reader& r, std::size_t) {
    RegisterDevice m;
    TEDUH_READ(code, read_text(r, kMaxEnrollmentCodeBytes, "enrollment code"), "enrollment code");
    TEDUH_READ(id, read_id(r, "device id"), "device id");
    TEDUH_READ(key, read_fixed<crypto::kSignPublicKeySize>(r, "device key"), "device key");
    m.enrollment_code = std::move(*code);
    m.device = *id;
    m.sign_key = *key;
    return m;
  }
  [[nodiscard]] static Result<void> validate(const RegisterDevice& m) {
    if (m.enrollment_code.empty() || !text_ok(m.enrollment_code, kMaxEnrollmentCodeBytes)) {
      return invalid("enrollment code");
    }
    if (m.device.is_zero()) return invalid("device id is zero");
    return {};
  }
  static void write(Packer& pk, const RegisterDevice& m) {
    pack_string(pk, m.enrollment_code);
    pack_bytes(pk, m.device.bytes);
    pack_bytes(pk, m.sign_key);
  }
};

template <>
struct Codec<RegisterReply> : Fixed<1> {
  static constexpr MessageType kType = MessageType::register_reply;
  static constexpr std::string_view kName = "RegisterReply";
  [[nodiscard]] static Result<RegisterReply> read(Reader& r, std::size_t) {
    TEDUH_READ(ok, read_bool(r, "ok"), "ok");
    return RegisterReply{*ok};
  }
  [[nodiscard]] static Result<void> validate(const RegisterReply&) { return {}; }
  static void write(Packer& pk, const RegisterReply& m) { pack_bool(pk, m.ok); }
};

template <>
struct Codec<PushCommits> : Fixed<1> {
  static constexpr MessageType kType = MessageType::push_commits;
  static constexpr std::string_view kName = "PushCommits";
  [[nodiscard]] static Result<PushCommits> read(Reader& r, std::size_t) {
    PushCommits m;
    m.commits = TEDUH_TRY(read_list(r, kMaxCommitsPerMessage, "commits", read_commit_item));
    return m;
  }
  [[nodiscard]] static Result<void> validate(const PushCommits& m) {
    if (m.commits.empty() || m.commits.size() > kMaxCommitsPerMessage) {
      return invalid("commit count");
    }
    for (std::size_t i = 0; i < m.commits.size(); ++i) {
      if (auto ok = validate_commit(m.commits[i]); !ok) return ok;
      if (i > 0 && m.commits[i].seq <= m.commits[i - 1].seq) {
        return invalid("pushed commits not in seq order");
      }
    }
    return {};
  }
  static void write(Packer& pk, const PushCommits& m) { write_list(pk, m.commits, write_commit); }
};

template <>
struct Codec<PushReply> : Fixed<2> {
  static constexpr MessageType kType = MessageType::push_reply;
  static constexpr std::string_view kName = "PushReply";
  [[nodiscard]] static Result<PushReply> read(Reader& r, std::size_t) {
    PushReply m;
    TEDUH_READ(acked, read_u64(r, "acked seq"), "acked seq");
    m.acked_seq = *acked;
    m.rejections = TEDUH_TRY(read_list(
        r, kMaxCommitsPerMessage, "rejections", [](Reader& in) -> Result<CommitRejection> {
          TEDUH_TRY(read_record(in, 3, "rejection"));
          TEDUH_READ(seq, read_u64(in, "rejected seq"), "rejected seq");
          TEDUH_READ(reason, read_u32(in, "reject reason"), "reject reason");
          TEDUH_READ(detail, read_text(in, kMaxRejectionDetailBytes, "reject detail"),
                     "reject detail");
          // An unknown number is refused by validate(), before anything uses it.
          return CommitRejection{*seq, static_cast<RejectReason>(*reason), std::move(*detail)};
        }));
    return m;
  }
  [[nodiscard]] static Result<void> validate(const PushReply& m) {
    if (m.rejections.size() > kMaxCommitsPerMessage) return invalid("rejection count");
    for (const auto& r : m.rejections) {
      if (r.seq == 0) return invalid("rejected seq is zero");
      if (!known(r.reason)) return invalid("unknown reject reason");
      if (!text_ok(r.detail, kMaxRejectionDetailBytes)) return invalid("reject detail");
    }
    return {};
  }
  static void write(Packer& pk, const PushReply& m) {
    pk.pack_uint64(m.acked_seq);
    write_list(pk, m.rejections, [](Packer& out, const CommitRejection& r) {
      out.pack_array(3);
      out.pack_uint64(r.seq);
      out.pack_uint64(static_cast<std::uint32_t>(r.reason));
      pack_string(out, r.detail);
    });
  }
};

template <>
struct Codec<Pull> : Fixed<2> {
  static constexpr MessageType kType = MessageType::pull;
  static constexpr std::string_view kName = "Pull";
  [[nodiscard]] static Result<Pull> read(Reader& r, std::size_t) {
    TEDUH_READ(cursor, read_u64(r, "cursor"), "cursor");
    TEDUH_READ(max, read_u32(r, "max commits"), "max commits");
    return Pull{*cursor, *max};
  }
  [[nodiscard]] static Result<void> validate(const Pull& m) {
    return validate_page_size(m.max_commits, kMaxCommitsPerMessage, "max commits out of range");
  }
  static void write(Packer& pk, const Pull& m) {
    pk.pack_uint64(m.cursor);
    pk.pack_uint64(m.max_commits);
  }
};

template <>
struct Codec<PullReply> : Fixed<3> {
  static constexpr MessageType kType = MessageType::pull_reply;
  static constexpr std::string_view kName = "PullReply";
  [[nodiscard]] static Result<PullReply> read(Reader& r, std::size_t) {
    PullReply m;
    m.commits = TEDUH_TRY(
        read_list(r, kMaxCommitsPerMessage, "commits", [](Reader& in) -> Result<PulledCommit> {
          TEDUH_TRY(read_record(in, 2, "pulled commit"));
          TEDUH_READ(server_seq, read_u64(in, "server seq"), "server seq");
          auto c = TEDUH_TRY(read_commit_item(in));
          return PulledCommit{*server_seq, std::move(c)};
        }));
    TEDUH_TRY(read_page_end(r, m));
    return m;
  }
  [[nodiscard]] static Result<void> validate(const PullReply& m) {
    if (m.commits.size() > kMaxCommitsPerMessage) return invalid("commit count");
    std::uint64_t previous = 0;
    for (const auto& c : m.commits) {
      if (c.server_seq <= previous) return invalid("server seqs not ascending");
      previous = c.server_seq;
      if (auto ok = validate_commit(c.commit); !ok) return ok;
    }
    if (m.next_cursor < previous) return invalid("next cursor behind the commits");
    return {};
  }
  static void write(Packer& pk, const PullReply& m) {
    write_list(pk, m.commits, [](Packer& out, const PulledCommit& c) {
      out.pack_array(2);
      out.pack_uint64(c.server_seq);
      write_commit(out, c.commit);
    });
    write_page_end(pk, m);
  }
};

template <>
struct Codec<Purge> : Fixed<1> {
  static constexpr MessageType kType = MessageType::purge;
  static constexpr std::string_view kName = "Purge";
  [[nodiscard]] static Result<Purge> read(Reader& r, std::size_t) {
    Purge m;
    m.scopes = TEDUH_TRY(read_list(r, kMaxPurgeScopes, "scopes",
                                   [](Reader& in) { return read_id(in, "scope id"); }));
    return m;
  }
  [[nodiscard]] static Result<void> validate(const Purge& m) {
    if (m.scopes.empty() || m.scopes.size() > kMaxPurgeScopes) return invalid("scope count");
    for (const auto& s : m.scopes) {
      if (s.is_zero()) return invalid("scope id is zero");
    }
    return {};
  }
  static void write(Packer& pk, const Purge& m) {
    write_list(pk, m.scopes, [](Packer& out, const EntityId& s) { pack_bytes(out, s.bytes); });
  }
};

template <>
struct Codec<ErrorMessage> : Fixed<2> {
  static constexpr MessageType kType = MessageType::error;
  static constexpr std::string_view kName = "Error";
  [[nodiscard]] static Result<ErrorMessage> read(Reader& r, std::size_t) {
    TEDUH_READ(code, read_u32(r, "error code"), "error code");
    TEDUH_READ(text, read_text(r, kMaxErrorMessageBytes, "error message"), "error message");
    // An unknown code is refused by validate(), before anything uses it.
    return ErrorMessage{static_cast<ErrorCode>(*code), std::move(*text)};
  }
  [[nodiscard]] static Result<void> validate(const ErrorMessage& m) {
    if (!known(m.code)) return invalid("unknown error code");
    if (!text_ok(m.message, kMaxErrorMessageBytes)) return invalid("error message");
    return {};
  }
  static void write(Packer& pk, const ErrorMessage& m) {
    pk.pack_uint64(static_cast<std::uint32_t>(m.code));
    pack_string(pk, m.message);
  }
};

template <>
struct Codec<Close> : Fixed<0> {
  static constexpr MessageType kType = MessageType::close;
  static constexpr std::string_view kName = "Close";
  [[nodiscard]] static Result<Close> read(Reader&, std::size_t) { return Close{}; }
  [[nodiscard]] static Result<void> validate(const Close&) { return {}; }
  static void write(Packer&, const Close&) {}
};

template <>
struct Codec<FetchProjections> : Fixed<2> {
  static constexpr MessageType kType = MessageType::fetch_projections;
  static constexpr std::string_view kName = "FetchProjections";
  [[nodiscard]] static Result<FetchProjections> read(Reader& r, std::size_t) {
    TEDUH_READ(cursor, read_u64(r, "cursor"), "cursor");
    TEDUH_READ(max, read_u32(r, "max projections"), "max projections");
    return FetchProjections{*cursor, *max};
  }
  [[nodiscard]] static Result<void> validate(const FetchProjections& m) {
    return validate_page_size(m.max_projections, kMaxProjectionsPerMessage,
                              "max projections out of range");
  }
  static void write(Packer& pk, const FetchProjections& m) {
    pk.pack_uint64(m.cursor);
    pk.pack_uint64(m.max_projections);
  }
};

template <>
struct Codec<ProjectionBatch> : Fixed<3> {
  static constexpr MessageType kType = MessageType::projection_batch;
  static constexpr std::string_view kName = "ProjectionBatch";
  [[nodiscard]] static Result<ProjectionBatch> read(Reader& r, std::size_t) {
    ProjectionBatch m;
    m.projections = TEDUH_TRY(read_list(
        r, kMaxProjectionsPerMessage, "projections", [](Reader& in) -> Result<SignedProjection> {
          TEDUH_TRY(read_record(in, 4, "projection"));
          SignedProjection p;
          TEDUH_READ(scope, read_id(in, "projection scope"), "projection scope");
          TEDUH_READ(seq, read_u64(in, "projection seq"), "projection seq");
          TEDUH_READ(body, read_text(in, kMaxProjectionBytes, "projection body"),
                     "projection body");
          TEDUH_READ(sig, read_fixed<crypto::kSignatureSize>(in, "projection signature"),
                     "projection signature");
          p.scope = *scope;
          p.server_seq = *seq;
          p.body = std::move(*body);
          p.signature = *sig;
          return p;
        }));
    TEDUH_TRY(read_page_end(r, m));
    return m;
  }
  [[nodiscard]] static Result<void> validate(const ProjectionBatch& m) {
    if (m.projections.size() > kMaxProjectionsPerMessage) return invalid("projection count");
    for (const auto& p : m.projections) {
      if (p.scope.is_zero()) return invalid("projection scope is zero");
      if (p.server_seq == 0) return invalid("projection seq is zero");
      if (p.body.empty() || !text_ok(p.body, kMaxProjectionBytes)) return invalid("projection body");
    }
    return {};
  }
  static void write(Packer& pk, const ProjectionBatch& m) {
    write_list(pk, m.projections, [](Packer& out, const SignedProjection& p) {
      out.pack_array(4);
      pack_bytes(out, p.scope.bytes);
      out.pack_uint64(p.server_seq);
      pack_string(out, p.body);
      pack_bytes(out, p.signature);
    });
    write_page_end(pk, m);
  }
};

template <>
struct Codec<KeyWrapsRequest> : Fixed<0> {
  static constexpr MessageType kType = MessageType::key_wraps_request;
  static constexpr std::string_view kName = "KeyWrapsRequest";
  [[nodiscard]] static Result<KeyWrapsRequest> read(Reader&, std::size_t) { return KeyWrapsRequest{}; }
  [[nodiscard]] static Result<void> validate(const KeyWrapsRequest&) { return {}; }
  static void write(Packer&, const KeyWrapsRequest&) {}
};

template <>
struct Codec<KeyWraps> : Fixed<1> {
  static constexpr MessageType kType = MessageType::key_wraps;
  static constexpr std::string_view kName = "KeyWraps";
  [[nodiscard]] static Result<KeyWraps> read(Reader& r, std::size_t) {
    KeyWraps m;
    m.wraps = TEDUH_TRY(read_list(r, kMaxKeyWraps, "key wraps", [](Reader& in) -> Result<KeyWrap> {
      TEDUH_TRY(read_record(in, 4, "key wrap"));
      KeyWrap w;
      TEDUH_READ(compartment, read_text(in, kMaxWrapCompartmentBytes, "wrap compartment"),
                 "wrap compartment");
      TEDUH_READ(generation, read_u32(in, "wrap generation"), "wrap generation");
      auto sealed = in.bin();
      if (!sealed || sealed->size() > kMaxSealedWrapBytes) return malformed("wrap sealed key");
      TEDUH_READ(sig, read_fixed<crypto::kSignatureSize>(in, "wrap signature"), "wrap signature");
      w.compartment = std::move(*compartment);
      w.generation = *generation;
      w.sealed.assign(sealed->begin(), sealed->end());
      w.signature = *sig;
      return w;
    }));
    return m;
  }
  [[nodiscard]] static Result<void> validate(const KeyWraps& m) {
    if (m.wraps.size() > kMaxKeyWraps) return invalid("key wrap count");
    for (const auto& w : m.wraps) {
      if (!valid_compartment(w.compartment)) return invalid("wrap compartment");
      if (w.generation == 0) return invalid("wrap generation is zero");
      if (w.sealed.empty() || w.sealed.size() > kMaxSealedWrapBytes) return invalid("wrap sealed key size");
    }
    return {};
  }
  static void write(Packer& pk, const KeyWraps& m) {
    write_list(pk, m.wraps, [](Packer& out, const KeyWrap& w) {
      out.pack_array(4);
      pack_string(out, w.compartment);
      out.pack_uint64(w.generation);
      pack_bytes(out, w.sealed);
      pack_bytes(out, w.signature);
    });
  }
};

template <>
struct Codec<DirectoryRequest> : Fixed<1> {
  static constexpr MessageType kType = MessageType::directory_request;
  static constexpr std::string_view kName = "DirectoryRequest";
  [[nodiscard]] static Result<DirectoryRequest> read(Reader& r, std::size_t) {
    TEDUH_READ(cursor, read_u64(r, "directory cursor"), "directory cursor");
    return DirectoryRequest{*cursor};
  }
  [[nodiscard]] static Result<void> validate(const DirectoryRequest&) { return {}; }
  static void write(Packer& pk, const DirectoryRequest& m) { pk.pack_uint64(m.cursor); }
};

template <>
struct Codec<Directory> : Fixed<4> {
  static constexpr MessageType kType = MessageType::directory;
  static constexpr std::string_view kName = "Directory";
  [[nodiscard]] static Result<Directory> read(Reader& r, std::size_t) {
    Directory m;
    m.offices = TEDUH_TRY(read_list(
        r, kMaxDirectoryEntries, "directory offices", [](Reader& in) -> Result<DirectoryOffice> {
          TEDUH_TRY(read_record(in, 4, "directory office"));
          DirectoryOffice o;
          TEDUH_READ(code, read_text(in, kMaxOfficeCodeBytes, "office code"), "office code");
          TEDUH_READ(name, read_text(in, kMaxOfficeNameBytes, "office name"), "office name");
          TEDUH_READ(kind, read_text(in, kMaxOfficeKindBytes, "office kind"), "office kind");
          TEDUH_READ(region, read_text(in, kMaxOfficeRegionBytes, "office region"),
                     "office region");
          o.code = std::move(*code);
          o.name = std::move(*name);
          o.kind = std::move(*kind);
          o.region = std::move(*region);
          return o;
        }));
    m.devices = TEDUH_TRY(read_list(
        r, kMaxDirectoryEntries, "directory devices", [](Reader& in) -> Result<DirectoryDevice> {
          TEDUH_TRY(read_record(in, 3, "directory device"));
          DirectoryDevice dev;
          TEDUH_READ(id, read_id(in, "directory device id"), "directory device id");
          TEDUH_READ(key, read_fixed<crypto::kSignPublicKeySize>(in, "directory device key"),
                     "directory device key");
          TEDUH_READ(office, read_text(in, kMaxOfficeCodeBytes, "device office"), "device office");
          dev.device = *id;
          dev.sign_key = *key;
          dev.office = std::move(*office);
          return dev;
        }));
    TEDUH_TRY(read_page_end(r, m));
    return m;
  }
  [[nodiscard]] static Result<void> validate(const Directory& m) {
    if (m.offices.size() + m.devices.size() > kMaxDirectoryEntries) return invalid("directory entry count");
    for (const auto& o : m.offices) {
      if (o.code.empty() || !text_ok(o.code, kMaxOfficeCodeBytes)) return invalid("office code");
      if (!text_ok(o.name, kMaxOfficeNameBytes)) return invalid("office name");
      if (o.kind.empty() || !text_ok(o.kind, kMaxOfficeKindBytes)) return invalid("office kind");
      if (!text_ok(o.region, kMaxOfficeRegionBytes)) return invalid("office region");
    }
    for (const auto& d : m.devices) {
      if (d.device.is_zero()) return invalid("directory device id is zero");
      if (d.office.empty() || !text_ok(d.office, kMaxOfficeCodeBytes)) return invalid("device office");
    }
    return {};
  }
  static void write(Packer& pk, const Directory& m) {
    write_list(pk, m.offices, [](Packer& out, const DirectoryOffice& o) {
      out.pack_array(4);
      pack_string(out, o.code);
      pack_string(out, o.name);
      pack_string(out, o.kind);
      pack_string(out, o.region);
    });
    write_list(pk, m.devices, [](Packer& out, const DirectoryDevice& d) {
      out.pack_array(3);
      pack_bytes(out, d.device.bytes);
      pack_bytes(out, d.sign_key);
      pack_string(out, d.office);
    });
    write_page_end(pk, m);
  }
};

template <>
struct Codec<PullOwn> : Fixed<2> {
  static constexpr MessageType kType = MessageType::pull_own;
  static constexpr std::string_view kName = "PullOwn";
  [[nodiscard]] static Result<PullOwn> read(Reader& r, std::size_t) {
    TEDUH_READ(after, read_u64(r, "after seq"), "after seq");
    TEDUH_READ(max, read_u32(r, "max commits"), "max commits");
    return PullOwn{*after, *max};
  }
  [[nodiscard]] static Result<void> validate(const PullOwn& m) {
    return validate_page_size(m.max_commits, kMaxCommitsPerMessage, "max commits out of range");
  }
  static void write(Packer& pk, const PullOwn& m) {
    pk.pack_uint64(m.after_seq);
    pk.pack_uint64(m.max_commits);
  }
};

#undef TEDUH_READ

// The table decode() looks numbers up in, built from the codecs of the Message variant's
// alternatives (in whatever order they are listed).
struct Entry {
  MessageType type;
  std::string_view name;
  std::size_t min_fields;
  std::size_t max_fields;
  Result<Message> (*read)(Reader& r, std::size_t fields);
};

template <class M>
[[nodiscard]] Result<Message> read_as(Reader& r, std::size_t fields) {
  auto m = TEDUH_TRY(Codec<M>::read(r, fields));
  return Message{std::move(m)};
}

template <std::size_t... I>
constexpr auto make_table(std::index_sequence<I...>) {
  return std::array<Entry, sizeof...(I)>{
      Entry{Codec<std::variant_alternative_t<I, Message>>::kType, Codec<std::variant_alternative_t<I, Message>>::kName,
            Codec<std::variant_alternative_t<I, Message>>::kMinFields,
            Codec<std::variant_alternative_t<I, Message>>::kMaxFields, &read_as<std::variant_alternative_t<I, Message>>}...};
}

constexpr auto kMessages = make_table(std::make_index_sequence<std::variant_size_v<Message>>{});

constexpr bool numbers_are_distinct_and_fields_ordered() {
  for (std::size_t i = 0; i < kMessages.size(); ++i) {
    if (static_cast<unsigned>(kMessages[i].type) == 0) return false;
    if (kMessages[i].min_fields > kMessages[i].max_fields) return false;
    for (std::size_t j = i + 1; j < kMessages.size(); ++j) {
      if (kMessages[i].type == kMessages[j].type || kMessages[i].name == kMessages[j].name) return false;
    }
  }
  return true;
}
static_assert(numbers_are_distinct_and_fields_ordered(),
              "two message codecs share a type number or a name, or a number is 0");

// The entry of a number read from the wire, or nullptr for an unknown (or retired) one.
const Entry* find(std::uint64_t number) {
  for (const Entry& e : kMessages) {
    if (static_cast<std::uint64_t>(e.type) == number) return &e;
  }
  return nullptr;
}

template <class M>
using CodecOf = Codec<std::decay_t<M>>;

}  // namespace

std::string_view to_string(RejectReason reason) {
  // No default: a reason added to the enum without a name here is a -Wswitch warning.
  switch (reason) {
    case RejectReason::bad_signature: return "bad_signature";
    case RejectReason::invalid_commit: return "invalid_commit";
    case RejectReason::not_authorized: return "not_authorized";
    case RejectReason::out_of_order: return "out_of_order";
    case RejectReason::wrong_device: return "wrong_device";
    case RejectReason::seq_taken: return "seq_taken";
  }
  return {};
}

bool known(RejectReason reason) { return !to_string(reason).empty(); }

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::protocol_violation: return "protocol_violation";
    case ErrorCode::unsupported_version: return "unsupported_version";
    case ErrorCode::not_registered: return "not_registered";
    case ErrorCode::device_revoked: return "device_revoked";
    case ErrorCode::enrollment_refused: return "enrollment_refused";
    case ErrorCode::not_authorized: return "not_authorized";
    case ErrorCode::too_large: return "too_large";
    case ErrorCode::server_busy: return "server_busy";
    case ErrorCode::internal: return "internal";
  }
  return {};
}

bool known(ErrorCode code) { return !to_string(code).empty(); }

std::string_view name_of(MessageType type) {
  const Entry* e = find(static_cast<std::uint64_t>(type));
  return e ? e->name : std::string_view{};
}

MessageType type_of(const Message& message) {
  return std::visit([](const auto& m) { return CodecOf<decltype(m)>::kType; }, message);
}

[[nodiscard]] Result<void> validate(const Message& message) {
  return std::visit([](const auto& m) { return CodecOf<decltype(m)>::validate(m); }, message);
}

[[nodiscard]] Result<Bytes> encode(const Message& message) {
  return std::visit(
      [](const auto& m) -> Result<Bytes> {
        using C = CodecOf<decltype(m)>;
        TEDUH_TRY(C::validate(m));
        msgpack::sbuffer buffer;
        Packer pk(buffer);
        pk.pack_array(static_cast<std::uint32_t>(1 + C::fields_of(m)));
        pk.pack_uint64(static_cast<std::uint64_t>(C::kType));
        C::write(pk, m);
        if (buffer.size() > kMaxMessageSize) return fail(Errc::malformed, "message too large");
        const auto* p = reinterpret_cast<const std::uint8_t*>(buffer.data());
        return Bytes(p, p + buffer.size());
      },
      message);
}

[[nodiscard]] Result<Message> decode(ByteView bytes) {
  if (bytes.empty() || bytes.size() > kMaxMessageSize) return malformed("size");
  Reader r(bytes);
  auto n = r.array();
  if (!n || *n == 0) return malformed("not an array");
  auto type = r.uint();
  if (!type) return malformed("type");
  const Entry* entry = find(*type);
  if (entry == nullptr) return malformed("unknown message type");
  const std::size_t fields = *n - 1;
  if (fields < entry->min_fields || fields > entry->max_fields) return malformed("wrong number of fields");
  auto message = entry->read(r, fields);
  if (!message) return message;
  if (!r.at_end()) return malformed("trailing bytes");
  TEDUH_TRY(validate(*message));
  return message;
}

// ---------------------------------------------------------------------------------------
// SecureChannel

Result<Bytes> SecureChannel::seal(const Message& message) {
  if (failed_) return fail(Errc::malformed, "channel already failed");
  auto encoded = TEDUH_TRY(encode(message));
  auto chunks = TEDUH_TRY(split_into_chunks(encoded));
  Bytes out;
  for (const auto& chunk : chunks) {
    auto ciphertext = transport_.encrypt(chunk);
    if (!ciphertext) {
      failed_ = true;
      return fail(Errc::malformed, "channel encryption failed");
    }
    auto frame = encode_frame(*ciphertext);
    if (!frame) {
      failed_ = true;
      return tl::unexpected(frame.error());
    }
    out.insert(out.end(), frame->begin(), frame->end());
  }
  return out;
}

Result<std::optional<Message>> SecureChannel::open(ByteView frame_payload) {
  if (failed_) return fail(Errc::malformed, "channel already failed");
  if (close_received_) {
    failed_ = true;
    return fail(Errc::malformed, "frame after Close");
  }
  auto plaintext = transport_.decrypt(frame_payload);
  if (!plaintext) {
    failed_ = true;
    return fail(Errc::malformed, "frame failed authentication");
  }
  auto assembled = assembler_.add(*plaintext);
  if (!assembled) {
    failed_ = true;
    return tl::unexpected(assembled.error());
  }
  if (!*assembled) return std::optional<Message>{};
  auto message = decode(**assembled);
  if (!message) {
    failed_ = true;
    return tl::unexpected(message.error());
  }
  if (std::holds_alternative<Close>(*message)) close_received_ = true;
  return std::optional<Message>(std::move(*message));
}

}  // namespace teduh::sync::wire
