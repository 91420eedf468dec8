// The nodes of a pxe-provision config as a fleet of BMCs, for bmc-power runs without --hosts,
// and the logins pxe-provision boot and pxe-monitor power its nodes with.
#pragma once

#include <string>
#include <vector>

#include "bmc/power_action.h"
#include "bmc/power_command.h"
#include "pxe/config.h"

namespace storkit {

// Reads what powering needs of the pxe-provision config at `path` (PxeConfigParts::kPower) and
// its node table: every node with its BMC address and login, and the config's IPMI settings.
// Throws ConfigError naming the file and key.
BmcFleet load_pxe_bmc_fleet(const std::string& path);

// The config's IPMI settings and boot mode, for powering its nodes into PXE. The login has no
// password: each node's comes from pxe_node_logins.
PowerSettings pxe_power_settings(const PxeConfig& cfg);

// The IPMI login of each of the nodes `names`, in order: the node's own bmc_user and
// bmc_password_file, else its group's, else bmc.user and bmc.password_file (or
// $STORKIT_IPMI_PASSWORD). Each password file is read once. Throws ConfigError naming the
// config, the key and the file when a password cannot be read.
std::vector<IpmiLogin> pxe_node_logins(const PxeConfig& cfg, const std::vector<std::string>& names);

}  // namespace storkit
