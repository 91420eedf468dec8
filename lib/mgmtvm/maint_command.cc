#include "mgmtvm/maint_command.h"

#include <cmath>
#include <cstdlib>

#include "core/error.h"
#include "mgmtvm/config.h"
#include "mgmtvm/maintenance.h"
#include "mgmtvm/storage.h"
#include "mgmtvm/vm_lease.h"

namespace storkit {

double parse_duration(const std::string& text, const std::string& what) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    std::string unit = end ? std::string(end) : "";
    double scale = unit.empty() || unit == "s" ? 1
                   : unit == "m"               ? 60
                   : unit == "h"               ? 3600
                   : unit == "d"               ? 86400
                                               : -1;
    if (end == text.c_str() || scale < 0 || !std::isfinite(v) || v <= 0)
        throw ConfigError(
            fmt::format("{} {}: expected a duration like 90s, 30m, 2h or 1d", what, text));
    return v * scale;
}

namespace {

nlohmann::json entry_view(const MaintEntry& e, double now) {
    return {{"active", e.active(now)},
            {"until", e.until ? nlohmann::json(*e.until) : nlohmann::json(nullptr)},
            {"expires_in_s", e.until ? nlohmann::json(*e.until - now) : nlohmann::json(nullptr)},
            {"reason", e.reason},
            {"set_by", e.set_by}};
}

// The operator's word that opts.node is off, bound to the lease epoch it holds now: a lease it
// takes later is not covered.
void confirm_down(Storage& storage, const MgmtvmConfig& cfg, const MaintOptions& opts, bool dry_run,
                  double now, Maintenance& m, Report& report) {
    if (!storage.supports_lease())
        throw ConfigError(
            "confirm-down: the storage backend has no lease to take over; without "
            "one the master cannot start the VM behind a fence");
    VmLeaseOutcome l = storage.lease_read();
    if (l.status != VmLeaseStatus::kOk)
        throw Error("confirm-down: cannot read the lease: " + l.detail);
    if (!l.info.live() || l.info.node != opts.node) {
        report.failed = true;
        report.msg = fmt::format("{} does not hold the lease ({}): nothing to take over", opts.node,
                                 l.info.live() ? "held by " + l.info.node : "it is free");
        return;
    }
    m.down[opts.node] = {l.info.epoch, now, cfg.node, opts.reason};
    report.msg = fmt::format(
        "{} {} down: the master may take its lease (epoch {}) at its next tick, after fencing",
        dry_run ? "would confirm" : "confirmed", opts.node, l.info.epoch);
    report.changed = !dry_run;
}

}  // namespace

void mgmtvm_maint_command(const CommonOptions& common, const MaintOptions& opts, Report& report) {
    MgmtvmConfig cfg = load_mgmtvm_config(common.config, "");
    std::unique_ptr<Storage> storage =
        make_storage(cfg.storage(), {cfg.node, cfg.vm_name, cfg.volume});
    if (opts.verb != "show" && opts.global == !opts.node.empty())
        throw ConfigError(fmt::format("{}: say either --global or --node NAME", opts.verb));
    if (!opts.node.empty()) {
        bool known = false;
        for (const PeerEntry& n : cfg.nodes) known = known || n.name == opts.node;
        if (!known)
            throw ConfigError(
                fmt::format("--node {}: not one of the nodes in {}", opts.node, common.config));
    }
    std::optional<double> for_s;
    if (!opts.duration.empty()) for_s = parse_duration(opts.duration, "--for");

    MaintenanceStore store(*storage, cfg.state_dir);
    double now = storage->now();
    std::string scope = opts.global ? "global maintenance" : "maintenance of " + opts.node;
    // Read, changed and written under the record's lock: two operators (or Ansible tasks) at
    // once never lose each other's change.
    auto change = [&](Maintenance& m) {
        if (opts.verb == "set") {
            MaintEntry e{for_s ? std::optional<double>(now + *for_s) : std::nullopt, opts.reason,
                         cfg.node, now};
            if (opts.global)
                m.global = e;
            else
                m.nodes[opts.node] = e;
            report.msg = fmt::format("{} {}{}", common.dry_run ? "would set" : "set", scope,
                                     for_s ? fmt::format(" for {} s", *for_s) : " until cleared");
            report.changed = !common.dry_run;
        } else if (opts.verb == "confirm-down") {
            confirm_down(*storage, cfg, opts, common.dry_run, now, m, report);
        } else if (opts.verb == "clear") {
            bool had = opts.global ? m.global.has_value() : m.nodes.count(opts.node) > 0;
            if (opts.global)
                m.global.reset();
            else
                m.nodes.erase(opts.node);
            report.msg = fmt::format(
                "{} {}", had ? (common.dry_run ? "would clear" : "cleared") : "no", scope);
            report.changed = had && !common.dry_run;
        }
        return report.changed;
    };
    Maintenance m = opts.verb == "show" ? store.load() : store.update(change);

    nlohmann::json nodes = nlohmann::json::object();
    for (const auto& [name, e] : m.nodes) nodes[name] = entry_view(e, now);
    nlohmann::json down = nlohmann::json::object();
    for (const auto& [name, e] : m.down)
        down[name] = {{"epoch", e.epoch}, {"at", e.at}, {"by", e.by}, {"reason", e.reason}};
    report.data["maintenance"] = {
        {"global", m.global ? entry_view(*m.global, now) : nlohmann::json(nullptr)},
        {"nodes", nodes},
        {"confirmed_down", down},
        {"stored_in", store.where()}};
    if (opts.verb == "show") {
        std::string text =
            fmt::format("global: {}", m.global && m.global->active(now) ? "on" : "off");
        for (const auto& [name, e] : m.nodes)
            if (e.active(now)) text += ", " + name + ": on";
        for (const auto& [name, e] : m.down)
            text += fmt::format(", {}: confirmed down (lease epoch {})", name, e.epoch);
        report.msg = text;
        report.text = text + "\n";
    }
}

}  // namespace storkit
