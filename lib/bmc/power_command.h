// The `bmc-power` command: one power action on a range of BMCs in parallel, or the discovery of
// the BMCs in a subnet.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bmc/ipmi.h"
#include "core/report.h"
#include "core/runner.h"

namespace storkit {

struct BmcPowerOptions {
    std::string action;  // a PowerAction name or "discover"
    std::string hosts;   // --hosts RANGE; empty: the nodes of the pxe-provision config
    std::string nodes;   // --nodes a,b: only these nodes of the config
    std::string user;    // empty: bmc.user of the config, else "admin"
    std::string password_file;
    std::optional<int> cipher_suite;  // none: bmc.cipher_suite of the config, else 3
    std::optional<long> timeout_ms;   // none: bmc.timeout_ms of the config, else 5000
                                      // (discover: 2000)
    std::optional<int> retries;       // none: bmc.retries of the config, else 1
    long window = 64;
    long settle_ms = 10000;
    bool efi = false;
    int port = kIpmiPort;
    std::string subnet;  // discover; empty: bmc.subnet of the config
};

// What a fleet's config says of its BMCs, for runs without --hosts: the nodes with their BMC
// addresses and logins, and the IPMI settings. pxe-provision's config is one (pxe/bmc_fleet.h).
struct BmcFleet {
    struct Member {
        std::string name;
        std::optional<std::string> bmc;  // the BMC's address; none: the node has no BMC address
        // The node's own login where the config gives it one (else the fleet's user and
        // password_file), and the key of the config that names its password file, for messages.
        std::string user;
        std::string password_file;
        std::string password_key;
    };
    std::string source;  // the config file, for messages
    std::vector<Member> members;
    std::string subnet;  // CIDR, for discover
    std::string user;
    std::string password_file;
    std::string password_key;  // the key naming password_file, e.g. "bmc.password_file"
    int cipher_suite = 3;
    long timeout_ms = 5000;
    int retries = 1;
    bool efi = false;
};

// Reads the fleet from the config file at `path` (which exists); throws ConfigError.
using BmcFleetLoader = std::function<BmcFleet(const std::string& path)>;

// Says one line per BMC (or fills the --json report): for status, discover, a dry run and a
// failed BMC always; for a BMC an action went well on only as a detail (on a terminal or with
// -v, so a run from cron that went well prints nothing). A run where any BMC failed
// ends failed (exit 1) with the failed BMCs named in the message. Without --hosts (and
// --subnet for discover) the BMCs, credentials and IPMI settings come from the pxe-provision
// config `common.config`, read by `load_fleet`; each node logs in with its own user and
// password file where the config gives it one, and --user and --password-file override them
// all. Throws ConfigError (2) for bad options or a password that cannot be read, before any
// BMC is contacted.
void bmc_power_command(const CommonOptions& common, const BmcPowerOptions& opts,
                       const BmcFleetLoader& load_fleet, Report& report);

}  // namespace storkit
