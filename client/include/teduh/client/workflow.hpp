#pragma once
// The office's case workflow on top of the store (DESIGN.md sections 1, 3, 6): record,
// search, refer, place in a shelter, close. Each action validates every field first, then
// writes one commit (with its audit event) or nothing. Reads return JSON documents with
// sorted keys and lists in a defined order, so two replicas that have converged print the
// same bytes; the CLI renders the same documents as text.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "teduh/client/report.hpp"
#include "teduh/client/store.hpp"
#include "teduh/schema/permissions.hpp"

namespace teduh::client {

using FieldInput = std::vector<std::pair<std::string, std::string>>;  // field name -> typed text

// Further records written in the same commit as a new case (an imported register row, the
// office app's intake form): alleged perpetrators and reporters (person fields and
// relationship to the victim) and services.
struct CaseExtras {
  std::vector<std::pair<FieldInput, std::string>> perpetrators;  // peran terlapor
  std::vector<std::pair<FieldInput, std::string>> reporters;     // peran pelapor
  std::vector<FieldInput> services;  // layanan fields (kind, date, ...)
};

// A case already in this store whose victim looks like the one being recorded.
struct SimilarCase {
  std::string case_id;  // 32 hex digits
  std::string number;
  std::string signal;   // "nik" (the same NIK) or "nama_tanggal_lahir" (name and birth date)
};

class Workflow {
 public:
  explicit Workflow(Store& store) : store_(store) {}

  // A new case, with optional victim fields (name, nik, sex, birth_date, ...) and its first
  // service (pengaduan), in one commit. Returns the case id.
  // With extras, the perpetrators and services go into that same commit, validated first
  // like everything else (`teduh import` records a register row as one commit).
  [[nodiscard]] Result<sync::EntityId> new_case(const FieldInput& case_fields, const FieldInput& victim_fields,
                                  const CaseExtras& extras = {});
  // The cases of this store (not deleted, not merged away) whose victim has the NIK of
  // `victim_fields`, or the same name and birth date as they match for duplicates
  // (schema::normalize_nik, schema::name_birth_key: accents, case and old spellings do not
  // count), sorted by number. What `case new` warns about; nothing is refused or written.
  // Fields that do not validate match nothing (new_case itself refuses them).
  [[nodiscard]] Result<std::vector<SimilarCase>> similar_victims(const FieldInput& victim_fields) const;
  // A case by its 32-hex id or its number (e.g. BKS-DP3A/2026/0001-0042), its short
  // number (0001-0042), or the start of its id (see workflow.cpp).
  [[nodiscard]] Result<sync::EntityId> find_case(std::string_view id_or_number) const;
  // Which cases `case list` shows (issue 15); empty members do not filter.
  struct CaseFilter {
    std::string status;           // a status_kasus code or its label
    std::string worker;           // assigned_worker, ignoring case and surrounding spaces
    bool mine = false;            // assigned to this device's user ("kasus saya")
    std::string from, to;         // received on or after / on or before these days, in
                                  // the office's zone (any form a person types a date in)
  };
  [[nodiscard]] Result<nlohmann::json> list_cases(const CaseFilter& filter) const;
  [[nodiscard]] Result<nlohmann::json> list_cases() const;  // every case
  // The rows of list_cases() (victims by code, never by name) whose victim matches `query`:
  // a NIK (16 digits once spaces, dots and dashes are dropped) equal to the victim's, or
  // words each the start of a word of the victim's name, both in schema::normalize_name's
  // form (so "Siti Aminah" finds "AMINAH, Siti" and "Sitti"), or a part of the case number.
  // An empty query returns every case. Reads only: not an access to any one case.
  [[nodiscard]] Result<nlohmann::json> search_cases(std::string_view query) const;
  // Records a "dilihat" audit event; the document itself never contains audit events.
  // `access` is the audit action recorded: "dilihat" (opened) or "diekspor" (exported).
  [[nodiscard]] Result<nlohmann::json> show_case(const sync::EntityId& case_id, std::string_view access = "dilihat");
  // The case document for `teduh case export` (a "diekspor" audit event). Shelter details
  // (the address of every shelter stay) are left out unless `with_shelter` is asked for,
  // which only a device with shelter clearance holding a key may do (refused otherwise);
  // the document says which under "rumah_aman".
  [[nodiscard]] Result<nlohmann::json> export_case(const sync::EntityId& case_id, bool with_shelter);
  // Fields of the case, or "korban.FIELD" for the case's (first) victim.
  [[nodiscard]] Result<void> set_case(const sync::EntityId& case_id, const FieldInput& fields);
  [[nodiscard]] Result<void> close_case(const sync::EntityId& case_id, std::string_view reason);
  // A person in a role (korban, pelapor, terlapor). An alleged perpetrator (terlapor) who is
  // a child (under 18 at the incident's date, else the day the case was received, by birth
  // date or age) is recorded as such (peran.abh = 1, anak berhadapan dengan hukum); `abh`
  // says so when the age is not recorded.
  [[nodiscard]] Result<sync::EntityId> add_person(const sync::EntityId& case_id,
                                                  std::string_view role,
                                                  const FieldInput& person_fields,
                                                  std::string_view relationship, bool abh = false);
  [[nodiscard]] Result<sync::EntityId> add_service(const sync::EntityId& case_id, const FieldInput& fields);
  // The case plan, monitoring and diversion (issue 17, items 3 and 5; SCHEMA.md `rencana`,
  // `pemantauan`, `diversi`), each written by a role that may `rencana_pemantauan`.
  // One plan item: `needs` and `due_date` are required (Errc::invalid, Indonesian, naming
  // the field), `services` (jenis_layanan codes), `responsible` and `notes` optional.
  [[nodiscard]] Result<sync::EntityId> add_plan_item(const sync::EntityId& case_id,
                                                     const FieldInput& fields);
  // Marks a plan item done on `date` ("" = today in the office's zone; not in the future).
  [[nodiscard]] Result<void> complete_plan_item(const sync::EntityId& item_id,
                                                std::string_view date);
  // Schedules a monitoring visit on `scheduled_on` (may lie ahead). `kind` "" is berkala
  // while the case is open and evaluasi_pascaterminasi once it is closed.
  [[nodiscard]] Result<sync::EntityId> schedule_visit(const sync::EntityId& case_id,
                                                      std::string_view scheduled_on,
                                                      std::string_view kind,
                                                      std::string_view officer);
  // Records a visit's result (required): the scheduled visit `visit_id`, or, when it is
  // nullopt, a visit made without a schedule. `date` "" = today. Returns the visit's id.
  [[nodiscard]] Result<sync::EntityId> record_visit(const sync::EntityId& case_id,
                                                    const std::optional<sync::EntityId>& visit_id,
                                                    std::string_view date, std::string_view result,
                                                    std::string_view officer);
  // A diversion's agreement: agreed_on, place, parties and outcome (hasil_diversi) are
  // required; agreement (its text) and child (the orang id of the child) optional.
  [[nodiscard]] Result<sync::EntityId> record_diversion(const sync::EntityId& case_id,
                                                        const FieldInput& fields);

