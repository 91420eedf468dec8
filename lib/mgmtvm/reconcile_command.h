// The `mgmtvm-reconcile` command: one tick on this node, under the lock and the tick deadline.
#pragma once

#include <string>

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

struct ReconcileOptions {
    std::string node;  // --node: overrides the config's "node"
};

// Fills `report` with the tick's trace. Throws ConfigError (2), LockedError (75), Error (1).
void mgmtvm_reconcile_command(const CommonOptions& common, const ReconcileOptions& opts,
                              Report& report);

}  // namespace storkit
