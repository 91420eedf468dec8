#include "storkit/bmc_power.h"

#include <iostream>

#include "storkit/bmc_discover.h"
#include "storkit/error.h"
#include "storkit/host_range.h"
#include "storkit/log.h"
#include "storkit/netaddr.h"
#include "storkit/power_action.h"
#include "storkit/secret.h"

namespace storkit {

namespace {

using std::chrono::milliseconds;

void check_range(const char* option, long value, long min, long max) {
    if (value < min || value > max)
        throw ConfigError(fmt::format("{} {}: expected {} to {}", option, value, min, max));
}

std::string would_do(PowerAction a, BootMode mode) {
    switch (a) {
        case PowerAction::kStatus: return "would read the power state";
        case PowerAction::kOn: return "would power on unless on";
        case PowerAction::kOff: return "would power off unless off";
        case PowerAction::kSoft: return "would ask the OS to shut down unless off";
        case PowerAction::kCycle: return "would power cycle (power on if off)";
        case PowerAction::kReset: return "would hard reset (power on if off)";
        case PowerAction::kPxe:
            return fmt::format("would set PXE ({}) for the next boot", to_string(mode));
        case PowerAction::kPxeBoot:
            return fmt::format("would set PXE ({}) for the next boot, then power on (cycle if on)",
                               to_string(mode));
    }
    return "";
}

void discover_command(const CommonOptions& common, const BmcPowerOptions& opts, Report& report) {
    if (!opts.hosts.empty())
        throw ConfigError("discover searches --subnet; --hosts does not go with it");
    if (opts.subnet.empty()) throw ConfigError("discover needs --subnet CIDR");
    Subnet subnet = parse_search_subnet(opts.subnet);
    DiscoverOptions d;
    d.port = opts.port;
    d.timeout = milliseconds(opts.timeout_ms ? opts.timeout_ms : 2000);
    report.data["subnet"] = subnet.str();
    report.data["dry_run"] = common.dry_run;
    if (common.dry_run) {
        report.msg = fmt::format("would ask {} addresses in {} on port {}",
                                 subnet_hosts(subnet).size(), subnet.str(), d.port);
        if (!common.json) std::cout << report.msg << "\n";
        return;
    }
    std::vector<FoundBmc> found = discover_bmcs(subnet, d);
    nlohmann::json list = nlohmann::json::array();
    for (const FoundBmc& b : found) {
        list.push_back(b.to_json());
        if (!common.json) std::cout << b.name << " " << b.host() << "\n";
    }
    report.data["bmcs"] = list;
    report.msg = fmt::format("{} BMCs answered in {}", found.size(), subnet.str());
}

}  // namespace

void bmc_power_command(const CommonOptions& common, const BmcPowerOptions& opts, Report& report) {
    check_range("--port", opts.port, 1, 65535);
    if (opts.timeout_ms != 0) check_range("--timeout-ms", opts.timeout_ms, 100, 600000);
    report.data["action"] = opts.action;
    if (opts.action == "discover") return discover_command(common, opts, report);

    std::optional<PowerAction> action = parse_power_action(opts.action);
    if (!action)
        throw ConfigError(fmt::format("unknown action '{}' (expected {}|discover)", opts.action,
                                      kPowerActionNames));
    if (!opts.subnet.empty()) throw ConfigError("--subnet goes with discover only");
    check_range("--retries", opts.retries, 0, 10);
    check_range("--window", opts.window, 1, 1024);
    check_range("--settle-ms", opts.settle_ms, 0, 600000);
    if (!valid_cipher_suite(opts.cipher_suite))
        throw ConfigError(
            fmt::format("--cipher-suite {}: not a cipher suite FreeIPMI supports "
                        "(0-3, 6-8, 11, 12, 15-17)",
                        opts.cipher_suite));
    if (opts.hosts.empty()) throw ConfigError("no BMCs: give --hosts RANGE");
    std::vector<std::string> hosts = expand_hosts(opts.hosts, opts.port);

    PowerSettings settings;
    settings.login.user = opts.user;
    settings.login.password = load_secret(opts.password_file, kIpmiPasswordEnv, "BMC password");
    settings.login.cipher_suite = opts.cipher_suite;
    settings.login.timeout = milliseconds(opts.timeout_ms ? opts.timeout_ms : 5000);
    settings.boot_mode = opts.efi ? BootMode::kEfi : BootMode::kBios;
    settings.settle = milliseconds(opts.settle_ms);
    FanoutOptions fanout;
    fanout.window = static_cast<size_t>(opts.window);
    fanout.retries = opts.retries;
    report.data["dry_run"] = common.dry_run;

    nlohmann::json list = nlohmann::json::array();
    if (common.dry_run) {
        std::string what = would_do(*action, settings.boot_mode);
        for (const std::string& h : hosts) {
            list.push_back({{"host", h}, {"would", what}});
            if (!common.json) std::cout << h << ": " << what << "\n";
        }
        report.data["bmcs"] = list;
        report.msg = fmt::format("dry run: {} on {} BMCs", opts.action, hosts.size());
        return;
    }

    log::info("{} on {} BMCs, {} at a time", opts.action, hosts.size(), fanout.window);
    std::vector<BmcResult> results = power_fanout(hosts, *action, settings, fanout);
    std::vector<std::string> failures;
    for (const BmcResult& r : results) {
        list.push_back(r.to_json());
        if (!common.json) std::cout << r.line() << "\n";
        if (r.changed) report.changed = true;
        if (!r.ok) failures.push_back(fmt::format("{} ({})", r.host, r.error));
    }
    std::cout.flush();
    report.data["bmcs"] = list;
    report.data["failed_hosts"] = failures.size();
    if (failures.empty()) {
        report.msg = fmt::format("{}: {} BMCs ok", opts.action, results.size());
        return;
    }
    report.failed = true;
    std::string named;
    for (const std::string& f : failures) named += (named.empty() ? "" : ", ") + f;
    report.msg = fmt::format("{}: {} of {} BMCs failed: {}", opts.action, failures.size(),
                             results.size(), named);
}

}  // namespace storkit