  // Refused (Errc::refused) without the victim's consent naming the receiving office;
  // Errc::invalid, naming the field, when the receiver or the reason is blank.
  [[nodiscard]] Result<sync::EntityId> refer(const sync::EntityId& case_id, std::string_view to_office,
                               std::string_view reason, bool consent, std::string_view consent_by,
                               bool external);
  // The receiving office answers a referral (status diterima or ditolak).
  [[nodiscard]] Result<void> respond_referral(const sync::EntityId& referral_id, bool accept);
  // Records the answer of a partner outside Teduh (police, hospital) to an external referral
  // this office sent: status diterima, ditolak or selesai, the day of the answer (YYYY-MM-DD
  // or as validate_date reads it; "" = today in the office's zone; not in the future) and
  // optional notes. Refused (Errc::refused, Indonesian) for a referral to a Teduh office
  // (that office answers it itself), for a referral another office sent, and once the
  // referral is ditolak or selesai; Errc::usage for another status.
  [[nodiscard]] Result<void> record_partner_answer(const sync::EntityId& referral_id, std::string_view status,
                                                   std::string_view date, std::string_view notes);
  // Ends a referral (status selesai): the receiving office loses the case at its next sync.
  [[nodiscard]] Result<void> end_referral(const sync::EntityId& referral_id);
  // Records that the victim withdrew a consent (withdrawn_at = now): every referral and
  // transfer resting on it stops sharing the case; the office loses it at its next sync.
  [[nodiscard]] Result<void> withdraw_consent(const sync::EntityId& consent_id);
  // Proposes moving the case to another office (alih_kelola, status diajukan), with the
  // consent naming that office; refused without consent. Returns the transfer id.
  [[nodiscard]] Result<sync::EntityId> transfer(const sync::EntityId& case_id, std::string_view to_office,
                                  bool consent, std::string_view consent_by);
  // The receiving office accepts (ownership moves) or declines a transfer.
  [[nodiscard]] Result<void> respond_transfer(const sync::EntityId& transfer_id, bool accept);
  // Referrals and transfers of every case this device holds, sent or received.
  [[nodiscard]] Result<nlohmann::json> referrals() const;
  // The rows of referrals() that wait for an answer (rujukan dikirim, alih kelola
  // diajukan), each with "arah": "masuk" when it is addressed to this device's office (it
  // answers with respond_referral / respond_transfer), else "keluar" (sent, waiting).
  [[nodiscard]] Result<nlohmann::json> waiting_answers() const;

