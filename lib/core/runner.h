// The shared shell around every tool: common options, one catch ladder, the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "core/report.h"

namespace storkit {

// Options every tool understands (DESIGN: "Conventions for every tool").
struct CommonOptions {
    bool json = false;
    int verbosity = 0;
    bool syslog = false;
    bool dry_run = false;
    bool detailed_exitcode = false;
    std::string config;  // empty: the tool's default path
};

struct ToolSpec {
    std::string name;
    std::string description;
    std::string default_config;  // empty: the tool has no --config
    bool has_dry_run = true;
    // Declares the tool's own options and subcommands on `app`.
    std::function<void(CLI::App& app)> add_options;
    // Does the work. Fills `report`; throws storkit::Error for failures that end the run.
    std::function<void(const CommonOptions& common, Report& report)> run;
};

// Parses argv, runs the tool, prints the result (the report's output, core/report.h) and returns
// the process exit code: help/version -> 0, parse error -> 2, storkit::Error -> its code,
// anything else -> 1. The only code that writes to stdout.
int run_tool(const ToolSpec& spec, int argc, char** argv);

// Ends the process at once, from any thread and without running destructors, with `report` (a
// failed run) as its result: the JSON object on stdout with --json, else `tool: error: msg` on
// stderr; the exit code is report.rc. For a deadline that leaves the work stuck.
[[noreturn]] void exit_now(const CommonOptions& common, const Report& report);

// The version string every tool reports.
const char* version();

}  // namespace storkit
