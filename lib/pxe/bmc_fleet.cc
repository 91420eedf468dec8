#include "pxe/bmc_fleet.h"

#include "core/netaddr.h"
#include "pxe/nodes.h"

namespace storkit {

BmcFleet load_pxe_bmc_fleet(const std::string& path) {
    PxeConfig cfg = load_pxe_config(path);
    BmcFleet fleet;
    fleet.source = cfg.path;
    for (const InventoryRow& n : load_inventory(cfg).nodes)
        fleet.members.push_back(
            {n.name, n.bmc ? std::optional<std::string>(ipv4_string(*n.bmc)) : std::nullopt});
    fleet.subnet = cfg.bmc_subnet.str();
    fleet.user = cfg.bmc_user;
    fleet.password_file = cfg.bmc_password_file;
    fleet.cipher_suite = cfg.bmc_cipher_suite;
    fleet.timeout_ms = cfg.bmc_timeout_ms;
    fleet.retries = cfg.bmc_retries;
    fleet.efi = cfg.boot_efi;
    return fleet;
}

}  // namespace storkit