  // Merges two records of the same victim: `other` points at `keep` (kasus.merged_into),
  // a synced change; `case show` and `history` of the kept case then include the other
  // case's persons, services and history, and nothing is deleted.
  [[nodiscard]] Result<void> merge_cases(const sync::EntityId& keep, const sync::EntityId& other);
  // Cases merged into this one, directly or through a chain, sorted.
  [[nodiscard]] Result<std::vector<sync::EntityId>> merged_into(const sync::EntityId& case_id) const;

  // Probable records of the same victim. On a central office device: over the server's
  // de-identified projections, by keyed hashes of the NIK (strong) and of name + birth
  // date (weak); it never sees either. On an office device: over the cases it holds, by
  // the same normal forms in clear. Pairs already merged are left out.
  [[nodiscard]] Result<nlohmann::json> duplicates() const;
  // similar_victims() as the office app shows it: the rows of list_cases() for those
  // cases, each with its "signal" ("nik" or "nama_tanggal_lahir").
  [[nodiscard]] Result<nlohmann::json> same_victim(const FieldInput& victim_fields) const;

  [[nodiscard]] Result<sync::EntityId> add_shelter(const FieldInput& fields);
  [[nodiscard]] Result<nlohmann::json> list_shelters() const;
  [[nodiscard]] Result<sync::EntityId> find_shelter(std::string_view id_or_code) const;
  [[nodiscard]] Result<sync::EntityId> place(const sync::EntityId& case_id, const sync::EntityId& shelter_id,
                               std::string_view admitted_at);
  [[nodiscard]] Result<nlohmann::json> conflicts() const;
  // Settles a field: writes `value` (or, with keep_version "DEVICE:SEQ:INDEX", the value of
  // that live version) superseding every live version. `field` is a case field,
  // "korban.FIELD", or "ENTITY_ID.FIELD" for any entity of the case.
  [[nodiscard]] Result<void> resolve(const sync::EntityId& case_id, std::string_view field,
                       std::string_view value, std::string_view keep_version = {});
  // Removes a person, role, referral or placement of a case: a tombstone that also
  // re-asserts the entity's fields, so an edit made concurrently elsewhere becomes a
  // conflict to review instead of silently bringing the entity back (PROTOCOL.md).
  [[nodiscard]] Result<void> remove_entity(const sync::EntityId& case_id, const sync::EntityId& entity_id);
  // A person or record of the case by the short code `case show` prints (the last hex
  // digits of its id, 4 or more: the first ones are its creation time, shared by records
  // made together) or its whole id; a code that fits several is refused, their codes listed.
  [[nodiscard]] Result<sync::EntityId> find_in_case(const sync::EntityId& case_id,
                                                    std::string_view code) const;
  // Every version of every field of the case; like show_case, recorded as "dilihat".
  [[nodiscard]] Result<nlohmann::json> history(const sync::EntityId& case_id);
  [[nodiscard]] Result<nlohmann::json> audit(const std::optional<sync::EntityId>& case_id) const;
  // Open deadlines, late first, as of now_ms, under the office's settings (report.hpp:
  // response_sla, zona_waktu): of open cases the response, police report and shelter exit
  // (report.hpp deadlines_of), the initial assessment of a woman's case (asesmen_awal,
  // 1x24 hours), plan items by their due_date, scheduled monitoring visits, and the
  // diversion a case needs (diversi); of closed cases the monitoring visits still scheduled
  // and the evaluation within a month of closing (evaluasi_pascaterminasi). client/README.md
  // "Deadlines" lists the rules.
  [[nodiscard]] Result<nlohmann::json> due(std::uint64_t now_ms) const;
  // What waits for a person of this office, as of now_ms: referrals and transfers sent to
  // it and not yet answered (waiting_answers), and, when `with_deadlines`, the late
  // deadlines (due: it reads every case, about a second over 10,000 open cases, so
  // `teduh sync` asks for them only after a sync that brought commits).
  struct Attention {
    std::set<std::string> referrals;  // ids of referrals (rujukan) to answer
    std::set<std::string> transfers;  // ids of transfers (alih_kelola) to answer
    std::optional<std::size_t> late;  // late deadlines, when asked for
    std::set<std::string> diversions;  // cases that need a diversion recorded (with deadlines)
  };
  [[nodiscard]] Result<Attention> attention(std::uint64_t now_ms, bool with_deadlines) const;
  // Counts (report.hpp build_report); no names, NIK, addresses or shelters. On a central
  // office device over the projections, always suppressed; else over the office's own cases,
  // exact unless audience is Audience::outside (`--publik`). filter.now_ms 0 means now.
  [[nodiscard]] Result<nlohmann::json> report(ReportFilter filter = {},
                                              Audience audience = Audience::own_office) const;
  // The codes of the offices this store knows (the server's directory, this office, and on a
  // central office device the offices of the projections) whose region lies in `region`
  // (schema::region_within; canonical or dotted), sorted. Empty: a report filtered by that
  // region can only show zeros, which `teduh report` says in a warning.
  [[nodiscard]] Result<std::vector<std::string>> offices_in_region(std::string_view region) const;

