#include "pxe/provision_command.h"

#include <unistd.h>

#include "core/error.h"
#include "core/log.h"
#include "core/statefile.h"
#include "core/trust.h"
#include "pxe/boot_loaders.h"
#include "pxe/config.h"
#include "pxe/file_set.h"
#include "pxe/image_cache.h"
#include "pxe/inventory.h"
#include "pxe/node_table.h"
#include "pxe/render.h"
#include "pxe/status_command.h"

namespace storkit {

namespace {

std::vector<NodeEntry> parse_table(const std::string& path,
                                   const std::optional<std::string>& text) {
    return text ? parse_node_table(*text, path) : std::vector<NodeEntry>{};
}

void progress(const char* what, uint64_t done, uint64_t total) {
    log::info("{}: {} of {} MB", what, done >> 20, total >> 20);
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
    if (::access(cfg.hook.c_str(), X_OK) == 0) {
        require_root_only_writable(cfg.hook, "hook server.hook");
        return;
    }
    notes.push_back(
        fmt::format("hook {} (server.hook) is not installed yet: dnsmasq and "
                    "lighttpd will fail to run it",
                    cfg.hook));
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

void prepare(const CommonOptions& common, Report& report) {
    // Everything that can be wrong with the configuration, the loaders or the image fails
    // before the first write.
    PxeConfig cfg = load_pxe_config(common.config);
    LoaderPlan loaders = loader_plan(cfg.firmware, cfg.loader);
    check_loaders(loaders);
    std::string table_path = node_table_path(cfg.pxe_state());
    std::optional<std::string> table_text = read_file(table_path);
    Inventory inv = build_inventory(cfg, parse_table(table_path, table_text));
    nlohmann::json notes = nlohmann::json::array();
    check_hook(cfg, notes);
    Progress image_progress = [](uint64_t d, uint64_t t) { progress("image", d, t); };
    ImageCache cache(cfg.pxe_state() + "/images");
    PreparedImage image =
        cache.inspect(cfg.iso_path, cfg.iso_kernel, cfg.iso_initrd, image_progress);

    std::optional<FileLock> lock;
    if (!common.dry_run) {
        make_dirs(cfg.pxe_state());
        lock.emplace(FileLock::try_acquire(cfg.pxe_state() + "/lock"));
        // Another tool may have updated the table (a learned MAC) before we held the lock.
        std::optional<std::string> now = read_file(table_path);
        if (now != table_text) inv = build_inventory(cfg, parse_table(table_path, now));
        cache.store(image, image_progress);
    }
    for (const std::string& n : inv.notes) notes.push_back(n);
    bool image_ready = image.cached || image.extracted;
    std::string grub_dir =
        loaders.grub ? grub_netdir(cfg.pxe_state() + "/loaders", common.dry_run) : "";

    FileSet files(cfg.pxe_state() + "/files.manifest");
    render_pxe({cfg, inv, image, loaders, grub_dir, image_ready}, files);
    files.plan();
    if (!common.dry_run) {
        files.commit();
        write_node_table(table_path, node_table_entries(inv.nodes));
    }
    fill_report(common, {cfg, inv, image, files, image_ready, notes}, report);
}

}  // namespace

void pxe_provision_command(const CommonOptions& common, const PxeOptions& opts, Report& report) {
    switch (opts.subcommand) {
        case PxeSubcommand::kPrepare: prepare(common, report); return;
        case PxeSubcommand::kBoot: pxe_boot_command(common, opts.boot, report); return;
        case PxeSubcommand::kStatus: pxe_status_command(common, report); return;
        case PxeSubcommand::kDiscover: pxe_discover_command(common, report); return;
        case PxeSubcommand::kEnroll:
            pxe_enroll_command(common, opts.enroll.name, opts.enroll.bmc, opts.enroll.mac, report);
            return;
        case PxeSubcommand::kNone: break;
    }
    throw Error("a subcommand is required (see --help)", kExitUsage);
}

}  // namespace storkit
