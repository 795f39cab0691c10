// Benchmark: a whole sync over loopback with the real server, and this machine's limits
// measured in the same run.
//
//   bench_sync [COMMITS] [--teduhd PATH] [--teduh PATH] [--keep]
//
// COMMITS (default 100000) commits of 15 versions each (a new case with its victim, role
// and first service, the workload of bench_store) are written into office A's store
// in-process inside big transactions (setup, not timed). Then, against a real `teduhd
// serve` on 127.0.0.1 whose data folder was made with `teduhd init / office add / enroll`:
//   1. office A syncs: push of all its commits (and the echo pull of its own commits,
//      which the protocol sends back; timed separately),
//   2. a fresh office B syncs: pull of all of them ("office B" is a new device of the same
//      office, BENCH-A: since access control another office would receive none of A's
//      cases),
//   3. office B syncs again five times: nothing new (median),
// each sync in a child process (this program re-executed with --child-sync, which runs
// exactly what `teduh sync` runs: Store::open + sync_with_server with default options),
// so its peak memory is its own: wait4's ru_maxrss and /proc/self/status VmHWM. The
// no-op sync is also timed through the real `teduh sync` binary (process start and the
// Argon2id unlock included). The server's VmHWM is read from /proc/<pid>/status.
// Then the limits: bare SQLite inserts of the same versions (one transaction, plain file)
// and Ed25519 verifications per second on one core over the real commit bodies.
//
// The main process stays small (setup runs in forked children) because a child's
// ru_maxrss starts at its parent's high-water mark across fork and exec.
// Machines here are shared: compare the ratios, not the absolute numbers.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "case_workload.hpp"
#include "support/process.hpp"
#include "teduh/client/enrollment.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/sync_client.hpp"
#include "teduh/crypto/encrypted_vfs.hpp"
#include "teduh/crypto/keys.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/version.hpp"

namespace {

using namespace teduh;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

using bench::kVersionsPerCommit;
// On the encrypting VFS a transaction that spills the page cache into the WAL is lost at
// close or damages the store (BENCHMARKS.md): setup transactions stay moderate and run
// with a page cache big enough never to spill.
constexpr int kSetupCommitsPerTransaction = 1000;
constexpr const char* kClientPassphrase = "sepatu-biru-menghitung-awan-bench";
constexpr const char* kServerPassphrase = "bangku-taman-menguap-lambat-bench";

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

pid_t g_main_pid = 0;
pid_t g_server_pid = 0;  // stopped by die() in the main process

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "bench_sync: %s\n", why.c_str());
  if (g_server_pid > 0 && ::getpid() == g_main_pid) {
    ::kill(g_server_pid, SIGTERM);
    ::waitpid(g_server_pid, nullptr, 0);
  }
  std::exit(1);
}

// The writes of commit i: the same workload as bench_store's.
std::vector<client::FieldWrite> commit_writes(int i, sync::EntityId& scope) { return bench::case_commit(i, scope); }

// ---------------------------------------------------------------- memory

// A field of /proc/<pid>/status in kB, or -1.
long proc_status_kb(const std::string& pid, const char* field) {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  const std::string prefix = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::atol(line.c_str() + prefix.size());
  }
  return -1;
}

// Resets the peak RSS (VmHWM) of a process to its current RSS (proc(5), clear_refs "5").
bool reset_peak(const std::string& pid) {
  std::ofstream out("/proc/" + pid + "/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

double mb(long kb) { return kb / 1024.0; }

// ---------------------------------------------------------------- processes

struct Exit {
  int code = -1;
  long maxrss_kb = 0;  // wait4's ru_maxrss
  double seconds = 0;
  std::string out;
};

// Runs a program (no shell) with stdout captured; stderr passes through to ours when
// `show_stderr`, else to /dev/null.
Exit run(const std::string& program, const std::vector<std::string>& args, bool show_stderr = true) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) die("pipe failed");
  auto t0 = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) die("fork failed");
  if (pid == 0) {
    ::dup2(pipefd[1], STDOUT_FILENO);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, STDIN_FILENO);
    if (!show_stderr) ::dup2(devnull, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  Exit e;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) e.out.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  e.seconds = seconds_since(t0);
  e.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  e.maxrss_kb = ru.ru_maxrss;
  return e;
}

