// `pxe-provision status` and `discover`: the BMC -> MAC -> DHCP address table, and finding the
// BMCs of the BMC subnet.
#pragma once

#include <string>

#include "core/report.h"
#include "core/runner.h"

namespace storkit {

// Prints the table: every node with its BMC, MAC, DHCP address, boot state and install phase.
void pxe_status_command(const CommonOptions& common, Report& report);

// Finds the BMCs in bmc.subnet and adds a node for each new one to the node table, named from
// its address (bmc/discover.h). Only for configs without "nodes".
void pxe_discover_command(const CommonOptions& common, Report& report);

// Adds node `name` with its BMC address (and MAC, when known) to the node table, stamped with
// the time: nodes are powered on in the order they were enrolled (the published method: in
// the order their configs arrived). Enrolling the same node again with the same values changes
// nothing; other values for a known node, or a BMC or MAC another node has, are an error. Only
// for configs without "nodes".
void pxe_enroll_command(const CommonOptions& common, const std::string& name,
                        const std::string& bmc, const std::string& mac, Report& report);

}  // namespace storkit
