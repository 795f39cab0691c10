#pragma once
// The command-line side of reports, deadlines, settings and the register import
// (`teduh report`, `teduh due`, `teduh config`, `teduh import`), kept apart from cli.cpp.
#include <CLI/CLI.hpp>
#include <functional>

#include "teduh/client/store.hpp"

namespace teduh::client {

struct ReportCliContext {
  std::function<Result<int>()>* action;       // what the parsed command will run
  std::function<Result<Store>()> open_store;  // opens --store / TEDUH_STORE
  std::function<void(CLI::App*)> add_store;   // adds --store to a command
  std::function<void(CLI::App*)> add_json;    // adds --json to a command
  const bool* json_output;                    // set by --json
};

void add_report_commands(CLI::App& app, const ReportCliContext& context);

}  // namespace teduh::client
