#include "pxe/monitor_command.h"

#include <fmt/format.h>

#include <thread>

#include "bmc/power_action.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/exec.h"
#include "core/log.h"
#include "core/progress_bar.h"
#include "core/statefile.h"
#include "pxe/bmc_fleet.h"
#include "pxe/config.h"
#include "pxe/http_get.h"
#include "pxe/monitor.h"

namespace storkit {

namespace {

using nlohmann::json;

constexpr auto kNotifyTimeout = std::chrono::seconds(10);

constexpr auto kTableTimeout = std::chrono::seconds(10);
constexpr size_t kTableMax = 64 << 20;

// The table, from a file or (a monitor on another machine) from the control machine's HTTP
// server.
json read_table(const std::string& path) {
    std::optional<std::string> text =
        is_http_url(path) ? http_get(path, kTableTimeout, kTableMax) : read_file(path);
    if (!text)
        throw Error(
            fmt::format("{}: no table (pxe-provision writes it once nodes are powered)", path));
    json t = json::parse(*text, nullptr, false);
    if (t.is_discarded() || !t.is_object() || !t.contains("nodes") || !t["nodes"].is_array())
        throw Error(fmt::format("{}: not a node table", path));
    return t;
}

WatchState read_watch(const std::string& path) {
    WatchState w;
    std::optional<std::string> text = read_file(path);
    if (!text) return w;
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("nodes") || !j["nodes"].is_object())
        throw Error(fmt::format("{}: not a watch state (remove it to watch afresh)", path));
    for (auto it = j["nodes"].begin(); it != j["nodes"].end(); ++it)
        w[it.key()] = Watch::from_json(it.value());
    return w;
}

void save_watch(const std::string& path, const WatchState& w) {
    json nodes = json::object();
    for (const auto& [name, watch] : w) nodes[name] = watch.to_json();
    write_file_atomic(path, json{{"nodes", nodes}}.dump(1) + "\n", 0644);
}

std::string row_bmc(const json& table, const std::string& node) {
    for (const json& row : table["nodes"])
        if (row.value("name", "") == node && row["bmc"].is_string())
            return fmt::format("{}:{}", row["bmc"].get<std::string>(), kIpmiPort);
    return "";
}

class Tick {
  public:
    Tick(const CommonOptions& common, const MonitorOptions& opts, PxeConfig cfg, Report& report)
        : common_(common), opts_(opts), cfg_(std::move(cfg)), report_(report) {}

    // One tick; returns whether every install it watches has a result.
    bool run();

  private:
    bool retry(const json& table, const MonitorEvent& e, Watch& w);
    void tell(const MonitorEvent& e);
    void show(const WatchState& watch, double now);

