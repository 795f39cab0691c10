#include <sys/stat.h>

#include "teduh/client/cli.hpp"

int main(int argc, char** argv) {
  // Every file teduh creates (the store, its WAL, the key file, exports, charts) is its
  // owner's only; the code sets the modes too, this is the belt to those braces.
  ::umask(077);
  return teduh::client::run_cli(argc, argv);
}
