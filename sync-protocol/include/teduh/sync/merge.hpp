#pragma once
// The merge rule: a multi-value register per field (DESIGN.md section 4, PROTOCOL.md).
//
// A version is live unless some received version supersedes it. The live set depends
// only on the set of versions received, never on their order: every replica that has
// received the same versions shows the same state. The value shown is the live version
// with the greatest (hlc, device id). More than one live version is a conflict; a
// resolving write supersedes all of them. This file is pure logic, used by the client
// and server stores field by field and by the in-memory replicas of the property tests.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "teduh/sync/version.hpp"

namespace teduh::sync {

struct StoredVersion {
  VersionId id;
  std::string value;
  Hlc hlc = 0;
  std::vector<VersionId> supersedes;
};

// Orders versions for display: greater (hlc, device) first; (seq, index) break the
// remaining ties, so this is a strict total order on distinct version ids.
bool shows_before(const StoredVersion& a, const StoredVersion& b);

// The state of one field: every version received and the ids any of them supersedes.
class Register {
 public:
  // Adds a version; idempotent (a version received twice changes nothing).
  // Returns true if the set of live versions changed.
  bool add(const StoredVersion& v);
  // Live versions, in display order (the shown one first).
  [[nodiscard]] std::vector<StoredVersion> live() const;
  [[nodiscard]] std::optional<StoredVersion> shown() const;
  [[nodiscard]] bool in_conflict() const;
  // Every version received, oldest hlc first: the field's history.
  [[nodiscard]] std::vector<StoredVersion> history() const;
  // The supersedes list a local write must carry: the ids of all live versions.
  // Sorted ascending by VersionId (a canonical order for encoding).
  [[nodiscard]] std::vector<VersionId> live_ids() const;
  // Number of versions received (live or not).
  [[nodiscard]] std::size_t size() const { return all_.size(); }
  [[nodiscard]] bool contains(const VersionId& id) const { return all_.contains(id); }

 private:
  std::map<VersionId, StoredVersion> all_;
  std::set<VersionId> superseded_;  // every id named by a received supersedes list
  std::set<VersionId> live_;        // ids in all_ and not in superseded_ (kept incrementally)
};

// Whether a version with id `id` is live, given the superseded set (for stores that keep
// the superseded ids in a table rather than a Register in memory).
inline bool is_live(const VersionId& id, const std::set<VersionId>& superseded) {
  return !superseded.contains(id);
}

// An in-memory replica: entity -> field -> Register. Applying commits in any order, any
// number of times, gives the same state. Used by property tests and the merge benchmark.
//
// Supersedes act within their own (entity, field): a Register holds one field, so an id
// a version lists can only take away a version of that same field of that same entity.
// Every entity belongs to one scope and has one type, fixed by the first commit that
// writes it (PROTOCOL.md section 5, "Entities and scopes"): a commit that names an entity
// held under another scope or type, or one entity under two types, is not applied at all.
class Replica {
 public:
  // Returns false when the commit was refused by the entity rule above (nothing applied).
  bool apply(const Commit& commit);
  [[nodiscard]] const Register* field(const EntityId& entity, const std::string& field) const;
  // A canonical dump of the shown values and conflicts, for comparing replicas.
  [[nodiscard]] std::string canonical_state() const;
  // Number of fields with more than one live version.
  [[nodiscard]] std::size_t conflict_count() const;
  // Number of distinct versions received.
  [[nodiscard]] std::size_t version_count() const { return version_count_; }
  // Every field of every entity, entities by id, fields by name.
  [[nodiscard]] const std::map<EntityId, std::map<std::string, Register>>& fields() const { return fields_; }

 private:
  std::size_t version_count_ = 0;
  std::map<EntityId, std::map<std::string, Register>> fields_;
  std::map<EntityId, std::pair<EntityId, std::string>> places_;  // entity -> (scope, type)
};

}  // namespace teduh::sync
