// `storage-health`: the storage backend's probes by hand, one line per check with its time.
#pragma once

#include <string>

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

struct HealthOptions {
    std::string node;  // this node's name (overrides "node" in the config)
};

// Healthy (exit 0) when this node's storage service and the VM's volume answer yes; the master,
// the lease and the shared store are shown, not judged. Unhealthy or unknown: exit 1.
void storage_health_command(const CommonOptions& common, const HealthOptions& opts, Report& report);

}  // namespace storkit
