#include "pxe/bmc_fleet.h"

#include <map>

#include "core/error.h"
#include "core/netaddr.h"
#include "core/secret.h"
#include "pxe/nodes.h"

namespace storkit {

BmcFleet load_pxe_bmc_fleet(const std::string& path) {
    // Only what powering needs: a missing image or a broken template keeps nobody from it.
    PxeConfig cfg = load_pxe_config(path, PxeConfigParts::kPower);
    BmcFleet fleet;
    fleet.source = cfg.path;
    for (const InventoryRow& n : load_power_inventory(cfg).nodes) {
        BmcLoginSource login = cfg.bmc_login(n.name);
        fleet.members.push_back(
            {n.name, n.bmc ? std::optional<std::string>(ipv4_string(*n.bmc)) : std::nullopt,
             login.user, login.password_file, login.password_key});
    }
    fleet.subnet = cfg.bmc_subnet.str();
    fleet.user = cfg.bmc_user;
    fleet.password_file = cfg.bmc_password_file;
    fleet.password_key = "bmc.password_file";
    fleet.cipher_suite = cfg.bmc_cipher_suite;
    fleet.timeout_ms = cfg.bmc_timeout_ms;
    fleet.retries = cfg.bmc_retries;
    fleet.efi = cfg.boot_efi;
    return fleet;
}

PowerSettings pxe_power_settings(const PxeConfig& cfg) {
    PowerSettings s;
    s.login.user = cfg.bmc_user;
    s.login.cipher_suite = cfg.bmc_cipher_suite;
    s.login.timeout = std::chrono::milliseconds(cfg.bmc_timeout_ms);
    s.boot_mode = cfg.boot_efi ? BootMode::kEfi : BootMode::kBios;
    return s;
}

std::vector<IpmiLogin> pxe_node_logins(const PxeConfig& cfg,
                                       const std::vector<std::string>& names) {
    IpmiLogin base = pxe_power_settings(cfg).login;
    std::map<std::string, std::string> passwords;  // file -> password
    std::vector<IpmiLogin> out;
    out.reserve(names.size());
    for (const std::string& name : names) {
        BmcLoginSource source = cfg.bmc_login(name);
        auto [it, fresh] = passwords.try_emplace(source.password_file);
        if (fresh) {
            try {
                it->second = load_secret(source.password_file, kIpmiPasswordEnv, "BMC password");
            } catch (const ConfigError& e) {
                throw ConfigError(
                    fmt::format("{}: key '{}': {}", cfg.path, source.password_key, e.what()));
            }
        }
        IpmiLogin login = base;
        login.user = source.user;
        login.password = it->second;
        out.push_back(std::move(login));
    }
    return out;
}

}  // namespace storkit
