#include <sys/stat.h>

#include "teduh/server/cli.hpp"

int main(int argc, char** argv) {
  // Every file teduhd creates (the store, its WAL, key files, the lock) is its owner's
  // only; the code sets the modes too, this is the belt to those braces.
  ::umask(077);
  return teduh::server::run_cli(argc, argv);
}
