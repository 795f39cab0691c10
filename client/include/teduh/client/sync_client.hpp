#pragma once
// `teduh sync`: one session with the server (sync-protocol/PROTOCOL.md, WIRE.md).
//
// Connects over TCP, runs the Noise_XX handshake as initiator with the server key pinned
// at enrollment, says Hello, registers on first contact with the enrollment code, checks
// a store restored from an older copy against what the server holds, pushes this
// device's commits after the last sequence the server acknowledged, fetches back its own
// commits a restored store lacks, fetches the directory, then pulls commits after the
// cursor in bounded batches; then shelter keys (with clearance) and projections (central
// office). Each pulled batch is applied with the merge rule and the new cursor recorded
// in the same transaction, so a sync cut off at any point loses nothing and applies
// nothing twice: the next sync resumes where the last acknowledged step ended.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "teduh/client/store.hpp"

namespace teduh::client {

struct SyncReport {
  std::uint64_t pushed = 0;              // commits the server accepted in this session
  std::uint64_t rejected = 0;            // commits the server refused (kept locally, reported)
  std::uint64_t pulled = 0;              // commits received that this replica did not hold
  std::uint64_t projections = 0;         // de-identified case projections received (central office)
  std::uint64_t purged = 0;              // cases removed: this office no longer holds them
  std::uint64_t shelter_keys = 0;        // compartment key generations newly received
  std::string shelter_notice;            // why shelter keys could not be received, if so
  std::uint64_t conflicts_new = 0;       // fields newly in conflict after this sync
  std::uint64_t conflicts_total = 0;     // fields in conflict now
  bool registered_now = false;           // this session registered the device
  // Commits the server had acknowledged to this device but no longer holds (its store
  // was rolled back or restored): pushed again in this session; the administrator
  // should be told. 0 normally.
  std::uint64_t server_lost = 0;
  // The store was restored from an older copy (PROTOCOL.md section 5B): the server held
  // seqs of this device up to server_had that the store lacked or held otherwise.
  bool restored = false;
  std::uint64_t server_had = 0;
  std::uint64_t reissued = 0;   // local commits renumbered after server_had and pushed
  std::uint64_t recovered = 0;  // this device's own commits fetched back from the server
  std::vector<std::string> rejections;   // one line per refused commit: seq and reason
  std::vector<std::string> clock_ahead;  // devices whose clock runs far ahead (hex ids)
  // Pulled commits not applied: they name an entity of another case (PROTOCOL.md 5).
  std::vector<std::string> skipped;      // one line per commit: device, seq and reason
};

// The byte stream a sync runs over: TCP in production (connect_tcp), a simulated
// network in the deterministic simulation (tests/sim). Frames are the wire's
// length-prefixed frames (WIRE.md section 1); both calls fail with Errc::unreachable when
// the link drops or times out.
class Link {
 public:
  virtual ~Link() = default;
  [[nodiscard]] virtual Result<void> write_all(const std::vector<std::uint8_t>& bytes) = 0;
  // The next whole frame's payload.
  [[nodiscard]] virtual Result<std::vector<std::uint8_t>> read_frame() = 0;
  // HOST:PORT, for messages.
  [[nodiscard]] virtual const std::string& address() const = 0;
};
using LinkFactory = std::function<Result<std::unique_ptr<Link>>(const std::string& address, int timeout_ms)>;

// A TCP connection to HOST:PORT whose connect and reads are bounded by timeout_ms.
[[nodiscard]] Result<std::unique_ptr<Link>> connect_tcp(const std::string& address, int timeout_ms);

struct SyncOptions {
  int timeout_ms = 30000;  // connect and every read; TEDUH_SYNC_TIMEOUT_MS overrides
  std::uint32_t pull_batch = 1000;
  std::size_t push_batch = 512;
  // Called with (pushed, pulled) while a sync moves many commits.
  std::function<void(std::uint64_t, std::uint64_t)> progress;
  // How to reach the server; empty: connect_tcp to the enrolled address.
  LinkFactory connect;
  // Overlap a pull's receiving, applying and checkpointing on helper threads. The
  // simulation turns it off: one thread, so one seed decides every interleaving.
  bool pipeline = true;
};

// The options `teduh sync` and the office app use: defaults, with TEDUH_SYNC_TIMEOUT_MS
// (milliseconds) for the connect and read timeout when set.
[[nodiscard]] SyncOptions sync_options_from_environment();

// The report as `teduh sync --json` prints it (no names, NIK or field values).
[[nodiscard]] nlohmann::json sync_report_json(const SyncReport& report);

// The last sync that ended well on this device, recorded in meta "last_sync" by whoever ran
// it (`teduh sync`, the office app): {"at": UTC text, pushed, pulled, rejected, purged,
// conflicts_new, conflicts}. Counts only. last_sync() is nullopt before the first one.
[[nodiscard]] Result<void> record_last_sync(Store& store, const SyncReport& report,
                                            std::uint64_t now_ms);
[[nodiscard]] Result<std::optional<nlohmann::json>> last_sync(const Store& store);

// Runs one sync session. Errc::unreachable when the server cannot be reached or the
// link drops (local work is kept); Errc::refused when the server refuses this device
// (revoked, enrollment refused) or its key is not the pinned one.
[[nodiscard]] Result<SyncReport> sync_with_server(Store& store, const SyncOptions& options);

}  // namespace teduh::client
