// The nodes of a pxe-provision config as a fleet of BMCs, for bmc-power runs without --hosts.
#pragma once

#include <string>

#include "bmc/power_action.h"
#include "bmc/power_command.h"
#include "pxe/config.h"

namespace storkit {

// Reads the pxe-provision config at `path` and its node table: every node with its BMC
// address, and the config's IPMI settings. Throws ConfigError naming the file and key.
BmcFleet load_pxe_bmc_fleet(const std::string& path);

// The config's IPMI login (the password read from bmc.password_file or the environment) and
// boot mode, for powering its nodes into PXE. Throws ConfigError when there is no password.
PowerSettings pxe_power_settings(const PxeConfig& cfg);

}  // namespace storkit
