// The `pxe-provision` command: network installs of the storage nodes, one subcommand per step.
//   prepare  ISO -> boot files, DHCP/TFTP/HTTP configuration, kickstarts (idempotent)
#pragma once

#include "storkit/report.h"
#include "storkit/runner.h"

namespace storkit {

enum class PxeSubcommand { kNone, kPrepare };

struct PxeOptions {
    PxeSubcommand subcommand = PxeSubcommand::kNone;
};

// Runs the chosen subcommand and fills `report`. Throws ConfigError (2) for a bad config,
// LockedError (75) while another run holds the lock, Error (1) for other failures. On any
// error before the first write, nothing is written.
void pxe_provision_command(const CommonOptions& common, const PxeOptions& opts, Report& report);

}  // namespace storkit
