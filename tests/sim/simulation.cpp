#include "sim/simulation.hpp"

#include "support/fault_vfs.hpp"
#include "support/forge.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "teduh/client/compartment.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/sync_client.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/crypto/noise.hpp"
#include "teduh/crypto/secure.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/server/server_store.hpp"
#include "teduh/server/sync_session.hpp"
#include "teduh/sync/enrollment.hpp"
#include "teduh/sync/frame.hpp"
#include "teduh/sync/hlc.hpp"
#include "teduh/sync/wire.hpp"

namespace teduh::sim {
namespace {

namespace fs = std::filesystem;
namespace wire = sync::wire;
using client::Store;
using client::FieldInput;
using client::Workflow;
using nlohmann::json;

constexpr const char* kOfficePassphrase = "perahu-kertas-bising-kacau";
constexpr const char* kServerPassphrase = "benang-hijau-melompat-kacau";
constexpr std::uint64_t kMinuteMs = 60ull * 1000;
constexpr std::uint64_t kHourMs = 60 * kMinuteMs;
constexpr std::uint64_t kDayMs = 24 * kHourMs;
constexpr const char* kCompartment = "rumah_aman";

// ---------------------------------------------------------------------------------------
// Randomness: libsodium's randombytes as a ChaCha20 stream keyed by the seed.

struct DeterministicRandom {
  std::mutex mutex;
  std::array<unsigned char, crypto_stream_chacha20_KEYBYTES> key{};
  std::uint64_t block = 0;
};
DeterministicRandom g_random;

void random_buf(void* out, size_t size) {
  std::lock_guard lock(g_random.mutex);
  std::array<unsigned char, crypto_stream_chacha20_NONCEBYTES> nonce{};
  std::memcpy(nonce.data(), &g_random.block, sizeof g_random.block);
  ++g_random.block;
  crypto_stream_chacha20(static_cast<unsigned char*>(out), size, nonce.data(), g_random.key.data());
}
uint32_t random_u32() {
  uint32_t v;
  random_buf(&v, sizeof v);
  return v;
}
const char* random_name() { return "teduh-sim"; }
randombytes_implementation g_impl = {random_name, random_u32, nullptr, nullptr, random_buf, nullptr};

std::uint64_t splitmix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void reseed_randomness(std::uint64_t seed) {
  std::lock_guard lock(g_random.mutex);
  std::uint64_t s = seed ^ 0x7465647568ull;
  for (std::size_t i = 0; i < g_random.key.size(); i += 8) {
    const std::uint64_t v = splitmix(s);
    std::memcpy(g_random.key.data() + i, &v, 8);
  }
  g_random.block = 0;
}

// The workload's and the network's draws (two streams, so that turning faults off does
// not change which operations run).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() { return splitmix(state_); }
  // Uniform in [lo, hi].
  std::uint64_t range(std::uint64_t lo, std::uint64_t hi) { return lo + next() % (hi - lo + 1); }
  bool chance(double p) { return static_cast<double>(next() % 1000000) < p * 1000000.0; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[next() % v.size()];
  }

 private:
  std::uint64_t state_;
};

// ---------------------------------------------------------------------------------------
// Clocks: one simulated time, and the skew of the actor acting now.

std::atomic<std::uint64_t> g_now_ms{0};
std::atomic<std::int64_t> g_skew_ms{0};

std::uint64_t sim_clock() {
  const std::int64_t t = static_cast<std::int64_t>(g_now_ms.load()) + g_skew_ms.load();
  return t < 0 ? 0 : static_cast<std::uint64_t>(t);
}

// Runs `fn` with the server's clock (skew 0), then gives the caller's back.
template <class Fn>
auto as_server(Fn&& fn) {
  const std::int64_t saved = g_skew_ms.exchange(0);
  struct Restore {
    std::int64_t saved;
    ~Restore() { g_skew_ms.store(saved); }
  } restore{saved};
  return fn();
}

std::string hex8(const sync::Id128& id) { return id.hex().substr(0, 8); }

struct Failure {
  std::string what;
};
// An operation given up because the disk failed under it (only while a disk fault is on).
struct Abandoned {};
[[noreturn]] void fail_with(std::string what) { throw Failure{std::move(what)}; }

// ---------------------------------------------------------------------------------------
// The server and the network.

struct ServerActor {
  fs::path dir;
  std::optional<server::ServerStore> store;
  std::uint64_t next_connection = 1;
  server::ServerStore& get() { return *store; }
  // The Noise static key, derived from the signing key once per opening of the store, as
  // serve.cpp derives it once when teduhd starts (not once per connection).
  const crypto::DhKeyPair& dh_key() {
    if (!dh) dh.emplace(store->signing_key().to_dh());
    return *dh;
  }
  std::optional<crypto::DhKeyPair> dh;  // reset with the store
};

struct NetFaults {
  double cut = 0;         // a request never arrives; the link is dead
  double lose_reply = 0;  // the server acts on a request, its reply is lost, the link dies
  double duplicate = 0;   // a request's frame arrives twice (the server drops the session)
};

// One connection: the device's end of a link whose other end is an in-process server.
class SimLink final : public client::Link {
 public:
  SimLink(ServerActor& server, Rng& net, NetFaults faults, std::string address)
      : server_(server), net_(net), faults_(faults), address_(std::move(address)) {
    const std::string_view prologue = wire::kNoisePrologue;
    auto hs = crypto::HandshakeState::responder(
        server_.dh_key(),
        crypto::ByteView(reinterpret_cast<const std::uint8_t*>(prologue.data()), prologue.size()));
    if (!hs) fail_with("the simulated server cannot start a handshake");
    handshake_.emplace(std::move(*hs));
    connection_id_ = server_.next_connection++;
  }

  client::Result<void> write_all(const std::vector<std::uint8_t>& bytes) override {
    if (dead_) return lost("the link is down");
    if (net_.chance(faults_.cut)) {
      dead_ = true;
      return {};  // the bytes went into a dead link; the next read notices
    }
    const bool lose = net_.chance(faults_.lose_reply);
    const bool twice = net_.chance(faults_.duplicate);
    as_server([&] {
      deliver(bytes);
      if (twice) deliver(bytes);
    });
    if (lose) {
      dead_ = true;
      to_client_.clear();
    }
    return {};
  }

  client::Result<std::vector<std::uint8_t>> read_frame() override {
    for (;;) {
      if (auto f = decoder_.next()) return std::move(*f);
      if (to_client_.empty() || dead_) return lost(server_closed_ ? "the server closed the connection" : "no answer");
      if (auto fed = decoder_.feed(wire::ByteView(to_client_.data(), to_client_.size())); !fed) {
        return tl::unexpected(client::Error{client::Errc::refused, "malformed frame from the simulated server"});
      }
      to_client_.clear();
    }
  }

  const std::string& address() const override { return address_; }

 private:
  tl::unexpected<client::Error> lost(const std::string& why) {
    return tl::unexpected(client::Error{client::Errc::unreachable, "The server at " + address_ +
                                                                       " cannot be reached (" + why + ")."});
  }

  void send_bytes(const std::vector<std::uint8_t>& b) { to_client_.insert(to_client_.end(), b.begin(), b.end()); }

  // The server's side: what serve.cpp's run_session does with each frame.
  void deliver(const std::vector<std::uint8_t>& bytes) {
    if (server_closed_) return;
    if (!server_decoder_.feed(wire::ByteView(bytes.data(), bytes.size()))) {
      server_closed_ = true;
      return;
    }
    while (!server_closed_) {
      auto frame = server_decoder_.next();
      if (!frame) return;
      if (stage_ == 0) {
        if (!handshake_->read_message(*frame)) return close();
        auto m2 = handshake_->write_message({});
        if (!m2) return close();
        auto f2 = wire::encode_frame(*m2);
        if (!f2) return close();
        send_bytes(*f2);
        stage_ = 1;
      } else if (stage_ == 1) {
        if (!handshake_->read_message(*frame)) return close();
        auto transport = std::move(*handshake_).split();
        if (!transport) return close();
        const crypto::DhPublicKey peer = transport->remote_static();
        channel_.emplace(std::move(*transport));
        session_.emplace(server_.get(), peer, connection_id_);
        stage_ = 2;
      } else {
        auto opened = channel_->open(*frame);
        if (!opened) return close();
        if (!*opened) continue;
        server::SessionStep step = session_->handle(**opened);
        for (const wire::Message& m : step.replies) {
          auto sealed = channel_->seal(m);
          if (!sealed) fail_with("the server could not encode a reply: " + sealed.error().message);
          send_bytes(*sealed);
        }
        if (step.after != server::SessionStep::After::keep) return close();
      }
    }
  }
  void close() { server_closed_ = true; }

