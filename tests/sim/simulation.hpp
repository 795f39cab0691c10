#pragma once
// The deterministic simulation of Teduh (issue 14; tests/README.md "Simulation").
//
// One process runs the real client stores, workflow, merge, sync client, server store,
// access policy and sync sessions, with the network, the clocks and the randomness
// replaced by simulated ones that one seed drives, in the manner of FoundationDB's
// simulator and TigerBeetle's VOPR:
//
// - randomness: libsodium's randombytes is a ChaCha20 stream keyed by the seed, so
//   device ids, keys, nonces and entity ids repeat from run to run;
// - clocks: sync::set_clock_source reads a simulated time that moves forward by a drawn
//   amount each step, plus a per-actor skew that can jump (hours ahead or behind);
// - network: each sync runs over a SimLink whose server end is an in-process Noise
//   responder, SecureChannel and SyncSession over the real ServerStore; faults drop
//   requests, lose replies after the server acted on them, and duplicate frames;
// - disks: every store runs over the fault-injecting VFS (tests/support/fault_vfs.hpp):
//   devices and the server crash (a power loss undoes what was not synced; a killed
//   process keeps it), at rest or at the n-th write of an operation, and operations run
//   under I/O errors and a full disk;
// - threads: the sync client runs single-threaded (SyncOptions::pipeline = false), so
//   the seed alone decides every interleaving.
//
// A run draws 2-5 offices, 3-12 devices (sometimes one hostile device that forges
// commits), and then `ops` operations (the workflow of the offices, syncs, restarts,
// restores from older copies, clock jumps, clearance, key rotation, revocation). The
// invariants (simulation.cpp, check_*) are checked after every sync where cheap and at
// quiescence always. A failing seed prints the command that replays it, and sim_main
// shrinks the run (fewer operations, devices, offices) while it still fails.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace teduh::sim {

struct Config {
  std::uint64_t seed = 1;
  int ops = 200;
  // Drawn from the seed when not given (the draws are made either way, so that a run
  // with an override replays the rest of the seed's choices).
  std::optional<int> devices;
  std::optional<int> offices;
  std::optional<bool> hostile;
  bool faults = true;       // network faults
  bool disk_faults = true;  // crashes, I/O errors and a full disk (tests/support/fault_vfs.hpp)
  bool verbose = false;
  std::filesystem::path root = "/dev/shm";
};

struct Outcome {
  bool ok = true;
  std::string failure;  // the first invariant broken, in one paragraph
  int steps = 0;        // operations run before the failure (or all)
  int devices = 0;      // as drawn or given (without the hostile device)
  int offices = 0;
  std::map<std::string, int> op_counts;
  std::map<std::string, int> checks;  // invariant checks made, by name
};

// Must be called once, before anything initialises libsodium or opens a store: installs
// the seeded randomness and the fault-injecting VFS under every store of the process.
// False when the VFS could not be put under the encrypted stores.
bool install_simulated_environment();

Outcome run(const Config& config);

// `teduh_sim --seed N ...`: the command that replays this configuration.
std::string replay_command(const Config& config);

}  // namespace teduh::sim
