#include "teduh/server/cli.hpp"

int main(int argc, char** argv) { return teduh::server::run_cli(argc, argv); }
