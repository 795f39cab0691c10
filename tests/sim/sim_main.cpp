// teduh_sim: runs the deterministic simulation (simulation.hpp) over seeds.
//
//   teduh_sim --seed 7                 one seed (add --verbose for every step)
//   teduh_sim --seeds 300              seeds 1..300 (--from N to start elsewhere)
//   teduh_sim --random 20              20 seeds drawn from the time (printed)
//   --ops N --devices N --offices N --hostile 0|1   override the draws
//   --no-faults (neither network nor disk faults), --no-disk-faults
//   --guarded-memory: keys in libsodium's guarded pages, as in teduh (secure_alloc.cpp)
//
// On a failure it prints the seed, the broken invariant and the command that replays it,
// then shrinks: fewer operations, then fewer devices and offices, while it still fails,
// and prints the smallest failing command. Exit 1 when any seed failed.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include <spdlog/spdlog.h>

#include "sim/simulation.hpp"

namespace teduh::sim {
extern bool g_guarded_memory;  // secure_alloc.cpp
}

namespace {

using teduh::sim::Config;

bool fails(const Config& c) { return !teduh::sim::run(c).ok; }

// Fewer operations (halving, then smaller steps), then fewer devices, fewer offices,
// no hostile device, no faults, while it still fails. The seed's draws are made whatever
// is overridden, so a smaller run replays the rest of the same choices.
Config shrink(Config c, const teduh::sim::Outcome& first) {
  auto keep_if_fails = [&](Config t) {
    if (!fails(t)) return false;
    c = t;
    std::cerr << "  still fails: " << teduh::sim::replay_command(c) << "\n";
    return true;
  };
  if (first.steps < c.ops) {
    Config t = c;
    t.ops = first.steps;  // it failed at that step: the rest never ran
    keep_if_fails(t);
  }
  for (int step = c.ops / 2; step >= 1; step /= 2) {
    while (c.ops - step >= 1) {
      Config t = c;
      t.ops -= step;
      if (!keep_if_fails(t)) break;
    }
  }
  const int devices = c.devices.value_or(first.devices);
  for (int n = 2; n < devices; ++n) {  // the smallest number of devices that still fails
    Config t = c;
    t.devices = n;
    if (keep_if_fails(t)) break;
  }
  const int offices = c.offices.value_or(first.offices);
  for (int n = 2; n < offices; ++n) {
    Config t = c;
    t.offices = n;
    if (keep_if_fails(t)) break;
  }
  if (c.hostile.value_or(true)) {
    Config t = c;
    t.hostile = false;
    keep_if_fails(t);
  }
  if (c.disk_faults) {
    Config t = c;
    t.disk_faults = false;
    keep_if_fails(t);
  }
  if (c.faults) {
    Config t = c;
    t.faults = false;
    t.disk_faults = false;
    keep_if_fails(t);
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--guarded-memory") == 0) teduh::sim::g_guarded_memory = true;  // before any key
  }
  ::setenv("TEDUH_TEST_STORES", "1", 1);
  spdlog::set_level(spdlog::level::off);
  if (!teduh::sim::install_simulated_environment()) {
    std::cerr << "teduh_sim: the fault-injecting VFS is not under the stores; nothing was run\n";
    return 2;
  }

  Config base;
  std::uint64_t from = 1, count = 1;
  bool single = false, random = false, do_shrink = true;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "teduh_sim: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seed") { base.seed = std::stoull(next()); single = true; }
    else if (a == "--seeds") count = std::stoull(next());
    else if (a == "--from") from = std::stoull(next());
    else if (a == "--random") { count = std::stoull(next()); random = true; }
    else if (a == "--ops") base.ops = std::stoi(next());
    else if (a == "--devices") base.devices = std::stoi(next());
    else if (a == "--offices") base.offices = std::stoi(next());
    else if (a == "--hostile") base.hostile = next() != "0";
    else if (a == "--no-faults") { base.faults = false; base.disk_faults = false; }
    else if (a == "--no-disk-faults") base.disk_faults = false;
    else if (a == "--no-shrink") do_shrink = false;
    else if (a == "--verbose") base.verbose = true;
    else if (a == "--guarded-memory") continue;  // read above
    else {
      std::cerr << "teduh_sim: unknown option " << a << " (see tests/sim/sim_main.cpp)\n";
      return 2;
    }
  }
  if (single) { from = base.seed; count = 1; }
  if (random) from = static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000007ull;

  if (random) std::cout << "teduh_sim: random seeds " << from << ".." << from + count - 1 << std::endl;
  std::map<std::string, long> ops, checks;
  std::uint64_t failed = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t s = from; s < from + count; ++s) {
    Config c = base;
    c.seed = s;
    auto out = teduh::sim::run(c);
    for (const auto& [k, v] : out.op_counts) ops[k] += v;
    for (const auto& [k, v] : out.checks) checks[k] += v;
    if (out.ok) continue;
    ++failed;
    std::cout << "FAILED seed " << s << ": " << out.failure << "\n  replay: " << teduh::sim::replay_command(c) << "\n";
    if (do_shrink) {
      Config small = shrink(c, out);
      std::cout << "  smallest: " << teduh::sim::replay_command(small) << "\n";
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "teduh_sim: " << count - failed << " of " << count << " seeds passed (from " << from << ", "
            << base.ops << " operations each) in " << secs << " s\n  operations:";
  for (const auto& [k, v] : ops) std::cout << " " << k << "=" << v;
  std::cout << "\n  checks:";
  for (const auto& [k, v] : checks) std::cout << " " << k << "=" << v;
  std::cout << "\n";
  return failed ? 1 : 0;
}