 private:
  // Refuses (Errc::refused, one sentence) what the permission table does not allow this
  // device's user (schema/permissions.hpp, PERMISSIONS.md).
  [[nodiscard]] Result<void> permit(schema::Action action) const;
  // Refuses an office code the directory of the last sync does not list (issue 12.6);
  // before the first directory arrives, the server decides.
  [[nodiscard]] Result<void> known_office(std::string_view code) const;
  // Every write of the workflow goes through here: the store builds the commit, and
  // check_commit() refuses it unless this device's role, office and clearance may perform
  // every action it stands for (sync/write_rules.hpp, the classification the server uses).
  [[nodiscard]] Result<sync::Commit> commit_write(const sync::EntityId& scope, std::string_view scope_type,
                                    std::vector<FieldWrite> writes);
  [[nodiscard]] Result<void> check_commit(const sync::Commit& commit) const;
  // An entity of a given type in a case this device holds.
  [[nodiscard]] Result<EntityView> case_record(const sync::EntityId& id, std::string_view type,
                                 std::string_view what) const;
  [[nodiscard]] Result<void> write_case_commit(const sync::EntityId& case_id, std::vector<FieldWrite> writes,
                                 std::string_view action);
  [[nodiscard]] FieldWrite audit_write(const sync::EntityId& audit_id, std::string_view field,
                         std::string value) const;
  [[nodiscard]] std::vector<FieldWrite> audit_event(const sync::EntityId& case_id, std::string_view action) const;
  [[nodiscard]] Result<std::optional<EntityView>> victim_of(const sync::EntityId& case_id) const;
  [[nodiscard]] Result<std::string> case_number();
  [[nodiscard]] std::string shelter_field_for_display(const EntityView& shelter, std::string_view field) const;
  // Services of the case recorded without seeing it closed (PROTOCOL.md "Domain rules").
  [[nodiscard]] Result<std::int64_t> services_not_seeing_closure(const sync::EntityId& case_id) const;
  // Who wrote a version: the user and office of the audit event in the same commit.
  [[nodiscard]] std::pair<std::string, std::string> author_of(const sync::VersionId& id) const;

  Store& store_;
};

// Case fields only Teduh writes (set_case refuses them): the number, the owner office, the
// case a merge points at, and the count of services seen at closure.
[[nodiscard]] bool set_by_teduh(std::string_view case_field);

// Every code list with its Indonesian labels: {"list name": [{"code", "label"}, ...]}, the
// lists by name and each list's codes in the schema's order, as `teduh kode --json` prints
// it and the office app's forms offer it.
[[nodiscard]] nlohmann::json code_lists();

// The short code that stands for a victim in lists, e.g. "K-7F3A".
std::string victim_code(const sync::EntityId& person_id);

}  // namespace teduh::client
