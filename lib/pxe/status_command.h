// `pxe-provision status` and `discover`: the BMC -> MAC -> DHCP address table, and finding the
// BMCs of the BMC subnet.
#pragma once

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

// Prints the table: every node with its BMC, MAC, DHCP address, boot state and install phase.
void pxe_status_command(const CommonOptions& common, Report& report);

// Finds the BMCs in bmc.subnet and adds a node for each new one to the node table, named from
// its address (bmc/discover.h). Only for configs without "nodes".
void pxe_discover_command(const CommonOptions& common, Report& report);

}  // namespace storkit
