// The `bmc-power` command: one power action on a range of BMCs in parallel, or the discovery of
// the BMCs in a subnet.
#pragma once

#include <string>

#include "storkit/report.h"
#include "storkit/runner.h"

namespace storkit {

// Where a BMC password may come from besides --password-file.
inline constexpr const char* kIpmiPasswordEnv = "STORKIT_IPMI_PASSWORD";

struct BmcPowerOptions {
    std::string action;  // a PowerAction name or "discover"
    std::string hosts;   // --hosts RANGE; empty: the nodes of the pxe-provision config
    std::string nodes;   // --nodes a,b: only these nodes of the config
    std::string user;    // empty: bmc.user of the config, else "admin"
    std::string password_file;
    int cipher_suite = -1;  // -1: bmc.cipher_suite of the config, else 3
    long timeout_ms = 0;    // 0: bmc.timeout_ms of the config, else 5000 (discover: 2000)
    int retries = -1;       // -1: bmc.retries of the config, else 1
    long window = 64;
    long settle_ms = 10000;
    bool efi = false;
    int port = 623;
    std::string subnet;  // discover; empty: bmc.subnet of the config
};

// Prints one line per BMC (or the --json report) and fills `report`; a run where any BMC failed
// ends failed (exit 1) with the failed BMCs named in the message. Without --hosts (and
// --subnet for discover) the BMCs, credentials and IPMI settings come from the pxe-provision
// config `common.config`. Throws ConfigError (2) for bad options, before any BMC is contacted.
void bmc_power_command(const CommonOptions& common, const BmcPowerOptions& opts, Report& report);

}  // namespace storkit
