#include "mgmtvm/status_command.h"

#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <set>

#include "core/clock.h"
#include "core/error.h"
#include "mgmtvm/config.h"
#include "mgmtvm/maintenance.h"
#include "mgmtvm/node_state.h"
#include "mgmtvm/storage.h"
#include "mgmtvm/virt.h"

namespace storkit {

using nlohmann::json;

namespace {

// A node's last decision: from the storage's shared store when it has one (every node
// publishes there), else from the local state directory.
json last_decision(Storage& storage, const MgmtvmConfig& cfg, const std::string& node) {
    try {
        if (storage.supports_shared()) {
            std::optional<std::string> t = storage.shared_read("decision." + node);
            if (t) return json::parse(*t);
        }
    } catch (const std::exception&) {
        // Fall through to the local copy.
    }
    return load_node_state(node_state_path(cfg.state_dir, node)).last;
}

std::string age(double seconds) {
    if (seconds < 0) seconds = 0;
    if (seconds < 120) return fmt::format("{:.0f}s", seconds);
    if (seconds < 7200) return fmt::format("{:.0f}m", seconds / 60);
    return fmt::format("{:.0f}h", seconds / 3600);
}

std::string value_at(const json& j, const char* obs) {
    if (!j.is_object() || !j.contains("observations")) return "?";
    const json& o = j["observations"][obs];
    if (o.is_null()) return "-";
    return o.value("value", "?");
}

struct Painter {
    bool on;
    std::string operator()(const std::string& s, const char* code) const {
        return on ? fmt::format("\033[{}m{}\033[0m", code, s) : s;
    }
};

// `plain` in colour `code` (none when null), padded to `width` before painting, so escape codes
// do not break the columns.
std::string cell(const Painter& paint, const std::string& plain, const char* code, size_t width) {
    std::string shown = code ? paint(plain, code) : plain;
    return shown + std::string(plain.size() < width ? width - plain.size() : 0, ' ');
}

// Every node's libvirt is asked at once; the answers are taken row by row.
using VmAsks = std::map<std::string, std::future<virt::DomainStatus>>;

VmAsks ask_vms(const MgmtvmConfig& cfg) {
    VmAsks asks;
    for (const PeerEntry& n : cfg.nodes)
        asks[n.name] =
            std::async(std::launch::async, virt::query, n.libvirt, cfg.vm_name, cfg.peer);
    return asks;
}

// What the cluster says of one node. (Its moves are nlohmann::json's noexcept ones; see
// NodeState for clang-tidy 14's view of them.)
struct NodeRow {  // NOLINT(bugprone-exception-escape)
    std::string name;
    virt::DomainStatus vm;
    json last;  // its last decision; not an object when it never ticked
    Maint maint = Maint::kNone;
    std::string service, master;  // the last decision's observations
    double last_age = -1;         // seconds since the last decision; -1: never ticked
};

NodeRow read_row(Storage& storage, const MgmtvmConfig& cfg, const std::string& name,
                 virt::DomainStatus vm, const Maintenance& maint, double now, double wall) {
    NodeRow r;
    r.name = name;
    r.vm = std::move(vm);
    r.last = last_decision(storage, cfg, name);
    r.maint = maint.effective(name, now);
    r.service = value_at(r.last, "service");
    r.master = value_at(r.last, "master");
    r.last_age = r.last.is_object() ? wall - r.last.value("time", wall) : -1;
    return r;
}

json row_json(const NodeRow& r) {
    json j = {{"storage", r.service},
              {"master", r.master},
              {"vm", r.vm.state},
              {"vm_paused_by",
               r.vm.paused != virt::Pause::kNone ? json(r.vm.pause_reason) : json(nullptr)},
              {"vm_running", to_string(r.vm.active)},
              {"maintenance", to_string(r.maint)},
              {"last_decision", r.last},
              {"last_decision_age_s", r.last_age >= 0 ? json(r.last_age) : json(nullptr)}};
    j["definition"] = r.vm.definition.empty() ? json(nullptr) : json(r.vm.definition);
    if (!r.vm.error.empty()) j["error"] = r.vm.error;
    return j;
}

std::string row_line(const NodeRow& r, const Painter& paint) {
    std::string storage = r.service == "yes"  ? "ok"
                          : r.service == "no" ? "failed"
                          : r.service == "-"  ? "-"
                                              : "unknown";
    const char* storage_code = r.service == "yes" ? "32" : r.service == "no" ? "31" : "33";
    std::string vm = r.vm.active == Tri::kUnknown ? "unknown" : r.vm.state;
    if (r.vm.paused != virt::Pause::kNone) vm += " (" + r.vm.pause_reason + ")";
    const char* vm_code = r.vm.active == Tri::kYes       ? "32"
                          : r.vm.active == Tri::kUnknown ? "33"
                                                         : nullptr;
    std::string decision = r.last.is_object()
                               ? fmt::format("{} ({} ago): {}", r.last.value("action", "?"),
                                             age(r.last_age), r.last.value("reason", ""))
                               : "never ticked";
    return fmt::format("{:<10} {} {:<7} {} {:<7} {}\n", r.name,
                       cell(paint, storage, storage_code, 8), r.master == "yes" ? "master" : "-",
                       cell(paint, vm, vm_code, 14),
                       r.maint == Maint::kNone ? "-" : std::string(to_string(r.maint)), decision);
}

json lease_json(const VmLeaseOutcome& lease) {
    const VmLease& l = lease.info;
    return {{"status", to_string(lease.status)},
            {"holder", l.node},
            {"epoch", l.epoch},
            {"live", l.live()},
            {"expires_in_s", l.expires - l.now},
            {"released", l.released},
            {"unreadable", l.unreadable.empty() ? json(nullptr) : json(l.unreadable)},
            {"detail", lease.detail}};
}

std::string lease_line(const VmLeaseOutcome& lease) {
    const VmLease& l = lease.info;
    if (lease.status != VmLeaseStatus::kOk)
        return fmt::format("lease: unknown ({})\n", lease.detail);
    if (!l.unreadable.empty())
        return fmt::format("lease: unreadable ({}): the next start replaces it behind a fence\n",
                           clipped(l.unreadable));
    if (l.node.empty()) return "lease: never taken\n";
    // Ages on the lease's own clock (l.now): the local clock may differ from the storage's. A
    // lease released before its term has no age worth giving.
    if (l.released) return fmt::format("lease: released by {}, epoch {}\n", l.node, l.epoch);
    if (l.live())
        return fmt::format("lease: held by {}, epoch {}, expires in {:.0f} s\n", l.node, l.epoch,
                           l.expires - l.now);
    return fmt::format("lease: expired, last held by {}, epoch {}, since {:.0f} s\n", l.node,
                       l.epoch, std::max(0.0, l.now - l.expires));
}

// Whether every node holds the definition mgmtvm-deploy gave it: one checksum everywhere.
// Empty when no node holds a marked definition (the VM was not deployed by mgmtvm-deploy).
std::string definition_line(const std::vector<NodeRow>& rows, json& out) {
    std::set<std::string> seen;
    std::vector<std::string> each, silent;
    bool any = false;
    for (const NodeRow& r : rows) {
        if (r.vm.active == Tri::kUnknown) {
            silent.push_back(r.name);
            continue;
        }
        std::string d = r.vm.definition.empty() ? "none" : r.vm.definition;
        any = any || !r.vm.definition.empty();
        seen.insert(d);
        each.push_back(r.name + " " + d);
    }
    if (!any) {
        out = nullptr;
        return "";
    }
    bool same = seen.size() == 1;
    out = same;
    std::string unasked =
        silent.empty() ? "" : fmt::format("; not known for {}", fmt::join(silent, ", "));
    return same ? fmt::format("definition: the same on every node (checksum {}){}\n", *seen.begin(),
                              unasked)
                : fmt::format("definition: DIFFERS: {}{} (rerun mgmtvm-deploy)\n",
                              fmt::join(each, ", "), unasked);
}

}  // namespace

void mgmtvm_status_command(const CommonOptions& common, const StatusOptions& opts, Report& report) {
    MgmtvmConfig cfg = load_mgmtvm_config(common.config, "");
    std::unique_ptr<Storage> storage =
        make_storage(cfg.storage(), {cfg.node, cfg.vm_name, cfg.volume});
    VmAsks asks = ask_vms(cfg);
    double now = storage->now(), wall = now_seconds();
    Maintenance maint;
    std::string maint_error;
    try {
        maint = MaintenanceStore(*storage, cfg.state_dir).load();
    } catch (const std::exception& e) {
        maint_error = e.what();
    }
    VmLeaseOutcome lease;
    if (storage->supports_lease()) lease = storage->lease_read();
    std::optional<StorageAnswer> clients;
    if (storage->supports_clients()) clients = storage->volume_clients();

    Painter paint{!opts.no_color && !common.json && ::isatty(STDOUT_FILENO)};
    json nodes = json::object();
    std::vector<std::string> running;
    std::string table = fmt::format("{:<10} {:<8} {:<7} {:<14} {:<7} {}\n", "NODE", "STORAGE",
                                    "ROLE", "VM", "MAINT", "LAST DECISION");
    std::vector<NodeRow> rows;
    for (const PeerEntry& n : cfg.nodes) {
        NodeRow r = read_row(*storage, cfg, n.name, asks[n.name].get(), maint, now, wall);
        if (r.vm.active == Tri::kYes) running.push_back(n.name);
        nodes[n.name] = row_json(r);
        table += row_line(r, paint);
        rows.push_back(std::move(r));
    }
    json same_definition;
    table += definition_line(rows, same_definition);
    report.data["definition_same"] = same_definition;
    bool has_lease = storage->supports_lease();
    table += has_lease ? lease_line(lease) : "lease: none (the storage backend has no lease)\n";
    if (clients) {
        // A second witness: a client with the volume open where no libvirt shows the VM is a
        // copy outside the reconcile's view.
        table += fmt::format("volume: {}\n", clients->detail);
        report.data["volume_clients"] = {{"open", to_string(clients->value)},
                                         {"detail", clients->detail}};
    } else {
        report.data["volume_clients"] = nullptr;
    }
    bool maint_on = maint.global && maint.global->active(now);
    table += fmt::format("maintenance: global {}{}\n", maint_on ? paint("on", "33") : "off",
                         maint_error.empty() ? "" : " (unreadable: " + maint_error + ")");
    json down = json::object();
    for (const auto& [name, e] : maint.down) {
        table += fmt::format("confirmed down: {} (lease epoch {}, by {}{})\n", name, e.epoch, e.by,
                             e.reason.empty() ? "" : ": " + e.reason);
        down[name] = {{"epoch", e.epoch}, {"at", e.at}, {"by", e.by}, {"reason", e.reason}};
    }
    report.data["confirmed_down"] = down;
    report.text = table;
    report.data["nodes"] = nodes;
    report.data["lease"] = has_lease ? lease_json(lease) : json(nullptr);
    report.data["vm_running_on"] = running;
    report.data["maintenance_global"] = maint_on;
    if (running.size() > 1) {
        report.failed = true;
        report.msg = fmt::format("the VM runs on {} nodes at once", running.size());
    } else {
        report.msg = running.empty() ? "the VM runs nowhere" : "the VM runs on " + running[0];
    }
}

}  // namespace storkit
