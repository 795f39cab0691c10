// The office app's routes and its guard (client/APP.md): who may ask (a secret per launch
// exchanged for a cookie), from where (Host and Origin, against DNS rebinding and CSRF),
// and what: the JSON documents of the workflow library, the same ones `--json` prints.
// No business rule lives here; every read and write is a Workflow call.
#include <sodium.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "assets.hpp"
#include "background_sync.hpp"
#include "http_server.hpp"
#include "teduh/client/app.hpp"
#include "teduh/client/report.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/sync_client.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/dates.hpp"
#include "teduh/schema/entities.hpp"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX's name

namespace teduh::client {
namespace app {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The session cookie is named after the port ("teduh_sesi_8470"): browsers keep cookies
// per host, not per port, so two apps on one laptop (two offices' stores) would otherwise
// overwrite each other's session.
constexpr std::string_view kCookiePrefix = "teduh_sesi_";
constexpr std::size_t kSecretBytes = 32;

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  sodium_memzero(raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

// Compares secrets in time independent of where they differ.
bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && !a.empty() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Headers on every response, whatever it holds (issue 16 "Security of a local web server").
void add_security_headers(HttpResponse& r) {
  r.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
      "frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Cross-Origin-Opener-Policy", "same-origin");
  r.headers.emplace_back("Cross-Origin-Resource-Policy", "same-origin");
}

// A short page in Indonesian for refusals the browser shows as a page (no script, no style).
HttpResponse page(int status, std::string_view title, std::string_view sentence) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  r.body.append("<!doctype html>\n<html lang=\"id\"><head><meta charset=\"utf-8\"><title>")
      .append(title)
      .append(" - Teduh</title></head><body><main><h1>")
      .append(title)
      .append("</h1><p>")
      .append(sentence)
      .append("</p></main></body></html>\n");
  return r;
}

HttpResponse json_response(int status, const json& doc) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  r.body = doc.dump();
  return r;
}

HttpResponse refusal(int status, std::string_view sentence) {
  return json_response(status, json{{"galat", sentence}});
}

// A workflow error as the page shows it: a sentence in Indonesian for its kind, and the
// library's own message (which names the field) as the detail.
HttpResponse error_response(const Error& e) {
  int status = 500;
  std::string sentence = "Terjadi kesalahan di dalam aplikasi; tidak ada yang disimpan.";
  switch (e.code) {
    case Errc::usage:
    case Errc::invalid:
      status = 422;
      sentence = "Isian belum benar; tidak ada yang disimpan. Periksa keterangan di bawah ini.";
      break;
    case Errc::not_found:
      status = 404;
      sentence = "Data itu tidak ada di perangkat ini.";
      break;
    case Errc::refused:
      status = 403;
      sentence = "Tindakan ini tidak diizinkan untuk pengguna atau perangkat ini.";
      break;
    case Errc::damaged:
      sentence = "Penyimpanan rusak atau diubah di luar Teduh; hubungi administrator.";
      break;
    case Errc::busy:
      status = 503;
      sentence = "Penyimpanan sedang dipakai proses lain; coba lagi sebentar lagi.";
      break;
    case Errc::full:
      status = 507;
      sentence = "Disk penuh: tidak ada yang disimpan dan tidak ada yang hilang.";
      break;
    case Errc::unreachable:
      status = 503;
      sentence = "Server tidak dapat dihubungi; pekerjaan di perangkat ini tetap tersimpan.";
      break;
    case Errc::internal:
      break;
  }
  json doc{{"galat", sentence}, {"rincian", e.message}};
  // The validator names the field first ("nik (NIK): ..."): the page links it to its input.
  const auto paren = e.message.find(" (");
  if ((e.code == Errc::invalid || e.code == Errc::usage) && paren != std::string::npos &&
      paren > 0 && e.message.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == paren) {
    doc["kolom"] = e.message.substr(0, paren);
  }
  return json_response(status, doc);
}

// {"field": "value", ...} into workflow input; empty values are left out (not written).
std::optional<FieldInput> field_input(const json& object) {
  FieldInput out;
  if (object.is_null()) return out;
  if (!object.is_object()) return std::nullopt;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!it.value().is_string()) return std::nullopt;
    const auto& value = it.value().get_ref<const std::string&>();
    if (!value.empty()) out.emplace_back(it.key(), value);
  }
  return out;
}

// {"field": "value", ...} as typed, empty values included (a change may clear a field).
std::optional<FieldInput> field_input_all(const json& object) {
  if (!object.is_object()) return std::nullopt;
  FieldInput out;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (!it.value().is_string()) return std::nullopt;
    out.emplace_back(it.key(), it.value().get<std::string>());
  }
  return out;
}

