// The office app (`teduh app`, client/APP.md) as a hostile neighbour meets it: the real
// program on a test store, plain HTTP/1.1 over a socket, and every defence of issue 16
// tried with a request that should fail: no cookie, a foreign Host (DNS rebinding), a
// change without the CSRF token or from another Origin, the secret used twice. Then the
// same requests done right work, and every response carries the security headers.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace teduh {
namespace {

using nlohmann::json;
using teduh::testing::kTeduh;
using teduh::testing::teduh;
using teduh::testing::teduhd;

constexpr const char* kOfficePassphrase = "ikan-paus-terbang-sore-uji";
constexpr const char* kVictimName = "Warga Uji Aplikasi";
constexpr const char* kVictimNik = "3275014101900007";

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  [[nodiscard]] std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// One request on its own connection (Connection: close), read to the end.
Reply send_request(std::uint16_t port, const std::string& raw) {
  Reply r;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return r;
  }
  std::size_t sent = 0;
  while (sent < raw.size()) {
    const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, 0);
    if (n <= 0) break;
    sent += static_cast<std::size_t>(n);
  }
  const std::string text = teduh::testing::slurp_fd(fd);
  ::close(fd);
  const auto end = text.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  std::istringstream head(text.substr(0, end));
  std::string line;
  std::getline(head, line);
  if (line.size() > 12) r.status = std::stoi(line.substr(9, 3));
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    r.headers[name] = line.substr(colon + 2);
  }
  r.body = text.substr(end + 4);
  return r;
}

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;
  std::string host;  // "": 127.0.0.1:PORT
  Headers headers;
  std::string body;
};

class AppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("TEDUH_KDF", "interactive", 1);
    ::setenv("TEDUH_TEST_STORES", "1", 1);
    ::setenv("TEDUH_SERVER_PASSPHRASE", "lampu-jalan-berbisik-pelan-uji", 1);
    ::setenv("TEDUH_ADMIN_PASSPHRASE", "mangga-layang-sepeda-kabut-uji", 1);
    ::setenv("TEDUH_PASSPHRASE", kOfficePassphrase, 1);
    const std::string data = (dir_ / "server").string();
    auto init = teduhd({"init", "--data", data, "--admin-key", (dir_ / "admin.key").string()});
    ASSERT_EQ(init.exit_code, 0) << init.err;
    ASSERT_EQ(teduhd({"office", "add", "--data", data, "--code", "UJI-DP3A", "--name", "Dinas Uji",
                      "--kind", "dinas"})
                  .exit_code,
              0);
    auto code = teduhd({"enroll", "--data", data, "--office", "UJI-DP3A", "--user", "petugas-uji",
                        "--role", "pendamping"});
    ASSERT_EQ(code.exit_code, 0) << code.err;
    store_ = (dir_ / "kantor.db").string();
    server_key_ = init.last_line();
    auto r = teduh({"init", "--store", store_, "--server", "127.0.0.1:9", "--server-key",
                    server_key_, "--enroll", code.last_line()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The app takes the passphrase in the page only, never from the environment.
    ::unsetenv("TEDUH_PASSPHRASE");
  }

  void TearDown() override { stop_app(); }

  // The store of a new pendamping device of UJI-DP3A enrolled with the running `server`
  // (passphrase kOfficePassphrase): its path, or "" after a failed step (reported).
  std::string enrolled_store(const teduh::testing::ServerProcess& server, const std::string& user) {
    auto code = teduhd({"enroll", "--data", (dir_ / "server").string(), "--office", "UJI-DP3A",
                        "--user", user, "--role", "pendamping"});
    EXPECT_EQ(code.exit_code, 0) << code.err;
    const std::string path = (dir_ / (user + ".db")).string();
    ::setenv("TEDUH_PASSPHRASE", kOfficePassphrase, 1);
    auto made = teduh({"init", "--store", path, "--server", server.address(), "--server-key",
                       server_key_, "--enroll", code.last_line()});
    ::unsetenv("TEDUH_PASSPHRASE");
    EXPECT_EQ(made.exit_code, 0) << made.err;
    return code.exit_code == 0 && made.exit_code == 0 ? path : std::string();
  }

  // Starts `teduh app --no-browser --port 0` and reads the address it prints first.
  void start_app(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"app", "--store", store_, "--no-browser", "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto started = teduh::testing::start_reading_first_line(kTeduh, args, dir_ / "app.log");
    pid_ = started.pid;
    ASSERT_GT(pid_, 0);
    const std::string& line = started.first_line;
    const std::string prefix = "http://127.0.0.1:";
    ASSERT_EQ(line.rfind(prefix, 0), 0u) << "first line: " << line;
    const auto slash = line.find('/', prefix.size());
    port_ =
        static_cast<std::uint16_t>(std::stoi(line.substr(prefix.size(), slash - prefix.size())));
    entry_ = line.substr(slash);  // /masuk?k=SECRET
    ASSERT_EQ(entry_.rfind("/masuk?k=", 0), 0u) << line;
  }

  void stop_app() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "teduh app did not stop cleanly";
  }

  [[nodiscard]] std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  [[nodiscard]] std::string origin() const { return "http://" + host(); }

  Reply call(const Request& req) {
    std::string raw = req.method + " " + req.target +
                      " HTTP/1.1\r\nHost: " + (req.host.empty() ? host() : req.host) +
                      "\r\nConnection: close\r\n";
    for (const auto& [name, value] : req.headers) raw += name + ": " + value + "\r\n";
    if (req.method != "GET")
      raw +=
          "Content-Type: application/json\r\nContent-Length: " + std::to_string(req.body.size()) +
          "\r\n";
    raw += "\r\n" + req.body;
    Reply r = send_request(port_, raw);
    replies_.push_back(r);
    return r;
  }

  // Exchanges the secret for the session cookie, and reads the CSRF token.
  void enter() {
    Reply r = call(Request{"GET", entry_, "", {}, ""});
    ASSERT_EQ(r.status, 303);
    const std::string set = r.header("set-cookie");
    cookie_ = set.substr(0, set.find(';'));
    Reply s = call(Request{"GET", "/api/sesi", "", Headers{{"Cookie", cookie_}}, ""});
    ASSERT_EQ(s.status, 200) << s.body;
    csrf_ = json::parse(s.body)["csrf"].get<std::string>();
  }

  // A change done right: cookie, Origin and token.
  Reply change(const std::string& target, const json& body) {
    return call(Request{"POST", target, "",
                        Headers{{"Cookie", cookie_}, {"Origin", origin()}, {"X-CSRF-Token", csrf_}},
                        body.dump()});
  }
  Reply read(const std::string& target) {
    return call(Request{"GET", target, "", Headers{{"Cookie", cookie_}}, ""});
  }

  void unlock() {
    Reply r = change("/api/buka", json{{"kata_sandi", kOfficePassphrase}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  teduh::testing::TempDir dir_;
  std::string store_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  std::string entry_, cookie_, csrf_, server_key_;
  std::vector<Reply> replies_;
};

TEST_F(AppTest, WithoutTheSessionCookieEveryPathIsRefusedWithAnIndonesianPage) {
  start_app();
  for (const std::string target :
       {"/", "/index.html", "/app.js", "/api/sesi", "/api/kasus", "/api/skema"}) {
    Reply r = call(Request{"GET", target, "", {}, ""});
    EXPECT_EQ(r.status, 403) << target;
    EXPECT_NE(r.body.find("Akses ditolak"), std::string::npos) << target;
  }
  Reply forged = call(Request{"GET", "/api/kasus", "",
                              Headers{{"Cookie", "teduh_sesi_" + std::to_string(port_) + "=" + std::string(64, 'a')}}, ""});
  EXPECT_EQ(forged.status, 403);
  Reply post = call(Request{"POST", "/api/buka", "", Headers{{"Origin", origin()}},
                            json{{"kata_sandi", kOfficePassphrase}}.dump()});
  EXPECT_EQ(post.status, 403);
}

TEST_F(AppTest, TheSecretUrlSetsAStrictHttpOnlyCookieAndWorksOnce) {
  start_app();
  Reply wrong = call(Request{"GET", "/masuk?k=" + std::string(64, '0'), "", {}, ""});
  EXPECT_EQ(wrong.status, 403);
  EXPECT_TRUE(wrong.header("set-cookie").empty());
  Reply r = call(Request{"GET", entry_, "", {}, ""});
  ASSERT_EQ(r.status, 303);
  EXPECT_EQ(r.header("location"), "/");  // the secret leaves the address bar
  const std::string cookie = r.header("set-cookie");
  // Named after the port: two apps on one laptop keep their own sessions.
  EXPECT_EQ(cookie.rfind("teduh_sesi_" + std::to_string(port_) + "=", 0), 0u) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; SameSite=Strict"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos) << cookie;
  Reply again = call(Request{"GET", entry_, "", {}, ""});
  EXPECT_EQ(again.status, 403) << "the secret of a launch opens one session only";
  EXPECT_TRUE(again.header("set-cookie").empty());
  Reply page =
      call(Request{"GET", "/", "", Headers{{"Cookie", cookie.substr(0, cookie.find(';'))}}, ""});
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("Buka penyimpanan"), std::string::npos);
}

TEST_F(AppTest, AForeignHostIsRefusedEvenWithTheCookie) {
  start_app();
  enter();
  const std::string port = std::to_string(port_);
  for (const std::string& bad :
       std::vector<std::string>{"evil.example:" + port, "evil.example", "127.0.0.1", "127.0.0.1:1",
                                "localhost.evil.example:" + port, "127.0.0.2:" + port}) {
    Reply r = call(Request{"GET", "/api/sesi", bad, Headers{{"Cookie", cookie_}}, ""});
    EXPECT_EQ(r.status, 421) << bad;
    EXPECT_EQ(r.body.find("csrf"), std::string::npos) << bad;
  }
  Reply secret = call(Request{"GET", entry_, "evil.example:" + port, {}, ""});
  EXPECT_EQ(secret.status, 421);
  EXPECT_EQ(read("/api/sesi").status, 200);
  EXPECT_EQ(call(Request{"GET", "/api/sesi", "localhost:" + port, Headers{{"Cookie", cookie_}}, ""})
                .status,
            200);
}

TEST_F(AppTest, AChangeWithoutTheCsrfTokenIsRefused) {
  start_app();
  enter();
  const std::string body = json{{"kata_sandi", kOfficePassphrase}}.dump();
  Reply none = call(
      Request{"POST", "/api/buka", "", Headers{{"Cookie", cookie_}, {"Origin", origin()}}, body});
  EXPECT_EQ(none.status, 403);
  Reply wrong = call(Request{
      "POST", "/api/buka", "",
      Headers{{"Cookie", cookie_}, {"Origin", origin()}, {"X-CSRF-Token", std::string(64, 'f')}},
      body});
  EXPECT_EQ(wrong.status, 403);
  Reply empty =
      call(Request{"POST", "/api/buka", "",
                   Headers{{"Cookie", cookie_}, {"Origin", origin()}, {"X-CSRF-Token", ""}}, body});
  EXPECT_EQ(empty.status, 403);
  EXPECT_TRUE(json::parse(read("/api/sesi").body)["terkunci"].get<bool>()) << "nothing was opened";
}

TEST_F(AppTest, AChangeFromAnotherOriginIsRefused) {
  start_app();
  enter();
  const std::string body = json{{"kata_sandi", kOfficePassphrase}}.dump();
  for (const std::string& bad :
       std::vector<std::string>{"http://evil.example", "http://127.0.0.1:1", "null",
                                "https://127.0.0.1:" + std::to_string(port_)}) {
    Reply r =
        call(Request{"POST", "/api/buka", "",
                     Headers{{"Cookie", cookie_}, {"Origin", bad}, {"X-CSRF-Token", csrf_}}, body});
    EXPECT_EQ(r.status, 403) << bad;
  }
  Reply no_origin = call(Request{"POST", "/api/buka", "",
                                 Headers{{"Cookie", cookie_}, {"X-CSRF-Token", csrf_}}, body});
  EXPECT_EQ(no_origin.status, 403);
  EXPECT_TRUE(json::parse(read("/api/sesi").body)["terkunci"].get<bool>());
}

TEST_F(AppTest, WithEverythingRightACaseIsRecordedFoundAndOpened) {
  start_app();
  enter();
  EXPECT_EQ(read("/api/kasus").status, 423) << "locked until the passphrase is typed";
  Reply bad = change("/api/buka", json{{"kata_sandi", "bukan-kata-sandi-ini"}});
  EXPECT_EQ(bad.status, 403);
  EXPECT_NE(bad.body.find("Kata sandi salah"), std::string::npos) << bad.body;
  unlock();

  Reply invalid = change("/api/kasus", json{{"kasus", {{"channel", "merpati"}}}});
  EXPECT_EQ(invalid.status, 422);
  EXPECT_NE(invalid.body.find("Isian belum benar"), std::string::npos) << invalid.body;

  Reply made = change(
      "/api/kasus",
      json{{"kasus", {{"channel", "telepon"}, {"forms", "fisik,psikis"}}},
           {"korban", {{"name", kVictimName}, {"nik", kVictimNik}, {"sex", "P"}, {"age", "30"}}},
           {"terlapor", {{"name", "Terlapor Uji"}, {"sex", "L"}}},
           {"hubungan_terlapor", "suami_istri"},
           {"pelapor", {{"name", "Pelapor Uji"}}},
           {"hubungan_pelapor", "tetangga"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id = json::parse(made.body)["id"].get<std::string>();

  // The list shows the victim by code; a search by name or NIK (in the body) finds the case.
  Reply list = read("/api/kasus");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(kVictimName), std::string::npos);
  EXPECT_NE(list.body.find(id), std::string::npos);
  for (const std::string q : {"warga aplikasi", "APLIKASI", "3275 0141 0190 0007"}) {
    Reply found = change("/api/cari", json{{"q", q}});
    ASSERT_EQ(found.status, 200) << q;
    EXPECT_EQ(json::parse(found.body)["cases"].size(), 1u) << q;
  }
  EXPECT_TRUE(json::parse(change("/api/cari", json{{"q", "nama lain"}}).body)["cases"].empty());
  // Daftar kasus's filters (Workflow::CaseFilter, as `teduh case list`), alone and with a
  // search; a date that is not one is said, a filter of the wrong type is not read.
  auto listed = [&](const json& body) {
    Reply r = change("/api/cari", body);
    EXPECT_EQ(r.status, 200) << body.dump() << " " << r.body;
    return r.status == 200 ? json::parse(r.body)["cases"].size() : 99u;
  };
  EXPECT_EQ(listed(json{{"q", ""}, {"status", "diterima"}}), 1u);
  EXPECT_EQ(listed(json{{"q", ""}, {"status", "Terminasi"}}), 0u);  // a label works too
  EXPECT_EQ(listed(json{{"q", "APLIKASI"}, {"status", "terminasi"}}), 0u);
  EXPECT_EQ(listed(json{{"q", "APLIKASI"}, {"dari", "2000-01-01"}, {"sampai", "2100-12-31"}}), 1u);
  EXPECT_EQ(listed(json{{"q", ""}, {"dari", "2100-01-01"}}), 0u);
  EXPECT_EQ(listed(json{{"q", ""}, {"saya", true}}), 0u) << "no worker assigned yet";
  EXPECT_EQ(listed(json{{"q", ""}, {"petugas", "petugas-lain"}}), 0u);
  Reply wrong_day = change("/api/cari", json{{"q", ""}, {"dari", "kemarin sore"}});
  EXPECT_EQ(wrong_day.status, 422) << wrong_day.body;
  EXPECT_NE(wrong_day.body.find("Isian belum benar"), std::string::npos) << wrong_day.body;
  EXPECT_EQ(change("/api/cari", json{{"q", ""}, {"saya", "ya"}}).status, 400);
  Reply same = change("/api/serupa", json{{"korban", {{"nik", kVictimNik}}}});
  ASSERT_EQ(same.status, 200) << same.body;
  EXPECT_EQ(json::parse(same.body)["cases"].size(), 1u);
  EXPECT_EQ(json::parse(same.body)["cases"][0]["signal"], "nik");

  // The same document as `teduh case show --json`.
  Reply shown = read("/api/kasus/" + id);
  ASSERT_EQ(shown.status, 200);
  const json doc = json::parse(shown.body);
  EXPECT_EQ(doc["id"], id);
  EXPECT_EQ(doc["persons"].size(), 3u) << "victim, alleged perpetrator and reporter";
  std::multiset<std::string> roles;
  for (const auto& role : doc["roles"]) roles.insert(role["fields"]["role"].get<std::string>());
  EXPECT_EQ(roles, (std::multiset<std::string>{"korban", "pelapor", "terlapor"}));
  EXPECT_NE(shown.body.find(kVictimName), std::string::npos);
  EXPECT_EQ(read("/api/kasus/" + id + "/riwayat").status, 200);
  EXPECT_EQ(read("/api/kasus/" + std::string(32, '0')).status, 404);

  Reply home = read("/api/beranda");
  ASSERT_EQ(home.status, 200);
  EXPECT_EQ(json::parse(home.body)["due"].size(), 2u)
      << "the complaint's response and, a woman's case, the initial assessment (issue 17.3)";

  // Locked from the page: the data is gone until the passphrase is typed again.
  EXPECT_EQ(change("/api/kunci", json::object()).status, 200);
  EXPECT_EQ(read("/api/kasus/" + id).status, 423);
  unlock();
  EXPECT_EQ(read("/api/kasus/" + id).status, 200);

  // Nothing personal in the app's log.
  stop_app();
  std::ifstream log(dir_ / "app.log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_EQ(text.str().find("Warga"), std::string::npos) << text.str();
  EXPECT_EQ(text.str().find(kVictimNik), std::string::npos) << text.str();
  EXPECT_EQ(text.str().find(kOfficePassphrase), std::string::npos) << text.str();
}

// The Kasus page's changes (set, close, refer, answer) and the Konflik page's settle are
// POST routes like the intake: each refused without the CSRF token or from another Origin,
// and a case id that is not one of this device gets a clear Indonesian error.
TEST_F(AppTest, CaseActionsNeedTheCsrfTokenAndNameAWrongCaseClearly) {
  start_app();
  enter();
  unlock();
  Reply made = change("/api/kasus", json{{"kasus", {{"channel", "telepon"}}},
                                         {"korban", {{"name", kVictimName}, {"sex", "P"}}}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string id = json::parse(made.body)["id"].get<std::string>();
  const std::string other(32, '0');
  const std::vector<std::pair<std::string, json>> actions{
      {"/api/kasus/" + id + "/ubah", json{{"data", {{"risk_level", "tinggi"}}}}},
      {"/api/kasus/" + id + "/tutup", json{{"alasan", "Uji penutupan"}}},
      {"/api/kasus/" + id + "/rujuk", json{{"ke", "UJI-LAIN"},
                                           {"alasan", "Uji"},
                                           {"persetujuan", true},
                                           {"persetujuan_oleh", "korban"},
                                           {"eksternal", false}}},
      {"/api/kasus/" + id + "/alihkan",
       json{{"ke", "UJI-LAIN"}, {"persetujuan", true}, {"persetujuan_oleh", "korban"}}},
      {"/api/rujukan/" + other + "/terima", json::object()},
      {"/api/alih-kelola/" + other + "/tolak", json::object()},
      {"/api/konflik/selesaikan",
       json{{"kasus", id}, {"entitas", id}, {"kolom", "risk_level"}, {"versi", "x:1:0"}}},
      {"/api/sinkron", json::object()},
  };
  for (const auto& [target, body] : actions) {
    SCOPED_TRACE(target);
    Reply none = call(Request{"POST", target, "",
                              Headers{{"Cookie", cookie_}, {"Origin", origin()}}, body.dump()});
    EXPECT_EQ(none.status, 403);
    Reply forged = call(Request{
        "POST", target, "",
        Headers{{"Cookie", cookie_}, {"Origin", origin()}, {"X-CSRF-Token", std::string(64, 'f')}},
        body.dump()});
    EXPECT_EQ(forged.status, 403);
    Reply foreign = call(Request{
        "POST", target, "",
        Headers{{"Cookie", cookie_}, {"Origin", "http://evil.example"}, {"X-CSRF-Token", csrf_}},
        body.dump()});
    EXPECT_EQ(foreign.status, 403);
    if (target != "/api/sinkron") {  // GET /api/sinkron reads the state
      Reply get = read(target);      // a change is never made by a GET
      EXPECT_NE(get.status, 200);
    }
  }
  json shown = json::parse(read("/api/kasus/" + id).body);
  EXPECT_EQ(shown["case"].value("risk_level", ""), "") << "nothing was changed";
  EXPECT_NE(shown["case"]["status"], "terminasi");
  EXPECT_TRUE(shown["referrals"].empty());

  // A case that is not on this device, or not an id at all: a sentence, not a crash.
  for (const std::string& bad : {other, std::string("bukan-id"), std::string(31, 'a')}) {
    SCOPED_TRACE(bad);
    Reply r = change("/api/kasus/" + bad + "/tutup", json{{"alasan", "Uji"}});
    EXPECT_EQ(r.status, 404);
    const json doc = json::parse(r.body);
    EXPECT_EQ(doc["galat"], "Kasus itu tidak ada di perangkat ini.") << r.body;
  }
  Reply unknown = change("/api/kasus/" + id + "/hapus", json::object());
  EXPECT_EQ(unknown.status, 404);
  Reply unreadable = call(Request{
      "POST", "/api/kasus/" + id + "/tutup", "",
      Headers{{"Cookie", cookie_}, {"Origin", origin()}, {"X-CSRF-Token", csrf_}}, "{tidak json"});
  EXPECT_EQ(unreadable.status, 400);
  EXPECT_FALSE(json::parse(unreadable.body)["galat"].get<std::string>().empty());

  // Set: a wrong value names its field; a field Teduh sets is refused; a right one is kept.
  Reply wrong = change("/api/kasus/" + id + "/ubah", json{{"data", {{"risk_level", "merpati"}}}});
  EXPECT_EQ(wrong.status, 422) << wrong.body;
  EXPECT_EQ(json::parse(wrong.body).value("kolom", ""), "risk_level") << wrong.body;
  Reply number = change("/api/kasus/" + id + "/ubah", json{{"data", {{"number", "X/1"}}}});
  EXPECT_EQ(number.status, 422) << number.body;
  EXPECT_EQ(json::parse(number.body).value("kolom", ""), "number") << number.body;
  Reply set = change("/api/kasus/" + id + "/ubah",
                     json{{"data", {{"risk_level", "tinggi"}, {"korban.age", "31"}}}});
  ASSERT_EQ(set.status, 200) << set.body;
  // "Kasus saya": the case this device's user is assigned to.
  ASSERT_EQ(
      change("/api/kasus/" + id + "/ubah", json{{"data", {{"assigned_worker", "petugas-uji"}}}})
          .status,
      200);
  EXPECT_EQ(json::parse(change("/api/cari", json{{"q", ""}, {"saya", true}}).body)["cases"].size(),
            1u);
  EXPECT_EQ(
      json::parse(change("/api/cari", json{{"q", ""}, {"petugas", " PETUGAS-UJI "}}).body)["cases"]
          .size(),
      1u);

  // Refer: without the victim's consent refused; with it recorded, and waiting (keluar).
  Reply no_reason = change("/api/kasus/" + id + "/rujuk",
                           json{{"ke", "UJI-LAIN"}, {"alasan", "  "}, {"persetujuan", true},
                                {"persetujuan_oleh", "korban"}, {"eksternal", false}});
  EXPECT_EQ(no_reason.status, 422) << no_reason.body;
  EXPECT_EQ(json::parse(no_reason.body).value("kolom", ""), "reason") << no_reason.body;
  Reply no_consent = change("/api/kasus/" + id + "/rujuk", json{{"ke", "UJI-LAIN"},
                                                                {"alasan", "Uji"},
                                                                {"persetujuan", false},
                                                                {"persetujuan_oleh", "korban"},
                                                                {"eksternal", false}});
  EXPECT_EQ(no_consent.status, 403) << no_consent.body;
  Reply referred = change("/api/kasus/" + id + "/rujuk", json{{"ke", "UJI-LAIN"},
                                                              {"alasan", "Uji"},
                                                              {"persetujuan", true},
                                                              {"persetujuan_oleh", "korban"},
                                                              {"eksternal", false}});
  ASSERT_EQ(referred.status, 201) << referred.body;
  const std::string referral = json::parse(referred.body)["id"].get<std::string>();
  const json home = json::parse(read("/api/beranda").body);
  ASSERT_EQ(home["menunggu"].size(), 1u) << home.dump();
  EXPECT_EQ(home["menunggu"][0]["arah"], "keluar");
  EXPECT_EQ(home["menunggu"][0]["id"], referral);
  // The sending office cannot answer its own referral.
  EXPECT_EQ(change("/api/rujukan/" + referral + "/terima", json::object()).status, 403);

  // Transfer (alih kelola): refused without consent; proposed with it, and waiting too.
  Reply no_transfer_consent = change(
      "/api/kasus/" + id + "/alihkan",
      json{{"ke", "UJI-LAIN"}, {"persetujuan", false}, {"persetujuan_oleh", "korban"}});
  EXPECT_EQ(no_transfer_consent.status, 403) << no_transfer_consent.body;
  Reply transferred = change(
      "/api/kasus/" + id + "/alihkan",
      json{{"ke", "UJI-LAIN"}, {"persetujuan", true}, {"persetujuan_oleh", "korban"}});
  ASSERT_EQ(transferred.status, 201) << transferred.body;
  const json home2 = json::parse(read("/api/beranda").body);
  ASSERT_EQ(home2["menunggu"].size(), 2u) << home2.dump();
  for (const auto& row : home2["menunggu"]) EXPECT_EQ(row["arah"], "keluar");

  // Close: the reason is kept and the status is terminasi.
  Reply closed = change("/api/kasus/" + id + "/tutup", json{{"alasan", "Uji penutupan"}});
  ASSERT_EQ(closed.status, 200) << closed.body;
  shown = json::parse(read("/api/kasus/" + id).body);
  EXPECT_EQ(shown["case"]["status"], "terminasi");
  EXPECT_EQ(shown["case"]["risk_level"], "tinggi");
  EXPECT_EQ(shown["referrals"].size(), 1u);
  EXPECT_TRUE(shown["menunggu_jawaban"].empty());
  EXPECT_TRUE(json::parse(read("/api/konflik").body)["conflicts"].empty());

  // Laporan: counts only; the CSV is a download that no cache keeps.
  Reply report = read("/api/laporan");
  ASSERT_EQ(report.status, 200) << report.body;
  EXPECT_EQ(json::parse(report.body)["laporan"]["total_cases"], 1);
  Reply csv = read("/api/laporan?bentuk=csv&publik=0");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv.header("content-disposition").rfind("attachment; filename=\"laporan-UJI-DP3A-", 0),
            0u);
  EXPECT_EQ(csv.header("cache-control"), "no-store");
  EXPECT_EQ(csv.body.rfind("category,code,label,count,mark\ntotal_cases,,Jumlah kasus,1,", 0), 0u)
      << csv.body;
  EXPECT_EQ(csv.body.find("Warga"), std::string::npos);
  EXPECT_EQ(read("/api/laporan?dari=bukan-tanggal").status, 422);
  EXPECT_EQ(read("/api/laporan?bentuk=pdf").status, 404);
  // The Excel workbook: an xlsx download no cache keeps; like every route it needs the
  // session cookie and the app's own Host; a POST to it is a change without a token.
  Reply xlsx = read("/api/laporan?bentuk=xlsx&publik=1&dari=2000-01-01&sampai=2100-12-31");
  ASSERT_EQ(xlsx.status, 200) << xlsx.body;
  EXPECT_EQ(xlsx.header("content-type"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  EXPECT_EQ(xlsx.header("content-disposition"),
            "attachment; filename=\"laporan-UJI-DP3A-2000-01-01-2100-12-31.xlsx\"");
  EXPECT_EQ(xlsx.header("cache-control"), "no-store");
  EXPECT_EQ(xlsx.body.rfind("PK\x03\x04", 0), 0u);
  EXPECT_NE(xlsx.body.find("xl/workbook.xml"), std::string::npos);
  EXPECT_EQ(call(Request{"GET", "/api/laporan?bentuk=xlsx", "", {}, ""}).status, 403);
  EXPECT_EQ(
      call(Request{"GET", "/api/laporan?bentuk=xlsx", "jahat.example:" + std::to_string(port_),
                   Headers{{"Cookie", cookie_}}, ""})
          .status,
      421);
  EXPECT_EQ(call(Request{"POST", "/api/laporan?bentuk=xlsx", "",
                         Headers{{"Cookie", cookie_}, {"Origin", "http://jahat.example"}}, "{}"})
                .status,
            403);
  // The print views' letterhead and the printed report's table.
  const json session = json::parse(read("/api/sesi").body);
  EXPECT_EQ(session["kantor"], "Dinas Uji");
  EXPECT_TRUE(session["wilayah_kantor"].is_string());
  const json rows = json::parse(report.body)["baris"];
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0], (json{{"kelompok", "Jumlah kasus"},
                           {"kode", ""},
                           {"uraian", "Jumlah kasus"},
                           {"jumlah", 1},
                           {"tanda", ""}}));

  stop_app();
  std::ifstream log(dir_ / "app.log");
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_EQ(text.str().find("Warga"), std::string::npos) << text.str();
}

// "Sinkronkan sekarang" runs on its own thread: the request answers at once, other routes
// keep answering, a second start while it runs is refused, and a server that is not there
// ends it with an Indonesian sentence (the store's server is 127.0.0.1:9, discard).
TEST_F(AppTest, ASyncRunsInTheBackgroundAndSaysWhyItFailed) {
  ::setenv("TEDUH_SYNC_TIMEOUT_MS", "2000", 1);
  start_app();
  ::unsetenv("TEDUH_SYNC_TIMEOUT_MS");
  enter();
  EXPECT_EQ(change("/api/sinkron", json::object()).status, 423) << "locked: nothing to sync";
  unlock();
  const json before = json::parse(read("/api/sinkron").body);
  EXPECT_FALSE(before["berjalan"].get<bool>());
  EXPECT_TRUE(before["hasil"].is_null());
  Reply started = change("/api/sinkron", json::object());
  ASSERT_EQ(started.status, 202) << started.body;
  EXPECT_EQ(read("/api/kasus").status, 200) << "other requests are answered meanwhile";
  json state;
  for (int i = 0; i < 100; ++i) {
    state = json::parse(read("/api/sinkron").body);
    if (!state["berjalan"].get<bool>()) break;
    Reply again = change("/api/sinkron", json::object());
    EXPECT_TRUE(again.status == 409 || again.status == 202) << again.body;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(state["berjalan"].get<bool>()) << state.dump();
  ASSERT_TRUE(state["hasil"].is_object()) << state.dump();
  EXPECT_FALSE(state["hasil"]["ok"].get<bool>());
  EXPECT_NE(state["hasil"]["galat"].get<std::string>().find("Server tidak dapat dihubungi"),
            std::string::npos)
      << state.dump();
  const json home = json::parse(read("/api/beranda").body);
  EXPECT_TRUE(home["sinkron_terakhir"].is_null()) << "a failed sync is no last sync";
  EXPECT_FALSE(home["sinkron_berjalan"].get<bool>());
}

// Against a real teduhd: the app's sync pushes the office's work while the page keeps
// recording cases; Beranda then says when and what the sync brought (meta last_sync); a
// case saved after the sync's Store wrote is saved at once (no stale snapshot, no "busy"),
// and the next sync takes it.
TEST_F(AppTest, ASyncAgainstARealServerPushesTheWorkAndBerandaSaysWhatItBrought) {
  teduh::testing::ServerProcess server;
  ASSERT_TRUE(server.start(dir_ / "server", dir_ / "teduhd.log"));
  store_ = enrolled_store(server, "petugas-dua");
  ASSERT_FALSE(store_.empty());
  start_app();
  enter();
  unlock();
  const json intake{{"kasus", {{"channel", "telepon"}}}, {"korban", {{"name", kVictimName}}}};
  for (int i = 0; i < 20; ++i) ASSERT_EQ(change("/api/kasus", intake).status, 201);

  auto wait_for_sync = [&]() {
    json state;
    for (int i = 0; i < 300; ++i) {
      state = json::parse(read("/api/sinkron").body);
      if (!state["berjalan"].get<bool>()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return state;
  };
  ASSERT_EQ(change("/api/sinkron", json::object()).status, 202);
  // The page keeps working while the sync runs (or has just ended).
  EXPECT_EQ(change("/api/kasus", intake).status, 201);
  EXPECT_EQ(read("/api/kasus").status, 200);
  json state = wait_for_sync();
  ASSERT_FALSE(state["berjalan"].get<bool>()) << state.dump();
  ASSERT_TRUE(state["hasil"]["ok"].get<bool>()) << state.dump();
  const auto pushed = state["hasil"]["pushed"].get<std::uint64_t>();
  EXPECT_GE(pushed, 20u) << state.dump();
  EXPECT_TRUE(state["hasil"]["registered_now"].get<bool>());

  const json home = json::parse(read("/api/beranda").body);
  EXPECT_TRUE(home["sinkron_terakhir"].is_string()) << home.dump();
  EXPECT_EQ(home["sinkron_hasil"]["pushed"], pushed) << home.dump();
  EXPECT_EQ(home["sinkron_hasil"].dump().find(kVictimName), std::string::npos);

  // A write right after the other Store wrote, then a second sync that takes it.
  ASSERT_EQ(change("/api/kasus", intake).status, 201);
  ASSERT_EQ(change("/api/sinkron", json::object()).status, 202);
  state = wait_for_sync();
  ASSERT_TRUE(state["hasil"]["ok"].get<bool>()) << state.dump();
  EXPECT_GE(state["hasil"]["pushed"].get<std::uint64_t>(), 1u) << state.dump();
  EXPECT_EQ(json::parse(read("/api/kasus").body)["cases"].size(), 22u);
  stop_app();
  EXPECT_TRUE(server.stop());
}

// Issue 16, "Sinkronisasi runs in the background whenever the server is reachable": with
// the store unlocked, a sync starts on its own every --sync-minutes and takes the office's
// work to a real teduhd, without anyone pressing the button; with 0 none starts.
TEST_F(AppTest, TheAppSyncsOnItsOwnWhileUnlocked) {
  {
    start_app({"--sync-minutes", "0"});
    enter();
    unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    const json state = json::parse(read("/api/sinkron").body);
    EXPECT_EQ(state["otomatis_berjalan"], 0) << state.dump();
    EXPECT_TRUE(state["hasil"].is_null()) << state.dump();
    EXPECT_EQ(json::parse(read("/api/beranda").body)["sinkron_otomatis_menit"], 0.0);
    stop_app();
  }
  teduh::testing::ServerProcess server;
  ASSERT_TRUE(server.start(dir_ / "server", dir_ / "teduhd.log"));
  store_ = enrolled_store(server, "petugas-tiga");
  ASSERT_FALSE(store_.empty());
  start_app({"--sync-minutes", "0.02"});  // 1.2 seconds
  enter();
  unlock();
  const json intake{{"kasus", {{"channel", "telepon"}}}, {"korban", {{"name", kVictimName}}}};
  for (int i = 0; i < 3; ++i) ASSERT_EQ(change("/api/kasus", intake).status, 201);
  EXPECT_EQ(json::parse(read("/api/beranda").body)["sinkron_otomatis_menit"], 0.02);
  json state;
  for (int i = 0; i < 300; ++i) {  // at most 30 s on a loaded machine
    state = json::parse(read("/api/sinkron").body);
    if (state["otomatis_berjalan"].get<int>() >= 1 && !state["berjalan"].get<bool>() &&
        state["hasil"].is_object())
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(state["otomatis_berjalan"].get<int>(), 1) << state.dump();
  ASSERT_TRUE(state["hasil"].is_object()) << state.dump();
  ASSERT_TRUE(state["hasil"]["ok"].get<bool>()) << state.dump();
  // The three cases went with the first automatic sync (or the one after it).
  const json home = json::parse(read("/api/beranda").body);
  EXPECT_TRUE(home["sinkron_terakhir"].is_string()) << home.dump();
  stop_app();
  // The server holds the three cases: a second device of the office pulls them.
  const std::string other = enrolled_store(server, "petugas-empat");
  ASSERT_FALSE(other.empty());
  ::setenv("TEDUH_PASSPHRASE", kOfficePassphrase, 1);
  ASSERT_EQ(teduh({"sync", "--store", other}).exit_code, 0);
  auto listed = teduh({"case", "list", "--store", other, "--json"});
  ::unsetenv("TEDUH_PASSPHRASE");
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(json::parse(listed.out)["cases"].size(), 3u) << listed.out;
  EXPECT_TRUE(server.stop());
}

TEST_F(AppTest, TheStoreLocksItselfWhenIdle) {
  start_app({"--idle-minutes", "0.02"});  // 1.2 seconds
  enter();
  unlock();
  EXPECT_EQ(read("/api/kasus").status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  Reply r = read("/api/kasus");
  EXPECT_EQ(r.status, 423);
  EXPECT_TRUE(json::parse(r.body)["terkunci"].get<bool>());
}

TEST_F(AppTest, EveryResponseCarriesTheSecurityHeaders) {
  start_app();
  call(Request{"GET", "/", "", {}, ""});
  call(Request{"GET", "/api/sesi", "evil.example:1", {}, ""});
  enter();
  read("/");
  read("/app.css");
  read("/app.js");
  read("/nothing-here");
  unlock();
  read("/api/kasus");
  change("/api/kasus", json{{"kasus", {{"channel", "merpati"}}}});
  call(Request{"POST", "/api/kunci", "",
               Headers{{"Cookie", cookie_}, {"Origin", "http://evil.example"}}, ""});
  call(Request{"DELETE", "/api/kasus", "",
               Headers{{"Cookie", cookie_}, {"Origin", origin()}, {"X-CSRF-Token", csrf_}}, ""});
  ASSERT_GE(replies_.size(), 12u);
  for (const Reply& r : replies_) {
    SCOPED_TRACE("status " + std::to_string(r.status));
    ASSERT_NE(r.status, 0);
    EXPECT_EQ(r.header("content-security-policy"),
              "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
    EXPECT_EQ(r.header("x-content-type-options"), "nosniff");
    EXPECT_EQ(r.header("referrer-policy"), "no-referrer");
    EXPECT_EQ(r.header("cache-control"), "no-store");
  }
}

TEST_F(AppTest, TheAppListensOnLoopbackOnly) {
  start_app();
  // The address printed is 127.0.0.1; the listening socket is bound there, not to 0.0.0.0.
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  char port_hex[8];
  std::snprintf(port_hex, sizeof port_hex, "%04X", port_);
  bool found = false;
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string sl, local, remote, state;
    fields >> sl >> local >> remote >> state;
    if (state != "0A" || local.substr(local.find(':') + 1) != port_hex)
      continue;  // LISTEN on our port
    found = true;
    EXPECT_EQ(local.substr(0, local.find(':')), "0100007F") << "bound to " << local;
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace teduh
