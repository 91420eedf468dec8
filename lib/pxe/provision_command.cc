#include "pxe/provision_command.h"

#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "core/exec.h"
#include "core/host_range.h"
#include "core/log.h"
#include "core/progress_bar.h"
#include "core/statefile.h"
#include "core/trust.h"
#include "pxe/boot_loaders.h"
#include "pxe/config.h"
#include "pxe/file_set.h"
#include "pxe/image_cache.h"
#include "pxe/install_book.h"
#include "pxe/inventory.h"
#include "pxe/node_table.h"
#include "pxe/nodes.h"
#include "pxe/render.h"
#include "pxe/state.h"
#include "pxe/state_access.h"
#include "pxe/status_command.h"
#include "pxe/unbind_command.h"

namespace storkit {

namespace {

std::vector<NodeEntry> parse_table(const std::string& path,
                                   const std::optional<std::string>& text) {
    return text ? parse_node_table(*text, path) : std::vector<NodeEntry>{};
}

// Progress of long work on an image: a bar on a terminal, else lines with -v.
Progress image_progress(ProgressBar& bar, const char* what) {
    return [&bar, what](uint64_t done, uint64_t total) {
        if (bar.shown())
            bar.update(done, total);
        else
            log::info("{}: {} of {} MB", what, done >> 20, total >> 20);
    };
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.compare(0, prefix.size(), prefix) == 0;
}

// What a running dnsmasq and lighttpd need to pick the changes up.
void reload_hints(const PxeConfig& cfg, const FileSet& files, nlohmann::json& restart,
                  nlohmann::json& reload) {
    std::string hosts = cfg.hosts_dir + "/";
    for (const std::string& p : files.changed()) {
        if (p == cfg.dnsmasq_conf) restart.push_back("dnsmasq");
        if (p == cfg.lighttpd_conf) restart.push_back("lighttpd");
    }
    // dnsmasq reads new reservation files by itself, but keeps entries of changed or removed
    // ones until SIGHUP.
    bool hup = false;
    for (const std::string& p : files.replaced()) hup = hup || starts_with(p, hosts);
    for (const std::string& p : files.removed()) hup = hup || starts_with(p, hosts);
    if (hup && restart.empty()) reload.push_back("dnsmasq");
}

// Notes on the hook, which dnsmasq runs as root for every lease.
void check_hook(const PxeConfig& cfg, nlohmann::json& notes) {
    // Checked whether executable or not: whoever may write it may also make it executable.
    if (::access(cfg.hook.c_str(), F_OK) == 0) {
        require_root_only_writable(cfg.hook, "hook server.hook");
        if (::access(cfg.hook.c_str(), X_OK) == 0) return;
        notes.push_back(fmt::format(
            "hook {} (server.hook) is not executable: dnsmasq and lighttpd will fail to run it",
            cfg.hook));
        return;
    }
    notes.push_back(
        fmt::format("hook {} (server.hook) is not installed yet: dnsmasq and "
                    "lighttpd will fail to run it",
                    cfg.hook));
}

// Brings the install book up to the inventory: a node with a MAC and no record is new (to be
// installed, with a token); a known node keeps its state and token and takes its current MAC
// and address; nodes that are gone are dropped.
void sync_book(InstallBook& book, const Inventory& inv, double now) {
    std::map<std::string, InstallRecord> kept;
    for (const InventoryRow& n : inv.nodes) {
        if (n.mac.empty()) continue;
        auto it = book.nodes.find(n.name);
        if (it == book.nodes.end()) {
            book.mark(n.name, "new", n.mac, ipv4_string(n.ip), now);
            it = book.nodes.find(n.name);
        }
        it->second.mac = n.mac;
        it->second.ip = ipv4_string(n.ip);
        kept.insert(*it);
    }
    book.nodes = std::move(kept);
}

struct PrepareResult {
    const PxeConfig& cfg;
    const Inventory& inv;
    const PreparedImage& image;
    const FileSet& files;
    bool image_ready;
    nlohmann::json notes;
};

void fill_report(const CommonOptions& common, const PrepareResult& r, Report& report) {
    std::vector<std::string> changed = r.files.changed(), removed = r.files.removed();
    size_t without_mac = 0;
    for (const InventoryRow& n : r.inv.nodes) without_mac += n.mac.empty() ? 1 : 0;
    nlohmann::json restart = nlohmann::json::array(), reload = nlohmann::json::array();
    reload_hints(r.cfg, r.files, restart, reload);

    report.changed = r.image.extracted || !changed.empty() || !removed.empty();
    report.data["subcommand"] = "prepare";
    report.data["dry_run"] = common.dry_run;
    report.data["image"] = {{"version", r.cfg.iso_version},   {"path", r.cfg.iso_path},
                            {"sha256", r.image.sha256},       {"kernel", r.image.boot.kernel},
                            {"initrd", r.image.boot.initrd},  {"family", r.image.boot.family},
                            {"extracted", r.image.extracted}, {"cached", r.image.cached}};
    report.data["nodes"] = r.inv.nodes.size();
    report.data["nodes_without_mac"] = without_mac;
    report.data["changed_files"] = changed;
    report.data["removed_files"] = removed;
    report.data["unchanged_files"] = r.files.unchanged();
    report.data["restart"] = restart;
    report.data["reload"] = reload;
    report.data["notes"] = r.notes;
    report.msg = fmt::format(
        "{} nodes, image {}{}: {} {} files, {} removed", r.inv.nodes.size(), r.cfg.iso_version,
        r.image.extracted ? " (extracted)"
        : !r.image_ready  ? " (to be extracted)"
                          : "",
        common.dry_run ? "would change" : "changed", changed.size(), removed.size());

    for (const auto& n : r.notes) log::info("note: {}", n.get<std::string>());
    if (common.dry_run) {
        // -n says what it would do, whatever the verbosity.
        if (!r.image_ready) report.line("would extract " + r.cfg.iso_path);
        for (const std::string& p : changed) report.line("would write " + p);
        for (const std::string& p : removed) report.line("would remove " + p);
    } else {
        for (const std::string& p : changed) log::debug("wrote {}", p);
        for (const std::string& p : removed) log::debug("removed {}", p);
    }
    for (const auto& x : restart)
        log::info("restart {} to apply its new config", x.get<std::string>());
    for (const auto& x : reload)
        log::info("send SIGHUP to {} to drop changed reservations", x.get<std::string>());
}

}  // namespace

void pxe_prepare(const CommonOptions& common, Report& report,
                 const std::function<void(InstallBook&)>& change_book) {
    // Everything that can be wrong with the configuration, the loaders or the image fails
    // before the first write.
    PxeConfig cfg = load_pxe_config(common.config);
    resolve_cgi_user(cfg);
    LoaderPlan loaders = loader_plan(cfg.firmware, cfg.loader);
    check_loaders(loaders);
    std::string table_path = node_table_path(cfg.pxe_state());
    std::optional<std::string> table_text = read_file(table_path);
    Inventory inv = build_inventory(cfg, parse_table(table_path, table_text));
    nlohmann::json notes = nlohmann::json::array();
    check_hook(cfg, notes);
    ImageCache cache(cfg.pxe_state() + "/images");
    ProgressBar hashing(report, "sha256", "MiB"), extracting(report, "extract", "MiB");
    PreparedImage image = cache.inspect(cfg.iso_path, cfg.iso_kernel, cfg.iso_initrd,
                                        image_progress(hashing, "image sha256"));
    hashing.finish();

    std::optional<FileLock> lock;
    if (!common.dry_run) {
        make_dirs(cfg.pxe_state());
        lock.emplace(FileLock::try_acquire(cfg.pxe_state() + "/lock"));
        // Another tool may have updated the table (a learned MAC) before we held the lock.
        std::optional<std::string> now = read_file(table_path);
        if (now != table_text) inv = build_inventory(cfg, parse_table(table_path, now));
        cache.store(image, image_progress(extracting, "image extract"));
        extracting.finish();
    }
    for (const std::string& n : inv.notes) notes.push_back(n);
    bool image_ready = image.cached || image.extracted;
    std::string grub_dir =
        loaders.grub ? grub_netdir(cfg.pxe_state() + "/loaders", common.dry_run) : "";

    // The install book stays locked until the files agree with it: a node that reports its
    // install finished meanwhile is handed off after this run, never undone by it.
    PxeState state(cfg.pxe_state());
    std::optional<FileLock> book_lock;
    if (!common.dry_run) {
        open_state_to_cgi(cfg);
        book_lock.emplace(state.lock(std::chrono::seconds(60)));
    }
    std::string book_path = install_book_path(cfg.pxe_state());
    InstallBook book = InstallBook::read(book_path);
    sync_book(book, inv, now_seconds());
    if (change_book) change_book(book);
    std::map<std::string, std::vector<std::string>> boot_files;

    FileSet files(cfg.pxe_state() + "/files.manifest");
    render_pxe({cfg, inv, image, loaders, grub_dir, image_ready, &book, &boot_files}, files);
    files.plan();
    if (!common.dry_run) {
        files.commit();
        for (auto& [name, rec] : book.nodes) rec.boot_files = boot_files[name];
        book.write(book_path, kInstallBookMode, cfg.cgi_gid);
        write_node_table(table_path, node_table_entries(inv.nodes));
    }
    size_t installed = 0;
    for (const auto& [name, rec] : book.nodes) installed += rec.installed() ? 1 : 0;
    fill_report(common, {cfg, inv, image, files, image_ready, notes}, report);
    report.data["installed"] = installed;
    report.data["to_install"] = book.nodes.size() - installed;
}

namespace {

// Node names as written on the command line: names, commas, ranges (node[1-4]).
std::vector<std::string> node_names(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (const std::string& a : args)
        for (std::string n : expand_hosts(a, 1)) {
            if (size_t colon = n.rfind(':'); colon != std::string::npos) n.resize(colon);
            if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(std::move(n));
        }
    return out;
}

// Marks the nodes for install (a new token each), renders their files as prepare does, and
// powers them with a one-time PXE boot, running or not.
void reinstall(const CommonOptions& common, const std::vector<std::string>& args, Report& report) {
    std::vector<std::string> names = node_names(args);
    if (names.empty()) throw Error("reinstall: name the nodes to install again", kExitUsage);
    PxeConfig cfg = load_pxe_config(common.config);
    Inventory inv = load_inventory(cfg);
    for (const std::string& name : names) {
        auto n = std::find_if(inv.nodes.begin(), inv.nodes.end(),
                              [&](const InventoryRow& r) { return r.name == name; });
        if (n == inv.nodes.end())
            throw ConfigError(fmt::format("reinstall: {} is no node of {}", name, cfg.path));
        if (n->mac.empty())
            throw ConfigError(fmt::format(
                "reinstall: node {} has no MAC yet; its first install needs no reinstall "
                "(pxe-provision boot learns the MAC)",
                name));
        if (!n->bmc) throw ConfigError(fmt::format("reinstall: node {} has no BMC address", name));
    }
    Report prep;
    prep.on_line = report.on_line;
    pxe_prepare(common, prep, [&](InstallBook& book) {
        double now = now_seconds();
        for (const std::string& name : names) {
            InstallRecord& r = book.nodes.at(name);
            book.mark(name, "reinstall", r.mac, r.ip, now);
        }
    });
    BootOptions boot;
    boot.only = names;
    boot.force = names;
    pxe_boot_command(common, boot, report);
    report.changed = report.changed || prep.changed;
    report.data["prepare"] = prep.data;
    report.data["subcommand"] = "reinstall";
    report.data["reinstall"] = names;
    report.msg = fmt::format("reinstall {}: {}; {}", fmt::join(names, " "), prep.msg, report.msg);
}

// prepare --reload: what prepare said the servers need, done through their units
// (packaging/systemd): a restart for a changed configuration, a reload (SIGHUP) for changed or
// removed reservations.
void reload_servers(Report& report) {
    std::vector<std::vector<std::string>> commands;
    for (const auto& x : report.data["restart"])
        commands.push_back(
            {"systemctl", "restart", "storkit-pxe-" + x.get<std::string>() + ".service"});
    for (const auto& x : report.data["reload"])
        commands.push_back(
            {"systemctl", "reload", "storkit-pxe-" + x.get<std::string>() + ".service"});
    nlohmann::json done = nlohmann::json::array();
    report.data["reloaded"] = done;
    if (commands.empty()) return;
    std::vector<std::string> wanted;
    wanted.reserve(commands.size());
    for (const auto& c : commands) wanted.push_back(fmt::format("{} {}", c[1], c[2]));
    if (!std::filesystem::exists("/run/systemd/system"))
        throw Error(fmt::format("--reload: systemd does not run here: {} yourself",
                                fmt::join(wanted, ", ")));
    for (const auto& argv : commands) {
        ExecRequest req;
        req.argv = argv;
        req.timeout = std::chrono::seconds(60);
        ExecResult r = run_command(req);
        if (!r.ok())
            throw Error(fmt::format("--reload: systemctl {} {}: {}: {}", argv[1], argv[2],
                                    r.describe(), r.err.substr(0, r.err.find('\n'))));
        done.push_back(argv[1] + " " + argv[2]);
        report.detail(fmt::format("{}ed {}", argv[1] == "restart" ? "restart" : "reload", argv[2]));
    }
    report.data["reloaded"] = done;
    report.changed = true;
}

// Unbinds the nodes, then renders as prepare does: their reservations and files go.
void unbind(const CommonOptions& common, const std::vector<std::string>& args, Report& report) {
    std::vector<std::string> names = node_names(args);
    if (names.empty()) throw Error("unbind: name the nodes", kExitUsage);
    pxe_unbind_nodes(common, names, report);
    Report prep;
    prep.on_line = report.on_line;
    pxe_prepare(common, prep, {});
    report.changed = report.changed || prep.changed;
    report.data["prepare"] = prep.data;
    report.msg = fmt::format(
        "unbind {}: each MAC is unclaimed until it leases again in a node's window; {} "
        "(power the node into PXE again: pxe-provision boot --force NODE)",
        fmt::join(names, " "), prep.msg);
}

}  // namespace

void pxe_provision_command(const CommonOptions& common, const PxeOptions& opts, Report& report) {
    switch (opts.subcommand) {
        case PxeSubcommand::kPrepare:
            pxe_prepare(common, report, {});
            if (opts.reload && !common.dry_run) reload_servers(report);
            return;
        case PxeSubcommand::kBoot: pxe_boot_command(common, opts.boot, report); return;
        case PxeSubcommand::kStatus: pxe_status_command(common, report); return;
        case PxeSubcommand::kDiscover: pxe_discover_command(common, report); return;
        case PxeSubcommand::kEnroll:
            pxe_enroll_command(common, opts.enroll.name, opts.enroll.bmc, opts.enroll.mac, report);
            return;
        case PxeSubcommand::kReinstall: reinstall(common, opts.nodes, report); return;
        case PxeSubcommand::kUnbind: unbind(common, opts.nodes, report); return;
        case PxeSubcommand::kNone: break;
    }
    throw Error("a subcommand is required (see --help)", kExitUsage);
}

}  // namespace storkit
