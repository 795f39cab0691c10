#pragma once
// Who shares and who owns a case, derived from the case's own records (PERMISSIONS.md,
// PROTOCOL.md section 5B). Pure logic over the case's commits in the server's log order,
// each with the office and role of the device that wrote it: no storage, no sockets.
//
// A case is shared with an office while the case holds
//   - a referral (rujukan) to that office whose status is dikirim or diterima, whose
//     consent ref names a consent (persetujuan) of scope "rujukan" for that office that
//     is not withdrawn (withdrawn_at empty), and which is not deleted; or
//   - an open transfer (alih_kelola, status diajukan) to that office, proposed by the
//     office that owns the case now, under such a consent recorded by that owner office.
// The answer of a partner outside Teduh to an external referral (to_external set, to_office
// empty: it shares nothing) is the referral's status, answered_on and answer_notes; a commit
// that changes one of them is refused unless its device belongs to the office that created
// the referral (issue 15.7).
// The owner is the office that created the case until a transfer is accepted: a commit
// of a device of the transfer's office, whose role may answer referrals, writing status
// diterima on a transfer that a device of the owner office proposed while it owned the
// case, under a consent for that office recorded by the owner office. Ownership then
// moves to that office for good (later edits of the transfer record do not move it back);
// the former owner keeps the case only if it is shared with it as above. A transfer
// proposed by an office that is no longer the owner lapses. Values are the shown value of
// each field (the live version with the greatest hlc).
//
// The same rules judge a pushed commit (apply() returns why it must be refused) and
// recompute the log (a refused commit never reaches the log; one that did anyway is not
// honoured: it moves no ownership and shares nothing).
#include <map>
#include <optional>
#include <set>
#include <string>

#include "teduh/sync/merge.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::server {

// The device that wrote a commit, as the server's device records know it.
struct Writer {
  std::string office;
  std::string role;
};

class CaseAccess {
 public:
  // origin: the office of the device that created the case (its first owner).
  explicit CaseAccess(std::string origin = {});

  // Adds a commit of the case scope, in log order, written by `writer`. Returns nullopt
  // when the commit keeps the rules above, else the refusal sentence (no values): a push
  // refuses the commit and drops this copy; a recomputation keeps going, and the commit
  // moves nothing. Commits that touch no referral, consent or transfer change nothing.
  std::optional<std::string> apply(const sync::Commit& commit, const Writer& writer);

  // Offices the case is shared with (not counting the owner).
  [[nodiscard]] std::set<std::string> shared_with() const;
  // The office that owns the case now.
  [[nodiscard]] const std::string& owner() const { return owner_; }

  // Whether a commit writes any entity that can change who shares the case.
  static bool touches_access(const sync::Commit& commit);

 private:
  // Who created an access entity (the writer of the first commit that named it), and
  // whether that office owned the case then.
  struct Creation {
    std::string office;
    bool by_owner = false;
  };

  [[nodiscard]] std::string shown(const sync::EntityId& entity, const std::string& field) const;
  [[nodiscard]] bool consent_valid_for(const std::string& consent_hex, const std::string& office) const;
  // A referral to a partner outside Teduh: to_external shown, to_office empty.
  [[nodiscard]] bool external_referral(const sync::EntityId& id) const;
  // A valid consent for `office` recorded by a device of `recorded_by`.
  [[nodiscard]] bool consent_of(const std::string& recorded_by, const std::string& office) const;
  // An open transfer proposed by the current owner, with the owner's consent.
  [[nodiscard]] bool open_transfer(const sync::EntityId& id) const;
  [[nodiscard]] std::optional<std::string> consent_problem(const sync::Commit& commit) const;

  sync::Replica replica_;
  std::map<sync::EntityId, std::string> types_;     // entity id -> entity type (access types only)
  std::map<sync::EntityId, Creation> created_;      // access entity -> who created it
  std::set<sync::EntityId> accepted_;               // transfers whose acceptance moved the case
  std::string owner_;
};

}  // namespace teduh::server