  ServerActor& server_;
  Rng& net_;
  NetFaults faults_;
  std::string address_;
  std::uint64_t connection_id_ = 0;
  std::optional<crypto::HandshakeState> handshake_;
  std::optional<wire::SecureChannel> channel_;
  std::optional<server::SyncSession> session_;
  int stage_ = 0;
  wire::FrameDecoder server_decoder_;
  wire::FrameDecoder decoder_;
  std::vector<std::uint8_t> to_client_;
  bool dead_ = false;
  bool server_closed_ = false;
};

// ---------------------------------------------------------------------------------------
// Offices, devices, and the reference model.

struct Office {
  std::string code;
  std::string kind;
};

struct Device {
  int index = 0;
  std::string office;
  std::string kind;
  std::string role;
  bool shelter = false;  // enrolled with shelter clearance
  bool cleared = false;  // `teduhd device clear` ran for it
  bool hostile = false;
  bool revoked = false;
  fs::path dir;
  std::optional<Store> store;
  std::int64_t skew_ms = 0;
  std::vector<fs::path> snapshots;
  std::uint64_t acked = 0;  // the greatest seq the server acknowledged to this device
  sync::DeviceId id;
  std::string label() const { return "device " + std::to_string(index) + " (" + office + ", " + role + ")"; }
};

// A commit the hostile device forged, and what must become of it.
struct Forged {
  std::uint64_t seq = 0;
  std::string kind;
  sync::EntityId target_scope;
};

struct CaseModel {
  sync::EntityId id;
  std::string owner;      // the creating office, then whoever accepted a transfer
  std::string creator;    // the creating office
  int created_by = -1;    // device index
  std::set<std::string> ever_named;  // offices a referral or transfer ever named
};

// The transfer acceptances honest devices wrote: (device, seq) -> (case, to_office).
struct Acceptance {
  int device = 0;
  std::uint64_t seq = 0;
  sync::EntityId scope;
  std::string to_office;
  std::uint64_t acked_at_step = 0;  // 0 until the server acknowledged it
  sync::EntityId transfer;
  // The hlc of its `status = diterima` version: it names this acceptance among several of
  // one transfer by one device, and a renumbered commit keeps it (PROTOCOL.md 5B rule 10).
  sync::Hlc hlc = 0;
};

class Simulation {
 public:
  explicit Simulation(const Config& config)
      : config_(config), rng_(config.seed * 2 + 1), net_(config.seed * 2 + 2) {}

