// `mgmtvm-maint`: maintenance on/off, global or per node, with an expiry; an operator's
// confirmation that a node is really off.
#pragma once

#include <string>

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

struct MaintOptions {
    std::string verb;  // "set", "clear", "show" or "confirm-down"
    bool global = false;
    std::string node;      // per-node maintenance
    std::string duration;  // "--for": 90s, 30m, 2h, 1d or seconds; empty: until cleared
    std::string reason;
};

// Parses "90s", "30m", "2h", "1d" or plain seconds; throws ConfigError naming `what`.
double parse_duration(const std::string& text, const std::string& what);

void mgmtvm_maint_command(const CommonOptions& common, const MaintOptions& opts, Report& report);

}  // namespace storkit
