#include "teduh/sync/merge.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>

// The rule implemented here is specified in PROTOCOL.md "Merge rule". In short: the live
// set of a field is {received versions} minus {ids named in any received supersedes
// list}. Both sets only grow, and set union is commutative, associative and idempotent,
// so the live set (and everything derived from it: shown value, conflict) is a function
// of the set of versions received, whatever the order or repetition of delivery.

namespace teduh::sync {

bool shows_before(const StoredVersion& a, const StoredVersion& b) {
  return std::tie(a.hlc, a.id.device, a.id.seq, a.id.index) >
         std::tie(b.hlc, b.id.device, b.id.seq, b.id.index);
}

bool Register::add(const StoredVersion& v) {
  if (all_.contains(v.id)) return false;  // ids are unique: a second copy adds nothing
  bool changed = false;
  for (const auto& s : v.supersedes) {
    superseded_.insert(s);
    if (live_.erase(s) > 0) changed = true;
  }
  all_.emplace(v.id, v);
  // Checked after the loop: a version may arrive after a version that supersedes it.
  if (!superseded_.contains(v.id)) {
    live_.insert(v.id);
    changed = true;
  }
  return changed;
}

std::vector<StoredVersion> Register::live() const {
  std::vector<StoredVersion> out;
  out.reserve(live_.size());
  for (const auto& id : live_) out.push_back(all_.at(id));
  std::sort(out.begin(), out.end(), shows_before);
  return out;
}

std::optional<StoredVersion> Register::shown() const {
  const StoredVersion* best = nullptr;
  for (const auto& id : live_) {
    const StoredVersion& v = all_.at(id);
    if (best == nullptr || shows_before(v, *best)) best = &v;
  }
  if (best == nullptr) return std::nullopt;
  return *best;
}

bool Register::in_conflict() const { return live_.size() > 1; }

std::vector<StoredVersion> Register::history() const {
  std::vector<StoredVersion> out;
  out.reserve(all_.size());
  for (const auto& [id, v] : all_) out.push_back(v);
  std::sort(out.begin(), out.end(), [](const StoredVersion& a, const StoredVersion& b) { return shows_before(b, a); });
  return out;
}

std::vector<VersionId> Register::live_ids() const { return {live_.begin(), live_.end()}; }

bool Replica::apply(const Commit& commit) {
  std::map<EntityId, const std::string*> types;  // the entities of this commit
  for (const Version& v : commit.versions) {
    auto [t, fresh] = types.emplace(v.entity, &v.entity_type);
    if (!fresh && *t->second != v.entity_type) return false;
    if (auto p = places_.find(v.entity);
        p != places_.end() && (p->second.first != commit.scope || p->second.second != v.entity_type)) {
      return false;
    }
  }
  for (const auto& [entity, type] : types) places_.try_emplace(entity, commit.scope, *type);
  for (std::size_t i = 0; i < commit.versions.size(); ++i) {
    const Version& v = commit.versions[i];
    Register& reg = fields_[v.entity][v.field];
    const VersionId id = commit.version_id(static_cast<std::uint32_t>(i));
    if (reg.contains(id)) continue;
    reg.add(StoredVersion{id, v.value, v.hlc, v.supersedes});
    ++version_count_;
  }
  return true;
}

const Register* Replica::field(const EntityId& entity, const std::string& field) const {
  auto e = fields_.find(entity);
  if (e == fields_.end()) return nullptr;
  auto f = e->second.find(field);
  if (f == e->second.end()) return nullptr;
  return &f->second;
}

namespace {

// JSON-style quoting, so any value (quotes, newlines, control bytes) stays on one line.
void append_quoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

std::string Replica::canonical_state() const {
  // One line per field, entities by id and fields by name (both maps are ordered):
  //   <entity hex> <field> shown=<"value"> live=<n> values=[<"v">,...]
  // values are the live values sorted bytewise; a field whose versions are all superseded
  // (impossible for well-formed histories, but representable) shows `shown=-`.
  std::string out;
  for (const auto& [entity, fields] : fields_) {
    for (const auto& [name, reg] : fields) {
      out += entity.hex();
      out.push_back(' ');
      out += name;
      out += " shown=";
      auto shown = reg.shown();
      if (shown) {
        append_quoted(out, shown->value);
      } else {
        out.push_back('-');
      }
      auto live = reg.live();
      out += " live=" + std::to_string(live.size()) + " values=[";
      std::vector<std::string_view> values;
      values.reserve(live.size());
      for (const auto& v : live) values.push_back(v.value);
      std::sort(values.begin(), values.end());
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (i > 0) out.push_back(',');
        append_quoted(out, values[i]);
      }
      out += "]\n";
    }
  }
  return out;
}

std::size_t Replica::conflict_count() const {
  std::size_t n = 0;
  for (const auto& [entity, fields] : fields_) {
    for (const auto& [name, reg] : fields) {
      if (reg.in_conflict()) ++n;
    }
  }
  return n;
}

}  // namespace teduh::sync
