// `pxe-provision boot`: powering the nodes on in order over IPMI and binding MACs to nodes by
// power-on order.
#pragma once

#include <string>
#include <vector>

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

struct BootOptions {
    bool step = false;     // do at most one step (one wave, one binding) and return
    bool restart = false;  // forget the previous boot run (boot.json) first
    // Power these nodes even when installed or running (their boot records start over).
    std::vector<std::string> force;
    std::vector<std::string> only;  // when not empty: these nodes only (reinstall)
};

// Powers the nodes on as boot_plan.h describes, each with a one-time PXE boot override and
// power-up (power cycle when it is on), the state read back. Never a node the install book
// says is installed, nor one that is on and not marked for install (pxe-provision reinstall):
// it may be running its OS; --force names the exceptions. Resumable: what is done is kept
// in <pxe state>/boot.json, so a run killed at any point (or --step from cron) continues where
// it stopped. A learned MAC goes into the node table (nodes.json) for `prepare`. Fails (exit 1)
// when a node's BMC failed, a node stayed unbound or has no BMC address.
void pxe_boot_command(const CommonOptions& common, const BootOptions& opts, Report& report);

}  // namespace storkit