std::string_view kind_name(schema::FieldKind kind) {
  switch (kind) {
    case schema::FieldKind::text:
      return "text";
    case schema::FieldKind::integer:
      return "integer";
    case schema::FieldKind::date:
      return "date";
    case schema::FieldKind::datetime:
      return "datetime";
    case schema::FieldKind::code:
      return "code";
    case schema::FieldKind::codes:
      return "codes";
    case schema::FieldKind::ref:
      return "ref";
    case schema::FieldKind::nik:
      return "nik";
    case schema::FieldKind::phone:
      return "phone";
    case schema::FieldKind::boolean:
      return "boolean";
    case schema::FieldKind::secret:
      return "secret";
  }
  return "text";
}

// The labels the pages show, from the schema: code sets and the fields of every entity.
json schema_document() {
  json codes = code_lists();  // what `teduh kode --json` prints
  json entities = json::object();
  for (const schema::EntitySpec& spec : schema::all_entity_specs()) {
    json fields = json::array();  // in the schema's order, which is the order pages show
    for (const schema::FieldSpec& f : spec.fields) {
      if (f.secret) continue;
      json field{{"name", f.name},
                 {"label", f.label},
                 {"kind", kind_name(f.kind)},
                 {"code_set", f.code_set}};
      if (spec.name == "kasus" && set_by_teduh(f.name)) field["oleh_teduh"] = true;
      fields.push_back(std::move(field));
    }
    entities[std::string(spec.name)] = json{{"label", spec.label}, {"fields", fields}};
  }
  return json{{"codes", codes}, {"entities", entities}};
}

