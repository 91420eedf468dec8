#include "bmc/power_command.h"

#include <filesystem>
#include <map>
#include <set>

#include "bmc/discover.h"
#include "bmc/power_action.h"
#include "core/error.h"
#include "core/host_range.h"
#include "core/log.h"
#include "core/netaddr.h"
#include "core/secret.h"

namespace storkit {

namespace {

using std::chrono::milliseconds;

void check_range(const char* option, long value, long min, long max) {
    if (value < min || value > max)
        throw ConfigError(fmt::format("{} {}: expected {} to {}", option, value, min, max));
}

// The fleet's config, for runs without --hosts / --subnet.
BmcFleet load_config(const std::string& path, const BmcFleetLoader& load_fleet,
                     const char* instead) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
        throw ConfigError(
            fmt::format("no BMCs: give {}, or a pxe-provision config with --config "
                        "({} does not exist)",
                        instead, path));
    return load_fleet(path);
}

// The BMCs to work on: --hosts, or the nodes of the config (with their names).
struct Targets {
    std::vector<std::string> hosts;
    std::vector<std::string> names;   // parallel to hosts when they come from the config
    std::vector<size_t> members;      // parallel to hosts: indexes into cfg->members
    std::vector<std::string> no_bmc;  // selected nodes without a BMC address
    std::optional<BmcFleet> cfg;
};

Targets targets(const CommonOptions& common, const BmcPowerOptions& opts,
                const BmcFleetLoader& load_fleet) {
    Targets t;
    if (!opts.hosts.empty()) {
        if (!opts.nodes.empty())
            throw ConfigError("--nodes picks nodes of the config; not with --hosts");
        t.hosts = expand_hosts(opts.hosts, opts.port);
        return t;
    }
    t.cfg = load_config(common.config, load_fleet, "--hosts RANGE");
    std::vector<std::string> wanted =
        opts.nodes.empty() ? std::vector<std::string>{} : expand_hosts(opts.nodes, 1);
    std::set<std::string> picked;
    for (std::string& w : wanted)  // no ports in node names
        if (size_t colon = w.rfind(':'); colon != std::string::npos) w.resize(colon);
    for (size_t i = 0; i < t.cfg->members.size(); ++i) {
        const BmcFleet::Member& n = t.cfg->members[i];
        if (!wanted.empty() && std::find(wanted.begin(), wanted.end(), n.name) == wanted.end())
            continue;
        picked.insert(n.name);
        if (!n.bmc) {
            t.no_bmc.push_back(n.name);
            continue;
        }
        t.hosts.push_back(fmt::format("{}:{}", *n.bmc, opts.port));
        t.names.push_back(n.name);
        t.members.push_back(i);
    }
    for (const std::string& w : wanted)
        if (!picked.count(w))
            throw ConfigError(fmt::format("--nodes: {} is no node of {}", w, t.cfg->source));
    if (t.hosts.empty() && t.no_bmc.empty())
        throw ConfigError(fmt::format("{}: no nodes", t.cfg->source));
    return t;
}

void bmc_discover_command(const CommonOptions& common, const BmcPowerOptions& opts,
                          const BmcFleetLoader& load_fleet, Report& report) {
    if (!opts.hosts.empty())
        throw ConfigError("discover searches --subnet; --hosts does not go with it");
    std::string cidr = opts.subnet;
    if (cidr.empty()) cidr = load_config(common.config, load_fleet, "--subnet CIDR").subnet;
    Subnet subnet = parse_search_subnet(cidr);
    DiscoverOptions d;
    d.port = opts.port;
    d.timeout = milliseconds(opts.timeout_ms.value_or(2000));
    report.data["subnet"] = subnet.str();
    report.data["dry_run"] = common.dry_run;
    if (common.dry_run) {
        report.msg = fmt::format("would ask {} addresses in {} on port {}",
                                 subnet_hosts(subnet).size(), subnet.str(), d.port);
        report.line(report.msg);
        return;
    }
    std::vector<FoundBmc> found = discover_bmcs(subnet, d);
    nlohmann::json list = nlohmann::json::array();
    for (const FoundBmc& b : found) {
        list.push_back(b.to_json());
        report.line(fmt::format("{} {}", b.name, b.host()));
    }
    report.data["bmcs"] = list;
    report.msg = fmt::format("{} BMCs answered in {}", found.size(), subnet.str());
}

// Command line first, then the config, then the defaults. The password is read for --hosts
// only: the nodes of a config each get theirs (member_logins).
PowerSettings power_settings(const BmcPowerOptions& opts, const std::optional<BmcFleet>& cfg) {
    PowerSettings s;
    s.login.user = !opts.user.empty() ? opts.user : cfg && !cfg->user.empty() ? cfg->user : "admin";
    if (!cfg) s.login.password = load_secret(opts.password_file, kIpmiPasswordEnv, "BMC password");
    s.login.cipher_suite = opts.cipher_suite ? *opts.cipher_suite : cfg ? cfg->cipher_suite : 3;
    if (!valid_cipher_suite(s.login.cipher_suite))
        throw ConfigError(
            fmt::format("--cipher-suite {}: not a cipher suite FreeIPMI supports "
                        "(0-3, 6-8, 11, 12, 15-17)",
                        s.login.cipher_suite));
    s.login.timeout = milliseconds(opts.timeout_ms ? *opts.timeout_ms
                                   : cfg           ? cfg->timeout_ms
                                                   : 5000);
    s.boot_mode = opts.efi || (cfg && cfg->efi) ? BootMode::kEfi : BootMode::kBios;
    s.settle = milliseconds(opts.settle_ms);
    return s;
}

// The login of each BMC of the config: --user and --password-file win, then the node's own
// (which the config may give it through a group), then the fleet's. A password file is read
// once however many nodes share it; one from the config is named by its key in a message.
std::vector<IpmiLogin> member_logins(const BmcPowerOptions& opts, const Targets& t,
                                     const IpmiLogin& base) {
    const BmcFleet& fleet = *t.cfg;
    std::map<std::string, std::string> passwords;  // file -> password
    auto password = [&](const std::string& file, const std::string& key) -> const std::string& {
        auto [it, fresh] = passwords.try_emplace(file);
        if (!fresh) return it->second;
        try {
            return it->second = load_secret(file, kIpmiPasswordEnv, "BMC password");
        } catch (const ConfigError& e) {
            if (key.empty()) throw;
            throw ConfigError(fmt::format("{}: key '{}': {}", fleet.source, key, e.what()));
        }
    };
    std::vector<IpmiLogin> out;
    out.reserve(t.members.size());
    for (size_t i : t.members) {
        const BmcFleet::Member& m = fleet.members[i];
        IpmiLogin login = base;
        if (opts.user.empty() && !m.user.empty()) login.user = m.user;
        if (!opts.password_file.empty())
            login.password = password(opts.password_file, "");
        else if (!m.password_file.empty())
            login.password = password(m.password_file, m.password_key);
        else
            login.password = password(fleet.password_file, fleet.password_key);
        out.push_back(std::move(login));
    }
    return out;
}

}  // namespace

