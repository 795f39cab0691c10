// The central office through a real teduhd on 127.0.0.1 (PROTOCOL.md section 5C): offices
// of two regions record a few thousand generated victims, among them planted records of
// the same person in two offices (same NIK, spelling variants of the name; or no NIK on
// one side and the same name and birth date). The central office receives signed
// de-identified projections only, finds exactly the planted pairs, and after two offices
// merge one pair, every replica shows the merge and the pair is gone.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "support/server_test.hpp"
#include "teduh/client/store.hpp"
#include "teduh/client/workflow.hpp"
#include "teduh/schema/identity_match.hpp"

namespace teduh {
namespace {

using json = nlohmann::json;
using teduh::testing::teduh;
using teduh::testing::teduhd;

// A generated person: syllables, not anyone's name.
struct Person {
  std::string name, nik, birth, sex;
};

// A NIK as Dukcapil builds it: region (6 digits), birth date as DDMMYY with 40 added to
// the day for women, and a 4-digit serial.
std::string nik_of(const std::string& region, const std::string& birth, const std::string& sex, unsigned serial) {
  int day = std::stoi(birth.substr(8, 2)) + (sex == "P" ? 40 : 0);
  char out[17];
  std::snprintf(out, sizeof out, "%s%02d%s%s%04u", region.c_str(), day, birth.substr(5, 2).c_str(),
                birth.substr(2, 2).c_str(), serial % 10000);
  return out;
}

class PeopleGenerator {
 public:
  explicit PeopleGenerator(unsigned seed) : rng_(seed) {}

  std::string word(int syllables) {
    static const char* kSyllables[] = {"ka", "ri", "lo", "me", "su", "ta", "wi", "na", "de", "yu", "ba",
                                       "go", "pe", "si", "ru", "mi", "ha", "ne", "tu", "ja", "ko", "li",
                                       "sa", "di", "wu", "ga", "po", "fe", "ni", "ra"};
    std::string w;
    for (int i = 0; i < syllables; ++i) w += kSyllables[rng_() % std::size(kSyllables)];
    w[0] = static_cast<char>(w[0] - 'a' + 'A');
    return w;
  }

  // A person distinct from every earlier one: a new NIK, and a new normalized name with
  // this birth date (two people with the same name and birth date are the same person
  // to any reader of a register).
  Person next() {
    for (;;) {
      Person p;
      p.name = word(2 + static_cast<int>(rng_() % 2)) + " " + word(2 + static_cast<int>(rng_() % 2));
      char birth[11];
      std::snprintf(birth, sizeof birth, "%04u-%02u-%02u", 1950 + static_cast<unsigned>(rng_() % 72),
                    1 + static_cast<unsigned>(rng_() % 12), 1 + static_cast<unsigned>(rng_() % 28));
      p.birth = birth;
      p.sex = rng_() % 4 == 0 ? "L" : "P";
      ++serial_;
      p.nik = nik_of(serial_ % 2 ? "327501" : "327602", p.birth, p.sex, static_cast<unsigned>(serial_));
      if (remember(p)) return p;
    }
  }

  // Records a planted person's keys, so that no generated person collides with them.
  bool remember(const Person& p) {
    const std::string weak = schema::normalize_name(p.name) + "|" + p.birth;
    if (weak_.contains(weak) || niks_.contains(p.nik)) return false;
    weak_.insert(weak);
    niks_.insert(p.nik);
    return true;
  }

 private:
  std::mt19937 rng_;
  unsigned long long serial_ = 0;
  std::set<std::string> weak_, niks_;
};

class CentralOfficeTest : public teduh::testing::ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    add_office("UJI-KEL", "kelurahan", "3275");
    add_office("UJI-UPTD", "uptd_ppa", "3275");
    add_office("UJI-DINAS", "dinas", "3276");
    add_office("UJI-PUSAT", "pusat", "32");
    start_server();
    kel_ = device("kel", "UJI-KEL", "operator");
    uptd_ = device("uptd", "UJI-UPTD", "supervisor");
    dinas_ = device("dinas", "UJI-DINAS", "supervisor");
    pusat_ = device("pusat", "UJI-PUSAT", "analis");
  }