    const CommonOptions& common_;
    const MonitorOptions& opts_;
    PxeConfig cfg_;
    Report& report_;
    std::optional<PowerSettings> power_;
};

// Power-cycles the node into PXE: the install starts over. False when the BMC failed.
bool Tick::retry(const json& table, const MonitorEvent& e, Watch& w) {
    std::string host = row_bmc(table, e.node);
    if (host.empty()) return false;
    if (!power_) power_ = pxe_power_settings(cfg_);
    std::vector<BmcResult> r =
        power_fanout({host}, PowerAction::kPxeBoot, *power_, {}, pxe_node_logins(cfg_, {e.node}));
    if (!r[0].ok) {
        log::warn("{}: power-cycle for a retry failed: {}", e.node, r[0].error);
        return false;
    }
    note_retry(w, epoch_seconds(r[0].started));
    return true;
}

// The feedback file, then the notify command: the control machine hears of every result.
void Tick::tell(const MonitorEvent& e) {
    append_synced(cfg_.monitor_feedback, e.to_json().dump() + "\n", 0640);
    if (cfg_.monitor_notify.empty()) return;
    ExecRequest req;
    req.argv = cfg_.monitor_notify;
    req.env = {{"STORKIT_NODE", e.node},
               {"STORKIT_RESULT", e.result},
               {"STORKIT_PHASE", e.phase},
               {"STORKIT_DETAIL", e.detail},
               {"STORKIT_TIME", fmt::format("{:.3f}", e.time)}};
    req.timeout = kNotifyTimeout;
    ExecResult r = run_command(req);
    if (!r.ok()) {
        report_.failed = true;
        log::error("monitor.notify for {} ({}): {}{}", e.node, e.result, r.describe(),
                   r.err.empty() ? "" : ": " + r.err.substr(0, r.err.find('\n')));
    }
}

std::string since(double from, double now) {
    if (from <= 0) return "-";
    double s = now - from;
    return s < 120 ? fmt::format("{:.0f}s", s) : fmt::format("{:.0f}m", s / 60);
}

void Tick::show(const WatchState& watch, double now) {
    std::string out = fmt::format("{:<12} {:<11} {:<10} {:<8} {}\n", "NODE", "PHASE", "RESULT",
                                  "ELAPSED", "DETAIL");
    json nodes = json::object();
    for (const auto& [name, w] : watch) {
        out += fmt::format("{:<12} {:<11} {:<10} {:<8} {}\n", name,
                           w.done() ? w.result_phase : w.phase, w.done() ? w.result : "watching",
                           since(w.powered_at, w.done() ? w.result_at : now), w.detail);
        nodes[name] = w.to_json();
    }
    // The table is for a person (a terminal, -v, the redraw of --watch); a tick from cron says
    // only what is new: the results above.
    if (report_.show_details) report_.text = out;
    report_.data["nodes"] = nodes;
}

bool Tick::run() {
    std::string state_dir =
        opts_.state_dir.empty() ? cfg_.pxe_state() + "/monitor" : opts_.state_dir;
    make_dirs(state_dir);
    FileLock lock = FileLock::try_acquire(state_dir + "/lock");
    std::string table_path = opts_.table.empty() ? cfg_.pxe_state() + "/table.json" : opts_.table;
    json table = read_table(table_path);
    std::string watch_path = state_dir + "/watch.json";
    WatchState watch = read_watch(watch_path);
    double now = now_seconds();
    std::vector<MonitorEvent> events = monitor_tick(table, watch, cfg_.monitor, now);
    json told = json::array();
    for (const MonitorEvent& e : events) {
        Watch& w = watch[e.node];
        if (e.result == "retry") {
            if (common_.dry_run) {
                report_.line(fmt::format("{}: would power-cycle into PXE: {}", e.node, e.detail));
                continue;
            }
            if (retry(table, e, w)) {
                report_.line(fmt::format("{}: power-cycled into PXE: {}", e.node, e.detail));
                report_.changed = true;
                tell(e);
                told.push_back(e.to_json());
                continue;
            }
            // The BMC failed: the timeout is the result.
            w.result = "timed-out";
            w.result_at = now;
            w.result_phase = e.phase;
            w.detail = e.detail + "; the power-cycle failed";
            MonitorEvent final{e.node, "timed-out", e.phase, w.detail, now};
            report_.line(fmt::format("{}: timed-out in {}: {}", e.node, e.phase, w.detail));
            if (!common_.dry_run) tell(final);
            told.push_back(final.to_json());
            continue;
        }
        report_.line(fmt::format("{}: {}{}{}", e.node, e.result,
                                 e.result == "succeeded" ? "" : " in " + e.phase,
                                 e.detail.empty() ? "" : ": " + e.detail));
        if (!common_.dry_run) {
            tell(e);
            report_.changed = true;
        }
        told.push_back(e.to_json());
    }
    if (!common_.dry_run) save_watch(watch_path, watch);
    show(watch, now);
    report_.data["events"] = told;
    size_t open = 0, ok = 0, bad = 0;
    for (const auto& [name, w] : watch) (w.done() ? (w.result == "succeeded" ? ok : bad) : open)++;
    report_.data["counts"] = {{"watching", open}, {"succeeded", ok}, {"failed_or_timed_out", bad}};
    report_.msg = fmt::format("{} watching, {} succeeded, {} failed or timed out", open, ok, bad);
    return open == 0 && !watch.empty();
}

}  // namespace

void pxe_monitor_command(const CommonOptions& common, const MonitorOptions& opts, Report& report) {
    PxeConfig cfg = load_pxe_config(common.config);
    double started = now_seconds();
    for (;;) {
        Tick tick(common, opts, cfg, report);
        bool all_done = tick.run();
        if (!opts.watch) return;
        if (all_done) {
            // --watch ends when every install has its result: it fails when one did not succeed.
            report.failed = report.data["counts"]["failed_or_timed_out"].get<size_t>() > 0;
            return;
        }
        const nlohmann::json& counts = report.data["counts"];
        size_t open = counts["watching"].get<size_t>();
        size_t total =
            open + counts["succeeded"].get<size_t>() + counts["failed_or_timed_out"].get<size_t>();
        report.redraw(fmt::format(
            "{}{}\n{}\n", report.text, report.msg,
            format_progress("installs", total - open, total, "done", now_seconds() - started)));
        std::this_thread::sleep_for(
            std::chrono::milliseconds(static_cast<long>(opts.interval_s * 1000)));
    }
}

}  // namespace storkit