  ~Simulation() {
    devices_.clear();
    server_.dh.reset();
    server_.store.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  Outcome run() {
    Outcome out;
    try {
      setup();
      for (step_ = 1; step_ <= config_.ops; ++step_) {
        advance_time();
        one_operation();
        out.steps = step_;
      }
      quiesce_and_check();
    } catch (const Failure& f) {
      out.ok = false;
      out.failure = "step " + std::to_string(step_) + ": " + f.what;
    }
    out.op_counts = counts_;
    out.checks = checks_;
    out.devices = n_devices_;
    out.offices = n_offices_;
    return out;
  }

 private:
  // ----- setup -------------------------------------------------------------------------

  static testing::FaultVfs& vfs() { return testing::FaultVfs::install(true); }

  void setup() {
    reseed_randomness(config_.seed);
    vfs().reset();
    vfs().set_seed(config_.seed * 2 + 3);
    g_now_ms = 1780000000000ull + rng_.range(0, 300) * kDayMs;  // mid 2026, drawn
    g_skew_ms = 0;
    sync::set_clock_source(&sim_clock);
    root_ = config_.root / ("teduh-sim-" + std::to_string(::getpid()) + "-" + std::to_string(config_.seed));
    std::error_code ec;
    fs::remove_all(root_, ec);
    fs::create_directories(root_);

    const int offices = static_cast<int>(rng_.range(2, 5));
    const int devices = static_cast<int>(rng_.range(3, 12));
    const bool hostile = rng_.chance(0.5);
    n_offices_ = config_.offices.value_or(offices);
    n_devices_ = std::max(config_.devices.value_or(devices), n_offices_);
    with_hostile_ = config_.hostile.value_or(hostile);
    if (config_.faults) {
      faults_.cut = 0.03;
      faults_.lose_reply = 0.03;
      faults_.duplicate = 0.01;
    }

    server_.dir = root_ / "server";
    auto created = as_server([&] {
      return server::ServerStore::create(server_.dir, kServerPassphrase, crypto::KdfParams{1, 8192});
    });
    if (!created) fail_with("cannot create the server store: " + created.error().message);
    server_.store.emplace(std::move(*created));
    admin_.emplace(server::AdminKey{crypto::SigningKey::generate(), crypto::DhKeyPair::generate()});
    check_ok(server_.get().set_admin_public(admin_->public_keys()), "set the administrator key");

    // Office kinds: a Dinas, a UPTD PPA, then drawn; a central office in some seeds.
    const std::vector<std::string> kinds = {"dinas", "uptd_ppa", "kelurahan", "mitra", "dinas"};
    for (int i = 0; i < n_offices_; ++i) {
      std::string kind = i < 2 ? kinds[static_cast<std::size_t>(i)] : rng_.pick(kinds);
      if (i == n_offices_ - 1 && n_offices_ > 2 && rng_.chance(0.4)) kind = "pusat";
      Office o{"SIM-" + std::string(1, static_cast<char>('A' + i)), kind};
      check_ok(as_server([&] {
                 return server_.get().add_office(
                     server::NewOffice{o.code, "Kantor Simulasi " + o.code, o.kind, "3275", ""});
               }),
               "add office " + o.code);
      offices_.push_back(o);
    }
    // Every office but the central one gets a pendamping first (it may do everything).
    const std::vector<std::string> roles = {"pendamping", "operator", "supervisor", "kepala", "petugas_rumah_aman"};
    for (int i = 0; i < n_devices_; ++i) {
      const Office& o = offices_[static_cast<std::size_t>(i % n_offices_)];
      std::string role = i < n_offices_ ? "pendamping" : rng_.pick(roles);
      if (o.kind == "pusat") role = "analis";
      const bool shelter = o.kind != "pusat" && (role == "pendamping" || role == "petugas_rumah_aman") &&
                           rng_.chance(0.5);
      enroll(o, role, shelter, false);
    }
    if (with_hostile_) {
      // The hostile device: an operator of a real office whose owner bypasses the client.
      const Office& o = offices_[rng_.range(0, 1)];
      enroll(o, "operator", false, true);
    }
  }

  void enroll(const Office& o, const std::string& role, bool shelter, bool hostile) {
    auto code = as_server([&] {
      return server_.get().issue_enrollment(server::EnrollRequest{o.code, "pengguna-" + std::to_string(devices_.size()),
                                                                  role, shelter, 365});
    });
    if (!code) fail_with("cannot issue an enrollment: " + code.error().message);
    auto d = std::make_unique<Device>();
    d->index = static_cast<int>(devices_.size());
    d->office = o.code;
    d->kind = o.kind;
    d->role = role;
    d->shelter = shelter;
    d->hostile = hostile;
    d->dir = root_ / ("device-" + std::to_string(d->index));
    fs::create_directories(d->dir);
    auto grant = sync::verify_enrollment_code(code->code, server_.get().signing_key().public_key(), sim_clock());
    if (!grant) fail_with("an enrollment code does not verify");
    client::Identity id;
    id.device = sync::Id128::random();
    id.signing_key = crypto::SigningKey::generate();
    id.grant = *grant;
    id.enrollment_code = code->code;
    id.server_address = "sim:1";
    id.server_key = server_.get().signing_key().public_key();
    d->id = id.device;
    client::StoreOptions so{d->dir / "store.db", kOfficePassphrase, crypto::KdfParams{1, 8192}};
    auto store = Store::create(so, std::move(id));
    if (!store) fail_with("cannot create a device store: " + store.error().message);
    d->store.emplace(std::move(*store));
    devices_.push_back(std::move(d));
  }

  template <class R>
  void check_ok(const R& r, const std::string& what) {
    if (!r) fail_with("cannot " + what + ": " + r.error().message);
  }

  // ----- the workload --------------------------------------------------------------------

  void advance_time() { g_now_ms += rng_.range(1, 30) * 1000 + (rng_.chance(0.05) ? rng_.range(1, 48) * kHourMs : 0); }

  void note(const std::string& op) {
    ++counts_[op];
    if (config_.verbose) std::cerr << "sim step " << step_ << ": device " << current_ << " " << op << "\n";
  }

  void trace(const std::string& line) {
    if (config_.verbose) std::cerr << line << "\n";
  }

  Device& any_device() { return *devices_[rng_.next() % devices_.size()]; }

  void act_as(Device& d) { g_skew_ms = d.skew_ms; }

  void one_operation() {
    Device& d = any_device();
    current_ = d.index;
    act_as(d);
    const std::uint64_t r = rng_.range(0, 999);
    if (!d.store) return;
    if (d.hostile) {
      if (r < 450) return sync_device(d, "sync");
      return forge(d);
    }
    if (r < 260) return sync_device(d, "sync");
    if (d.kind == "pusat") {
      if (r < 300) return restart(d);
      return;
    }
    if (r < 350) return new_case(d);
    if (r < 480) return edit_case(d);
    if (r < 530) return add_record(d);
    if (r < 570) return resolve(d);
    if (r < 620) return refer(d);
    if (r < 680) return respond(d);
    if (r < 700) return end_or_withdraw(d);
    if (r < 730) return transfer(d);
    if (r < 745) return merge(d);
    if (r < 775) return shelter(d);
    if (r < 790) return close(d);
    if (r < 830) return restart(d);
    if (r < 860) return snapshot_or_restore(d);
    if (r < 880) return clock_jump(d);
    if (r < 930) return admin(d);
    if (r < 945) return restart_server();
    if (config_.disk_faults) {
      if (r < 960) return crash_device(d);
      if (r < 975) return under_disk_fault(d);
      if (r < 985) return crash_server();
    }
    return sync_device(d, "sync");
  }

  std::vector<sync::EntityId> held_cases(Device& d) {
    std::vector<sync::EntityId> out;
    auto cases = d.store->entities("kasus");
    if (!cases && disk_fault_active_) throw Abandoned{};
    if (!cases) fail_with(d.label() + " cannot list its cases: " + cases.error().message);
    for (const auto& c : *cases) out.push_back(c.id);
    return out;
  }

  std::optional<sync::EntityId> pick_case(Device& d) {
    auto cases = held_cases(d);
    if (cases.empty()) return std::nullopt;
    return cases[rng_.next() % cases.size()];
  }

  // A workflow call either succeeds or is refused with a sentence; an internal or
  // damaged error is a defect.
  template <class R>
  bool tolerate(const R& r, Device& d, const std::string& what) {
    if (r) return true;
    const auto code = r.error().code;
    if ((code == client::Errc::internal || code == client::Errc::damaged) && !disk_fault_active_) {
      fail_with(d.label() + " failed to " + what + ": " + r.error().message);
    }
    if (config_.verbose) std::cerr << "  refused: " << r.error().message << "\n";
    return false;
  }

  std::string gen(const char* prefix) { return std::string(prefix) + "-" + std::to_string(rng_.range(1000, 9999)); }

  void new_case(Device& d) {
    note("new_case");
    Workflow wf(*d.store);
    const std::string victim = "Korban " + gen("Sim");
    auto id = wf.new_case({{"summary", "Ringkasan " + gen("r")}}, {{"name", victim}});
    if (!tolerate(id, d, "record a case")) return;
    victim_names_.insert(victim);
    trace("  case " + hex8(*id));
    CaseModel m;
    m.id = *id;
    m.owner = m.creator = d.office;
    m.created_by = d.index;
    cases_.emplace(*id, m);
  }

  void edit_case(Device& d) {
    auto c = pick_case(d);
    if (!c) return new_case(d);
    note("set_case");
    Workflow wf(*d.store);
    const std::uint64_t r = rng_.range(0, 3);
    FieldInput fields;
    if (r == 0) fields = {{"summary", "Ringkasan " + gen("u")}};
    else if (r == 1) fields = {{"korban.name", "Korban " + gen("Ubah")}};
    else if (r == 2) fields = {{"status", rng_.pick(std::vector<std::string>{"asesmen", "penanganan", "pemantauan"})}};
    else fields = {{"summary", "Ringkasan " + gen("v")}, {"status", "asesmen"}};
    if (fields[0].first == "korban.name") victim_names_.insert(fields[0].second);
    (void)tolerate(wf.set_case(*c, fields), d, "change a case");
  }

  void add_record(Device& d) {
    auto c = pick_case(d);
    if (!c) return;
    Workflow wf(*d.store);
    if (rng_.chance(0.5)) {
      note("add_service");
      (void)tolerate(wf.add_service(*c, {{"kind", rng_.pick(std::vector<std::string>{"konseling", "penjangkauan",
                                                                                     "pendampingan_hukum"})}}),
                     d, "add a service");
    } else if (rng_.chance(0.7)) {
      note("add_person");
      const std::string name = "Terlapor " + gen("P");
      victim_names_.insert(name);
      (void)tolerate(wf.add_person(*c, "terlapor", {{"name", name}}, "orang_tua"), d, "add a person");
    } else {
      note("remove_entity");
      auto people = d.store->entities("orang", &*c);
      if (!people || people->size() < 2) return;
      (void)tolerate(wf.remove_entity(*c, (*people)[rng_.next() % people->size()].id), d, "remove a record");
    }
  }

  void resolve(Device& d) {
    Workflow wf(*d.store);
    auto conflicts = d.store->conflicted_fields();
    if (!conflicts && disk_fault_active_) throw Abandoned{};
    if (!conflicts) fail_with(d.label() + " cannot list conflicts");
    if (conflicts->empty()) return edit_case(d);
    note("resolve");
    const auto& [entity, field] = (*conflicts)[rng_.next() % conflicts->size()];
    auto e = d.store->entity(entity);
    if (!e || !*e) return;
    auto lives = d.store->live_versions(entity, field);
    if (!lives || lives->empty()) return;
    const std::string value = (*lives)[rng_.next() % lives->size()].value;
    const sync::EntityId scope = (*e)->scope;
    const std::string target = (*e)->type == "kasus" ? field : entity.hex() + "." + field;
    (void)tolerate(wf.resolve(scope, target, value), d, "settle a conflict");
  }

  std::string other_office(const std::string& mine, bool allow_unknown) {
    if (allow_unknown && rng_.chance(0.08)) return "SIM-Z";  // a code no office has
    std::vector<std::string> codes;
    for (const auto& o : offices_) {
      if (o.code != mine) codes.push_back(o.code);
    }
    return rng_.pick(codes);
  }

  void refer(Device& d) {
    auto c = pick_case(d);
    if (!c) return;
    note("refer");
    const std::string to = other_office(d.office, true);
    trace("  case " + hex8(*c) + " to " + to);
    auto r = Workflow(*d.store).refer(*c, to, "Butuh layanan lanjutan", true, "korban", false);
    if (tolerate(r, d, "refer a case") && cases_.contains(*c)) cases_[*c].ever_named.insert(to);
  }

  void respond(Device& d) {
    // A referral or transfer sent to this office and still open.
    Workflow wf(*d.store);
    for (const char* type : {"alih_kelola", "rujukan"}) {
      auto records = d.store->entities(type);
      if (!records && disk_fault_active_) throw Abandoned{};
      if (!records) fail_with(d.label() + " cannot list " + type);
      std::vector<client::EntityView> open;
      for (const auto& e : *records) {
        const std::string status = e.get("status");
        if (e.get("to_office") == d.office && !e.deleted() && (status == "dikirim" || status == "diajukan")) {
          open.push_back(e);
        }
      }
      if (open.empty()) continue;
      const client::EntityView& e = open[rng_.next() % open.size()];
      const bool accept = rng_.chance(0.8);
      const bool is_transfer = std::string(type) == "alih_kelola";
      note(is_transfer ? (accept ? "accept_transfer" : "decline_transfer")
                       : (accept ? "accept_referral" : "decline_referral"));
      const std::uint64_t before = d.store->last_seq();
      trace("  case " + hex8(e.scope) + " " + type + " to " + e.get("to_office"));
      auto r = is_transfer ? wf.respond_transfer(e.id, accept) : wf.respond_referral(e.id, accept);
      if (tolerate(r, d, "answer a referral or transfer") && is_transfer && accept) {
        // The acceptance is the first commit written after `before` in that case.
        acceptances_.push_back(Acceptance{d.index, before + 1, e.scope, d.office, 0, e.id,
                                          acceptance_hlc(d, before, e.scope, e.id)});
      }
      return;
    }
  }

  // The hlc of the first `status = diterima` version of `transfer` this device wrote after
  // seq `before`.
  sync::Hlc acceptance_hlc(Device& d, std::uint64_t before, const sync::EntityId& scope,
                           const sync::EntityId& transfer) {
    auto st = schema::Statement::prepare(
        d.store->db(), "SELECT body FROM commits WHERE device = ?1 AND scope = ?2 AND seq > ?3 ORDER BY seq");
    if (!st) fail_with(d.label() + " cannot read its commits");
    st->bind_blob(1, bytes_of(d.id)).bind_blob(2, bytes_of(scope));
    st->bind(3, static_cast<std::int64_t>(before));
    for (;;) {
      auto row = st->step();
      if (!row || !*row) break;
      auto c = sync::decode_commit_body(st->column_blob(0));
      if (!c) continue;
      for (const auto& v : c->versions) {
        if (v.entity == transfer && v.field == "status" && v.value == "diterima") return v.hlc;
      }
    }
    fail_with(d.label() + " holds no commit of the transfer acceptance it just wrote");
  }

  void end_or_withdraw(Device& d) {
    auto c = pick_case(d);
    if (!c) return;
    Workflow wf(*d.store);
    if (rng_.chance(0.5)) {
      auto refs = d.store->entities("rujukan", &*c);
      if (!refs || refs->empty()) return;
      const auto& e = (*refs)[rng_.next() % refs->size()];
      note("end_referral");
      (void)tolerate(wf.end_referral(e.id), d, "end a referral");
    } else {
      auto consents = d.store->entities("persetujuan", &*c);
      if (!consents || consents->empty()) return;
      const auto& e = (*consents)[rng_.next() % consents->size()];
      note("withdraw_consent");
      (void)tolerate(wf.withdraw_consent(e.id), d, "record a withdrawn consent");
    }
  }

  void transfer(Device& d) {
    auto c = pick_case(d);
    if (!c) return;
    note("transfer");
    const std::string to = other_office(d.office, true);
    trace("  case " + hex8(*c) + " to " + to);
    auto r = Workflow(*d.store).transfer(*c, to, true, "korban");
    if (tolerate(r, d, "propose a transfer") && cases_.contains(*c)) cases_[*c].ever_named.insert(to);
  }

  void merge(Device& d) {
    auto cases = held_cases(d);
    if (cases.size() < 2) return;
    note("merge_cases");
    const auto& a = cases[rng_.next() % cases.size()];
    const auto& b = cases[rng_.next() % cases.size()];
    if (a == b) return;
    (void)tolerate(Workflow(*d.store).merge_cases(a, b), d, "merge two cases");
  }

  void shelter(Device& d) {
    Workflow wf(*d.store);
    auto shelters = wf.list_shelters();
    if (!tolerate(shelters, d, "list shelters")) return;
    auto held = d.store->entities("rumah_aman");
    if (held && !held->empty() && rng_.chance(0.6)) {
      auto c = pick_case(d);
      if (!c) return;
      note("place");
      const auto& s = (*held)[rng_.next() % held->size()];
      (void)tolerate(wf.place(*c, s.id, "2026-03-01"), d, "place a victim");
      return;
    }
    note("add_shelter");
    const std::string marker = "RAHASIA" + std::to_string(config_.seed) + "X" + std::to_string(markers_.size());
    auto r = wf.add_shelter({{"code_name", "RA-" + gen("s")},
                             {"name", "Nama " + marker},
                             {"address", "Jalan " + marker}});
    if (tolerate(r, d, "record a shelter")) markers_.push_back(marker);
  }

  void close(Device& d) {
    auto c = pick_case(d);
    if (!c) return;
    note("close_case");
    (void)tolerate(Workflow(*d.store).close_case(*c, "Layanan selesai"), d, "close a case");
  }

  void reopen(Device& d) {
    auto s = Store::open(d.dir / "store.db", kOfficePassphrase);
    if (!s) fail_with(d.label() + " cannot reopen its store: " + s.error().message);
    d.store.emplace(std::move(*s));
  }

  void restart(Device& d) {
    note("restart_device");
    d.store.reset();
    reopen(d);
  }

  void snapshot_or_restore(Device& d) {
    d.store.reset();
    if (!d.snapshots.empty() && rng_.chance(0.4)) {
      note("restore_from_copy");
      const fs::path& from = d.snapshots[rng_.next() % d.snapshots.size()];
      trace("  from " + from.filename().string());
      vfs().forget(d.dir);  // the files are replaced outside SQLite
      for (const auto& e : fs::directory_iterator(d.dir)) fs::remove(e.path());
      for (const auto& e : fs::directory_iterator(from)) fs::copy_file(e.path(), d.dir / e.path().filename());
      restored_.insert(d.index);
    } else {
      note("snapshot");
      const fs::path to = d.dir.parent_path() / ("copy-" + std::to_string(d.index) + "-" + std::to_string(step_));
      fs::create_directories(to);
      for (const auto& e : fs::directory_iterator(d.dir)) fs::copy_file(e.path(), to / e.path().filename());
      d.snapshots.push_back(to);
    }
    reopen(d);
  }

  void clock_jump(Device& d) {
    note("clock_jump");
    const std::int64_t hours = static_cast<std::int64_t>(rng_.range(0, 48)) - 24;
    d.skew_ms = rng_.chance(0.3) ? 0 : hours * static_cast<std::int64_t>(kHourMs) / 4;
    act_as(d);
  }

  void admin(Device& d) {
    const std::uint64_t r = rng_.range(0, 9);
    as_server([&] {
      if (r < 5 && d.shelter && !d.cleared && !d.revoked) {
        auto rec = server_.get().find_device(d.id);
        if (!rec || !*rec) return;  // not registered yet
        note("clear_device");
        check_ok(server_.get().clear_device(*admin_, d.id, kCompartment), "clear a device");
        d.cleared = true;
      } else if (r < 8) {
        auto state = server_.get().compartment_state(kCompartment);
        if (!state || state->generation == 0) return;
        note("rotate_key");
        check_ok(server_.get().rotate_compartment(*admin_, kCompartment), "rotate the shelter key");
      } else if (!revoked_once_ && !d.hostile && d.index >= n_offices_) {
        auto rec = server_.get().find_device(d.id);
        if (!rec || !*rec) return;
        note("revoke_device");
        check_ok(server_.get().revoke_device(d.id), "revoke a device");
        d.revoked = true;
        revoked_once_ = true;
      }
    });
  }

  // ----- disks ---------------------------------------------------------------------------

  static const char* kind_name(testing::CrashKind k) {
    return k == testing::CrashKind::power_loss ? "power_loss" : "process_kill";
  }

  // The device's own commits after the last seq the server acknowledged are numbered
  // without a gap up to the next seq it will use (a gap would block every later push:
  // out_of_order). Acknowledged ones may be gone: a purge deletes them with their case.
  void check_no_gap(Device& d) {
    ++checks_["no_seq_gap"];
    auto acked_text = d.store->meta("acked_seq");
    const std::uint64_t acked = acked_text && *acked_text && !(*acked_text)->empty() ? std::stoull(**acked_text) : 0;
    auto st = schema::Statement::prepare(
        d.store->db(), "SELECT count(*), coalesce(max(seq), ?2) FROM commits WHERE device = ?1 AND seq > ?2");
    st->bind_blob(1, bytes_of(d.id)).bind(2, static_cast<std::int64_t>(acked));
    auto row = st->step();
    if (!row || !*row) fail_with(d.label() + " cannot count its commits");
    const auto count = static_cast<std::uint64_t>(st->column_int(0));
    const auto max = static_cast<std::uint64_t>(st->column_int(1));
    if (acked + count != max || (count > 0 && max != d.store->last_seq())) {
      if (config_.verbose) {
        auto all = schema::Statement::prepare(d.store->db(), "SELECT seq, scope FROM commits WHERE device = ?1 ORDER BY seq");
        all->bind_blob(1, bytes_of(d.id));
        for (;;) {
          auto rr = all->step();
          if (!rr || !*rr) break;
          std::cerr << "  own seq " << all->column_int(0) << " scope " << crypto::to_hex(all->column_blob(1)).substr(0, 8) << "\n";
        }
        auto seq = d.store->meta("seq");
        std::cerr << "  meta seq " << (seq && *seq ? **seq : "-") << "\n";
      }
      fail_with(d.label() + " holds " + std::to_string(count) + " commits of its own numbered up to " +
                std::to_string(max) + " and will number the next " + std::to_string(d.store->last_seq() + 1));
    }
  }

  void check_integrity(Device& d) {
    ++checks_["integrity"];
    auto st = schema::Statement::prepare(d.store->db(), "PRAGMA integrity_check");
    auto row = st->step();
    if (!row || !*row || st->column_text(0) != "ok") fail_with(d.label() + "'s store fails its integrity check");
  }

  // Reopens a device after a crash and checks what a crash of that kind may lose.
  void after_crash(Device& d, testing::CrashKind kind, std::uint64_t committed) {
    d.store.reset();
    reopen(d);
    check_integrity(d);
    check_no_gap(d);
    const std::uint64_t now = d.store->last_seq();
    if (kind == testing::CrashKind::process_kill && now < committed) {
      fail_with(d.label() + " lost acknowledged commits " + std::to_string(now + 1) + ".." +
                std::to_string(committed) + " when its process was killed");
    }
    if (now < committed) restored_.insert(d.index);  // a power loss took unsynced commits
  }

  void crash_device(Device& d) {
    const auto kind = rng_.chance(0.5) ? testing::CrashKind::power_loss : testing::CrashKind::process_kill;
    note(std::string("crash_device_") + kind_name(kind));
    const std::uint64_t committed = d.store->last_seq();
    vfs().crash(d.dir, kind);
    after_crash(d, kind, committed);
  }

  // One operation of the device under a disk fault: a crash at its n-th write, I/O
  // errors, or a full disk. Whatever fails must fail with an error, and the store must
  // open afterwards with every commit it acknowledged before.
  void under_disk_fault(Device& d) {
    const std::uint64_t which = rng_.range(0, 2);
    const std::uint64_t committed = d.store->last_seq();
    const auto before = vfs().counts();
    auto kind = rng_.chance(0.5) ? testing::CrashKind::power_loss : testing::CrashKind::process_kill;
    if (which == 0) {
      note(std::string("crash_mid_operation_") + kind_name(kind));
      vfs().arm_crash(d.dir, rng_.range(1, 40), kind);
    } else if (which == 1) {
      note("io_errors");
      const double p = 0.002 * static_cast<double>(rng_.range(1, 20));
      vfs().set_io_errors(d.dir, testing::IoErrorRates{p, p, p, p});
    } else {
      note("disk_full");
      vfs().set_write_budget(d.dir, rng_.range(0, 64) * 1024);
    }
    disk_fault_active_ = true;
    const std::uint64_t r = rng_.range(0, 4);
    try {
      if (r == 0) sync_device(d, "sync");
      else if (r == 1) new_case(d);
      else if (r == 2) edit_case(d);
      else if (r == 3) refer(d);
      else add_record(d);
    } catch (const Abandoned&) {
      trace("  abandoned: the disk failed");
    }
    disk_fault_active_ = false;
    vfs().clear_faults();
    const auto after = vfs().counts();
    if (after.crashes > before.crashes) {
      after_crash(d, kind, committed);
    } else if (after.read_errors + after.write_errors + after.sync_errors + after.truncate_errors + after.full_errors >
               before.read_errors + before.write_errors + before.sync_errors + before.truncate_errors +
                   before.full_errors) {
      // The office restarts the program after an error it did not expect.
      after_crash(d, testing::CrashKind::process_kill, committed);
    }
  }

  void crash_server() {
    note("crash_server");
    as_server([&] {
      vfs().crash(server_.dir, testing::CrashKind::power_loss);
      server_.dh.reset();
      server_.store.reset();
      auto s = server::ServerStore::open(server_.dir, kServerPassphrase);
      if (!s) fail_with("the server cannot reopen its store after a crash: " + s.error().message);
      server_.store.emplace(std::move(*s));
      // It runs synchronous=FULL: nothing it acknowledged may be gone.
      for (auto& dp : devices_) {
        ++checks_["server_crash_keeps_acked"];
        auto last = server_.get().last_acked(dp->id);
        if (!last) fail_with("the server cannot answer last_acked after a crash");
        if (*last < dp->acked) {
          fail_with("a power loss took seqs the server had acknowledged to " + dp->label() + " (" +
                    std::to_string(*last) + " < " + std::to_string(dp->acked) + ")");
        }
      }
    });
  }

  void restart_server() {
    note("restart_server");
    as_server([&] {
      server_.dh.reset();
      server_.store.reset();
      auto s = server::ServerStore::open(server_.dir, kServerPassphrase);
      if (!s) fail_with("the server cannot reopen its store: " + s.error().message);
      server_.store.emplace(std::move(*s));
    });
  }

  // ----- the hostile device --------------------------------------------------------------

  void forge(Device& d) {
    // Cases on the server that this office has never been named in: the office may
    // neither read nor write them, whatever the timing.
    std::vector<sync::EntityId> foreign;
    for (const auto& [id, m] : cases_) {
      if (m.creator != d.office && !m.ever_named.contains(d.office) && on_server(m)) foreign.push_back(id);
    }
    auto own = held_cases(d);
    const std::uint64_t r = rng_.range(0, 6);
    auto& s = *d.store;
    sync::Commit c;
    c.device = d.id;
    c.seq = s.last_seq() + 1;
    c.hlc = sync::make_hlc(sim_clock(), 0);
    auto version = [&](const sync::EntityId& entity, std::string type, std::string field, std::string value,
                       std::vector<sync::VersionId> supersedes = {}) {
      return testing::forged_version(c, entity, std::move(type), std::move(field), std::move(value),
                                     std::move(supersedes));
    };
    std::string kind;
    if (r == 0 && !foreign.empty()) {
      // A write into another office's case: its victim's name and the case's status.
      kind = "write_foreign_case";
      c.scope = foreign[rng_.next() % foreign.size()];
      c.scope_type = "kasus";
      c.versions.push_back(version(c.scope, "kasus", "summary", "Diubah oleh perangkat jahat"));
    } else if (r == 1 && !foreign.empty() && !own.empty()) {
      // An entity of another office's case written through a case this office owns.
      kind = "foreign_entity";
      c.scope = own[rng_.next() % own.size()];
      c.scope_type = "kasus";
      c.versions.push_back(version(foreign[rng_.next() % foreign.size()], "kasus", "summary", "Disusupkan"));
    } else if (r == 2 && !own.empty()) {
      // A takeover: a transfer of a case it holds, "accepted" to its own office.
      kind = "forged_takeover";
      c.scope = own[rng_.next() % own.size()];
      c.scope_type = "kasus";
      const sync::EntityId t = sync::Id128::random();
      c.versions.push_back(version(t, "alih_kelola", "to_office", d.office));
      c.versions.push_back(version(t, "alih_kelola", "status", "diterima"));
      c.versions.push_back(version(c.scope, "kasus", "owner_office", d.office));
    } else if (r == 3 && !own.empty()) {
      // An operator closing a case (the role may not: tutup_kasus).
      kind = "role_violation";
      c.scope = own[rng_.next() % own.size()];
      c.scope_type = "kasus";
      c.versions.push_back(version(c.scope, "kasus", "status", "terminasi"));
    } else if (r == 4 && !own.empty()) {
      // A referral of a case it holds to another office, without any consent: the
      // office named must not gain the case.
      kind = "referral_without_consent";
      c.scope = own[rng_.next() % own.size()];
      c.scope_type = "kasus";
      const sync::EntityId ref = sync::Id128::random();
      c.versions.push_back(version(ref, "rujukan", "case", c.scope.hex()));
      c.versions.push_back(version(ref, "rujukan", "to_office", other_office(d.office, false)));
      c.versions.push_back(version(ref, "rujukan", "status", "dikirim"));
    } else if (r == 5 && !own.empty()) {
      // A supersedes list naming another device's future versions and another entity:
      // stored (the server keeps no per-version index), harmless on every replica, which
      // applies a supersedes entry only within its own entity and field. Convergence and
      // the next edits of that device show it.
      kind = "foreign_supersedes";
      c.scope = own[rng_.next() % own.size()];
      c.scope_type = "kasus";
      const Device& victim = *devices_[rng_.next() % (devices_.size() - 1)];  // not itself (the last)
      std::vector<sync::VersionId> targets;
      for (std::uint64_t k = 1; k <= 4; ++k) {
        targets.push_back(sync::VersionId{victim.id, victim.store ? victim.store->last_seq() + k : k, 0});
      }
      c.versions.push_back(version(c.scope, "kasus", "summary", "Menghapus versi orang lain", targets));
    } else if (!own.empty() || !foreign.empty()) {
      // A body that names another device than the one that signs and pushes it.
      kind = "wrong_device";
      c.device = devices_[0]->id;
      c.scope = own.empty() ? foreign[0] : own[0];
      c.scope_type = "kasus";
      c.versions.push_back(version(c.scope, "kasus", "summary", "Atas nama perangkat lain"));
    } else {
      return sync_device(d, "sync");
    }
    note("forge_" + kind);
    if (auto decoded = sync::decode_commit_body(sync::sign_commit(c, s.identity().signing_key).body); !decoded) {
      trace("  forged body does not decode (" + kind + "): " + decoded.error().message);
    }
    check_ok(testing::queue_forged(s, c), "queue a forged commit");
    d.store.reset();
    reopen(d);  // so the store's counters follow the forged sequence
    forged_.push_back(Forged{c.seq, kind, c.scope});
  }

  // Whether any commit of the case reached the server (the hostile device can only
  // target what exists there).
  bool on_server(const CaseModel& m) {
    const Device& creator = *devices_[static_cast<std::size_t>(m.created_by)];
    return creator.store && creator.acked > 0 && first_acked_.contains(m.id);
  }

  // ----- sync -----------------------------------------------------------------------------

  client::Result<client::SyncReport> sync_once(Device& d, bool with_faults) {
    act_as(d);
    client::SyncOptions options;
    options.pipeline = false;
    options.timeout_ms = 1000;
    options.pull_batch = static_cast<std::uint32_t>(rng_.pick(std::vector<std::uint64_t>{2, 7, 50, 1000}));
    options.push_batch = static_cast<std::size_t>(rng_.pick(std::vector<std::uint64_t>{1, 3, 64, 512}));
    const NetFaults faults = with_faults ? faults_ : NetFaults{};
    options.connect = [this, faults](const std::string& address, int) -> client::Result<std::unique_ptr<client::Link>> {
      return std::unique_ptr<client::Link>(std::make_unique<SimLink>(server_, net_, faults, address));
    };
    auto r = client::sync_with_server(*d.store, options);
    if (config_.verbose) {
      if (!r) {
        trace("  sync of device " + std::to_string(d.index) + ": " + r.error().message);
      } else {
        std::ostringstream line;
        line << "  sync of device " << d.index << ": pushed " << r->pushed << " pulled " << r->pulled << " rejected "
             << r->rejected << " purged " << r->purged << " restored " << r->restored << " server_had "
             << r->server_had << " reissued " << r->reissued << " recovered " << r->recovered << " last_seq "
             << d.store->last_seq();
        for (const auto& j : r->rejections) line << "\n    " << j;
        for (const auto& j : r->skipped) line << "\n    skipped " << j;
        trace(line.str());
      }
    }
    // What the store now believes the server holds of its own.
    auto acked = d.store->meta("acked_seq");
    if (acked && *acked && !(*acked)->empty()) {
      const std::uint64_t a = std::stoull(**acked);
      if (a > d.acked) d.acked = a;
    }
    after_sync(d);
    return r;
  }

  void sync_device(Device& d, const char* op) {
    note(op);
    auto r = sync_once(d, true);
    if (r) return;
    const auto code = r.error().code;
    if (code == client::Errc::unreachable) return;
    if (code == client::Errc::refused && d.revoked) return;
    if (disk_fault_active_) return;  // the disk failed under it: an error, said so
    fail_with(d.label() + " failed to sync: " + r.error().message);
  }

  // Cheap invariants after every sync: the server still holds every seq it acknowledged.
  void after_sync(Device& d) {
    ++checks_["acked_held"];
    auto last = as_server([&] { return server_.get().last_acked(d.id); });
    if (!last) fail_with("the server cannot answer last_acked");
    // The server never holds less than it once acknowledged to the device.
    if (d.acked > *last) {
      fail_with("the server acknowledged seq " + std::to_string(d.acked) + " to " + d.label() +
                " but now holds only up to " + std::to_string(*last));
    }
    // Which cases reached the server: the server holds the creating commit, as written.
    for (auto& [id, m] : cases_) {
      if (m.created_by != d.index || first_acked_.contains(id)) continue;
      auto st = schema::Statement::prepare(d.store->db(),
                                           "SELECT seq, body FROM commits WHERE device = ?1 AND scope = ?2 "
                                           "ORDER BY seq LIMIT 1");
      if (!st) continue;
      st->bind_blob(1, bytes_of(d.id)).bind_blob(2, bytes_of(id));
      auto row = st->step();
      if (!row || !*row) continue;
      const auto seq = static_cast<std::uint64_t>(st->column_int(0));
      if (seq > *last) continue;
      auto rec = as_server([&] { return server_.get().find_device(d.id); });
      if (!rec || !*rec) continue;
      auto page = as_server([&] { return server_.get().pull_own(**rec, seq - 1, server::PullLimits{1, 1 << 20}); });
      if (page && !page->commits.empty() && page->commits[0].seq == seq && page->commits[0].body == st->column_blob(1)) {
        first_acked_.insert(id);
      }
    }
    // Transfer acceptances that reached the server, in the order they did.
    for (auto& a : acceptances_) {
      if (a.device != d.index || a.acked_at_step != 0) continue;
      auto st = schema::Statement::prepare(d.store->db(),
                                           "SELECT seq, body FROM commits WHERE device = ?1 AND scope = ?2 ORDER BY seq");
      if (!st) continue;
      st->bind_blob(1, bytes_of(d.id)).bind_blob(2, bytes_of(a.scope));
      for (;;) {
        auto row = st->step();
        if (!row || !*row) break;
        const auto seq = static_cast<std::uint64_t>(st->column_int(0));
        const auto body = st->column_blob(1);
        auto c = sync::decode_commit_body(body);
        if (!c || seq > *last) continue;
        // This acceptance's own commit, not an earlier acceptance of the same transfer by
        // this device that the server refused (seed 20549: refused for want of a consent, it
        // showed the transfer open again and the device accepted it a second time).
        const bool accepts = std::any_of(c->versions.begin(), c->versions.end(), [&](const sync::Version& v) {
          return v.entity == a.transfer && v.field == "status" && v.value == "diterima" && v.hlc == a.hlc;
        });
        if (!accepts) continue;
        auto rec = as_server([&] { return server_.get().find_device(d.id); });
        auto page = as_server([&] { return server_.get().pull_own(**rec, seq - 1, server::PullLimits{1, 1 << 20}); });
        if (page && !page->commits.empty() && page->commits[0].seq == seq && page->commits[0].body == body) {
          a.seq = seq;
          a.acked_at_step = ++ack_clock_;
        }
        break;
      }
    }
  }

  // ----- quiescence -----------------------------------------------------------------------

  void quiesce_and_check() {
    g_skew_ms = 0;
    // Every device syncs, without faults, until nothing moves: no device may be locked out.
    for (int round = 0; round < 8; ++round) {
      std::uint64_t moved = 0;
      for (auto& dp : devices_) {
        Device& d = *dp;
        if (d.revoked) continue;
        auto r = sync_once(d, false);
        if (!r) {
          fail_with(d.label() + " cannot sync after the faults stopped (round " + std::to_string(round + 1) +
                    "): " + r.error().message);
        }
        moved += r->pushed + r->pulled + r->purged + r->rejected + r->recovered + r->projections;
      }
      ++checks_["no_lockout"];
      if (moved == 0 && round >= 1) break;
      if (round == 7) fail_with("replicas still exchange commits after 8 clean rounds");
    }
    check_own_commits();
    check_forged();
    check_access();
    check_convergence();
    check_shelters();
    check_central();
  }

  std::span<const std::uint8_t> bytes_of(const sync::Id128& id) { return {id.bytes.data(), id.bytes.size()}; }

  // Every commit an honest device holds of its own was acknowledged by the server, and
  // the server holds it with the same body unless it refused it.
  void check_own_commits() {
    for (auto& dp : devices_) {
      Device& d = *dp;
      if (d.revoked || d.hostile) continue;
      ++checks_["own_commits_stored"];
      if (d.acked < d.store->last_seq()) {
        fail_with(d.label() + " holds commits up to seq " + std::to_string(d.store->last_seq()) +
                  " but the server acknowledged only up to " + std::to_string(d.acked));
      }
      std::map<std::uint64_t, std::vector<std::uint8_t>> server_bodies;
      auto rec = as_server([&] { return server_.get().find_device(d.id); });
      if (!rec || !*rec) {
        if (d.store->last_seq() == 0) continue;
        fail_with(d.label() + " is not registered after the clean rounds");
      }
      std::uint64_t after = 0;
      for (;;) {
        auto page = as_server([&] { return server_.get().pull_own(**rec, after); });
        if (!page) fail_with("pull_own failed: " + page.error().message);
        for (auto& e : page->commits) server_bodies[e.seq] = e.body;
        if (!page->more || page->commits.empty()) break;
        after = page->last_seq;
      }
      auto st = schema::Statement::prepare(
          d.store->db(),
          "SELECT c.seq, c.body, c.scope, (SELECT 1 FROM refused_commits r WHERE r.seq = c.seq) FROM commits c "
          "WHERE c.device = ?1 ORDER BY c.seq");
      if (!st) fail_with("cannot read commits");
      st->bind_blob(1, bytes_of(d.id));
      std::uint64_t expect = 1;
      for (;;) {
        auto row = st->step();
        if (!row || !*row) break;
        const auto seq = static_cast<std::uint64_t>(st->column_int(0));
        const bool refused = st->column_int(3) == 1;
        (void)expect;
        auto it = server_bodies.find(seq);
        if (refused) continue;
        if (it == server_bodies.end()) {
          // pull_own lists only scopes the device may read now: a case it lost is fine.
          continue;
        }
        if (it->second != st->column_blob(1)) {
          if (config_.verbose) {
            for (auto& [sq, body] : server_bodies) {
              auto c = sync::decode_commit_body(body);
              std::cerr << "server seq " << sq << " scope " << (c ? hex8(c->scope) : "?") << " hlc "
                        << (c ? c->hlc : 0) << "\n";
            }
            auto all = schema::Statement::prepare(d.store->db(), "SELECT seq, body, server_seq FROM commits WHERE device = ?1");
            all->bind_blob(1, bytes_of(d.id));
            while (true) {
              auto rr = all->step();
              if (!rr || !*rr) break;
              auto c = sync::decode_commit_body(all->column_blob(1));
              std::cerr << "device seq " << all->column_int(0) << " scope " << (c ? hex8(c->scope) : "?") << " hlc "
                        << (c ? c->hlc : 0) << " server_seq " << all->column_int(2) << "\n";
            }
          }
          fail_with(d.label() + "'s commit " + std::to_string(seq) + " differs from the one the server holds");
        }
      }
    }
  }

  // No honest replica holds or applied a forged commit the server had to refuse.
  void check_forged() {
    if (forged_.empty()) return;
    const Device* hostile = nullptr;
    for (auto& dp : devices_) {
      if (dp->hostile) hostile = dp.get();
    }
    for (const Forged& f : forged_) {
      if (f.kind == "foreign_supersedes") continue;  // stored by design; convergence judges it
      if (f.kind == "write_foreign_case") {
        const CaseModel& m = cases_.at(f.target_scope);
        if (m.ever_named.contains(hostile->office)) continue;  // a grant came later: timing
      }
      ++checks_["forged_not_applied"];
      for (auto& dp : devices_) {
        Device& d = *dp;
        if (d.hostile || d.revoked) continue;
        auto st = schema::Statement::prepare(d.store->db(),
                                             "SELECT count(*) FROM versions WHERE device = ?1 AND seq = ?2");
        st->bind_blob(1, bytes_of(hostile->id)).bind(2, static_cast<std::int64_t>(f.seq));
        auto row = st->step();
        if (row && *row && st->column_int(0) > 0) {
          fail_with(d.label() + " applied the hostile device's forged commit #" + std::to_string(f.seq) + " (" +
                    f.kind + ")");
        }
        auto st2 = schema::Statement::prepare(d.store->db(),
                                              "SELECT count(*) FROM commits WHERE device = ?1 AND seq = ?2");
        st2->bind_blob(1, bytes_of(hostile->id)).bind(2, static_cast<std::int64_t>(f.seq));
        row = st2->step();
        if (row && *row && st2->column_int(0) > 0) {
          fail_with(d.label() + " holds the hostile device's forged commit #" + std::to_string(f.seq) + " (" +
                    f.kind + ")");
        }
      }
    }
  }

  // The reference model of who holds which case (PROTOCOL.md section 5B, PERMISSIONS.md
  // section 2), evaluated on the merged records of a replica that holds the case.
  struct Holders {
    std::string owner;
    std::set<std::string> shared;
  };

  // The model's owner: the creating office, moved by each transfer acceptance the server
  // acknowledged (in acknowledgement order) that the server did not refuse.
  std::string model_owner(const CaseModel& m) {
    std::string owner = m.creator;
    std::vector<const Acceptance*> accepted;
    for (const auto& a : acceptances_) {
      if (a.scope == m.id && a.acked_at_step > 0) accepted.push_back(&a);
    }
    std::sort(accepted.begin(), accepted.end(),
              [](const Acceptance* x, const Acceptance* y) { return x->acked_at_step < y->acked_at_step; });
    for (const Acceptance* a : accepted) {
      Device& d = *devices_[static_cast<std::size_t>(a->device)];
      auto st = schema::Statement::prepare(d.store->db(), "SELECT 1 FROM refused_commits WHERE seq = ?1");
      st->bind(1, static_cast<std::int64_t>(a->seq));
      auto row = st->step();
      if (row && *row) continue;
      owner = a->to_office;
    }
    return owner;
  }

  bool office_exists(const std::string& code) {
    return std::any_of(offices_.begin(), offices_.end(), [&](const Office& o) { return o.code == code; });
  }

  // Offices rule 2 shares the case with, from a replica's merged records.
  std::set<std::string> model_shared(Device& replica, const sync::EntityId& scope, const std::string& owner) {
    std::set<std::string> out;
    auto consents = replica.store->entities("persetujuan", &scope);
    auto refs = replica.store->entities("rujukan", &scope);
    auto transfers = replica.store->entities("alih_kelola", &scope);
    if (!consents || !refs || !transfers) fail_with("cannot read a case's access records");
    auto valid = [](const client::EntityView& c, const std::string& office) {
      return !c.deleted() && c.get("withdrawn_at").empty() && c.get("scope") == "rujukan" &&
             c.get("scope_office") == office;
    };
    auto consent_by_id = [&](const std::string& id_hex, const std::string& office) {
      return std::any_of(consents->begin(), consents->end(),
                         [&](const client::EntityView& c) { return c.id.hex() == id_hex && valid(c, office); });
    };
    auto any_consent = [&](const std::string& office) {
      return std::any_of(consents->begin(), consents->end(),
                         [&](const client::EntityView& c) { return valid(c, office); });
    };
    // A record only refused commits of the replica wrote never reached the server (its
    // writer shows it as refused): it shares nothing.
    auto refused_only = [&](const sync::EntityId& e) {
      auto only = replica.store->written_only_by_refused(e);
      return only && *only;
    };
    for (const auto& r : *refs) {
      if (refused_only(r.id)) continue;
      const std::string status = r.get("status");
      const std::string to = r.get("to_office");
      if (r.deleted() || (status != "dikirim" && status != "diterima") || !office_exists(to)) continue;
      if (consent_by_id(r.get("consent"), to)) out.insert(to);
    }
    for (const auto& t : *transfers) {
      if (refused_only(t.id)) continue;
      const std::string to = t.get("to_office");
      if (t.deleted() || t.get("status") != "diajukan" || !office_exists(to)) continue;
      // Open only when the current owner proposed it under a consent it recorded: a
      // replica's merged records do not say who wrote them, so an office named by an open
      // transfer with a consent may hold the case or not ("?").
      if (any_consent(to)) out.insert("?" + to);
    }
    out.erase(owner);
    out.erase("?" + owner);
    return out;
  }

  bool holds(Device& d, const sync::EntityId& scope) {
    auto e = d.store->entity(scope);
    if (!e) fail_with("cannot read an entity");
    return e->has_value();
  }

  void check_access() {
    for (auto& [id, m] : cases_) {
      // A replica of the owner office that holds the case and no refused commit of it.
      const std::string owner = model_owner(m);
      Device* replica = nullptr;
      for (auto& dp : devices_) {
        Device& d = *dp;
        if (d.revoked || d.hostile || d.office != owner || d.kind == "pusat") continue;
        if (!holds(d, id)) {
          if (!first_acked_.contains(id)) continue;
          if (config_.verbose) {
            for (const char* k : {"acked_seq", "own_missing_after", "pull_cursor"}) {
              auto v = d.store->meta(k);
              std::cerr << k << "=" << (v && *v ? **v : "-") << "\n";
            }
            auto rec = as_server([&] { return server_.get().find_device(d.id); });
            auto page = as_server([&] { return server_.get().pull_own(**rec, 0); });
            for (auto& e : page->commits) std::cerr << "server own seq " << e.seq << " scope " << hex8(e.scope) << "\n";
            auto all = schema::Statement::prepare(d.store->db(), "SELECT seq, scope FROM commits WHERE device = ?1");
            all->bind_blob(1, bytes_of(d.id));
            while (true) {
              auto rr = all->step();
              if (!rr || !*rr) break;
              std::cerr << "device seq " << all->column_int(0) << " scope " << crypto::to_hex(all->column_blob(1)).substr(0, 8) << "\n";
            }
          }
          fail_with(d.label() + " of the owner office " + owner + " does not hold case " + hex8(id));
        }
        replica = &d;
      }
      if (!replica) continue;
      ++checks_["access_model"];
      const std::set<std::string> shared = model_shared(*replica, id, owner);
      for (auto& dp : devices_) {
        Device& d = *dp;
        if (d.revoked || d.office == owner) continue;
        const bool held = holds(d, id);
        const bool may = d.kind != "pusat" && (shared.contains(d.office));
        const bool maybe = shared.contains("?" + d.office);
        if (held && !may && !maybe) {
          fail_with(d.label() + " holds case " + hex8(id) + " owned by " + owner +
                    " although the model shares it only with {" + join(shared) + "}");
        }
        if (!held && may && !d.hostile && first_acked_.contains(id)) {
          if (config_.verbose) debug_scope(id, {replica, &d});
          fail_with(d.label() + " lacks case " + hex8(id) + " owned by " + owner +
                    " that the model shares with its office");
        }
      }
    }
  }

  static std::string join(const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
    return out;
  }

  // The merged state of a case on a replica, without what only its own refused commits
  // wrote (no other replica holds those): every field of every entity, its shown value,
  // live count and winning version.
  std::string case_digest(Device& d, const sync::EntityId& scope) {
    auto st = schema::Statement::prepare(
        d.store->db(),
        "SELECT e.id, e.type, f.field, f.value, f.live_count, f.hlc, f.device FROM entities e "
        "JOIN fields f ON f.entity = e.id WHERE e.scope = ?1 AND e.type <> 'audit' "
        "AND EXISTS (SELECT 1 FROM versions v WHERE v.entity = e.id AND NOT (v.device = ?2 "
        "AND v.seq IN (SELECT seq FROM refused_commits))) ORDER BY e.id, f.field");
    if (!st) fail_with("cannot read a case digest: " + st.error().message);
    st->bind_blob(1, bytes_of(scope)).bind_blob(2, bytes_of(d.id));
    std::ostringstream out;
    for (;;) {
      auto row = st->step();
      if (!row) fail_with("cannot read a case digest");
      if (!*row) break;
      out << crypto::to_hex(st->column_blob(0)) << ' ' << st->column_text(1) << ' ' << st->column_text(2) << '='
          << st->column_text(3) << " x" << st->column_int(4) << " @" << st->column_int(5) << ' '
          << crypto::to_hex(st->column_blob(6)).substr(0, 8) << '\n';
    }
    return out.str();
  }

  void check_convergence() {
    for (auto& [id, m] : cases_) {
      std::optional<std::pair<std::string, int>> first;
      std::optional<std::pair<std::string, int>> first_doc;
      for (auto& dp : devices_) {
        Device& d = *dp;
        if (d.revoked || d.hostile || !holds(d, id)) continue;
        ++checks_["convergence"];
        std::string digest = case_digest(d, id);
        if (!first) {
          first.emplace(digest, d.index);
        } else if (first->first != digest) {
          if (config_.verbose) debug_scope(id, {devices_[static_cast<std::size_t>(first->second)].get(), &d});
          fail_with("case " + hex8(id) + " differs between device " + std::to_string(first->second) + " and " +
                    d.label() + ":\n--- device " + std::to_string(first->second) + "\n" + first->first + "--- " +
                    d.label() + "\n" + digest);
        }
        // The document `teduh case show --json` prints, without the refused-only records.
        if (!refused_in(d, id)) {
          auto doc = Workflow(*d.store).show_case(id);
          if (!doc) fail_with(d.label() + " cannot show case " + hex8(id) + ": " + doc.error().message);
          std::string text = without_local(*doc).dump();
          if (!first_doc) {
            first_doc.emplace(text, d.index);
          } else if (first_doc->first != text) {
            fail_with("`case show --json` of " + hex8(id) + " differs between device " +
                      std::to_string(first_doc->second) + " and " + d.label() + ":\n" + first_doc->first + "\n" + text);
          }
        }
      }
    }
  }

  // For a failure report: which commits of the scope the server would send each device
  // from cursor 0, and what the server's access tables say.
  void debug_scope(const sync::EntityId& scope, std::vector<Device*> which) {
    for (Device* d : which) {
      auto rec = as_server([&] { return server_.get().find_device(d->id); });
      std::int64_t cursor = 0;
      int n = 0;
      for (int guard = 0; guard < 10000; ++guard) {
        auto page = as_server([&] { return server_.get().pull(**rec, cursor); });
        if (!page) break;
        for (auto& e : page->commits) {
          if (e.scope == scope) {
            ++n;
            std::cerr << "  server sends device " << d->index << ": " << hex8(e.device) << " #" << e.seq << " at "
                      << e.server_seq << "\n";
          }
        }
        cursor = page->cursor;
        if (!page->more) break;
      }
      std::cerr << "device " << d->index << " would receive " << n << " commits of the scope\n";
    }
    auto dump = as_server([&] { return server_.get().dump_text(); });
    if (dump) {
      std::istringstream in(*dump);
      std::string line, table;
      while (std::getline(in, line)) {
        if (line.find(scope.hex()) != std::string::npos &&
            (line.find("scope_access") != std::string::npos || line.find("access") != std::string::npos)) {
          std::cerr << "  " << line << "\n";
        }
      }
    }
  }

  // Whether the device holds a commit of its own in the case that the server refused:
  // what only such a commit wrote stays shown on that device alone (PROTOCOL.md 5B rule 5).
  bool refused_in(Device& d, const sync::EntityId& scope) {
    auto st = schema::Statement::prepare(d.store->db(),
                                         "SELECT count(*) FROM commits WHERE device = ?1 AND scope = ?2 "
                                         "AND seq IN (SELECT seq FROM refused_commits)");
    st->bind_blob(1, bytes_of(d.id)).bind_blob(2, bytes_of(scope));
    auto row = st->step();
    return row && *row && st->column_int(0) > 0;
  }

  // The parts of the case document that depend on the reading device: the records of
  // cases merged into this one come along only where those cases are held, and a
  // shelter's details only where the key is.
  static json without_local(json doc) {
    if (doc.is_object()) {
      doc.erase("merged_cases");
      // A shelter's secret details: in clear for a device holding the key, withheld
      // otherwise (check_shelters holds that side).
      for (const char* k : {"shelter_code_name", "shelter_name", "shelter_address", "shelter_phone", "shelter_contact"}) doc.erase(k);
      for (auto& [k, v] : doc.items()) v = without_local(v);
    } else if (doc.is_array()) {
      json kept = json::array();
      for (auto& v : doc) {
        if (v.is_object() && v.contains("from_case")) continue;
        kept.push_back(without_local(v));
      }
      doc = std::move(kept);
    }
    return doc;
  }

  // A shelter's secret details never appear in clear on the server or on a device
  // without the key; a cleared device that holds a key reads them.
  void check_shelters() {
    if (markers_.empty()) return;
    ++checks_["shelter_secret"];
    auto dump = as_server([&] { return server_.get().dump_text(); });
    if (!dump) fail_with("cannot dump the server store");
    for (const auto& marker : markers_) {
      if (dump->find(marker) != std::string::npos) fail_with("a shelter detail is readable in the server's store");
    }
    for (auto& dp : devices_) {
      Device& d = *dp;
      if (d.revoked) continue;
      for (const char* sql : {"SELECT value FROM versions", "SELECT value FROM fields"}) {
        auto st = schema::Statement::prepare(d.store->db(), sql);
        for (;;) {
          auto row = st->step();
          if (!row || !*row) break;
          const std::string v = st->column_text(0);
          for (const auto& marker : markers_) {
            if (v.find(marker) != std::string::npos) {
              fail_with(d.label() + " keeps a shelter detail in clear in its store's tables");
            }
          }
        }
      }
      auto generation = client::current_generation(*d.store, kCompartment);
      const bool key = generation && *generation;
      auto list = Workflow(*d.store).list_shelters();
      if (!list) continue;
      const std::string text = list->dump();
      const bool readable = std::any_of(markers_.begin(), markers_.end(),
                                        [&](const std::string& m) { return text.find(m) != std::string::npos; });
      if (readable && !key) fail_with(d.label() + " reads a shelter detail without holding a shelter key");
    }
  }

  // The central office receives projections without names.
  void check_central() {
    for (auto& dp : devices_) {
      Device& d = *dp;
      if (d.kind != "pusat" || d.revoked) continue;
      ++checks_["central_no_names"];
      if (!held_cases(d).empty()) fail_with(d.label() + " of the central office holds cases");
      auto bodies = d.store->projection_bodies();
      if (!bodies) fail_with("cannot read projections");
      for (const auto& b : *bodies) {
        for (const auto& name : victim_names_) {
          if (b.find(name) != std::string::npos) fail_with("a projection carries a person's name");
        }
      }
    }
  }

  Config config_;
  Rng rng_;
  Rng net_;
  NetFaults faults_;
  int step_ = 0;
  int current_ = -1;
  int n_offices_ = 0;
  int n_devices_ = 0;
  bool with_hostile_ = false;
  bool revoked_once_ = false;
  bool disk_fault_active_ = false;
  fs::path root_;
  ServerActor server_;
  std::optional<server::AdminKey> admin_;
  std::vector<Office> offices_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::map<sync::EntityId, CaseModel> cases_;
  std::set<sync::EntityId> first_acked_;
  std::vector<Acceptance> acceptances_;
  std::uint64_t ack_clock_ = 0;
  std::vector<Forged> forged_;
  std::vector<std::string> markers_;
  std::set<std::string> victim_names_;
  std::set<int> restored_;
  std::map<std::string, int> counts_;
  std::map<std::string, int> checks_;
};

}  // namespace

bool install_simulated_environment() {
  reseed_randomness(0);
  randombytes_set_implementation(&g_impl);
  crypto::init();
  return testing::FaultVfs::install(true).routes_encrypted_stores();
}

Outcome run(const Config& config) {
  Simulation sim(config);
  Outcome out = sim.run();
  sync::set_clock_source(nullptr);
  return out;
}

std::string replay_command(const Config& c) {
  std::string cmd = "teduh_sim --seed " + std::to_string(c.seed) + " --ops " + std::to_string(c.ops);
  if (c.devices) cmd += " --devices " + std::to_string(*c.devices);
  if (c.offices) cmd += " --offices " + std::to_string(*c.offices);
  if (c.hostile) cmd += std::string(" --hostile ") + (*c.hostile ? "1" : "0");
  if (!c.faults) cmd += " --no-faults";
  else if (!c.disk_faults) cmd += " --no-disk-faults";
  return cmd;
}

}  // namespace teduh::sim