  json run_json(const std::vector<std::string>& args) {
    teduh::testing::Run r = teduh(args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    return r.out.empty() ? json() : json::parse(r.out, nullptr, false);
  }

  // Records each person as the victim of a new case, in one process (the CLI would start
  // thousands). Returns the case ids, in order.
  std::vector<std::string> record(const std::string& store, const std::vector<Person>& people,
                                  bool with_nik = true) {
    auto s = client::Store::open(store, teduh::testing::kOfficePassphrase);
    EXPECT_TRUE(s) << s.error().message;
    client::Workflow wf(*s);
    std::vector<std::string> ids;
    for (const Person& p : people) {
      client::FieldInput victim{{"name", p.name}, {"sex", p.sex}, {"birth_date", p.birth}};
      if (with_nik) victim.emplace_back("nik", p.nik);
      auto id = wf.new_case({{"channel", "datang_langsung"}, {"forms", "psikis"}}, victim);
      EXPECT_TRUE(id) << id.error().message;
      if (id) ids.push_back(id->hex());
    }
    return ids;
  }

  // The pairs `teduh duplicates --json` lists, each as {smaller id, larger id} -> signal.
  std::map<std::pair<std::string, std::string>, std::string> pairs(const std::string& store) {
    json doc = run_json({"duplicates", "--store", store, "--json"});
    std::map<std::pair<std::string, std::string>, std::string> out;
    for (const auto& p : doc["pairs"]) {
      std::string a = p["cases"][0], b = p["cases"][1];
      if (b < a) std::swap(a, b);
      out[{a, b}] = p["signal"];
    }
    return out;
  }

  static std::pair<std::string, std::string> ordered(std::string a, std::string b) {
    if (b < a) std::swap(a, b);
    return {a, b};
  }

  std::string kel_, uptd_, dinas_, pusat_;
};

TEST_F(CentralOfficeTest, FindsThePlantedDuplicatesAcrossOfficesAndNoOtherPair) {
  PeopleGenerator gen(20261127);
  // Planted: the same person in two offices, her name spelled two ways.
  const Person a{"Tjarina Lomessu", nik_of("327503", "1990-01-01", "P", 9001), "1990-01-01", "P"};
  const Person a_variant{"Carina Lomesu", a.nik, a.birth, "P"};  // tj→c, ss→s
  const Person b{"Soerati Wikade", nik_of("327604", "1985-02-02", "P", 9002), "1985-02-02", "P"};
  const Person b_variant{"Wikade Surati", b.nik, b.birth, "P"};  // oe→u, word order
  // No NIK in one office: the weaker signal, name and birth date.
  const Person c{"Djuminah Pobaru", nik_of("327604", "2000-03-03", "P", 9003), "2000-03-03", "P"};
  const Person c_variant{"Juminah Poobaru", "", c.birth, "P"};
  // The same name but another person: another birth date and NIK.
  const Person d{"Nurika Tasewi", nik_of("327503", "2010-04-04", "P", 9004), "2010-04-04", "P"};
  const Person d_other{"Nurika Tasewi", nik_of("327604", "2012-05-05", "P", 9005), "2012-05-05", "P"};
  for (const Person& p : {a, b, c, d, d_other}) ASSERT_TRUE(gen.remember(p));

  const int kPerOffice = 1000;
  std::vector<Person> kel_people, uptd_people, dinas_people;
  for (int i = 0; i < kPerOffice; ++i) kel_people.push_back(gen.next());
  for (int i = 0; i < kPerOffice; ++i) uptd_people.push_back(gen.next());
  for (int i = 0; i < kPerOffice; ++i) dinas_people.push_back(gen.next());

  const std::string kel_a = record(kel_, {a}).at(0);
  const std::string uptd_a = record(uptd_, {a_variant}).at(0);
  const std::string uptd_b = record(uptd_, {b}).at(0);
  const std::string dinas_b = record(dinas_, {b_variant}).at(0);
  const std::string dinas_c = record(dinas_, {c}).at(0);
  const std::string kel_c = record(kel_, {c_variant}, false).at(0);
  (void)record(kel_, {d});
  (void)record(dinas_, {d_other});
  record(kel_, kel_people);
  record(uptd_, uptd_people);
  record(dinas_, dinas_people);

  for (const auto& s : {kel_, uptd_, dinas_}) EXPECT_EQ(sync(s)["rejected"], 0);
  json central = sync(pusat_);
  EXPECT_EQ(central["pulled"], 0) << "a central office device receives no case commits";
  EXPECT_EQ(central["projections"], 3 * kPerOffice + 8);

  const std::map<std::pair<std::string, std::string>, std::string> expected = {
      {ordered(kel_a, uptd_a), "nik"},
      {ordered(uptd_b, dinas_b), "nik"},
      {ordered(dinas_c, kel_c), "nama_tanggal_lahir"},
  };
  EXPECT_EQ(pairs(pusat_), expected);

  // The central office holds no name, NIK or birth date of anyone, only keyed hashes.
  for (const Person& p : {a, a_variant, b, c, kel_people[7], uptd_people[99], dinas_people[500]}) {
    EXPECT_EQ(rows_containing(pusat_, p.name), 0) << p.name;
    EXPECT_EQ(rows_containing(pusat_, p.nik), 0);
    EXPECT_EQ(rows_containing(pusat_, p.birth), 0);
  }
  // An office finds the duplicates among the cases it holds, by the clear normal forms.
  EXPECT_TRUE(pairs(kel_).empty());

  // The kelurahan post refers its record to the UPTD PPA with the victim's consent; the
  // UPTD, which may now write both, merges them.
  teduh::testing::Run refer = teduh({"refer", "--store", kel_, "--case", kel_a, "--to", "UJI-UPTD",
                                     "--reason", "Pendampingan", "--consent", "yes"});
  ASSERT_EQ(refer.exit_code, 0) << refer.err;
  sync(kel_);
  sync(uptd_);
  EXPECT_EQ(pairs(uptd_), (std::map<std::pair<std::string, std::string>, std::string>{
                              {ordered(kel_a, uptd_a), "nik"}}));
  teduh::testing::Run merge = teduh({"case", "merge", uptd_a, kel_a, "--store", uptd_});
  ASSERT_EQ(merge.exit_code, 0) << merge.err;
  EXPECT_EQ(sync(uptd_)["rejected"], 0);
  sync(kel_);
  sync(pusat_);

  json kept = run_json({"case", "show", uptd_a, "--store", uptd_, "--json"});
  EXPECT_EQ(kept["merged_cases"], json::array({kel_a}));
  json other_on_kel = run_json({"case", "show", kel_a, "--store", kel_, "--json"});
  json other_on_uptd = run_json({"case", "show", kel_a, "--store", uptd_, "--json"});
  EXPECT_EQ(other_on_kel["case"]["merged_into"], uptd_a);
  EXPECT_EQ(other_on_kel, other_on_uptd) << "both replicas of the merged case must agree";
  // Both victims' records are joined under the kept case: nothing was lost.
  int victims = 0, from_other = 0;
  for (const auto& r : kept["roles"]) {
    if (r["fields"]["role"] != "korban") continue;
    ++victims;
    if (r.value("from_case", "") == kel_a) ++from_other;
  }
  EXPECT_EQ(victims, 2);
  EXPECT_EQ(from_other, 1);

  const auto after = pairs(pusat_);
  EXPECT_FALSE(after.contains(ordered(kel_a, uptd_a))) << "a merged pair is no longer a duplicate";
  EXPECT_EQ(after.size(), 2u);
}

}  // namespace
}  // namespace teduh
