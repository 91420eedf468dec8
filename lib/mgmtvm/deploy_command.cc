#include "mgmtvm/deploy_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <filesystem>

#include "core/clock.h"
#include "core/error.h"
#include "core/statefile.h"
#include "mgmtvm/backend_ceph.h"
#include "mgmtvm/ceph_image.h"
#include "mgmtvm/config.h"

namespace storkit {

using nlohmann::json;

uint64_t parse_size(const std::string& text) {
    size_t used = 0;
    unsigned long long n = 0;
    try {
        n = std::stoull(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    std::string unit = text.substr(used);
    int shift = unit.empty() ? 0 : unit == "K" ? 10 : unit == "M" ? 20 : unit == "G" ? 30
                                : unit == "T"  ? 40 : -1;
    if (used == 0 || shift < 0 || n == 0 || n > (ULLONG_MAX >> shift))
        throw ConfigError(fmt::format(
            "--size {}: expected a positive number of bytes, or with K, M, G or T", text));
    return static_cast<uint64_t>(n) << shift;
}

namespace {

constexpr const char* kImportKey = "deploy.import";

std::string human(uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) v /= 1024, ++u;
    return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, units[u]);
}

struct Deploy {
    const CommonOptions& common;
    const DeployOptions& opts;
    Report& report;
    const MgmtvmConfig& cfg;
    CephStorageConfig ceph;
    CephStorage& storage;
    ceph::Client client;

    // One step's result: a line for the operator, and whether it changed (or would change)
    // something.
    void step(const std::string& name, bool changes, const std::string& what) {
        if (changes) report.changed = true;
        std::string verb = changes && common.dry_run ? "would " : "";
        report.line(fmt::format("{}: {}{}", name, verb, what));
        report.data["steps"].push_back({{"step", name}, {"changed", changes}, {"detail", what}});
    }

    std::string where() const { return ceph.client.pool + "/" + ceph.image; }

    // Returns whether the image was there before.
    bool image(uint64_t wanted) {
        std::optional<uint64_t> size = ceph::image_size(client, ceph.image);
        if (!size) {
            if (!common.dry_run) ceph::create_image(client, ceph.image, wanted);
            step("image", true, fmt::format("create {} ({})", where(), human(wanted)));
        } else if (*size < wanted) {
            if (!common.dry_run) ceph::grow_image(client, ceph.image, wanted);
            step("image", true,
                 fmt::format("grow {} from {} to {}", where(), human(*size), human(wanted)));
        } else {
            step("image", false, fmt::format("{} is there ({})", where(), human(*size)));
        }
        return size.has_value();
    }

    // Imported once: the record on the lease object says from what and when; a rerun never
    // writes over the disk of a VM that may have run since.
    void import(const ceph::DiskFile& file, bool existed) {
        std::optional<std::string> record = storage.shared_read(kImportKey);
        if (record) {
            json r = json::parse(*record, nullptr, false);
            step("import", false,
                 fmt::format("{} was imported from {} ({}) before: not again", where(),
                             r.is_object() ? r.value("file", "?") : "?",
                             r.is_object() ? r.value("format", "?") : "?"));
            return;
        }
        VmLeaseOutcome lease = storage.lease_read();
        if (lease.status != VmLeaseStatus::kOk)
            throw Error(fmt::format("import into {}: cannot read the lease: {}", where(),
                                    lease.detail));
        if (lease.info.live())
            throw Error(fmt::format("import into {}: the lease is held by {}: the VM may run",
                                    where(), lease.info.node));
        // A new image has no clients; one that was there may be the disk of a running VM.
        StorageAnswer open = existed ? storage.volume_clients() : StorageAnswer{Tri::kNo, ""};
        if (open.value != Tri::kNo)
            throw Error(fmt::format("import into {}: {}", where(),
                                    open.value == Tri::kYes ? open.detail + ": the VM may run"
                                                            : open.detail));
        std::string what = fmt::format("{} ({}, {}) into {}", file.path, file.format,
                                       human(file.virtual_size), where());
        if (common.dry_run) return step("import", true, "import " + what + " and compare");
        report.line(fmt::format("import: importing {} ...", what));
        double t0 = now_seconds();
        ceph::import_disk_file(ceph.client, ceph.image, file,
                               seconds_to_ms(opts.import_timeout_s));
        double took = now_seconds() - t0;
        storage.shared_write(kImportKey, json{{"file", file.path},
                                              {"format", file.format},
                                              {"bytes", file.virtual_size},
                                              {"at", now_seconds()}}
                                             .dump());
        step("import", true,
             fmt::format("imported {} in {:.1f} s ({}/s); it reads back identical", what, took,
                         human(static_cast<uint64_t>(file.virtual_size / std::max(took, 0.001)))));
    }

    // cron's period is a minute: the lease's tick must be too.
    void tick() {
        if (cfg.lease_tick_s != 60)
            throw Error(fmt::format(
                "lease.tick_s is {} s, but cron runs the tick every 60 s: set lease.tick_s to 60",
                cfg.lease_tick_s));
        std::string tool = std::filesystem::read_symlink("/proc/self/exe").parent_path() /
                           "mgmtvm-reconcile";
        std::string config = std::filesystem::absolute(cfg.file.path()).string();
        std::string text = fmt::format(
            "# Written by mgmtvm-deploy: one tick of the management VM's reconcile a minute on\n"
            "# this node (lease.tick_s = 60 in {}).\n"
            "* * * * * root {} --config {} --syslog\n",
            config, tool, config);
        std::optional<std::string> now = read_file(opts.cron_file);
        if (now == text) return step("tick", false, opts.cron_file + " is in place");
        if (!common.dry_run) write_file_atomic(opts.cron_file, text, 0644);
        step("tick", true, fmt::format("{} {}", now ? "rewrite" : "write", opts.cron_file));
    }
};

}  // namespace

void mgmtvm_deploy_command(const CommonOptions& common, const DeployOptions& opts,
                           Report& report) {
    MgmtvmConfig cfg = load_mgmtvm_config(common.config, "");
    ConfigNode section = cfg.storage();
    if (section.string_or("backend", "") != "ceph")
        throw ConfigError(fmt::format("{}: mgmtvm-deploy works with storage.backend \"ceph\"",
                                      cfg.file.path()));
    CephStorageConfig ceph = parse_ceph_storage(section);
    CephStorage storage(ceph, {cfg.node, cfg.vm_name, cfg.volume});
    std::optional<ceph::DiskFile> file;
    if (!opts.image_file.empty()) file = ceph::inspect_disk_file(opts.image_file);
    uint64_t wanted = opts.size.empty() ? 0 : parse_size(opts.size);
    if (file) wanted = std::max(wanted, file->virtual_size);
    if (wanted == 0)
        throw ConfigError("mgmtvm-deploy: give --image-file or --size: the image needs a size");

    report.data["steps"] = json::array();
    Deploy d{common, opts, report, cfg, ceph, storage, ceph::Client(ceph.client)};
    bool existed = d.image(wanted);
    if (file) d.import(*file, existed);
    d.tick();
    report.msg = report.changed ? (common.dry_run ? "deploy: changes planned" : "deployed")
                                : "deploy: nothing to change";
}

}  // namespace storkit
