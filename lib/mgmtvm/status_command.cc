#include "mgmtvm/status_command.h"

#include <unistd.h>

#include <cmath>
#include <future>

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

}  // namespace

void mgmtvm_status_command(const CommonOptions& common, const StatusOptions& opts, Report& report) {
    MgmtvmConfig cfg = load_mgmtvm_config(common.config, "");
    std::unique_ptr<Storage> storage =
        make_storage(cfg.storage(), {cfg.node, cfg.vm_name, cfg.volume});
    std::map<std::string, std::future<virt::DomainStatus>> asks;
    for (const NodeEntry& n : cfg.nodes)
        asks[n.name] =
            std::async(std::launch::async, virt::query, n.libvirt, cfg.vm_name, cfg.peer);

    double now = storage->now(), wall = system_now();
    Maintenance maint;
    std::string maint_error;
    try {
        maint = MaintenanceStore(*storage, cfg.state_dir).load();
    } catch (const std::exception& e) {
        maint_error = e.what();
    }
    LeaseOutcome lease;
    if (storage->supports_lease()) lease = storage->lease_read();

    Painter paint{!opts.no_color && !common.json && ::isatty(STDOUT_FILENO)};
    json nodes = json::object();
    std::vector<std::string> running;
    std::string table = fmt::format("{:<10} {:<8} {:<7} {:<14} {:<7} {}\n", "NODE", "STORAGE",
                                    "ROLE", "VM", "MAINT", "LAST DECISION");
    for (const NodeEntry& n : cfg.nodes) {
        virt::DomainStatus vm = asks[n.name].get();
        if (vm.active == Tri::kYes) running.push_back(n.name);
        json last = last_decision(*storage, cfg, n.name);
        Maint m = maint.effective(n.name, now);
        std::string service = value_at(last, "service"), master = value_at(last, "master");
        double last_age = last.is_object() ? wall - last.value("time", wall) : -1;
        std::string decision = last.is_object()
                                   ? fmt::format("{} ({} ago): {}", last.value("action", "?"),
                                                 age(last_age), last.value("reason", ""))
                                   : "never ticked";
        nodes[n.name] = {{"storage", service},
                         {"master", master},
                         {"vm", vm.state},
                         {"vm_running", to_string(vm.active)},
                         {"maintenance", to_string(m)},
                         {"last_decision", last},
                         {"last_decision_age_s", last_age >= 0 ? json(last_age) : json(nullptr)}};
        if (!vm.error.empty()) nodes[n.name]["error"] = vm.error;
        std::string storage_col = service == "yes"  ? paint("ok", "32")
                                  : service == "no" ? paint("failed", "31")
                                                    : paint(service == "-" ? "-" : "unknown", "33");
        std::string vm_col = vm.active == Tri::kYes       ? paint(vm.state, "32")
                             : vm.active == Tri::kUnknown ? paint("unknown", "33")
                                                          : vm.state;
        // Pad before painting, so escape codes do not break the columns.
        auto pad = [](const std::string& plain, const std::string& shown, size_t w) {
            return shown + std::string(plain.size() < w ? w - plain.size() : 0, ' ');
        };
        table += fmt::format("{:<10} {} {:<7} {} {:<7} {}\n", n.name,
                             pad(service == "yes"  ? "ok"
                                 : service == "no" ? "failed"
                                 : service == "-"  ? "-"
                                                   : "unknown",
                                 storage_col, 8),
                             master == "yes" ? "master" : "-",
                             pad(vm.active == Tri::kUnknown ? "unknown" : vm.state, vm_col, 14),
                             m == Maint::kNone ? "-" : std::string(to_string(m)), decision);
    }
    json lease_json = nullptr;
    if (storage->supports_lease()) {
        const LeaseInfo& l = lease.info;
        lease_json = {{"status", to_string(lease.status)},
                      {"holder", l.node},
                      {"epoch", l.epoch},
                      {"live", l.live()},
                      {"expires_in_s", l.expires - l.now},
                      {"released", l.released},
                      {"detail", lease.detail}};
        if (lease.status != LeaseStatus::kOk)
            table += fmt::format("lease: unknown ({})\n", lease.detail);
        else if (l.node.empty())
            table += "lease: never taken\n";
        else
            table += fmt::format(
                "lease: {} {}, epoch {}, {}\n",
                l.live() ? "held by" : (l.released ? "released by" : "expired, last held by"),
                l.node, l.epoch,
                l.live() ? fmt::format("expires in {:.0f} s", l.expires - l.now)
                         : fmt::format("since {:.0f} s", now - l.expires));
    } else {
        table += "lease: none (the storage backend has no lease)\n";
    }
    table += fmt::format("maintenance: global {}{}\n",
                         maint.global && maint.global->active(now) ? paint("on", "33") : "off",
                         maint_error.empty() ? "" : " (unreadable: " + maint_error + ")");
    report.text = table;
    report.data["nodes"] = nodes;
    report.data["lease"] = lease_json;
    report.data["vm_running_on"] = running;
    report.data["maintenance_global"] = maint.global && maint.global->active(now);
    if (running.size() > 1) {
        report.failed = true;
        report.msg = fmt::format("the VM runs on {} nodes at once", running.size());
    } else {
        report.msg = running.empty() ? "the VM runs nowhere" : "the VM runs on " + running[0];
    }
}

}  // namespace storkit
