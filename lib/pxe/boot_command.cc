#include "pxe/boot_command.h"

#include <map>
#include <thread>

#include "bmc/power_action.h"
#include "bmc/power_command.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress_bar.h"
#include "core/secret.h"
#include "pxe/bmc_fleet.h"
#include "pxe/boot_plan.h"
#include "pxe/install_book.h"
#include "pxe/nodes.h"
#include "pxe/state.h"

namespace storkit {

namespace {

using nlohmann::json;

// Whether prepare has written the node's DHCP reservation with its current MAC.
bool reserved(const PxeConfig& cfg, const InventoryRow& n) {
    if (n.mac.empty()) return false;
    std::optional<std::string> text = read_file(cfg.hosts_dir + "/" + n.name);
    return text && text->rfind(n.mac + ",", 0) == 0;
}

// In boot order (inventory.h): the config's order keys, then enrollment, then name.
std::vector<PlanEntry> plan_nodes(const PxeConfig& cfg, const Inventory& inv) {
    std::vector<PlanEntry> out;
    for (size_t i : boot_order(inv.nodes)) {
        const InventoryRow& n = inv.nodes[i];
        out.push_back({n.name, n.bmc ? fmt::format("{}:{}", ipv4_string(*n.bmc), kIpmiPort) : "",
                       n.mac, reserved(cfg, n)});
    }
    return out;
}

// The run's message, the count per state and what needs a person, and failed when something
// does. Reading `by_state` with [] leaves "failed", "unbound" and "no-bmc" in it: always counted.
void summarize(std::map<std::string, std::vector<std::string>>& by_state, size_t unclaimed,
               Report& report) {
    std::vector<std::string> trouble;
    for (const char* s : {"failed", "unbound", "no-bmc", "running"})
        for (const std::string& n : by_state[s]) trouble.push_back(fmt::format("{} ({})", n, s));
    if (auto it = by_state.find("off-failed"); it != by_state.end())
        for (const std::string& n : it->second)
            trouble.push_back(fmt::format("{} (off-failed)", n));
    std::vector<std::string> counts;
    counts.reserve(by_state.size());
    for (const auto& [s, names] : by_state) counts.push_back(fmt::format("{} {}", names.size(), s));
    report.msg = fmt::format("boot: {}", fmt::join(counts, ", "));
    if (!by_state["bound"].empty())
        report.msg += fmt::format("; bound nodes need prepare, then boot again: {}",
                                  fmt::join(by_state["bound"], " "));
    if (unclaimed > 0)
        report.msg += fmt::format("; {} unclaimed lease{} (pxe-provision status)", unclaimed,
                                  unclaimed == 1 ? "" : "s");
    if (!trouble.empty()) {
        report.failed = true;
        report.msg += fmt::format("; needs attention: {}", fmt::join(trouble, ", "));
    }
}

class BootRun {
  public:
    BootRun(const CommonOptions& common, const BootOptions& opts, PxeConfig cfg, Report& report)
        : common_(common),
          opts_(opts),
          cfg_(std::move(cfg)),
          state_(cfg_.pxe_state()),
          report_(report) {
        settings_.wave = static_cast<size_t>(cfg_.power_wave);
        settings_.interval_s = cfg_.power_interval_ms / 1000.0;
        settings_.bind_timeout_s = cfg_.bind_timeout_ms / 1000.0;
    }

    void run();

  private:
    void resume();
    void load();
    bool walk();
    void act(const BootStep& step);
    void fill_report(bool acted);
    void save() const { write_file_atomic(boot_state_file(cfg_), boot_.to_json().dump(1) + "\n"); }
    DhcpLeaseTable leases() const {
        FileLock lock = state_.lock();
        return state_.leases();
    }
    // The BMC settings and every node's login, read once, before the first BMC is asked.
    void ensure_power();
    void power(std::vector<std::string> names);
    // Of `names`, those that may be power-cycled: marked for install, forced, or found off.
    std::vector<std::string> not_running(const std::vector<std::string>& names);
    bool forced(const std::string& name) const {
        return std::find(opts_.force.begin(), opts_.force.end(), name) != opts_.force.end();
    }
    void bind(const BootStep& step);
    void unbind(const BootStep& step);
    // Powers a given-up node off: kUnbound once read back off, else kOffFailed.
    void power_off(const std::string& name, const std::string& why);
    void retry_power_off();
    void note_unclaimed(const DhcpLeaseTable& leases);
    // Progress, shown as the boot goes (a run takes minutes), to a person only: a run from cron
    // that went well prints nothing.
    void say(const std::string& line) {
        report_.detail(line);
        log::debug("{}", line);
    }
    // What needs a person (a failed BMC, a running node, a node given up): always said.
    void warn(const std::string& line) {
        report_.line(line);
        log::debug("{}", line);
    }

