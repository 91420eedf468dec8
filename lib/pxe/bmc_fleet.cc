#include "pxe/bmc_fleet.h"

#include "core/netaddr.h"
#include "core/secret.h"
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

PowerSettings pxe_power_settings(const PxeConfig& cfg) {
    PowerSettings s;
    s.login.user = cfg.bmc_user;
    s.login.password = load_secret(cfg.bmc_password_file, kIpmiPasswordEnv, "BMC password");
    s.login.cipher_suite = cfg.bmc_cipher_suite;
    s.login.timeout = std::chrono::milliseconds(cfg.bmc_timeout_ms);
    s.boot_mode = cfg.boot_efi ? BootMode::kEfi : BootMode::kBios;
    return s;
}

}  // namespace storkit