void bmc_power_command(const CommonOptions& common, const BmcPowerOptions& opts,
                       const BmcFleetLoader& load_fleet, Report& report) {
    check_range("--port", opts.port, 1, 65535);
    if (opts.timeout_ms) check_range("--timeout-ms", *opts.timeout_ms, 100, 600000);
    report.data["action"] = opts.action;
    if (opts.action == "discover") return bmc_discover_command(common, opts, load_fleet, report);

    std::optional<PowerAction> action = parse_power_action(opts.action);
    if (!action)
        throw ConfigError(fmt::format("unknown action '{}' (expected {}|discover)", opts.action,
                                      power_action_names()));
    if (!opts.subnet.empty()) throw ConfigError("--subnet goes with discover only");
    if (opts.retries) check_range("--retries", *opts.retries, 0, 10);
    check_range("--window", opts.window, 1, 1024);
    check_range("--settle-ms", opts.settle_ms, 0, 600000);
    Targets t = targets(common, opts, load_fleet);
    PowerSettings settings = power_settings(opts, t.cfg);
    std::vector<IpmiLogin> logins;
    if (t.cfg) logins = member_logins(opts, t, settings.login);
    FanoutOptions fanout;
    fanout.window = static_cast<size_t>(opts.window);
    fanout.retries = opts.retries ? *opts.retries : t.cfg ? t.cfg->retries : 1;
    report.data["dry_run"] = common.dry_run;
    auto label = [&t](size_t i) { return t.names.empty() ? std::string() : t.names[i] + " "; };

    nlohmann::json list = nlohmann::json::array();
    std::vector<std::string> failures;
    for (const std::string& n : t.no_bmc) {
        failures.push_back(fmt::format("{} (no BMC address)", n));
        list.push_back({{"node", n}, {"ok", false}, {"error", "no BMC address"}});
        report.line(fmt::format("{}: failed: no BMC address", n));
    }
    if (common.dry_run) {
        std::string what = power_action_dry_run(*action, settings.boot_mode);
        for (size_t i = 0; i < t.hosts.size(); ++i) {
            list.push_back({{"host", t.hosts[i]}, {"would", what}});
            report.line(fmt::format("{}{}: {}", label(i), t.hosts[i], what));
        }
        report.data["bmcs"] = list;
        report.msg = fmt::format("dry run: {} on {} BMCs", opts.action, t.hosts.size());
        return;
    }

    log::info("{} on {} BMCs, {} at a time", opts.action, t.hosts.size(), fanout.window);
    std::vector<BmcResult> results = power_fanout(t.hosts, *action, settings, fanout, logins);
    for (size_t i = 0; i < results.size(); ++i) {
        const BmcResult& r = results[i];
        nlohmann::json j = r.to_json();
        if (!t.names.empty()) j["node"] = t.names[i];
        list.push_back(j);
        // status answers a question: its lines are the output. An action that went well is
        // only a detail (silent from cron); a failed BMC's line is always shown.
        if (r.ok && *action != PowerAction::kStatus)
            report.detail(label(i) + r.line());
        else
            report.line(label(i) + r.line());
        if (r.changed) report.changed = true;
        if (!r.ok) failures.push_back(fmt::format("{}{} ({})", label(i), r.host, r.error));
    }
    report.data["bmcs"] = list;
    report.data["failed_hosts"] = failures.size();
    size_t total = results.size() + t.no_bmc.size();
    if (failures.empty()) {
        report.msg = fmt::format("{}: {} BMCs ok", opts.action, total);
        return;
    }
    report.failed = true;
    report.msg = fmt::format("{}: {} of {} BMCs failed: {}", opts.action, failures.size(), total,
                             fmt::join(failures, ", "));
}

}  // namespace storkit
