#pragma once
// The `teduh` command line (DESIGN.md section 6). Exit codes: 0 done, 1 bad usage or
// invalid input, 2 refused, 3 server unreachable, 4 internal error.
namespace teduh::client {
int run_cli(int argc, char** argv);
}
