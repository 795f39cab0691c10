// Convergence under chaos: N office replicas work on shared cases through a real teduhd,
// syncing through a proxy that delays, cuts and stalls their connections, while replicas
// are closed and reopened, `teduh sync` processes are SIGKILLed mid-session, and one
// replica's clock runs ahead. After a final round of clean syncs every replica must hold
// the same state, byte for byte, and every commit a client saw acknowledged.
//
// Each seed replays one scenario: TEDUH_CHAOS_SEED=N runs just seed N. By default a few
// light seeds run (CI); TEDUH_CHAOS_SEEDS=N runs seeds 1..N (base TEDUH_CHAOS_SEED_BASE),
// with TEDUH_CHAOS_OPS operations and TEDUH_CHAOS_REPLICAS replicas when given
// (scripts/chaos.sh). TEDUH_CHAOS_SKEW_DAYS=D puts the skewed replica D days ahead
// instead of just inside the drift bound.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fault_proxy.hpp"
#include "support/process.hpp"
#include "support/store_fixture.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/sync_client.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/crypto/kdf.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/crypto/secure.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/enrollment.hpp"
#include "teduh/sync/hlc.hpp"

namespace teduh {
namespace {

namespace fs = std::filesystem;
using client::Store;
using client::Workflow;
using nlohmann::json;

constexpr const char* kOfficePassphrase = "perahu-kertas-bising-kacau";
constexpr const char* kServerPassphrase = "benang-hijau-melompat-kacau";
constexpr int kChaosTimeoutMs = 1500;   // client timeout through the proxy
constexpr int kCleanTimeoutMs = 15000;  // final syncs, direct to the server
constexpr int kMaxCleanRounds = 12;
constexpr std::uint64_t kMinuteMs = 60ull * 1000;
constexpr std::uint64_t kDayMs = 24ull * 60 * kMinuteMs;
// Just inside the drift bound (PROTOCOL.md section 2): accepted everywhere.
constexpr std::uint64_t kDefaultSkewMs = sync::kMaxDriftMs - kMinuteMs;

std::optional<std::uint64_t> env_number(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::strtoull(v, nullptr, 10);
}

int failure_count() {
  const auto* result = ::testing::UnitTest::GetInstance()->current_test_info()->result();
  int n = 0;
  for (int i = 0; i < result->total_part_count(); ++i) n += result->GetTestPartResult(i).failed() ? 1 : 0;
  return n;
}

// Rows of a one-column text query, one per line.
std::string dump(const Store& store, const char* sql) {
  auto st = schema::Statement::prepare(store.db(), sql);
  if (!st) return "prepare failed: " + st.error().message;
  std::string out;
  for (;;) {
    auto row = st->step();
    if (!row) return out + "step failed: " + row.error().message;
    if (!*row) break;
    out += st->column_text(0);
    out += '\n';
  }
  return out;
}

std::set<std::pair<std::string, std::uint64_t>> commit_ids(const Store& store) {
  std::set<std::pair<std::string, std::uint64_t>> out;
  auto st = schema::Statement::prepare(store.db(), "SELECT device, seq FROM commits");
  if (!st) return out;
  while (true) {
    auto row = st->step();
    if (!row || !*row) break;
    auto dev = st->column_blob(0);
    sync::DeviceId d;
    std::copy(dev.begin(), dev.end(), d.bytes.begin());
    out.emplace(d.hex(), static_cast<std::uint64_t>(st->column_int(1)));
  }
  return out;
}

struct ChaosConfig {
  std::uint64_t seed = 1;
  int replicas = 3;
  int ops = 60;
  std::uint64_t skew_ms = kDefaultSkewMs;
};

struct ChaosTally {
  int syncs = 0;
  int sync_failures = 0;
  int restarts = 0;
  int kills = 0;
  int writes = 0;
  int conflicts_resolved = 0;
  int clean_rounds = 0;
  int commits = 0;         // in the converged state
  int conflicts_left = 0;  // fields still in conflict at the end
};

struct Replica {
  fs::path path;
  std::string office;
  std::string device_hex;
  std::optional<Store> store;
  bool skewed = false;
};

// One seeded scenario against its own teduhd.
class ChaosRun {
 public:
  explicit ChaosRun(ChaosConfig config) : config_(config), rng_(config.seed) {}

