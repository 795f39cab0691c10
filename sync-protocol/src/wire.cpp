// Message encoding and decoding (wire.hpp, WIRE.md sections 4-6), with the library's one
// msgpack reader and writer (codec_util.hpp: strict, non-throwing, allocation-free reads).
#include "teduh/sync/wire.hpp"

#include "teduh/sync/compartment.hpp"

#include "codec_util.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

namespace teduh::sync::wire {
namespace {

// ---------------------------------------------------------------------------------------
// Reading

using detail::is_utf8;
using detail::Reader;

tl::unexpected<Error> malformed(const char* what) {
  return fail(Errc::malformed, std::string("malformed message: ") + what);
}

// Field readers that turn a failure into an error naming the field.
#define TEDUH_READ(var, expr, what)         \
  auto var = (expr);                        \
  if (!var) return malformed(what)

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

// The number of fields (after the type) of each message type, in order of the numbers.
std::optional<std::size_t> field_count(std::uint64_t type) {
  // Checked before the cast: a cast would first truncate to the 8-bit underlying type.
  if (type < 1 || type > static_cast<std::uint64_t>(MessageType::pull_own)) return std::nullopt;
  switch (static_cast<MessageType>(type)) {
    case MessageType::hello: return 2;
    case MessageType::hello_reply: return 4;
    case MessageType::register_device: return 3;
    case MessageType::register_reply: return 1;
    case MessageType::push_commits: return 1;
    case MessageType::push_reply: return 2;
    case MessageType::pull: return 2;
    case MessageType::pull_reply: return 3;
    case MessageType::purge: return 1;
    case MessageType::error: return 2;
    case MessageType::close: return 0;
    case MessageType::fetch_projections: return 2;
    case MessageType::projection_batch: return 3;
    case MessageType::key_wraps_request: return 0;
    case MessageType::key_wraps: return 1;
    case MessageType::directory_request: return 1;
    case MessageType::directory: return 4;
    case MessageType::pull_own: return 2;
  }
  return std::nullopt;
}

[[nodiscard]] Result<Message> read_body(Reader& r, MessageType type) {
  switch (type) {
    case MessageType::hello: {
      Hello m;
      TEDUH_READ(n, read_array(r, kMaxVersionsOffered, "hello versions"), "hello versions");
      for (std::size_t i = 0; i < *n; ++i) {
        TEDUH_READ(v, read_u32(r, "hello version"), "hello version");
        m.versions.push_back(*v);
      }
      TEDUH_READ(sw, read_text(r, kMaxSoftwareBytes, "client software"), "client software");
      m.client_software = std::move(*sw);
      return m;
    }
    case MessageType::hello_reply: {
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
    case MessageType::register_device: {
      Register m;
      TEDUH_READ(code, read_text(r, kMaxEnrollmentCodeBytes, "enrollment code"),
                 "enrollment code");
      TEDUH_READ(id, read_id(r, "device id"), "device id");
      TEDUH_READ(key, read_fixed<crypto::kSignPublicKeySize>(r, "device key"), "device key");
      m.enrollment_code = std::move(*code);
      m.device = *id;
      m.sign_key = *key;
      return m;
    }
    case MessageType::register_reply: {
      TEDUH_READ(ok, read_bool(r, "ok"), "ok");
      return RegisterReply{*ok};
    }
    case MessageType::push_commits: {
      PushCommits m;
      TEDUH_READ(n, read_array(r, kMaxCommitsPerMessage, "commits"), "commits");
      m.commits.reserve(*n);
      for (std::size_t i = 0; i < *n; ++i) {
        TEDUH_READ(c, read_signed_commit(r), "commit");
        m.commits.push_back(std::move(*c));
      }
      return m;
    }
    case MessageType::push_reply: {
      PushReply m;
      TEDUH_READ(acked, read_u64(r, "acked seq"), "acked seq");
      m.acked_seq = *acked;
      TEDUH_READ(n, read_array(r, kMaxCommitsPerMessage, "rejections"), "rejections");
      for (std::size_t i = 0; i < *n; ++i) {
        if (r.array() != 3u) return malformed("rejection");
        TEDUH_READ(seq, read_u64(r, "rejected seq"), "rejected seq");
        TEDUH_READ(reason, read_u32(r, "reject reason"), "reject reason");
        TEDUH_READ(detail, read_text(r, kMaxRejectionDetailBytes, "reject detail"),
                   "reject detail");
        m.rejections.push_back({*seq, static_cast<RejectReason>(*reason), std::move(*detail)});
      }
      return m;
    }
    case MessageType::pull: {
      TEDUH_READ(cursor, read_u64(r, "cursor"), "cursor");
      TEDUH_READ(max, read_u32(r, "max commits"), "max commits");
      return Pull{*cursor, *max};
    }
    case MessageType::pull_own: {
      TEDUH_READ(after, read_u64(r, "after seq"), "after seq");
      TEDUH_READ(max, read_u32(r, "max commits"), "max commits");
      return PullOwn{*after, *max};
    }
    case MessageType::pull_reply: {
      PullReply m;
      TEDUH_READ(n, read_array(r, kMaxCommitsPerMessage, "commits"), "commits");
      m.commits.reserve(*n);
      for (std::size_t i = 0; i < *n; ++i) {
        if (r.array() != 2u) return malformed("pulled commit");
        TEDUH_READ(server_seq, read_u64(r, "server seq"), "server seq");
        TEDUH_READ(c, read_signed_commit(r), "commit");
        m.commits.push_back({*server_seq, std::move(*c)});
      }
      TEDUH_READ(next, read_u64(r, "next cursor"), "next cursor");
      TEDUH_READ(more, read_bool(r, "more"), "more");
      m.next_cursor = *next;
      m.more = *more;
      return m;
    }
    case MessageType::purge: {
      Purge m;
      TEDUH_READ(n, read_array(r, kMaxPurgeScopes, "scopes"), "scopes");
      for (std::size_t i = 0; i < *n; ++i) {
        TEDUH_READ(id, read_id(r, "scope id"), "scope id");
        m.scopes.push_back(*id);
      }
      return m;
    }
    case MessageType::error: {
      TEDUH_READ(code, read_u32(r, "error code"), "error code");
      TEDUH_READ(text, read_text(r, kMaxErrorMessageBytes, "error message"), "error message");
      return ErrorMessage{static_cast<ErrorCode>(*code), std::move(*text)};
    }
    case MessageType::close:
      return Close{};
    case MessageType::fetch_projections: {
      TEDUH_READ(cursor, read_u64(r, "cursor"), "cursor");
      TEDUH_READ(max, read_u32(r, "max projections"), "max projections");
      return FetchProjections{*cursor, *max};
    }
    case MessageType::projection_batch: {
      ProjectionBatch m;
      TEDUH_READ(n, read_array(r, kMaxProjectionsPerMessage, "projections"), "projections");
      m.projections.reserve(*n);
      for (std::size_t i = 0; i < *n; ++i) {
        if (r.array() != 4u) return malformed("projection");
        SignedProjection p;
        TEDUH_READ(scope, read_id(r, "projection scope"), "projection scope");
        TEDUH_READ(seq, read_u64(r, "projection seq"), "projection seq");
        TEDUH_READ(body, read_text(r, kMaxProjectionBytes, "projection body"), "projection body");
        TEDUH_READ(sig, read_fixed<crypto::kSignatureSize>(r, "projection signature"), "projection signature");
        p.scope = *scope;
        p.server_seq = *seq;
        p.body = std::move(*body);
        p.signature = *sig;
        m.projections.push_back(std::move(p));
      }
      TEDUH_READ(next, read_u64(r, "next cursor"), "next cursor");
      TEDUH_READ(more, read_bool(r, "more"), "more");
      m.next_cursor = *next;
      m.more = *more;
      return m;
    }
    case MessageType::key_wraps_request:
      return KeyWrapsRequest{};
    case MessageType::key_wraps: {
      KeyWraps m;
      TEDUH_READ(n, read_array(r, kMaxKeyWraps, "key wraps"), "key wraps");
      m.wraps.reserve(*n);
      for (std::size_t i = 0; i < *n; ++i) {
        if (r.array() != 4u) return malformed("key wrap");
        KeyWrap w;
        TEDUH_READ(compartment, read_text(r, kMaxWrapCompartmentBytes, "wrap compartment"), "wrap compartment");
        TEDUH_READ(generation, read_u32(r, "wrap generation"), "wrap generation");
        auto sealed = r.bin();
        if (!sealed || sealed->size() > kMaxSealedWrapBytes) return malformed("wrap sealed key");
        TEDUH_READ(sig, read_fixed<crypto::kSignatureSize>(r, "wrap signature"), "wrap signature");
        w.compartment = std::move(*compartment);
        w.generation = *generation;
        w.sealed.assign(sealed->begin(), sealed->end());
        w.signature = *sig;
        m.wraps.push_back(std::move(w));
      }
      return m;
    }
    case MessageType::directory_request: {
      TEDUH_READ(cursor, read_u64(r, "directory cursor"), "directory cursor");
      return DirectoryRequest{*cursor};
    }
    case MessageType::directory: {
      Directory m;
      TEDUH_READ(n, read_array(r, kMaxDirectoryEntries, "directory offices"), "directory offices");
      m.offices.reserve(*n);
      for (std::size_t i = 0; i < *n; ++i) {
        if (r.array() != 4u) return malformed("directory office");
        DirectoryOffice o;
        TEDUH_READ(code, read_text(r, kMaxOfficeCodeBytes, "office code"), "office code");
        TEDUH_READ(name, read_text(r, kMaxOfficeNameBytes, "office name"), "office name");
        TEDUH_READ(kind, read_text(r, kMaxOfficeKindBytes, "office kind"), "office kind");
        TEDUH_READ(region, read_text(r, kMaxOfficeRegionBytes, "office region"), "office region");
        o.code = std::move(*code);
        o.name = std::move(*name);
        o.kind = std::move(*kind);
        o.region = std::move(*region);
        m.offices.push_back(std::move(o));
      }
      TEDUH_READ(d, read_array(r, kMaxDirectoryEntries, "directory devices"), "directory devices");
      m.devices.reserve(*d);
      for (std::size_t i = 0; i < *d; ++i) {
        if (r.array() != 3u) return malformed("directory device");
        DirectoryDevice dev;
        TEDUH_READ(id, read_id(r, "directory device id"), "directory device id");
        TEDUH_READ(key, read_fixed<crypto::kSignPublicKeySize>(r, "directory device key"), "directory device key");
        TEDUH_READ(office, read_text(r, kMaxOfficeCodeBytes, "device office"), "device office");
        dev.device = *id;
        dev.sign_key = *key;
        dev.office = std::move(*office);
        m.devices.push_back(std::move(dev));
      }
      TEDUH_READ(next, read_u64(r, "next cursor"), "next cursor");
      TEDUH_READ(more, read_bool(r, "more"), "more");
      m.next_cursor = *next;
      m.more = *more;
      return m;
    }
  }
  return malformed("unknown type");
}

#undef TEDUH_READ

// ---------------------------------------------------------------------------------------
// Validation (shared by encode and decode)

tl::unexpected<Error> invalid(const char* what) {
  return fail(Errc::malformed, std::string("invalid message: ") + what);
}

bool known(RejectReason r) {
  const auto v = static_cast<std::uint32_t>(r);
  return v >= 1 && v <= 7;
}

bool known(ErrorCode c) {
  const auto v = static_cast<std::uint32_t>(c);
  return v >= 1 && v <= 9;
}

bool text_ok(const std::string& s, std::size_t max) { return s.size() <= max && is_utf8(s); }

[[nodiscard]] Result<void> validate_commit(const SignedCommit& c) {
  if (c.device.is_zero()) return invalid("commit device is zero");
  if (c.seq == 0) return invalid("commit seq is zero");
  if (c.body.empty() || c.body.size() > kMaxCommitBodySize) return invalid("commit body size");
  return {};
}

struct Validator {
  [[nodiscard]] Result<void> operator()(const Hello& m) const {
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
  [[nodiscard]] Result<void> operator()(const HelloReply& m) const {
    if (m.version == 0) return invalid("version is zero");
    if (m.server_id.is_zero()) return invalid("server id is zero");
    if (!m.registered && m.last_acked_seq != 0) return invalid("acked seq of unknown device");
    return {};
  }
  [[nodiscard]] Result<void> operator()(const Register& m) const {
    if (m.enrollment_code.empty() || !text_ok(m.enrollment_code, kMaxEnrollmentCodeBytes)) {
      return invalid("enrollment code");
    }
    if (m.device.is_zero()) return invalid("device id is zero");
    return {};
  }
  [[nodiscard]] Result<void> operator()(const RegisterReply&) const { return {}; }
  [[nodiscard]] Result<void> operator()(const PushCommits& m) const {
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
  [[nodiscard]] Result<void> operator()(const PushReply& m) const {
    if (m.rejections.size() > kMaxCommitsPerMessage) return invalid("rejection count");
    for (const auto& r : m.rejections) {
      if (r.seq == 0) return invalid("rejected seq is zero");
      if (!known(r.reason)) return invalid("unknown reject reason");
      if (!text_ok(r.detail, kMaxRejectionDetailBytes)) return invalid("reject detail");
    }
    return {};
  }
  [[nodiscard]] Result<void> operator()(const Pull& m) const {
    if (m.max_commits == 0 || m.max_commits > kMaxCommitsPerMessage) {
      return invalid("max commits out of range");
    }
    return {};
  }
  [[nodiscard]] Result<void> operator()(const PullOwn& m) const {
    if (m.max_commits == 0 || m.max_commits > kMaxCommitsPerMessage) {
      return invalid("max commits out of range");
    }
    return {};
  }
  [[nodiscard]] Result<void> operator()(const PullReply& m) const {
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
  [[nodiscard]] Result<void> operator()(const Purge& m) const {
    if (m.scopes.empty() || m.scopes.size() > kMaxPurgeScopes) return invalid("scope count");
    for (const auto& s : m.scopes) {
      if (s.is_zero()) return invalid("scope id is zero");
    }
    return {};
  }
  [[nodiscard]] Result<void> operator()(const ErrorMessage& m) const {
    if (!known(m.code)) return invalid("unknown error code");
    if (!text_ok(m.message, kMaxErrorMessageBytes)) return invalid("error message");
    return {};
  }
  [[nodiscard]] Result<void> operator()(const Close&) const { return {}; }
  [[nodiscard]] Result<void> operator()(const FetchProjections& m) const {
    if (m.max_projections == 0 || m.max_projections > kMaxProjectionsPerMessage) {
      return invalid("max projections out of range");
    }
    return {};
  }
  [[nodiscard]] Result<void> operator()(const ProjectionBatch& m) const {
    if (m.projections.size() > kMaxProjectionsPerMessage) return invalid("projection count");
    for (const auto& p : m.projections) {
      if (p.scope.is_zero()) return invalid("projection scope is zero");
      if (p.server_seq == 0) return invalid("projection seq is zero");
      if (p.body.empty() || !text_ok(p.body, kMaxProjectionBytes)) return invalid("projection body");
    }
    return {};
  }
  [[nodiscard]] Result<void> operator()(const KeyWrapsRequest&) const { return {}; }
  [[nodiscard]] Result<void> operator()(const KeyWraps& m) const {
    if (m.wraps.size() > kMaxKeyWraps) return invalid("key wrap count");
    for (const auto& w : m.wraps) {
      if (!valid_compartment(w.compartment)) return invalid("wrap compartment");
      if (w.generation == 0) return invalid("wrap generation is zero");
      if (w.sealed.empty() || w.sealed.size() > kMaxSealedWrapBytes) return invalid("wrap sealed key size");
    }
    return {};
  }
  [[nodiscard]] Result<void> operator()(const DirectoryRequest&) const { return {}; }
  [[nodiscard]] Result<void> operator()(const Directory& m) const {
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
};

// ---------------------------------------------------------------------------------------
// Writing

using detail::Packer;
using detail::pack_bool;
using detail::pack_bytes;
constexpr auto pack_text = detail::pack_string;

void pack_commit(Packer& pk, const SignedCommit& c) {
  pk.pack_array(4);
  pack_bytes(pk, c.device.bytes);
  pk.pack_uint64(c.seq);
  pack_bytes(pk, c.body);
  pack_bytes(pk, c.signature);
}

struct Writer {
  Packer& pk;
  void operator()(const Hello& m) const {
    pk.pack_array(static_cast<std::uint32_t>(m.versions.size()));
    for (auto v : m.versions) pk.pack_uint64(v);
    pack_text(pk, m.client_software);
    if (m.acked_seq > 0) pk.pack_uint64(m.acked_seq);  // the optional third field
  }
  void operator()(const HelloReply& m) const {
    pk.pack_uint64(m.version);
    pack_bytes(pk, m.server_id.bytes);
    pack_bool(pk, m.registered);
    pk.pack_uint64(m.last_acked_seq);
  }
  void operator()(const Register& m) const {
    pack_text(pk, m.enrollment_code);
    pack_bytes(pk, m.device.bytes);
    pack_bytes(pk, m.sign_key);
  }
  void operator()(const RegisterReply& m) const { pack_bool(pk, m.ok); }
  void operator()(const PushCommits& m) const {
    pk.pack_array(static_cast<std::uint32_t>(m.commits.size()));
    for (const auto& c : m.commits) pack_commit(pk, c);
  }
  void operator()(const PushReply& m) const {
    pk.pack_uint64(m.acked_seq);
    pk.pack_array(static_cast<std::uint32_t>(m.rejections.size()));
    for (const auto& r : m.rejections) {
      pk.pack_array(3);
      pk.pack_uint64(r.seq);
      pk.pack_uint64(static_cast<std::uint32_t>(r.reason));
      pack_text(pk, r.detail);
    }
  }
  void operator()(const Pull& m) const {
    pk.pack_uint64(m.cursor);
    pk.pack_uint64(m.max_commits);
  }
  void operator()(const PullOwn& m) const {
    pk.pack_uint64(m.after_seq);
    pk.pack_uint64(m.max_commits);
  }
  void operator()(const PullReply& m) const {
    pk.pack_array(static_cast<std::uint32_t>(m.commits.size()));
    for (const auto& c : m.commits) {
      pk.pack_array(2);
      pk.pack_uint64(c.server_seq);
      pack_commit(pk, c.commit);
    }
    pk.pack_uint64(m.next_cursor);
    pack_bool(pk, m.more);
  }
  void operator()(const Purge& m) const {
    pk.pack_array(static_cast<std::uint32_t>(m.scopes.size()));
    for (const auto& s : m.scopes) pack_bytes(pk, s.bytes);
  }
  void operator()(const ErrorMessage& m) const {
    pk.pack_uint64(static_cast<std::uint32_t>(m.code));
    pack_text(pk, m.message);
  }
  void operator()(const Close&) const {}
  void operator()(const FetchProjections& m) const {
    pk.pack_uint64(m.cursor);
    pk.pack_uint64(m.max_projections);
  }
  void operator()(const ProjectionBatch& m) const {
    pk.pack_array(static_cast<std::uint32_t>(m.projections.size()));
    for (const auto& p : m.projections) {
      pk.pack_array(4);
      pack_bytes(pk, p.scope.bytes);
      pk.pack_uint64(p.server_seq);
      pack_text(pk, p.body);
      pack_bytes(pk, p.signature);
    }
    pk.pack_uint64(m.next_cursor);
    pack_bool(pk, m.more);
  }
  void operator()(const KeyWrapsRequest&) const {}
  void operator()(const KeyWraps& m) const {
    pk.pack_array(static_cast<std::uint32_t>(m.wraps.size()));
    for (const auto& w : m.wraps) {
      pk.pack_array(4);
      pack_text(pk, w.compartment);
      pk.pack_uint64(w.generation);
      pack_bytes(pk, w.sealed);
      pack_bytes(pk, w.signature);
    }
  }
  void operator()(const DirectoryRequest& m) const { pk.pack_uint64(m.cursor); }
  void operator()(const Directory& m) const {
    pk.pack_array(static_cast<std::uint32_t>(m.offices.size()));
    for (const auto& o : m.offices) {
      pk.pack_array(4);
      pack_text(pk, o.code);
      pack_text(pk, o.name);
      pack_text(pk, o.kind);
      pack_text(pk, o.region);
    }
    pk.pack_array(static_cast<std::uint32_t>(m.devices.size()));
    for (const auto& d : m.devices) {
      pk.pack_array(3);
      pack_bytes(pk, d.device.bytes);
      pack_bytes(pk, d.sign_key);
      pack_text(pk, d.office);
    }
    pk.pack_uint64(m.next_cursor);
    pack_bool(pk, m.more);
  }
};

}  // namespace

MessageType type_of(const Message& message) {
  // The variant's alternatives are in type-number order (1 + index).
  return static_cast<MessageType>(message.index() + 1);
}

[[nodiscard]] Result<void> validate(const Message& message) { return std::visit(Validator{}, message); }

[[nodiscard]] Result<Bytes> encode(const Message& message) {
  TEDUH_TRY(validate(message));
  const MessageType type = type_of(message);
  msgpack::sbuffer buffer;
  Packer pk(buffer);
  // Hello's optional third field (acked_seq) is present exactly when it is not 0.
  const bool optional_field = type == MessageType::hello && std::get<Hello>(message).acked_seq > 0;
  pk.pack_array(static_cast<std::uint32_t>(1 + *field_count(static_cast<std::uint64_t>(type)) + (optional_field ? 1 : 0)));
  pk.pack_uint64(static_cast<std::uint64_t>(type));
  std::visit(Writer{pk}, message);
  if (buffer.size() > kMaxMessageSize) return fail(Errc::malformed, "message too large");
  const auto* p = reinterpret_cast<const std::uint8_t*>(buffer.data());
  return Bytes(p, p + buffer.size());
}

[[nodiscard]] Result<Message> decode(ByteView bytes) {
  if (bytes.empty() || bytes.size() > kMaxMessageSize) return malformed("size");
  Reader r(bytes);
  auto n = r.array();
  if (!n || *n == 0) return malformed("not an array");
  auto type = r.uint();
  if (!type) return malformed("type");
  auto fields = field_count(*type);
  if (!fields) return malformed("unknown message type");
  // Hello may carry one optional field after its two (acked_seq, WIRE.md).
  const bool optional_field = *type == static_cast<std::uint64_t>(MessageType::hello) && *n == 2 + *fields;
  if (*n != 1 + *fields && !optional_field) return malformed("wrong number of fields");
  auto message = read_body(r, static_cast<MessageType>(*type));
  if (!message) return message;
  if (optional_field) {
    auto acked = TEDUH_TRY(read_u64(r, "hello acked seq"));
    // 0 is said by leaving the field out: one encoding per message.
    if (acked == 0) return malformed("hello acked seq of 0 sent");
    std::get<Hello>(*message).acked_seq = acked;
  }
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
