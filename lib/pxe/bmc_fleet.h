// The nodes of a pxe-provision config as a fleet of BMCs, for bmc-power runs without --hosts.
#pragma once

#include <string>

#include "bmc/power_command.h"

namespace storkit {

// Reads the pxe-provision config at `path` and its node table: every node with its BMC
// address, and the config's IPMI settings. Throws ConfigError naming the file and key.
BmcFleet load_pxe_bmc_fleet(const std::string& path);

}  // namespace storkit