// Opens the default browser at `url` without waiting for it (xdg-open on Linux; the one
// platform call of the app, kept here for the Windows build).
void open_in_browser(const std::string& url) {
  std::signal(SIGCHLD,
              SIG_IGN);  // the child is reaped by the system: teduh app waits for no process
  pid_t pid = 0;
  std::string program = "xdg-open";
  std::vector<char*> argv{program.data(), const_cast<char*>(url.c_str()), nullptr};
  if (posix_spawnp(&pid, program.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    std::cerr
        << "teduh app: peramban tidak dapat dibuka otomatis; buka alamat di atas secara manual.\n";
  }
}

class OfficeApp {
 public:
  explicit OfficeApp(AppOptions options)
      : options_(std::move(options)), secret_(random_hex(kSecretBytes)) {}
  OfficeApp(const OfficeApp&) = delete;
  OfficeApp& operator=(const OfficeApp&) = delete;
  ~OfficeApp() { lock("aplikasi ditutup"); }

  void set_port(std::uint16_t port) {
    port_ = std::to_string(port);
    hosts_ = {"127.0.0.1:" + port_, "localhost:" + port_};
    cookie_name_ = std::string(kCookiePrefix) + port_;
    origins_ = {"http://127.0.0.1:" + port_, "http://localhost:" + port_};
  }
  [[nodiscard]] std::string entry_url() const {
    return "http://127.0.0.1:" + port_ + "/masuk?k=" + secret_;
  }

  HttpResponse handle(const HttpRequest& req) {
    HttpResponse r = guarded(req);
    add_security_headers(r);
    return r;
  }

  // Locks the store once it has gone unused for the idle time; starts the automatic sync.
  void tick() {
    sync_.reap();
    if (!store_) return;
    const auto idle = std::chrono::duration<double, std::ratio<60>>(Clock::now() - last_activity_);
    if (idle.count() >= options_.idle_minutes) {
      lock("tidak dipakai selama batas waktu");
      return;
    }
    auto_sync();
  }

 private:
  struct Session {
    std::string csrf;
  };

  // A sync starts sync_minutes after the last one started, by the page or by this, on an
  // enrolled store: the first one an interval after the store is unlocked (not at once, so
  // that a worker's own "Sinkronkan sekarang" is not refused as already running). With no
  // network it fails like the button's ("server tidak terjangkau") and is tried again at
  // the next interval.
  void auto_sync() {
    if (options_.sync_minutes <= 0 || store_->identity().server_address.empty()) return;
    const auto since =
        std::chrono::duration<double, std::ratio<60>>(Clock::now() - last_sync_start_);
    if (since.count() < options_.sync_minutes) return;
    if (sync_.start(*store_)) {
      last_sync_start_ = Clock::now();
      automatic_syncs_ += 1;
    }
  }

  void lock(const char* why) {
    sync_.cancel();  // a running sync stops at its next frame; its own Store goes with it
    if (!store_) return;
    store_.reset();  // closes the connection; the store's key buffers are wiped on release
    std::cerr << "teduh app: penyimpanan dikunci (" << why << ").\n";
  }

  [[nodiscard]] bool allowed_host(const HttpRequest& req) const {
    const std::string* host = req.header("host");
    return host != nullptr && (*host == hosts_[0] || *host == hosts_[1]);
  }

  [[nodiscard]] const Session* session_of(const HttpRequest& req) const {
    for (const auto& [name, value] : req.headers) {
      if (name != "cookie") continue;
      std::string_view rest = value;
      while (!rest.empty()) {
        const auto semi = rest.find(';');
        std::string_view item = rest.substr(0, semi);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        const auto eq = item.find('=');
        if (eq != std::string_view::npos && item.substr(0, eq) == cookie_name_) {
          const std::string_view token = item.substr(eq + 1);
          for (const auto& [id, session] : sessions_) {
            if (same_secret(id, token)) return &session;
          }
        }
        if (semi == std::string_view::npos) break;
        rest.remove_prefix(semi + 1);
      }
    }
    return nullptr;
  }

  // The guard, in order: Host (DNS rebinding), the secret exchange, the session cookie,
  // then for every change Origin and the CSRF token. Only then a route runs.
  HttpResponse guarded(const HttpRequest& req) {
    if (!allowed_host(req)) {
      return page(
          421, "Alamat tidak dikenal",
          "Aplikasi Teduh hanya menjawab alamat 127.0.0.1 atau localhost dengan port-nya sendiri.");
    }
    const std::string path = req.path();
    if (req.method == "GET" && path == "/masuk") return enter(req);
    const Session* session = session_of(req);
    if (session == nullptr) {
      return page(403, "Akses ditolak",
                  "Buka aplikasi dari alamat yang dicetak oleh perintah teduh app di komputer ini. "
                  "Alamat itu hanya berlaku sekali; bila sudah terpakai, tutup aplikasi lalu "
                  "jalankan lagi.");
    }
    if (req.method != "GET") {
      const std::string* origin = req.header("origin");
      if (origin == nullptr || (*origin != origins_[0] && *origin != origins_[1])) {
        return refusal(403, "Permintaan ditolak: tidak datang dari halaman aplikasi Teduh.");
      }
      const std::string* token = req.header("x-csrf-token");
      if (token == nullptr || !same_secret(*token, session->csrf)) {
        return refusal(403, "Permintaan ditolak: token sesi tidak cocok. Muat ulang halaman.");
      }
    }
    last_activity_ = Clock::now();
    return route(req, path, *session);
  }

  // GET /masuk?k=SECRET: the secret printed at launch, good once, becomes a session cookie;
  // the redirect drops it from the address bar and the history.
  HttpResponse enter(const HttpRequest& req) {
    if (secret_used_ || !same_secret(req.query("k"), secret_)) {
      return page(
          403, "Akses ditolak",
          "Alamat masuk ini tidak berlaku atau sudah terpakai. Tutup aplikasi lalu jalankan "
          "teduh app lagi untuk mendapat alamat baru.");
    }
    secret_used_ = true;
    const std::string id = random_hex(kSecretBytes);
    sessions_.emplace(id, Session{random_hex(kSecretBytes)});
    HttpResponse r;
    r.status = 303;
    r.headers.emplace_back("Location", "/");
    r.headers.emplace_back(
        "Set-Cookie", cookie_name_ + "=" + id + "; HttpOnly; SameSite=Strict; Path=/");
    return r;
  }

  HttpResponse route(const HttpRequest& req, const std::string& path, const Session& session) {
    const bool get = req.method == "GET";
    const bool post = req.method == "POST";
    if (get && (path == "/" || path == "/index.html")) return asset("/index.html");
    if (get && path.rfind("/api/", 0) != 0) return asset(path);
    if (get && path == "/api/sesi") return session_document(session);
    if (post && path == "/api/buka") return unlock(req);
    if (post && path == "/api/kunci") {
      lock("dikunci dari halaman");
      return json_response(200, json{{"terkunci", true}});
    }
    if (get && path == "/api/skema") return json_response(200, schema_document());
    if (!store_) {
      return json_response(
          423, json{{"galat", "Penyimpanan terkunci. Masukkan kata sandi untuk membukanya."},
                    {"terkunci", true}});
    }
    Workflow wf(*store_);
    if (get && path == "/api/beranda") return home(wf);
    if (get && path == "/api/kasus") return result(wf.list_cases());
    if (post && path == "/api/cari") return find_cases(wf, req);
    if (post && path == "/api/kasus") return new_case(wf, req);
    if (post && path == "/api/serupa") {
      auto body = json::parse(req.body, nullptr, false);
      auto victim = body.is_object() ? field_input(body.value("korban", json())) : std::nullopt;
      if (!victim) return refusal(400, "Isian korban tidak terbaca.");
      return result(wf.same_victim(*victim));
    }
    if (get && path == "/api/kantor") return offices();
    if (get && path == "/api/sinkron") return sync_status();
    if (post && path == "/api/sinkron") {
      if (!sync_.start(*store_)) {
        return refusal(409, "Sinkronisasi sedang berjalan; tunggu sampai selesai.");
      }
      last_sync_start_ = Clock::now();
      return json_response(202, sync_status_document());
    }
    if (get && path == "/api/laporan") return report(wf, req);
    if (get && path == "/api/konflik") return result(wf.conflicts());
    if (post && path == "/api/konflik/selesaikan") return settle(wf, req);
    // /api/kasus/ID[/ACTION], /api/rujukan/ID/ACTION, /api/alih-kelola/ID/ACTION: the ids
    // are 32 hex digits, never a name or NIK.
    const std::vector<std::string> parts = segments(path);
    if (parts.size() >= 3 && parts.size() <= 4 && parts[0] == "api") {
      const std::string action = parts.size() == 4 ? parts[3] : "";
      if (parts[1] == "kasus") {
        auto id = sync::Id128::from_hex(parts[2]);
        if (!id) return refusal(404, "Kasus itu tidak ada di perangkat ini.");
        if (get && action.empty()) return result(case_document(wf, *id));
        if (get && action == "riwayat") return result(wf.history(*id));
        if (post) return case_action(wf, *id, action, req);
      } else if (post && (parts[1] == "rujukan" || parts[1] == "alih-kelola")) {
        auto id = sync::Id128::from_hex(parts[2]);
        if (!id) return refusal(404, "Rujukan atau alih kelola itu tidak ada di perangkat ini.");
        if (action != "terima" && action != "tolak") return refusal(404, "Tindakan itu tidak ada.");
        const bool accept = action == "terima";
        auto answered = parts[1] == "rujukan" ? wf.respond_referral(*id, accept)
                                              : wf.respond_transfer(*id, accept);
        if (!answered) return error_response(answered.error());
        return json_response(200,
                             json{{"id", id->hex()}, {"status", accept ? "diterima" : "ditolak"}});
      }
    }
    if (!get && !post) return refusal(405, "Cara permintaan ini tidak didukung.");
    return refusal(404, "Halaman atau data itu tidak ada.");
  }

  static HttpResponse asset(std::string_view path) {
    const Asset* a = find_asset(path);
    if (a == nullptr)
      return page(404, "Tidak ditemukan", "Halaman itu tidak ada di aplikasi Teduh.");
    HttpResponse r;
    r.headers.emplace_back("Content-Type", std::string(a->content_type));
    r.body = std::string(a->data);
    return r;
  }

  static HttpResponse result(Result<json> doc) {
    if (!doc) return error_response(doc.error());
    return json_response(200, *doc);
  }

  // A change that answers nothing but whether it was made.
  static HttpResponse done(const Result<void>& r) {
    if (!r) return error_response(r.error());
    return json_response(200, json{{"ok", true}});
  }

  // "/api/kasus/ID/tutup" -> {"api", "kasus", "ID", "tutup"}.
  static std::vector<std::string> segments(const std::string& path) {
    std::vector<std::string> out;
    std::size_t at = 1;
    while (at <= path.size()) {
      const auto slash = path.find('/', at);
      out.push_back(path.substr(at, slash == std::string::npos ? std::string::npos : slash - at));
      if (slash == std::string::npos) break;
      at = slash + 1;
    }
    return out;
  }

  // A request body that must be a JSON object; nullopt when it is not.
  static std::optional<json> body_object(const HttpRequest& req) {
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) return std::nullopt;
    return body;
  }

  // A string member of a body; "" when absent, nullopt when it is not a string.
  static std::optional<std::string> text_of(const json& body, const char* key) {
    const json v = body.value(key, json(""));
    if (!v.is_string()) return std::nullopt;
    return v.get<std::string>();
  }

  // POST /api/cari {q, status, petugas, saya, dari, sampai}: Daftar kasus. q is
  // Workflow::search_cases (NIK, name or number); the others are Workflow::CaseFilter, as
  // `teduh case list --status --petugas --milik-saya --dari --sampai`. With both, the rows
  // of the search that the filter keeps, in the search's order. In a body, never in an
  // address: a search holds a name or NIK, a filter a worker's name.
  static HttpResponse find_cases(Workflow& wf, const HttpRequest& req) {
    auto body = body_object(req);
    if (!body) return refusal(400, "Permintaan pencarian tidak terbaca.");
    Workflow::CaseFilter filter;
    auto query = text_of(*body, "q");
    auto status = text_of(*body, "status");
    auto worker = text_of(*body, "petugas");
    auto from = text_of(*body, "dari");
    auto to = text_of(*body, "sampai");
    const json mine = body->value("saya", json(false));
    if (!query || !status || !worker || !from || !to || !mine.is_boolean())
      return refusal(400, "Permintaan pencarian tidak terbaca.");
    filter.status = *status;
    filter.worker = *worker;
    filter.mine = mine.get<bool>();
    filter.from = *from;
    filter.to = *to;
    const bool filtered = !filter.status.empty() || !filter.worker.empty() || filter.mine ||
                          !filter.from.empty() || !filter.to.empty();
    auto kept = filtered || query->empty() ? wf.list_cases(filter) : wf.list_cases();
    if (!kept) return error_response(kept.error());
    if (query->empty()) return json_response(200, *kept);
    auto found = wf.search_cases(*query);
    if (!found) return error_response(found.error());
    if (!filtered) return json_response(200, *found);
    std::set<std::string> ids;
    for (const json& row : (*kept)["cases"]) ids.insert(row["id"].get<std::string>());
    json rows = json::array();
    for (json& row : (*found)["cases"]) {
      if (ids.count(row["id"].get<std::string>())) rows.push_back(std::move(row));
    }
    (*found)["cases"] = std::move(rows);
    return json_response(200, *found);
  }

  // `teduh case show --json`, plus what this office has to answer on the case
  // ("menunggu_jawaban": the rows of Workflow::waiting_answers for it, arah masuk).
  [[nodiscard]] static Result<json> case_document(Workflow& wf, const sync::EntityId& id) {
    auto doc = TEDUH_TRY(wf.show_case(id));
    auto waiting = TEDUH_TRY(wf.waiting_answers());
    json mine = json::array();
    for (auto& row : waiting) {
      if (row["case"] == id.hex() && row["arah"] == "masuk") mine.push_back(std::move(row));
    }
    doc["menunggu_jawaban"] = mine;
    return doc;
  }

  // The Kasus page's changes, each the Workflow call of the CLI command named:
  //   ubah  {data: {FIELD: VALUE}}          teduh case set (korban.FIELD for the victim)
  //   tutup {alasan}                        teduh case close --reason
  //   rujuk {ke, alasan, persetujuan, persetujuan_oleh, eksternal}   teduh refer
  //   alihkan {ke, persetujuan, persetujuan_oleh}                      teduh transfer
  static HttpResponse case_action(Workflow& wf, const sync::EntityId& id, const std::string& action,
                                  const HttpRequest& req) {
    if (action != "ubah" && action != "tutup" && action != "rujuk" && action != "alihkan")
      return refusal(404, "Tindakan itu tidak ada.");
    // The case first, so that a wrong id is said plainly whatever the action.
    if (auto found = wf.find_case(id.hex()); !found) {
      if (found.error().code == Errc::not_found)
        return refusal(404, "Kasus itu tidak ada di perangkat ini.");
      return error_response(found.error());
    }
    auto body = body_object(req);
    if (!body) return refusal(400, "Isian tidak terbaca.");
    if (action == "ubah") {
      auto fields = field_input_all(body->value("data", json()));
      if (!fields) return refusal(400, "Isian perubahan tidak terbaca.");
      return done(wf.set_case(id, *fields));
    }
    if (action == "tutup") {
      auto reason = text_of(*body, "alasan");
      if (!reason) return refusal(400, "Alasan penutupan tidak terbaca.");
      return done(wf.close_case(id, *reason));
    }
    if (action == "rujuk") {
      auto to = text_of(*body, "ke");
      auto reason = text_of(*body, "alasan");
      auto by = text_of(*body, "persetujuan_oleh");
      const json consent = body->value("persetujuan", json(false));
      const json external = body->value("eksternal", json(false));
      if (!to || !reason || !by || !consent.is_boolean() || !external.is_boolean())
        return refusal(400, "Isian rujukan tidak terbaca.");
      auto rid = wf.refer(id, *to, *reason, consent.get<bool>(), *by, external.get<bool>());
      if (!rid) return error_response(rid.error());
      return json_response(201, json{{"id", rid->hex()}});
    }
    if (action == "alihkan") {
      auto to = text_of(*body, "ke");
      auto by = text_of(*body, "persetujuan_oleh");
      const json consent = body->value("persetujuan", json(false));
      if (!to || !by || !consent.is_boolean()) return refusal(400, "Isian alih kelola tidak terbaca.");
      auto tid = wf.transfer(id, *to, consent.get<bool>(), *by);
      if (!tid) return error_response(tid.error());
      return json_response(201, json{{"id", tid->hex()}});
    }
    return refusal(404, "Tindakan itu tidak ada.");  // not reached: checked above
  }

  // Local time text of ms since the epoch, in the office's zone; "" when unknown.
  [[nodiscard]] std::string local_text(std::uint64_t ms) const {
    auto rules = deadline_rules(*store_);
    if (!rules || ms == 0) return "";
    return schema::dates::format_local(schema::dates::from_unix_ms(static_cast<std::int64_t>(ms)),
                                       rules->zone);
  }

  // GET /api/sinkron: {berjalan, dikirim, diterima, mulai, selesai, hasil, otomatis_menit,
  // otomatis_berjalan (how many syncs auto_sync started)}. hasil is null
  // before this app ran a sync, the counts of sync_report_json when it ended well, or
  // {galat, rincian} when it did not.
  [[nodiscard]] json sync_status_document() const {
    const BackgroundSync::Snapshot s = sync_.snapshot();
    json doc{{"berjalan", s.running},
             {"dikirim", s.pushed},
             {"diterima", s.pulled},
             {"mulai", s.started_ms ? json(local_text(s.started_ms)) : json()},
             {"selesai", s.ended_ms && !s.running ? json(local_text(s.ended_ms)) : json()},
             {"hasil", nullptr},
             {"otomatis_menit", options_.sync_minutes},
             {"otomatis_berjalan", automatic_syncs_}};
    if (!s.running && s.report) {
      doc["hasil"] = *s.report;
      doc["hasil"]["ok"] = true;
    } else if (!s.running && s.error) {
      json failed = json::parse(error_response(*s.error).body);
      failed["ok"] = false;
      doc["hasil"] = failed;
    }
    return doc;
  }
  [[nodiscard]] HttpResponse sync_status() const {
    return json_response(200, sync_status_document());
  }

  // GET /api/kantor: the offices of the directory the last sync brought (code, name,
  // kind), the choices for a referral; empty before a first sync.
  [[nodiscard]] HttpResponse offices() const {
    auto listed = store_->directory_offices();
    if (!listed) return error_response(listed.error());
    json rows = json::array();
    if (*listed) {
      for (const DirectoryOffice& o : **listed)
        rows.push_back(
            json{{"code", o.code}, {"name", o.name}, {"kind", o.kind}, {"region", o.region}});
    }
    return json_response(
        200, json{{"offices", rows}, {"sendiri", store_->identity().grant.office_code}});
  }

  // GET /api/laporan?dari=YYYY-MM-DD&sampai=YYYY-MM-DD&publik=1&bentuk=csv|xlsx|svg: the
  // report of `teduh report` (Workflow::report, counts only, no names), for the period;
  // publik=1 is `--publik` (cells 1-4 suppressed). JSON {laporan, teks} by default, the CSV
  // of `--csv` or the Excel workbook of `--xlsx` as a download, or the SVG of `--chart` for
  // the page's <img>. The query holds dates only, never a name.
  [[nodiscard]] HttpResponse report(Workflow& wf, const HttpRequest& req) const {
    ReportFilter filter;
    filter.from = req.query("dari");
    filter.to = req.query("sampai");
    const bool outside = req.query("publik") == "1";
    auto doc = wf.report(filter, outside ? Audience::outside : Audience::own_office);
    if (!doc) return error_response(doc.error());
    const std::string form = req.query("bentuk");
    if (form == "svg") {
      HttpResponse r;
      r.headers.emplace_back("Content-Type", "image/svg+xml");
      r.body = report_svg(*doc);
      return r;
    }
    if (form == "csv" || form == "xlsx") {
      HttpResponse r;
      if (form == "csv") {
        r.headers.emplace_back("Content-Type", "text/csv; charset=utf-8");
        r.body = report_csv(*doc);
      } else {
        auto book = report_xlsx(*doc);
        if (!book) return error_response(book.error());
        r.headers.emplace_back("Content-Type",
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        r.body = std::move(*book);
      }
      std::string name = "laporan-" + store_->identity().grant.office_code + "-" +
                         (filter.from.empty() ? "awal" : filter.from) + "-" +
                         (filter.to.empty() ? "kini" : filter.to) + "." + form;
      for (char& ch : name) {  // a file name of letters, digits and dashes only
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '.' && ch != '-') ch = '-';
      }
      r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
      return r;
    }
    if (!form.empty()) return refusal(404, "Bentuk laporan itu tidak ada.");
    // The table of the CSV and the workbook (report_rows), for the printed report.
    json rows = json::array();
    for (const ReportRow& row : report_rows(*doc)) {
      rows.push_back(json{{"kelompok", row.group},
                          {"kode", row.code},
                          {"uraian", row.label},
                          {"jumlah", row.count},
                          {"tanda", row.mark}});
    }
    return json_response(200,
                         json{{"laporan", *doc}, {"teks", report_text(*doc)}, {"baris", rows}});
  }

  // POST /api/konflik/selesaikan {kasus, entitas, kolom, versi}: keeps the value of one live
  // version (`teduh resolve ID FIELD --keep VERSION`), superseding every other.
  static HttpResponse settle(Workflow& wf, const HttpRequest& req) {
    auto body = body_object(req);
    if (!body) return refusal(400, "Isian penyelesaian konflik tidak terbaca.");
    auto case_text = text_of(*body, "kasus");
    auto entity_text = text_of(*body, "entitas");
    auto field = text_of(*body, "kolom");
    auto version = text_of(*body, "versi");
    if (!case_text || !entity_text || !field || !version || field->empty() || version->empty())
      return refusal(400, "Isian penyelesaian konflik tidak terbaca.");
    auto case_id = sync::Id128::from_hex(*case_text);
    if (!case_id) return refusal(404, "Kasus itu tidak ada di perangkat ini.");
    // A field of the case itself is named plainly; any other entity as ENTITY_ID.FIELD.
    const std::string target =
        entity_text->empty() || *entity_text == *case_text ? *field : *entity_text + "." + *field;
    return done(wf.resolve(*case_id, target, "", *version));
  }

  [[nodiscard]] HttpResponse session_document(const Session& session) const {
    json doc{{"csrf", session.csrf}, {"terkunci", !store_}, {"menit_kunci", options_.idle_minutes}};
    if (store_) {
      const auto& grant = store_->identity().grant;
      doc["kantor"] = grant.office_name;
      doc["kode_kantor"] = grant.office_code;
      doc["pengguna"] = grant.user;
      doc["peran"] = grant.role;
      // The letterhead of the print views: the office's region, from the directory the
      // last sync brought ("" before one).
      doc["wilayah_kantor"] = "";
      if (auto listed = store_->directory_offices(); listed && *listed) {
        for (const DirectoryOffice& o : **listed) {
          if (o.code == grant.office_code) doc["wilayah_kantor"] = o.region;
        }
      }
      auto rules = deadline_rules(*store_);
      if (rules) doc["zona_waktu"] = schema::dates::zone_name(rules->zone);
    }
    return json_response(200, doc);
  }

  // POST /api/buka {"kata_sandi": "..."}: the Argon2id runs on the server's one thread
  // (http_server.hpp); the passphrase is wiped once tried.
  HttpResponse unlock(const HttpRequest& req) {
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.value("kata_sandi", json()).is_string()) {
      return refusal(400, "Kata sandi tidak terbaca.");
    }
    auto& pass = body["kata_sandi"].get_ref<std::string&>();
    if (store_) {
      sodium_memzero(pass.data(), pass.size());
      return json_response(200, json{{"terkunci", false}});
    }
    auto opened = Store::open(options_.store, pass);
    sodium_memzero(pass.data(), pass.size());
    if (!opened) {
      if (opened.error().code == Errc::refused) {
        return refusal(403,
                       "Kata sandi salah, atau berkas ini bukan penyimpanan Teduh. Coba lagi.");
      }
      return error_response(opened.error());
    }
    store_ = std::make_unique<Store>(std::move(*opened));
    last_activity_ = Clock::now();
    last_sync_start_ = last_activity_;
    std::cerr << "teduh app: penyimpanan dibuka.\n";
    return json_response(200, json{{"terkunci", false}});
  }

  // Beranda: what is late or due, referrals and transfers waiting for an answer, the number
  // of conflicts, and when the last sync brought the directory.
  HttpResponse home(Workflow& wf) const {
    auto due = wf.due(sync::system_now_ms());
    if (!due) return error_response(due.error());
    auto waiting = wf.waiting_answers();
    if (!waiting) return error_response(waiting.error());
    auto conflicts = wf.conflicts();
    if (!conflicts) return error_response(conflicts.error());
    json doc{{"due", (*due)["due"]},
             {"zona_waktu", (*due)["zona_waktu"]},
             {"menunggu", *waiting},
             {"konflik", (*conflicts)["conflicts"].size()},
             {"sinkron_terakhir", nullptr},
             {"sinkron_hasil", nullptr},
             {"sinkron_berjalan", sync_.snapshot().running},
             {"sinkron_otomatis_menit",
              store_->identity().server_address.empty() ? 0.0 : options_.sync_minutes}};
    // The last sync that ended well (teduh sync or this app), else when a directory came.
    auto last = last_sync(*store_);
    if (last && *last) {
      const json& l = **last;
      auto at = schema::dates::parse_utc(l.value("at", ""));
      auto rules = deadline_rules(*store_);
      if (at && rules) doc["sinkron_terakhir"] = schema::dates::format_local(*at, rules->zone);
      doc["sinkron_hasil"] = l;
    } else if (auto synced = store_->meta("directory_at"); synced && *synced) {
      try {
        doc["sinkron_terakhir"] = local_text(std::stoull(**synced));
      } catch (const std::exception&) {
        // an unreadable mark reads as "never"
      }
    }
    return json_response(200, doc);
  }

  // POST /api/kasus {"kasus": {...}, "korban": {...}, "terlapor": {...}, "hubungan_terlapor":
  // "..."}: the same Workflow::new_case as `teduh case new`, in one commit.
  static HttpResponse new_case(Workflow& wf, const HttpRequest& req) {
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return refusal(400, "Isian pengaduan tidak terbaca.");
    auto case_fields = field_input(body.value("kasus", json()));
    auto victim_fields = field_input(body.value("korban", json()));
    CaseExtras extras;
    // The alleged perpetrator and the reporter, each with the relationship to the victim.
    for (const auto& [key, people] : {std::pair{"terlapor", &extras.perpetrators},
                                      std::pair{"pelapor", &extras.reporters}}) {
      auto fields = field_input(body.value(key, json()));
      const json relationship = body.value(std::string("hubungan_") + key, json(""));
      if (!fields || !relationship.is_string()) return refusal(400, "Isian pengaduan tidak terbaca.");
      if (!fields->empty()) people->emplace_back(*fields, relationship.get<std::string>());
    }
    if (!case_fields || !victim_fields) return refusal(400, "Isian pengaduan tidak terbaca.");
    auto id = wf.new_case(*case_fields, *victim_fields, extras);
    if (!id) return error_response(id.error());
    auto shown = wf.list_cases();
    std::string number;
    if (shown) {
      for (const auto& row : (*shown)["cases"]) {
        if (row["id"] == id->hex()) number = row["number"].get<std::string>();
      }
    }
    return json_response(201, json{{"id", id->hex()}, {"number", number}});
  }

  AppOptions options_;
  std::string secret_;
  bool secret_used_ = false;
  std::string port_;
  std::string cookie_name_;  // kCookiePrefix + port_
  std::vector<std::string> hosts_, origins_;
  std::map<std::string, Session> sessions_;
  std::unique_ptr<Store> store_;
  Clock::time_point last_activity_ = Clock::now();
  Clock::time_point last_sync_start_ = Clock::now();  // the page's or auto_sync's
  std::uint64_t automatic_syncs_ = 0;                 // started by auto_sync in this process
  BackgroundSync sync_;  // destroyed first: cancels and joins a running sync
};

}  // namespace
}  // namespace app

int run_app(const AppOptions& options) {
  if (sodium_init() < 0) {
    std::cerr << "teduh app: libsodium tidak dapat dimulai.\n";
    return 4;
  }
  app::OfficeApp office(options);
  app::HttpServerOptions server_options;
  server_options.port = options.port;
  app::HttpServerCallbacks callbacks;
  callbacks.handle = [&office](const app::HttpRequest& req) { return office.handle(req); };
  callbacks.on_tick = [&office] { office.tick(); };
  callbacks.on_listening = [&office, &options](std::uint16_t port) {
    office.set_port(port);
    const std::string url = office.entry_url();
    std::cout << url << std::endl;  // the first line of stdout: tests read the port and secret
    std::cerr << "teduh app: aplikasi kantor berjalan di http://127.0.0.1:" << port
              << "/ (hanya dari komputer ini). Alamat di atas berlaku sekali. Tekan Ctrl+C untuk "
                 "menutup.\n";
    if (options.open_browser) app::open_in_browser(url);
    return true;
  };
  return app::run_http_server(server_options, callbacks);
}

}  // namespace teduh::client
