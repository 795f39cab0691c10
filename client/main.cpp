#include "teduh/client/cli.hpp"

int main(int argc, char** argv) { return teduh::client::run_cli(argc, argv); }
