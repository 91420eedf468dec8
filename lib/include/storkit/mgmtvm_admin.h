// The operator's commands around the reconcile: `mgmtvm-maint` (maintenance on/off, global or
// per node, with an expiry) and `mgmtvm-status` (the whole cluster at a glance).
#pragma once

#include <string>

#include "storkit/report.h"
#include "storkit/runner.h"

namespace storkit {

struct MaintOptions {
    std::string verb;  // "set", "clear" or "show"
    bool global = false;
    std::string node;      // per-node maintenance
    std::string duration;  // "--for": 90s, 30m, 2h, 1d or seconds; empty: until cleared
    std::string reason;
};

// Parses "90s", "30m", "2h", "1d" or plain seconds; throws ConfigError naming `what`.
double parse_duration(const std::string& text, const std::string& what);

void maint_command(const CommonOptions& common, const MaintOptions& opts, Report& report);

struct StatusOptions {
    bool no_color = false;  // colour is only ever used on a terminal, and never with --json
};

void status_command(const CommonOptions& common, const StatusOptions& opts, Report& report);

}  // namespace storkit
