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
    std::string hosts;   // --hosts RANGE
    std::string user = "admin";
    std::string password_file;
    int cipher_suite = 3;
    long timeout_ms = 0;  // 0: the default (5000 for power actions, 2000 for discover)
    int retries = 1;
    long window = 64;
    long settle_ms = 10000;
    bool efi = false;
    int port = 623;
    std::string subnet;  // discover
};

// Prints one line per BMC (or the --json report) and fills `report`; a run where any BMC failed
// ends failed (exit 1) with the failed BMCs named in the message. Throws ConfigError (2) for bad
// options, before any BMC is contacted.
void bmc_power_command(const CommonOptions& common, const BmcPowerOptions& opts, Report& report);

}  // namespace storkit