std::string last_line(std::string t) {
  while (!t.empty() && t.back() == '\n') t.pop_back();
  auto nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

// Runs fn in a forked child (setup and baselines, so this process stays small); returns
// what the child wrote to the pipe it is given.
template <class Fn>
std::string in_child(Fn fn) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) die("pipe failed");
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    std::string result = fn();
    (void)!::write(pipefd[1], result.data(), result.size());
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) die("a setup child failed");
  return out;
}

// teduhd serve on 127.0.0.1 (tests/support/process.hpp), and stopped by die() too.
class Server {
 public:
  void start(const std::string& teduhd, const fs::path& data, const fs::path& log) {
    if (!process_.start(data, log, "127.0.0.1:0", teduhd)) {
      die("teduhd serve did not start (see " + log.string() + ")");
    }
    g_server_pid = process_.pid();
  }
  void stop() {
    process_.stop();
    g_server_pid = 0;
  }
  std::string pid() const { return std::to_string(process_.pid()); }
  const std::string& address() const { return process_.address(); }

 private:
  testing::ServerProcess process_;
};

// ---------------------------------------------------------------- child: one sync

// --child-sync STORE REPEAT: opens the store (TEDUH_PASSPHRASE) and runs sync_with_server
// REPEAT times with the options `teduh sync` uses. One line per sync:
//   SYNC total_s push_end_s pushed pulled rejected cpu_s
// (cpu_s: this process's CPU time during the sync, all its threads)
// and at the end: MEM hwm_after_open_kb hwm_during_sync_kb
int child_sync(const std::string& store_path, int repeat) {
  const char* pass = std::getenv("TEDUH_PASSPHRASE");
  auto store = client::Store::open(store_path, pass ? pass : "");
  if (!store) die("open: " + store.error().message);
  // Experiments only (BENCHMARKS.md): TEDUH_BENCH_CACHE_KB sets the client's page cache,
  // to measure a proposed change; unset, the sync runs exactly as `teduh sync` does.
  if (const char* kb = std::getenv("TEDUH_BENCH_CACHE_KB")) {
    (void)schema::exec(store->db(), "PRAGMA cache_size=-" + std::to_string(std::atol(kb)));
  }
  long hwm_open = proc_status_kb("self", "VmHWM");
  bool reset = reset_peak("self");
  for (int i = 0; i < repeat; ++i) {
    client::SyncOptions options;  // the defaults of `teduh sync`
    auto t0 = Clock::now();
    std::uint64_t last_pushed = 0;
    double push_end = 0;
    options.progress = [&](std::uint64_t pushed, std::uint64_t) {
      // Every accepted push batch raises `pushed`; pull batches leave it as it is.
      if (pushed != last_pushed) {
        last_pushed = pushed;
        push_end = seconds_since(t0);
      }
    };
    const double cpu0 = bench::cpu_now();
    auto r = client::sync_with_server(*store, options);
    double total = seconds_since(t0);
    const double cpu = bench::cpu_now() - cpu0;
    if (!r) die("sync: " + r.error().message);
    std::printf("SYNC %.6f %.6f %llu %llu %llu %.6f\n", total, push_end, static_cast<unsigned long long>(r->pushed),
                static_cast<unsigned long long>(r->pulled), static_cast<unsigned long long>(r->rejected), cpu);
    for (const auto& line : r->rejections) std::fprintf(stderr, "bench_sync: rejected: %s\n", line.c_str());
  }
  std::printf("MEM %ld %ld\n", hwm_open, reset ? proc_status_kb("self", "VmHWM") : -1);
  return 0;
}

struct SyncRun {
  std::vector<double> total, push_end, cpu;
  std::uint64_t pushed = 0, pulled = 0, rejected = 0;
  long maxrss_kb = 0, hwm_open_kb = 0, hwm_sync_kb = 0;
};