    const CommonOptions& common_;
    const BootOptions& opts_;
    PxeConfig cfg_;
    PxeState state_;
    Report& report_;
    BootSettings settings_;
    BootState boot_;
    std::vector<PlanEntry> nodes_;
    std::optional<PowerSettings> power_;
    InstallBook book_;
    std::map<std::string, IpmiLogin> logins_;  // per node, read with power_
    int waves_ = 0;
};

// What the previous run did, from boot.json, unless --restart.
void BootRun::resume() {
    if (!opts_.restart) {
        if (std::optional<std::string> text = read_file(boot_state_file(cfg_))) {
            json j = json::parse(*text, nullptr, false);
            boot_ = BootState::from_json(j, boot_state_file(cfg_));
        }
    }
    if (boot_.started == 0) boot_.started = now_seconds();
    for (const std::string& name : opts_.force) boot_.nodes[name] = NodeBootRecord{};
}

void BootRun::load() {
    Inventory inv = load_power_inventory(cfg_);
    std::vector<std::string> known;
    for (const InventoryRow& n : inv.nodes) known.push_back(n.name);
    for (const std::string& name : opts_.force)
        if (std::find(known.begin(), known.end(), name) == known.end())
            throw ConfigError(fmt::format("--force {}: no such node in {}", name, cfg_.path));
    nodes_ = plan_nodes(cfg_, inv);
    if (!opts_.only.empty())
        std::erase_if(nodes_, [&](const PlanEntry& n) {
            return std::find(opts_.only.begin(), opts_.only.end(), n.name) == opts_.only.end();
        });
    book_ = InstallBook::read(install_book_path(cfg_.pxe_state()));
    for (const PlanEntry& n : nodes_) {
        NodeBootRecord& r = boot_.nodes[n.name];
        const InstallRecord* rec = book_.find(n.name);
        if (rec && rec->installed() && r.state == NodeBoot::kPending && !forced(n.name)) {
            r.state = NodeBoot::kInstalled;
            r.error = "";
            continue;
        }
        if (n.bmc.empty() && r.state == NodeBoot::kPending) {
            r.state = NodeBoot::kNoBmc;
            r.error = "no BMC address (nodes.NAME.bmc, or pxe-provision discover)";
        }
    }
}

std::vector<std::string> BootRun::not_running(const std::vector<std::string>& names) {
    std::vector<std::string> ask, hosts, out;
    std::vector<IpmiLogin> logins;
    for (const std::string& name : names) {
        const InstallRecord* rec = book_.find(name);
        bool marked = rec && !rec->installed() && rec->reason == "reinstall";
        // Bound in this run: it was powered by this run and has no OS to lose yet.
        bool ours = boot_.nodes[name].state == NodeBoot::kBound;
        if (marked || ours || forced(name)) {
            out.push_back(name);
            continue;
        }
        ask.push_back(name);
        for (const PlanEntry& n : nodes_)
            if (n.name == name) {
                hosts.push_back(n.bmc);
                logins.push_back(logins_.at(name));
            }
    }
    if (ask.empty()) return out;
    FanoutOptions fanout;
    fanout.window = ask.size();
    fanout.retries = cfg_.bmc_retries;
    std::vector<BmcResult> results =
        power_fanout(hosts, PowerAction::kStatus, *power_, fanout, logins);
    for (size_t i = 0; i < ask.size(); ++i) {
        const BmcResult& r = results[i];
        NodeBootRecord& rec = boot_.nodes[ask[i]];
        if (!r.ok) {
            rec.state = NodeBoot::kFailed;
            rec.error = r.error;
            warn(fmt::format("{} {}", ask[i], r.line()));
        } else if (r.is_on.value_or(true)) {
            rec.state = NodeBoot::kRunning;
            rec.error = fmt::format(
                "on, and not marked for install: it may be running its OS; not power-cycled "
                "(pxe-provision reinstall {0}, or boot --force {0})",
                ask[i]);
            warn(fmt::format("{} {}", ask[i], rec.error));
        } else {
            out.push_back(ask[i]);
        }
    }
    return out;
}

void BootRun::ensure_power() {
    if (power_) return;
    // Every node's password before the first BMC is asked: a bad password file stops the run
    // before anything is powered.
    std::vector<std::string> all;
    for (const PlanEntry& n : nodes_) all.push_back(n.name);
    std::vector<IpmiLogin> logins = pxe_node_logins(cfg_, all);
    for (size_t i = 0; i < all.size(); ++i) logins_[all[i]] = std::move(logins[i]);
    power_ = pxe_power_settings(cfg_);
}

void BootRun::power(std::vector<std::string> names) {
    ensure_power();
    names = not_running(names);
    if (names.empty()) {
        save();
        return;
    }
    std::vector<std::string> hosts;
    std::vector<IpmiLogin> logins;
    for (const std::string& name : names)
        for (const PlanEntry& n : nodes_)
            if (n.name == name) {
                hosts.push_back(n.bmc);
                logins.push_back(logins_.at(name));
            }
    FanoutOptions fanout;
    fanout.window = names.size();
    fanout.retries = cfg_.bmc_retries;
    ++waves_;
    std::vector<BmcResult> results =
        power_fanout(hosts, PowerAction::kPxeBoot, *power_, fanout, logins);
    for (size_t i = 0; i < names.size(); ++i) {
        const BmcResult& r = results[i];
        NodeBootRecord& rec = boot_.nodes[names[i]];
        rec.powered_at =
            epoch_seconds(r.started);  // before the power command: its lease comes later
        rec.power_ons++;
        rec.result = r.line();
        rec.error = r.ok ? "" : r.error;
        bool mac_known = std::any_of(nodes_.begin(), nodes_.end(), [&](const PlanEntry& n) {
            return n.name == names[i] && !n.mac.empty();
        });
        rec.state = !r.ok ? NodeBoot::kFailed : mac_known ? NodeBoot::kBooted : NodeBoot::kWaiting;
        if (r.ok)
            say(fmt::format("{} {}", names[i], r.line()));
        else
            warn(fmt::format("{} {}", names[i], r.line()));
    }
    boot_.last_wave = now_seconds();
    save();
    // The monitor times each install from its power-on: table.json gets it now.
    FileLock lock = state_.lock();
    state_.save(state_.leases(), now_seconds());
}

void BootRun::bind(const BootStep& step) {
    const std::string& name = step.nodes[0];
    NodeBootRecord& rec = boot_.nodes[name];
    std::string table_path = node_table_path(cfg_.pxe_state());
    std::vector<NodeEntry> table = read_node_table(table_path);
    auto entry = std::find_if(table.begin(), table.end(),
                              [&](const NodeEntry& e) { return e.name == name; });
    if (entry == table.end()) entry = table.insert(table.end(), NodeEntry{name, {}, "", {}});
    entry->mac = step.mac;
    for (const PlanEntry& n : nodes_)
        if (n.name == name && !entry->bmc && !n.bmc.empty())
            entry->bmc = parse_ipv4(n.bmc.substr(0, n.bmc.find(':')));
    write_node_table(table_path, table);
    rec.state = NodeBoot::kBound;
    rec.mac = step.mac;
    rec.ip = step.ip;
    rec.bound_at = now_seconds();
    save();
    say(fmt::format("{} bound to {} (leased {}, {:.1f} s after power-on)", name, step.mac, step.ip,
                    rec.bound_at - rec.powered_at));
    // The monitor's table gets the new row now, not at the next lease.
    FileLock lock = state_.lock();
    state_.save(state_.leases(), now_seconds());
}

// Gives the node up and powers it off, so that it cannot lease later in another node's
// window. Until the power-off is read back (kOffFailed), no node without a MAC is powered.
void BootRun::unbind(const BootStep& step) {
    const std::string& name = step.nodes[0];
    NodeBootRecord& rec = boot_.nodes[name];
    double now = now_seconds();
    rec.given_up_at = now;
    rec.given_up = step.why;
    const DhcpLeaseTable table = step.unclaimed.empty() ? DhcpLeaseTable{} : leases();
    for (const std::string& mac : step.unclaimed) {
        auto it = table.leases().find(mac);
        boot_.unclaimed[mac] = {
            it == table.leases().end() ? "" : it->second.ip, now,
            fmt::format("leased in the window of {} beside another new MAC", name)};
    }
    ensure_power();
    power_off(name, step.why);
}

void BootRun::power_off(const std::string& name, const std::string& why) {
    NodeBootRecord& rec = boot_.nodes[name];
    std::string host;
    for (const PlanEntry& n : nodes_)
        if (n.name == name) host = n.bmc;
    FanoutOptions fanout;
    fanout.retries = cfg_.bmc_retries;
    BmcResult off = power_fanout({host}, PowerAction::kOff, *power_, fanout, {logins_.at(name)})[0];
    if (off.ok) {
        rec.state = NodeBoot::kUnbound;
        rec.error = fmt::format("{}; powered off", why);
    } else {
        rec.state = NodeBoot::kOffFailed;
        rec.error = fmt::format(
            "{}; its power-off failed ({}): no node without a MAC is powered until boot has "
            "read it back off",
            why, off.error);
    }
    save();
    warn(fmt::format("{} {}: {}", name, to_string(rec.state), rec.error));
}

// Nodes given up whose power-off failed in an earlier run: try again first.
void BootRun::retry_power_off() {
    for (const PlanEntry& n : nodes_) {
        NodeBootRecord& rec = boot_.nodes[n.name];
        if (rec.state != NodeBoot::kOffFailed) continue;
        ensure_power();
        power_off(n.name, rec.given_up);
    }
}

// Records the new MACs no node can have (new_unclaimed), each said once.
void BootRun::note_unclaimed(const DhcpLeaseTable& leases) {
    std::map<std::string, UnclaimedLease> found = new_unclaimed(nodes_, boot_, leases, settings_);
    if (found.empty()) return;
    for (auto& [mac, u] : found) {
        warn(fmt::format("unclaimed lease {} ({}): {}", mac, u.ip, u.why));
        boot_.unclaimed[mac] = std::move(u);
    }
    save();
}

void BootRun::act(const BootStep& step) {
    if (step.kind == BootStep::kPower) power(step.nodes);
    if (step.kind == BootStep::kBind) {
        bind(step);
        load();  // the node now has its MAC
    }
    if (step.kind == BootStep::kUnbind) unbind(step);
}

// Takes the plan's steps until it is done; waits in between, unless --step or -n end the run
// there. A dry run names the first step, --step takes one. Returns whether a step was taken.
bool BootRun::walk() {
    bool acted = false;
    // On a terminal: how many nodes are through (powered, bound, given up or left alone).
    ProgressBar bar(report_, "boot", "nodes");
    auto through = [this] {
        uint64_t n = 0;
        for (const PlanEntry& e : nodes_) {
            NodeBoot s = boot_.nodes[e.name].state;
            n += s != NodeBoot::kPending && s != NodeBoot::kWaiting ? 1 : 0;
        }
        return n;
    };
    for (;;) {
        bar.update(through(), nodes_.size());
        // One read of the lease table per step, under its lock.
        DhcpLeaseTable table = leases();
        if (!common_.dry_run) note_unclaimed(table);
        BootStep step = plan_boot(nodes_, boot_, table, settings_, now_seconds());
        if (step.kind == BootStep::kDone) break;
        if (step.kind == BootStep::kWait) {
            if (opts_.step || common_.dry_run) break;
            double pause = std::min(step.at - now_seconds(), 1.0);
            if (pause > 0) std::this_thread::sleep_for(std::chrono::duration<double>(pause));
            continue;
        }
        if (common_.dry_run) {
            warn(fmt::format("would {} {}", step.kind == BootStep::kPower ? "power on" : "bind",
                             fmt::join(step.nodes, " ")));
            break;
        }
        act(step);
        acted = true;
        if (opts_.step) break;
    }
    return acted;
}

void BootRun::fill_report(bool acted) {
    std::map<std::string, std::vector<std::string>> by_state;
    json nodes = json::object();
    for (const auto& [name, r] : boot_.nodes) {
        if (!opts_.only.empty() &&
            std::find(opts_.only.begin(), opts_.only.end(), name) == opts_.only.end())
            continue;
        by_state[to_string(r.state)].push_back(name);
        nodes[name] = {{"state", to_string(r.state)}, {"mac", r.mac}, {"error", r.error}};
    }
    report_.changed = acted;
    report_.data["subcommand"] = "boot";
    report_.data["dry_run"] = common_.dry_run;
    report_.data["waves"] = waves_;
    report_.data["nodes"] = nodes;
    report_.data["states"] = by_state;
    json unclaimed = json::object();
    for (const auto& [mac, u] : boot_.unclaimed)
        unclaimed[mac] = {{"ip", u.ip}, {"time", u.time}, {"why", u.why}};
    report_.data["unclaimed"] = unclaimed;
    summarize(by_state, boot_.unclaimed.size(), report_);
}

void BootRun::run() {
    // One boot (or prepare) at a time: they share the node table.
    std::optional<FileLock> lock;
    if (!common_.dry_run) {
        make_dirs(cfg_.pxe_state());
        lock.emplace(FileLock::try_acquire(cfg_.pxe_state() + "/lock"));
    }
    resume();
    load();
    if (!common_.dry_run) retry_power_off();
    fill_report(walk());
}

}  // namespace

void pxe_boot_command(const CommonOptions& common, const BootOptions& opts, Report& report) {
    // Powering needs neither the image nor the templates: prepare has used them.
    BootRun run(common, opts, load_pxe_config(common.config, PxeConfigParts::kPower), report);
    run.run();
}

}  // namespace storkit