  ~ChaosRun() {
    for (auto& r : replicas_) r.store.reset();
    proxy_.reset();
    if (!server_.stop()) std::cerr << "chaos: teduhd did not stop cleanly (seed " << config_.seed << ")\n";
    if (failure_count() > failures_at_start_) {
      std::cerr << "teduhd.log (seed " << config_.seed << "):\n" << testing::read_file(dir_ / "teduhd.log") << "\n";
    }
  }

  ChaosRun(const ChaosRun&) = delete;
  ChaosRun& operator=(const ChaosRun&) = delete;

  const ChaosTally& tally() const { return tally_; }
  const testing::FaultProxy* proxy() const { return proxy_.get(); }

  void run() {
    failures_at_start_ = failure_count();
    ASSERT_NO_FATAL_FAILURE(start_server());
    ASSERT_NO_FATAL_FAILURE(create_replicas());
    for (int i = 0; i < config_.ops; ++i) {
      SCOPED_TRACE("operation " + std::to_string(i));
      ASSERT_NO_FATAL_FAILURE(step());
    }
    ASSERT_NO_FATAL_FAILURE(go_direct());
    ASSERT_NO_FATAL_FAILURE(sync_until_quiet());
    if (skewed_ != nullptr) {
      ASSERT_NO_FATAL_FAILURE(check_fast_clock_does_not_win());
      ASSERT_NO_FATAL_FAILURE(sync_until_quiet());
    }
    ASSERT_NO_FATAL_FAILURE(expect_converged());
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  bool chance(double p) { return std::uniform_real_distribution<double>(0.0, 1.0)(rng_) < p; }
  template <class T>
  const T& pick_of(const std::vector<T>& v) { return v[static_cast<std::size_t>(pick(static_cast<int>(v.size())))]; }

  void start_server() {
    ::setenv("TEDUH_KDF", "interactive", 1);
    ::setenv("TEDUH_TEST_STORES", "1", 1);
    ::setenv("TEDUH_SERVER_PASSPHRASE", kServerPassphrase, 1);
    ::setenv("TEDUH_PASSPHRASE", kOfficePassphrase, 1);
    ::setenv("TEDUH_SYNC_TIMEOUT_MS", std::to_string(kChaosTimeoutMs).c_str(), 1);
    ::setenv("TEDUH_IDLE_TIMEOUT_MS", "5000", 1);
    data_ = (dir_ / "server").string();
    testing::Run init = testing::teduhd({"init", "--data", data_});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    auto key = crypto::from_base64url(init.last_line());
    ASSERT_TRUE(key && key->size() == crypto::kSignPublicKeySize) << init.out;
    std::copy(key->begin(), key->end(), server_key_.begin());
    for (auto [code, kind] : {std::pair{"KACAU-DP3A", "dinas"}, {"KACAU-UPTD", "uptd_ppa"}}) {
      testing::Run r = testing::teduhd({"office", "add", "--data", data_, "--code", code, "--name",
                                        std::string("Kantor ") + code, "--kind", kind});
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    ASSERT_TRUE(server_.start(data_, dir_ / "teduhd.log"));
    proxy_ = std::make_unique<testing::FaultProxy>(server_.address(), config_.seed ^ 0x9e3779b97f4a7c15ull,
                                                   chaos_plan());
    ASSERT_TRUE(proxy_->ok());
  }

  static testing::FaultPlan chaos_plan() {
    testing::FaultPlan plan;
    plan.cut_probability = 0.25;
    plan.stall_probability = 0.07;
    plan.delay_probability = 0.05;
    plan.stall_min_ms = 200;
    plan.stall_max_ms = kChaosTimeoutMs + 800;
    return plan;
  }

  void create_replicas() {
    crypto::init();
    for (int i = 0; i < config_.replicas; ++i) {
      Replica r;
      // One office: every replica holds every case of it (an office sees only its own
      // cases and those referred to it, PERMISSIONS.md).
      r.office = "KACAU-UPTD";
      r.path = dir_ / ("replica-" + std::to_string(i) + ".db");
      testing::Run code = testing::teduhd({"enroll", "--data", data_, "--office", r.office, "--user",
                                           "petugas-uji-" + std::to_string(i), "--role", "pendamping"});
      ASSERT_EQ(code.exit_code, 0) << code.err;
      // As `teduh init` does (client/enrollment.hpp), with the real code and server key.
      auto grant = sync::verify_enrollment_code(code.last_line(), server_key_, sync::system_now_ms());
      ASSERT_TRUE(grant) << grant.error().message;
      client::Identity id;
      id.device = sync::Id128::random();
      id.signing_key = crypto::SigningKey::generate();
      id.grant = *grant;
      id.enrollment_code = code.last_line();
      id.server_address = proxy_->address();
      id.server_key = server_key_;
      r.device_hex = id.device.hex();
      client::StoreOptions options{r.path, kOfficePassphrase, crypto::KdfParams::interactive()};
      auto store = Store::create(options, std::move(id));
      ASSERT_TRUE(store) << store.error().message;
      r.store.emplace(std::move(*store));
      replicas_.push_back(std::move(r));
    }
    // Half the seeds run one replica with a clock ahead of everyone else's.
    if (chance(0.5)) {
      skewed_ = &replicas_[static_cast<std::size_t>(pick(config_.replicas))];
      skewed_->skewed = true;
      apply_skew(*skewed_);
    }
  }

  void apply_skew(Replica& r) {
    if (!r.skewed || !r.store) return;
    sync::Hlc ahead = sync::make_hlc(sync::system_now_ms() + config_.skew_ms, 0);
    r.store->clock() = sync::HlcClock(std::max(ahead, r.store->clock().last()));
  }

  void reopen(Replica& r) {
    r.store.reset();
    auto store = Store::open(r.path, kOfficePassphrase);
    ASSERT_TRUE(store) << "reopening " << r.path.filename() << ": " << store.error().message;
    r.store.emplace(std::move(*store));
    apply_skew(r);
  }

  // Cases this replica holds, in the order the scenario created them (not by random id).
  std::vector<sync::EntityId> cases_known_by(const Replica& r) const {
    std::vector<sync::EntityId> out;
    for (const auto& id : cases_) {
      auto e = r.store->entity(id);
      if (e && *e) out.push_back(id);
    }
    return out;
  }

  // Most edits go to the first few cases, so that replicas edit the same fields.
  std::optional<sync::EntityId> pick_case(const Replica& r) {
    auto known = cases_known_by(r);
    if (known.empty()) return std::nullopt;
    if (chance(0.7)) return known[static_cast<std::size_t>(pick(std::min<int>(2, static_cast<int>(known.size()))))];
    return pick_of(known);
  }

  void expect_ok(const client::Result<void>& r, const char* what) {
    EXPECT_TRUE(r) << what << ": " << r.error().message;
    if (r) ++tally_.writes;
  }

  void step() {
    Replica& r = replicas_[static_cast<std::size_t>(pick(config_.replicas))];
    Workflow wf(*r.store);
    const int roll = pick(100);
    const std::string tag = std::to_string(config_.seed) + "-" + std::to_string(op_++);
    if (roll < 8 || cases_.empty()) {
      client::FieldInput victim;
      if (chance(0.8)) victim = {{"name", "Warga Uji " + tag}, {"sex", chance(0.5) ? "P" : "L"}};
      auto id = wf.new_case({{"channel", pick_of(std::vector<std::string>{"telepon", "whatsapp", "datang_langsung"})},
                             {"summary", "Ringkasan uji " + tag}},
                            victim);
      ASSERT_TRUE(id) << "new case: " << id.error().message;
      cases_.push_back(*id);
      ++tally_.writes;
      return;
    }
    if (roll < 38) {  // the same few fields of the same few cases, from every replica
      auto c = pick_case(r);
      if (!c) return;
      client::FieldInput fields;
      int n = 1 + pick(2);
      for (int i = 0; i < n; ++i) {
        switch (pick(8)) {
          case 0: fields.emplace_back("status", pick_of(std::vector<std::string>{"asesmen", "penanganan", "pemantauan"})); break;
          case 1: fields.emplace_back("risk_level", pick_of(std::vector<std::string>{"rendah", "sedang", "tinggi"})); break;
          case 2: fields.emplace_back("summary", "Ringkasan diubah " + tag); break;
          case 3: fields.emplace_back("assigned_worker", "Pendamping " + std::to_string(pick(3))); break;
          case 4: fields.emplace_back("kecamatan", "Kecamatan Uji " + std::to_string(pick(4))); break;
          case 5: fields.emplace_back("status", "penanganan"); break;
          case 6: fields.emplace_back("korban.age", std::to_string(18 + pick(40))); break;
          default: fields.emplace_back("korban.name", "Nama Diubah " + tag); break;
        }
      }
      auto done = wf.set_case(*c, fields);
      if (!done && done.error().code == client::Errc::not_found) return;  // no victim recorded
      expect_ok(done, "set case");
      return;
    }
    if (roll < 43) {
      auto c = pick_case(r);
      if (!c) return;
      auto p = wf.add_person(*c, chance(0.5) ? "pelapor" : "terlapor", {{"name", "Orang Uji " + tag}},
                             pick_of(std::vector<std::string>{"tetangga", "keluarga", "teman"}));
      EXPECT_TRUE(p) << "add person: " << p.error().message;
      tally_.writes += p ? 1 : 0;
      return;
    }
    if (roll < 48) {
      auto c = pick_case(r);
      if (!c) return;
      auto s = wf.add_service(*c, {{"kind", pick_of(std::vector<std::string>{"konseling", "mediasi", "kunjungan_rumah"})},
                                   {"provider", "Pemberi Uji " + tag}});
      EXPECT_TRUE(s) << "add service: " << s.error().message;
      tally_.writes += s ? 1 : 0;
      return;
    }
    if (roll < 60) {
      resolve_one(wf, tag);
      return;
    }
    if (roll < 62) {
      auto c = pick_case(r);
      if (!c) return;
      expect_ok(wf.close_case(*c, "Selesai ditangani " + tag), "close case");
      return;
    }
    if (roll < 95) {
      sync_through_proxy(r);
      return;
    }
    if (roll < 98 || kills_left_ <= 0) {
      ++tally_.restarts;
      ASSERT_NO_FATAL_FAILURE(reopen(r));
      return;
    }
    ASSERT_NO_FATAL_FAILURE(kill_cli_sync(r));
  }

  // Settles one conflict this replica sees, with one of its values or a new one.
  void resolve_one(Workflow& wf, const std::string& tag) {
    auto listed = wf.conflicts();
    ASSERT_TRUE(listed) << listed.error().message;
    std::map<std::string, std::size_t> order;
    for (std::size_t i = 0; i < cases_.size(); ++i) order[cases_[i].hex()] = i;
    std::vector<json> rows((*listed)["conflicts"].begin(), (*listed)["conflicts"].end());
    if (rows.empty()) return;
    std::sort(rows.begin(), rows.end(), [&](const json& a, const json& b) {
      return std::make_tuple(order[a["case"].get<std::string>()], a["entity_type"].get<std::string>(), a["field"].get<std::string>()) <
             std::make_tuple(order[b["case"].get<std::string>()], b["entity_type"].get<std::string>(), b["field"].get<std::string>());
    });
    const json& row = pick_of(rows);
    auto case_id = sync::Id128::from_hex(row["case"].get<std::string>());
    ASSERT_TRUE(case_id);
    std::string field = row["field"];
    // Only case fields and the victim's fields are ever edited after creation.
    if (row["entity_type"] == "orang") field = "korban." + field;
    std::vector<std::string> values;
    for (const auto& v : row["values"]) values.push_back(v["value"]);
    std::sort(values.begin(), values.end());
    std::string value = pick_of(values);
    if (chance(0.3) && (field == "summary" || field == "korban.name")) value = "Diselesaikan " + tag;
    auto done = wf.resolve(*case_id, field, value);
    EXPECT_TRUE(done) << "resolve " << field << ": " << done.error().message;
    if (!done) return;
    ++tally_.conflicts_resolved;
    ++tally_.writes;
    // The field is settled on this replica at once.
    auto after = wf.conflicts();
    ASSERT_TRUE(after);
    for (const auto& c : (*after)["conflicts"]) {
      EXPECT_FALSE(c["entity"] == row["entity"] && c["field"] == row["field"])
          << "resolving " << field << " left it in conflict on the resolving replica";
    }
  }

  // Marks this replica's commits up to `seq` as acknowledged by the server.
  void acknowledge(const Replica& r, std::uint64_t seq) {
    for (std::uint64_t s = 1; s <= seq; ++s) acked_.emplace(r.device_hex, s);
  }

  // The commits the server has sent back (server_seq set) were acknowledged, whoever wrote them.
  void acknowledge_pulled(const Replica& r) {
    auto st = schema::Statement::prepare(r.store->db(), "SELECT device, seq FROM commits WHERE server_seq IS NOT NULL");
    ASSERT_TRUE(st);
    while (true) {
      auto row = st->step();
      ASSERT_TRUE(row);
      if (!*row) break;
      auto dev = st->column_blob(0);
      sync::DeviceId d;
      std::copy(dev.begin(), dev.end(), d.bytes.begin());
      acked_.emplace(d.hex(), static_cast<std::uint64_t>(st->column_int(1)));
    }
  }

  void sync_through_proxy(Replica& r) {
    ++tally_.syncs;
    const std::uint64_t before = r.store->last_seq();
    client::SyncOptions options;
    options.timeout_ms = kChaosTimeoutMs;
    options.pull_batch = static_cast<std::uint32_t>(1 + pick(50));  // small batches: more cut points
    auto report = client::sync_with_server(*r.store, options);
    if (!report) {
      ++tally_.sync_failures;
      // A bad link is "unreachable" and nothing else: a cut must never look like a refusal.
      EXPECT_EQ(report.error().code, client::Errc::unreachable) << report.error().message;
      return;
    }
    EXPECT_EQ(report->rejected, 0u) << (report->rejections.empty() ? "" : report->rejections.front());
    if (report->rejected == 0) acknowledge(r, before);
    ASSERT_NO_FATAL_FAILURE(acknowledge_pulled(r));
  }

  // A real `teduh sync` on this replica's store, SIGKILLed after a random delay.
  void kill_cli_sync(Replica& r) {
    --kills_left_;
    ++tally_.kills;
    const int delay_ms = pick(900);
    r.store.reset();
    const std::string store_path = r.path.string();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, STDIN_FILENO);
      ::dup2(devnull, STDOUT_FILENO);
      ::dup2(devnull, STDERR_FILENO);
      ::execl(testing::kTeduh.c_str(), testing::kTeduh.c_str(), "sync", "--store", store_path.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 127) << "teduh did not start";
    ASSERT_NO_FATAL_FAILURE(reopen(r));
  }

  // Points every replica at the server itself: no more faults.
  void go_direct() {
    for (auto& r : replicas_) {
      ASSERT_TRUE(r.store->set_meta("server_address", server_.address()));
      ASSERT_NO_FATAL_FAILURE(reopen(r));
      ASSERT_EQ(r.store->identity().server_address, server_.address());
    }
  }

  // Clean syncs in rounds until two whole rounds move nothing.
  void sync_until_quiet() {
    int quiet = 0;
    for (int round = 0; round < kMaxCleanRounds && quiet < 2; ++round) {
      ++tally_.clean_rounds;
      bool moved = false;
      for (auto& r : replicas_) {
        const std::uint64_t before = r.store->last_seq();
        client::SyncOptions options;
        options.timeout_ms = kCleanTimeoutMs;
        auto report = client::sync_with_server(*r.store, options);
        ASSERT_TRUE(report) << "clean sync of " << r.path.filename() << ": " << report.error().message;
        EXPECT_EQ(report->rejected, 0u) << (report->rejections.empty() ? "" : report->rejections.front());
        if (report->rejected == 0) acknowledge(r, before);
        ASSERT_NO_FATAL_FAILURE(acknowledge_pulled(r));
        moved = moved || report->pushed > 0 || report->pulled > 0;
      }
      quiet = moved ? 0 : quiet + 1;
    }
    EXPECT_EQ(quiet, 2) << "replicas still exchanging commits after " << kMaxCleanRounds << " clean rounds";
  }

  // The fast replica edits a field; a replica with a correct clock edits it after seeing that
  // edit. The later edit must show everywhere, although its hlc may be the smaller one.
  void check_fast_clock_does_not_win() {
    Replica* other = nullptr;
    for (auto& r : replicas_) {
      if (&r != skewed_) other = &r;
    }
    ASSERT_NE(other, nullptr);
    ASSERT_FALSE(cases_.empty());
    const sync::EntityId c = cases_.front();
    Workflow fast(*skewed_->store), slow(*other->store);
    ASSERT_TRUE(fast.set_case(c, {{"risk_level", "tinggi"}}));
    ASSERT_NO_FATAL_FAILURE(sync_until_quiet());
    auto seen = other->store->entity(c);
    ASSERT_TRUE(seen && *seen);
    EXPECT_EQ((*seen)->get("risk_level"), "tinggi") << "the fast replica's edit did not arrive";
    ASSERT_TRUE(slow.set_case(c, {{"risk_level", "rendah"}}));
    ASSERT_NO_FATAL_FAILURE(sync_until_quiet());
    for (auto& r : replicas_) {
      auto e = r.store->entity(c);
      ASSERT_TRUE(e && *e);
      EXPECT_EQ((*e)->get("risk_level"), "rendah") << r.path.filename() << ": the fast clock's edit still wins";
      EXPECT_EQ((*e)->fields.at("risk_level").live_count, 1) << r.path.filename();
    }
  }

  void expect_converged() {
    Replica& first = replicas_.front();
    Workflow ref(*first.store);
    auto ref_cases = ref.list_cases();
    auto ref_conflicts = ref.conflicts();
    ASSERT_TRUE(ref_cases && ref_conflicts);
    EXPECT_EQ((*ref_cases)["cases"].size(), cases_.size()) << "a case was lost";

    // The replicas' whole merged state, row by row, and the workflow's documents.
    static constexpr const char* kStateQueries[] = {
        "SELECT hex(device) || ' ' || seq || ' ' || hex(scope) || ' ' || scope_type || ' ' || hlc || ' ' || "
        "hex(body) || ' ' || hex(signature) FROM commits ORDER BY device, seq",
        "SELECT hex(device) || ' ' || seq || ' ' || idx || ' ' || hex(entity) || ' ' || field || ' ' || "
        "quote(value) || ' ' || hlc || ' ' || live FROM versions ORDER BY device, seq, idx",
        "SELECT hex(device) || ' ' || seq || ' ' || idx FROM superseded ORDER BY device, seq, idx",
        "SELECT hex(id) || ' ' || type || ' ' || hex(scope) || ' ' || created_hlc FROM entities ORDER BY id",
        "SELECT hex(entity) || ' ' || field || ' ' || quote(value) || ' ' || hlc || ' ' || hex(device) || ' ' || "
        "live_count FROM fields ORDER BY entity, field",
    };
    std::vector<std::string> ref_state;
    for (const char* q : kStateQueries) ref_state.push_back(dump(*first.store, q));
    std::map<std::string, std::string> ref_history;
    for (const auto& c : cases_) {
      auto h = ref.history(c);
      ASSERT_TRUE(h) << h.error().message;
      ref_history[c.hex()] = h->dump();
    }

    const auto ref_commits = commit_ids(*first.store);
    tally_.commits = static_cast<int>(ref_commits.size());
    tally_.conflicts_left = static_cast<int>((*ref_conflicts)["conflicts"].size());
    for (const auto& id : acked_) {
      EXPECT_TRUE(ref_commits.count(id)) << "acknowledged commit " << id.first << ":" << id.second << " was lost";
    }
    // Per device: sequences 1..max, no gaps; each replica holds all of its own commits.
    std::map<std::string, std::uint64_t> max_seq;
    for (const auto& [dev, seq] : ref_commits) max_seq[dev] = std::max(max_seq[dev], seq);
    for (const auto& [dev, top] : max_seq) {
      for (std::uint64_t s = 1; s <= top; ++s) EXPECT_TRUE(ref_commits.count({dev, s})) << dev << " gap at " << s;
    }
    for (const auto& r : replicas_) {
      EXPECT_EQ(max_seq[r.device_hex], r.store->last_seq()) << r.path.filename() << ": own commits missing";
    }

    for (std::size_t i = 1; i < replicas_.size(); ++i) {
      Replica& r = replicas_[i];
      SCOPED_TRACE("replica " + std::to_string(i) + " against replica 0");
      Workflow wf(*r.store);
      auto cases = wf.list_cases();
      auto conflicts = wf.conflicts();
      ASSERT_TRUE(cases && conflicts);
      EXPECT_EQ(cases->dump(), ref_cases->dump());
      EXPECT_EQ(conflicts->dump(), ref_conflicts->dump());
      // The raw state first: reading a history records an audit commit on that replica.
      for (std::size_t q = 0; q < std::size(kStateQueries); ++q) {
        EXPECT_EQ(dump(*r.store, kStateQueries[q]), ref_state[q]) << "state query " << q;
      }
      for (const auto& c : cases_) {
        auto h = wf.history(c);
        ASSERT_TRUE(h);
        EXPECT_EQ(h->dump(), ref_history[c.hex()]) << "history of case " << c.hex();
      }
    }

    // Last, since showing a case records an audit commit (never synced after this).
    for (const auto& c : cases_) {
      std::string ref_doc;
      for (std::size_t i = 0; i < replicas_.size(); ++i) {
        Workflow wf(*replicas_[i].store);
        auto doc = wf.show_case(c);
        ASSERT_TRUE(doc) << doc.error().message;
        if (i == 0) {
          ref_doc = doc->dump();
        } else {
          EXPECT_EQ(doc->dump(), ref_doc) << "replica " << i << ", case " << c.hex();
        }
      }
    }
  }

  ChaosConfig config_;
  std::mt19937_64 rng_;
  int failures_at_start_ = 0;
  testing::TempDir dir_;
  std::string data_;
  crypto::SignPublicKey server_key_{};
  testing::ServerProcess server_;
  std::unique_ptr<testing::FaultProxy> proxy_;
  std::vector<Replica> replicas_;
  Replica* skewed_ = nullptr;
  std::vector<sync::EntityId> cases_;
  std::set<std::pair<std::string, std::uint64_t>> acked_;
  ChaosTally tally_;
  int op_ = 0;
  int kills_left_ = 2;
};

struct SeedPlan {
  std::vector<std::uint64_t> seeds;
  std::optional<int> replicas;
  int ops = 60;
  bool on_demand = false;
};

SeedPlan seed_plan() {
  SeedPlan plan;
  plan.ops = static_cast<int>(env_number("TEDUH_CHAOS_OPS").value_or(60));
  if (auto r = env_number("TEDUH_CHAOS_REPLICAS")) plan.replicas = static_cast<int>(*r);
  if (auto one = env_number("TEDUH_CHAOS_SEED")) {
    plan.seeds = {*one};
    plan.on_demand = true;
  } else if (auto n = env_number("TEDUH_CHAOS_SEEDS")) {
    const std::uint64_t base = env_number("TEDUH_CHAOS_SEED_BASE").value_or(1);
    for (std::uint64_t s = 0; s < *n; ++s) plan.seeds.push_back(base + s);
    plan.on_demand = true;
  } else {
    plan.seeds = {1, 2, 3, 4};  // CI: light and fixed
  }
  return plan;
}

TEST(Chaos, ReplicasConvergeThroughCutsStallsRestartsKillsAndFastClocks) {
  const SeedPlan plan = seed_plan();
  std::uint64_t skew_ms = kDefaultSkewMs;
  if (auto days = env_number("TEDUH_CHAOS_SKEW_DAYS")) skew_ms = *days * kDayMs;
  std::vector<std::uint64_t> failed;
  const auto all_start = std::chrono::steady_clock::now();
  for (std::uint64_t seed : plan.seeds) {
    ChaosConfig config;
    config.seed = seed;
    config.ops = plan.ops;
    config.skew_ms = skew_ms;
    // CI: 3-4 replicas; on demand: 3-6 unless fixed.
    config.replicas = plan.replicas.value_or(plan.on_demand ? 3 + static_cast<int>(seed % 4) : 3 + static_cast<int>(seed % 2));
    SCOPED_TRACE("chaos seed " + std::to_string(seed) + " (replay: TEDUH_CHAOS_SEED=" + std::to_string(seed) +
                 " TEDUH_CHAOS_OPS=" + std::to_string(config.ops) + " TEDUH_CHAOS_REPLICAS=" +
                 std::to_string(config.replicas) + ")");
    const int failures_before = failure_count();
    const auto start = std::chrono::steady_clock::now();
    ChaosTally tally;
    int connections = 0, cuts = 0, stalls = 0;
    {
      ChaosRun run(config);
      run.run();
      tally = run.tally();
      if (const auto* proxy = run.proxy()) {
        connections = proxy->stats().connections;
        cuts = proxy->stats().cuts;
        stalls = proxy->stats().stalls;
      }
    }
    const bool ok = failure_count() == failures_before;
    if (!ok) failed.push_back(seed);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    std::cout << "chaos seed " << seed << (ok ? " ok" : " FAILED") << ": " << config.replicas << " replicas, "
              << tally.writes << " writes, " << tally.commits << " commits, " << tally.conflicts_resolved
              << " resolves, " << tally.conflicts_left << " conflicts left, " << tally.syncs << " syncs ("
              << tally.sync_failures << " cut off), " << connections << " connections (" << cuts << " cut, " << stalls
              << " stalled), " << tally.restarts << " reopens, " << tally.kills << " kills, " << tally.clean_rounds
              << " clean rounds, " << ms.count() << " ms" << std::endl;
  }
  const auto total = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - all_start);
  std::cout << "chaos: " << plan.seeds.size() << " seeds in " << total.count() << " s, " << failed.size() << " failed";
  for (auto s : failed) std::cout << " " << s;
  std::cout << std::endl;
  EXPECT_TRUE(failed.empty());
}

// A replica whose clock is days ahead (PROTOCOL.md section 2): its commits are stored and
// forwarded like any other ("Servers MUST NOT refuse a commit because of its hlc"), and its
// edit does not win forever: a later edit by a replica that saw it supersedes it, although
// that edit carries the smaller hlc.
TEST(Chaos, ClockDaysAheadIsAcceptedAndItsEditIsSupersededByALaterEdit) {
  ::setenv("TEDUH_KDF", "interactive", 1);
  ::setenv("TEDUH_TEST_STORES", "1", 1);
  ::setenv("TEDUH_SERVER_PASSPHRASE", kServerPassphrase, 1);
  testing::TempDir dir;
  const std::string data = (dir / "server").string();
  testing::Run init = testing::teduhd({"init", "--data", data});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  auto key = crypto::from_base64url(init.last_line());
  ASSERT_TRUE(key && key->size() == crypto::kSignPublicKeySize);
  crypto::SignPublicKey server_key{};
  std::copy(key->begin(), key->end(), server_key.begin());
  ASSERT_EQ(testing::teduhd({"office", "add", "--data", data, "--code", "KACAU-DP3A", "--name", "Kantor Uji", "--kind", "dinas"}).exit_code, 0);
  testing::ServerProcess server;
  ASSERT_TRUE(server.start(data, dir / "teduhd.log"));

  auto make = [&](const std::string& name) -> std::optional<Store> {
    testing::Run code = testing::teduhd({"enroll", "--data", data, "--office", "KACAU-DP3A", "--user", name, "--role", "pendamping"});
    EXPECT_EQ(code.exit_code, 0) << code.err;
    auto grant = sync::verify_enrollment_code(code.last_line(), server_key, sync::system_now_ms());
    EXPECT_TRUE(grant);
    if (!grant) return std::nullopt;
    client::Identity id;
    id.device = sync::Id128::random();
    id.signing_key = crypto::SigningKey::generate();
    id.grant = *grant;
    id.enrollment_code = code.last_line();
    id.server_address = server.address();
    id.server_key = server_key;
    auto s = Store::create({dir / (name + ".db"), kOfficePassphrase, crypto::KdfParams::interactive()}, std::move(id));
    EXPECT_TRUE(s) << s.error().message;
    if (!s) return std::nullopt;
    return std::move(*s);
  };
  auto sync_ok = [](Store& s) {
    client::SyncOptions o;
    o.timeout_ms = kCleanTimeoutMs;
    auto r = client::sync_with_server(s, o);
    EXPECT_TRUE(r) << r.error().message;
    if (!r) return client::SyncReport{};
    EXPECT_EQ(r->rejected, 0u) << (r->rejections.empty() ? "" : r->rejections.front());
    return *r;
  };

  auto fast = make("petugas-cepat");
  auto slow = make("petugas-tepat");
  ASSERT_TRUE(fast && slow);
  Workflow fast_wf(*fast), slow_wf(*slow);
  auto c = slow_wf.new_case({{"channel", "telepon"}}, {{"name", "Warga Uji Jam"}, {"sex", "P"}});
  ASSERT_TRUE(c);
  sync_ok(*slow);
  sync_ok(*fast);

  // Three days ahead.
  fast->clock() = sync::HlcClock(sync::make_hlc(sync::system_now_ms() + 3 * kDayMs, 0));
  ASSERT_TRUE(fast_wf.set_case(*c, {{"risk_level", "tinggi"}}));
  sync_ok(*fast);  // the server must take it
  sync_ok(*slow);
  auto seen = slow->entity(*c);
  ASSERT_TRUE(seen && *seen);
  EXPECT_EQ((*seen)->get("risk_level"), "tinggi") << "the fast replica's edit never arrived";

  // The slow replica's clock stays bounded (it does not follow days ahead) ...
  EXPECT_LE(sync::hlc_wall_ms(slow->clock().last()), sync::system_now_ms() + sync::kMaxDriftMs + 1000);
  // ... and its later edit, with the smaller hlc, supersedes the fast one everywhere.
  ASSERT_TRUE(slow_wf.set_case(*c, {{"risk_level", "rendah"}}));
  sync_ok(*slow);
  sync_ok(*fast);
  for (Store* s : {&*fast, &*slow}) {
    auto e = s->entity(*c);
    ASSERT_TRUE(e && *e);
    EXPECT_EQ((*e)->get("risk_level"), "rendah");
    EXPECT_EQ((*e)->fields.at("risk_level").live_count, 1);
  }
  fast.reset();
  slow.reset();
  EXPECT_TRUE(server.stop());
}

}  // namespace
}  // namespace teduh
