#pragma once
// The admin CLI of teduhd (DESIGN.md section 6). main() only calls run_cli.
namespace teduh::server {

// Parses and runs one command. Returns the exit code: 0 done, 1 bad usage or invalid
// input, 2 refused (wrong passphrase, not a store, newer version), 3 network. Every error
// is one sentence on stderr; nothing throws out of it.
int run_cli(int argc, char** argv);

}  // namespace teduh::server