SyncRun measure_sync(const std::string& self, const fs::path& store, int repeat) {
  Exit e = run(self, {"--child-sync", store.string(), std::to_string(repeat)});
  if (e.code != 0) die("a sync child failed");
  SyncRun s;
  s.maxrss_kb = e.maxrss_kb;
  std::istringstream in(e.out);
  std::string tag;
  while (in >> tag) {
    if (tag == "SYNC") {
      double t, p, c;
      std::uint64_t pushed, pulled, rejected;
      in >> t >> p >> pushed >> pulled >> rejected >> c;
      s.total.push_back(t);
      s.cpu.push_back(c);
      s.push_end.push_back(p);
      s.pushed += pushed;
      s.pulled += pulled;
      s.rejected += rejected;
    } else if (tag == "MEM") {
      in >> s.hwm_open_kb >> s.hwm_sync_kb;
    }
  }
  if (s.total.empty()) die("a sync child printed nothing");
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

// ---------------------------------------------------------------- setup

// Creates a store the way `teduh init` does and writes `commits` commits into it.
std::string setup_store(const fs::path& path, const std::string& address, const std::string& server_key_text,
                        const std::string& code, int commits) {
  auto enrollment = client::check_enrollment(address, server_key_text, code, sync::system_now_ms());
  if (!enrollment) {
    die(enrollment.error().code == client::Errc::usage ? "bad server key from teduhd init"
                                                       : "the enrollment code does not verify");
  }
  client::StoreOptions so{path, kClientPassphrase, crypto::KdfParams::interactive()};
  auto store = client::enroll_device(*enrollment, so);
  if (!store) die("create: " + store.error().message);
  // Setup only: a page cache big enough that a setup transaction never spills into the WAL
  // (see kSetupCommitsPerTransaction). The measured syncs run with the defaults.
  (void)schema::exec(store->db(), "PRAGMA cache_size=-1000000");
  for (int done = 0; done < commits;) {
    int upto = std::min(commits, done + kSetupCommitsPerTransaction);
    auto r = store->in_transaction([&]() -> client::Result<bool> {
      for (int i = done; i < upto; ++i) {
        sync::EntityId scope;
        auto writes = commit_writes(i, scope);
        TEDUH_TRY(store->write(scope, "kasus", std::move(writes)));
      }
      return true;
    });
    if (!r) die("write: " + r.error().message);
    done = upto;
  }
  // Read back after closing: a store that lost its commits would make every figure wrong.
  store = tl::unexpected(client::Error{client::Errc::internal, "closed"});
  auto again = client::Store::open(path, kClientPassphrase);
  if (!again) die("reopen: " + again.error().message);
  if (again->last_seq() != static_cast<std::uint64_t>(commits)) {
    die("the store kept " + std::to_string(again->last_seq()) + " of " + std::to_string(commits) +
        " commits after closing");
  }
  return "ok";
}

// ---------------------------------------------------------------- limits

// Bare SQLite inserts of the same versions, one transaction, plain file: versions/s.
double bare_sqlite(const fs::path& path, int commits) {
  auto db = crypto::open_plain(path, crypto::OpenMode::create);
  if (!db) die("open_plain failed");
  (void)schema::exec(db->get(), "CREATE TABLE v(entity BLOB, field TEXT, value TEXT, hlc INTEGER)");
  // Values made before the clock starts, as bench_store does, in chunks to bound memory.
  constexpr int kChunk = 5000;
  double seconds = 0;
  std::int64_t hlc = 0;
  auto st = schema::Statement::prepare(db->get(), "INSERT INTO v VALUES(?1, ?2, ?3, ?4)");
  if (!st) die("prepare failed");
  auto t_begin = Clock::now();
  (void)schema::exec(db->get(), "BEGIN");
  seconds += seconds_since(t_begin);
  for (int base = 0; base < commits; base += kChunk) {
    std::vector<std::vector<client::FieldWrite>> chunk;
    for (int i = base; i < std::min(commits, base + kChunk); ++i) {
      sync::EntityId scope;
      chunk.push_back(commit_writes(i, scope));
    }
    auto t0 = Clock::now();
    for (const auto& c : chunk) {
      for (const auto& f : c) {
        st->reset();
        st->bind_blob(1, f.entity.bytes).bind(2, f.field).bind(3, f.value).bind(4, ++hlc);
        (void)st->run();
      }
    }
    seconds += seconds_since(t0);
  }
  auto t_commit = Clock::now();
  (void)schema::exec(db->get(), "COMMIT");
  seconds += seconds_since(t_commit);
  return static_cast<double>(commits) * kVersionsPerCommit / seconds;
}

struct VerifyLimit {
  double verifies_per_s = 0;
  double verify_commit_per_s = 0;  // signature + msgpack decode + structure checks
  double body_bytes = 0;
};

// Ed25519 verifications per second on one core over commit bodies of the workload.
VerifyLimit ed25519_limit() {
  crypto::SigningKey key = crypto::SigningKey::generate();
  sync::DeviceId device = sync::Id128::random();
  std::vector<sync::SignedCommit> signed_commits;
  std::size_t bytes = 0;
  sync::Hlc hlc = sync::system_now_ms() << 16;
  for (int i = 0; i < 256; ++i) {
    sync::Commit c;
    c.device = device;
    c.seq = static_cast<std::uint64_t>(i + 1);
    c.scope_type = "kasus";
    auto writes = commit_writes(i, c.scope);
    for (auto& w : writes) {
      sync::Version v;
      v.entity = w.entity;
      v.entity_type = w.entity_type;
      v.field = w.field;
      v.value = w.value;
      v.hlc = ++hlc;
      c.hlc = v.hlc;
      c.versions.push_back(std::move(v));
    }
    signed_commits.push_back(sync::sign_commit(c, key));
    bytes += signed_commits.back().body.size();
  }
  VerifyLimit out;
  out.body_bytes = static_cast<double>(bytes) / signed_commits.size();
  const auto pk = key.public_key();
  auto rate = [&](auto&& one) {
    std::size_t n = 0;
    auto t0 = Clock::now();
    double s = 0;
    while ((s = seconds_since(t0)) < 1.5) {
      for (const auto& sc : signed_commits) {
        if (!one(sc)) die("verification failed");
      }
      n += signed_commits.size();
    }
    return n / s;
  };
  // What the signature covers: the commit context (16 bytes, sync-protocol/src/version.cpp)
  // and the body. Made here so that only verify_signature is timed.
  const std::string_view context{"teduh-commit-v1\0", 16};
  std::vector<crypto::Bytes> messages;
  for (const auto& sc : signed_commits) {
    crypto::Bytes m(context.begin(), context.end());
    m.insert(m.end(), sc.body.begin(), sc.body.end());
    messages.push_back(std::move(m));
  }
  std::size_t k = 0;
  // Best of two rounds each, interleaved: the machine is shared.
  for (int round = 0; round < 2; ++round) {
    out.verifies_per_s = std::max(out.verifies_per_s, rate([&](const sync::SignedCommit& sc) {
      const crypto::Bytes& m = messages[k++ % messages.size()];
      return crypto::verify_signature(pk, {m.data(), m.size()}, sc.signature);
    }));
    out.verify_commit_per_s = std::max(
        out.verify_commit_per_s, rate([&](const sync::SignedCommit& sc) { return sync::verify_commit(sc, pk).has_value(); }));
  }
  return out;
}

// ---------------------------------------------------------------- main

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int main(int argc, char** argv) {
  g_main_pid = ::getpid();
  if (argc >= 4 && std::strcmp(argv[1], "--child-sync") == 0) return child_sync(argv[2], std::atoi(argv[3]));

  int commits = 100000;
  bool keep = false;
  fs::path self = fs::canonical("/proc/self/exe");
  std::string teduhd = (self.parent_path() / ".." / "server" / "teduhd").lexically_normal().string();
  std::string teduh = (self.parent_path() / ".." / "client" / "teduh").lexically_normal().string();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--teduhd" && i + 1 < argc) {
      teduhd = argv[++i];
    } else if (a == "--teduh" && i + 1 < argc) {
      teduh = argv[++i];
    } else if (a == "--keep") {
      keep = true;
    } else if (!a.empty() && a[0] != '-') {
      commits = std::atoi(a.c_str());
    } else {
      std::fprintf(stderr, "usage: bench_sync [COMMITS] [--teduhd PATH] [--teduh PATH] [--keep]\n");
      return 1;
    }
  }
  if (commits < 1) die("COMMITS must be positive");
  for (const auto& p : {teduhd, teduh}) {
    if (!fs::exists(p)) die(p + " not found; build it or pass --teduhd / --teduh");
  }
  ::setenv("TEDUH_KDF", "interactive", 1);
  ::setenv("TEDUH_TEST_STORES", "1", 1);  // the cheap KDF, allowed for these throwaway stores
  ::setenv("TEDUH_SERVER_PASSPHRASE", kServerPassphrase, 1);
  ::setenv("TEDUH_PASSPHRASE", kClientPassphrase, 1);

  fs::path dir = fs::temp_directory_path() / ("teduh-bench-sync-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::path data = dir / "server";
  std::printf("bench_sync: %d commits of %d versions (%d versions); load average at start %s\n", commits,
              kVersionsPerCommit, commits * kVersionsPerCommit, load_average().c_str());

  // The server: teduhd init, one office, two devices (A writes, B is a fresh laptop).
  auto must = [&](const std::vector<std::string>& args) {
    Exit e = run(teduhd, args);
    if (e.code != 0) die("teduhd " + args[0] + " failed");
    return last_line(e.out);
  };
  std::string server_key = must({"init", "--data", data.string()});
  must({"office", "add", "--data", data.string(), "--code", "BENCH-A", "--name", "Kantor Uji A", "--kind", "dinas"});
  std::string code_a = must({"enroll", "--data", data.string(), "--office", "BENCH-A", "--user", "petugas-a", "--role", "operator"});
  std::string code_b = must({"enroll", "--data", data.string(), "--office", "BENCH-A", "--user", "petugas-b", "--role", "operator"});
  Server server;
  server.start(teduhd, data, dir / "teduhd.log");

  // The offices' stores, in children (not timed).
  fs::path store_a = dir / "a.teduh", store_b = dir / "b.teduh";
  auto t_setup = Clock::now();
  in_child([&] { return setup_store(store_a, server.address(), server_key, code_a, commits); });
  in_child([&] { return setup_store(store_b, server.address(), server_key, code_b, 0); });
  std::printf("setup (not timed in the figures): %.1f s to write office A's store\n", seconds_since(t_setup));
  const long parent_hwm = proc_status_kb("self", "VmHWM");

  // 1. Office A pushes everything (and gets its own commits back, already held).
  bool server_reset = reset_peak(server.pid());
  SyncRun push = measure_sync(self.string(), store_a, 1);
  long server_hwm_push = proc_status_kb(server.pid(), "VmHWM");
  if (push.pushed != static_cast<std::uint64_t>(commits) || push.rejected) {
    die("office A pushed " + std::to_string(push.pushed) + " of " + std::to_string(commits) + " commits (" +
        std::to_string(push.rejected) + " refused)");
  }

  // 2. Office B pulls everything.
  if (server_reset) reset_peak(server.pid());
  SyncRun pull = measure_sync(self.string(), store_b, 1);
  long server_hwm_pull = proc_status_kb(server.pid(), "VmHWM");
  if (pull.pulled != static_cast<std::uint64_t>(commits)) {
    die("office B pulled " + std::to_string(pull.pulled) + " of " + std::to_string(commits) + " commits");
  }

  // 3. No-op syncs of B: in one process (the sync alone), and as `teduh sync` commands.
  SyncRun noop = measure_sync(self.string(), store_b, 5);
  if (noop.pulled != 0 || noop.pushed != 0) {
    std::printf("WARNING: the no-op syncs moved %llu commits: office B's pull was not durable\n",
                static_cast<unsigned long long>(noop.pulled + noop.pushed));
  }
  std::vector<double> noop_cmd;
  long noop_cmd_rss = 0;
  for (int i = 0; i < 5; ++i) {
    Exit e = run(teduh, {"sync", "--store", store_b.string()}, false);
    if (e.code != 0) die("teduh sync failed");
    noop_cmd.push_back(e.seconds);
    noop_cmd_rss = std::max(noop_cmd_rss, e.maxrss_kb);
  }
  server.stop();

  // The limits of this machine, in this run.
  double bare = std::stod(in_child([&] {
    return std::to_string(bare_sqlite(dir / "bare.db", commits));
  }));
  VerifyLimit ed{};
  {
    std::istringstream in(in_child([&] {
      crypto::init();
      VerifyLimit v = ed25519_limit();
      return std::to_string(v.verifies_per_s) + " " + std::to_string(v.verify_commit_per_s) + " " +
             std::to_string(v.body_bytes);
    }));
    in >> ed.verifies_per_s >> ed.verify_commit_per_s >> ed.body_bytes;
  }

  const double n = commits, v = commits * double(kVersionsPerCommit);
  const double push_s = push.push_end[0], echo_s = push.total[0] - push.push_end[0];
  const double pull_s = pull.total[0];
  const double push_cps = n / push_s, pull_cps = n / pull_s;
  const double noop_ms = median(noop.total) * 1000, noop_cmd_ms = median(noop_cmd) * 1000;
  // ru_maxrss follows VmHWM, which the child resets after Store::open: the process peak is
  // the greater of the two parts.
  const long client_peak = std::max({push.maxrss_kb, pull.maxrss_kb, push.hwm_open_kb, pull.hwm_open_kb});

  std::printf("\n%-52s %9.2f s  %9.0f commits/s  %9.0f versions/s\n", "push: office A sends all (to last PushReply)",
              push_s, push_cps, v / push_s);
  std::printf("%-52s %9.2f s  %9.0f commits/s   (own commits sent back, already held)\n",
              "  then the echo pull in the same sync", echo_s, n / echo_s);
  std::printf("%-52s %9.2f s  %9.0f commits/s  %9.0f versions/s\n", "pull: fresh office B receives all", pull_s,
              pull_cps, v / pull_s);
  std::printf("%-52s %9.2f s  (%.2f of the pull's wall time; threads: apply, receive, checkpoints)\n",
              "  client CPU time during the pull", pull.cpu[0], pull.cpu[0] / pull_s);
  std::printf("%-52s %9.1f ms  (5 syncs: %.1f .. %.1f ms)\n", "no-op sync, in process (median of 5)", noop_ms,
              *std::min_element(noop.total.begin(), noop.total.end()) * 1000,
              *std::max_element(noop.total.begin(), noop.total.end()) * 1000);
  std::printf("%-52s %9.1f ms  (process start + Argon2id unlock, TEDUH_KDF=interactive)\n",
              "no-op `teduh sync` command (median of 5)", noop_cmd_ms);
  std::printf("client peak memory, whole process: %.1f MB (`teduh sync` no-op command: %.1f MB by ru_maxrss)\n",
              mb(client_peak), mb(noop_cmd_rss));
  std::printf("  up to the end of Store::open   push %.1f MB, pull %.1f MB (Argon2id interactive: 64 MiB)\n",
              mb(push.hwm_open_kb), mb(pull.hwm_open_kb));
  std::printf("  during the sync itself         push %.1f MB, pull %.1f MB (VmHWM reset after open; ru_maxrss %.1f / %.1f MB)\n",
              mb(push.hwm_sync_kb), mb(pull.hwm_sync_kb), mb(push.maxrss_kb), mb(pull.maxrss_kb));
  std::printf("  (this bench's own peak at fork, a floor for ru_maxrss: %.1f MB)\n", mb(parent_hwm));
  std::printf("server peak memory (VmHWM%s)    during push %.1f MB, during pull %.1f MB\n",
              server_reset ? ", reset before each" : ", cumulative", mb(server_hwm_push), mb(server_hwm_pull));
  std::printf("%-52s %9.0f versions/s\n", "limit: bare SQLite inserts, one transaction", bare);
  std::printf("%-52s %9.0f verifies/s (%.0f-byte bodies; with decode %.0f/s)\n",
              "limit: Ed25519 verify, one core", ed.verifies_per_s, ed.body_bytes, ed.verify_commit_per_s);

  std::printf("\nratios (>= 1 meets the target for the first four)\n");
  std::printf("  push commits/s / 10,000 target:             %6.2f\n", push_cps / 10000);
  std::printf("  pull commits/s / 10,000 target:             %6.2f\n", pull_cps / 10000);
  std::printf("  50 ms / no-op sync (in process):            %6.2f\n", 50 / noop_ms);
  std::printf("  150 MB / client peak memory:                %6.2f  (sync alone: %.2f)\n", 150 / mb(client_peak),
              150 / mb(std::max(push.hwm_sync_kb, pull.hwm_sync_kb)));
  std::printf("  push versions/s / bare SQLite versions/s:   %6.3f\n", v / push_s / bare);
  std::printf("  pull versions/s / bare SQLite versions/s:   %6.3f\n", v / pull_s / bare);
  std::printf("  push versions/s / Ed25519 limit (verifies/s x 15): %6.3f\n", push_cps / ed.verifies_per_s);
  std::printf("  pull versions/s / Ed25519 limit (verifies/s x 15): %6.3f\n", pull_cps / ed.verifies_per_s);
  std::printf("load average at end %s\n", load_average().c_str());

  if (keep) {
    std::printf("kept %s\n", dir.c_str());
  } else {
    std::filesystem::remove_all(dir);
  }
  return 0;
}
