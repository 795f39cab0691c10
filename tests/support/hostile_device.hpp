#pragma once
// Test support: a hostile device. It is an enrolled office store whose owner bypasses
// the `teduh` client: it builds any commit it likes (any scope, entity, field, value,
// supersedes list, sequence number or even another device's id in the body), signs it
// with the device's real key, and queues it in the store's `commits` table without
// applying it locally. The next real `teduh sync` of that store pushes it to the server
// exactly as forged. Built from the project's own libraries, like a modified client.
//
//   HostileDevice evil(store_path);
//   sync::Commit c = evil.commit(case_id, "kasus");
//   c.versions.push_back(evil.version(entity, "kasus", "status", "terminasi"));
//   evil.forge(c);                      // then: teduh sync --store store_path
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "support/forge.hpp"
#include "support/server_test.hpp"
#include "teduh/client/store.hpp"
#include "teduh/schema/sqlite.hpp"
#include "teduh/sync/hlc.hpp"
#include "teduh/sync/version.hpp"

namespace teduh::testing {

class HostileDevice {
 public:
  explicit HostileDevice(std::string store_path) : path_(std::move(store_path)) {}

  // The device's own id, as enrolled.
  sync::DeviceId device_id() {
    auto s = open();
    return s.identity().device;
  }

  // An empty commit of this device in `scope`, with the next free sequence number and a
  // current clock: fill its versions, change anything, then forge() it.
  sync::Commit commit(const sync::EntityId& scope, std::string scope_type) {
    auto s = open();
    sync::Commit c;
    c.device = s.identity().device;
    c.seq = next_seq(s);
    c.scope = scope;
    c.scope_type = std::move(scope_type);
    c.hlc = sync::make_hlc(static_cast<std::uint64_t>(sync::system_now_ms()), 0);
    return c;
  }

  // A version with the commit's clock; supersedes nothing unless the test says so.
  static sync::Version version(const sync::Commit& c, const sync::EntityId& entity, std::string type,
                               std::string field, std::string value,
                               std::vector<sync::VersionId> supersedes = {}) {
    return forged_version(c, entity, std::move(type), std::move(field), std::move(value), std::move(supersedes));
  }

  // Signs `c` with this device's key and queues it under this device's id and c.seq
  // for the next push (the envelope always names this device; the body says what the
  // test wrote). Moves the store's sequence past c.seq so later honest writes follow.
  void forge(const sync::Commit& c) {
    auto s = open();
    auto queued = queue_forged(s, c);
    ASSERT_TRUE(queued) << queued.error().message;
  }

 private:
  client::Store open() {
    auto s = client::Store::open(path_, kOfficePassphrase);
    EXPECT_TRUE(s) << (s ? "" : s.error().message);
    return std::move(*s);
  }
  static std::uint64_t next_seq(client::Store& s) {
    auto seq = s.meta("seq");
    return (seq && *seq && !(*seq)->empty() ? std::stoull(**seq) : 0) + 1;
  }

  std::string path_;
};

}  // namespace teduh::testing
