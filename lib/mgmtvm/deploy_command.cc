#include "mgmtvm/deploy_command.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <cctype>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include "core/clock.h"
#include "core/error.h"
#include "core/exec.h"
#include "core/progress_bar.h"
#include "core/statefile.h"
#include "mgmtvm/backend_ceph.h"
#include "mgmtvm/ceph_auth.h"
#include "mgmtvm/ceph_image.h"
#include "mgmtvm/config.h"
#include "mgmtvm/domain_xml.h"
#include "mgmtvm/virt.h"
#include "mgmtvm/virt_define.h"

namespace storkit {

using nlohmann::json;

uint64_t parse_size(const std::string& text, const std::string& option) {
    size_t used = 0;
    unsigned long long n = 0;
    try {
        n = std::stoull(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    std::string unit = text.substr(used);
    int shift = unit.empty()  ? 0
                : unit == "K" ? 10
                : unit == "M" ? 20
                : unit == "G" ? 30
                : unit == "T" ? 40
                              : -1;
    if (used == 0 || shift < 0 || n == 0 || n > (ULLONG_MAX >> shift))
        throw ConfigError(fmt::format(
            "{} {}: expected a positive number of bytes, or with K, M, G or T", option, text));
    return static_cast<uint64_t>(n) << shift;
}

namespace {

constexpr const char* kImportKey = "deploy.import";
constexpr const char* kWrittenBy = "# Written by mgmtvm-deploy.";

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
    uint64_t memory_mib;

    // One step's result: a line for the operator, and whether it changed (or would change)
    // something.
    void step(const std::string& name, bool changes, const std::string& what,
              const std::string& node = "") {
        if (changes) report.changed = true;
        std::string verb = changes && common.dry_run ? "would " : "";
        report.line(fmt::format("{}: {}{}{}", name, node.empty() ? "" : node + ": ", verb, what));
        json j = {{"step", name}, {"changed", changes}, {"detail", what}};
        if (!node.empty()) j["node"] = node;
        report.data["steps"].push_back(j);
    }
    // A step that failed on one node: the others go on; the run fails at the end.
    void failed(const std::string& name, const std::string& node, const std::string& why) {
        report.line(fmt::format("{}: {}: FAILED: {}", name, node, why));
        report.data["steps"].push_back(
            {{"step", name}, {"node", node}, {"changed", false}, {"error", why}});
        failures.push_back(fmt::format("{} on {}", name, node));
    }
    std::vector<std::string> failures;

    // A first define makes libvirt's qemu driver probe the emulator: seconds, not the
    // milliseconds of the reconcile's questions.
    std::chrono::milliseconds libvirt_timeout() const {
        return std::max<std::chrono::milliseconds>(cfg.peer, std::chrono::seconds(30));
    }

    std::string where() const { return ceph.client.pool + "/" + ceph.image; }

    // Returns whether the image was there before.
    bool image(uint64_t wanted) {
        std::optional<uint64_t> size = ceph::image_size(client, ceph.image);
        if (!size) {
            if (wanted == 0)
                throw ConfigError(fmt::format(
                    "{} does not exist: give --size or --image-file to create it", where()));
            if (!common.dry_run) ceph::create_image(client, ceph.image, wanted);
            step("image", true, fmt::format("create {} ({})", where(), human(wanted)));
        } else if (wanted > 0 && *size < wanted) {
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
            throw Error(
                fmt::format("import into {}: cannot read the lease: {}", where(), lease.detail));
        if (lease.info.live())
            throw Error(fmt::format("import into {}: the lease is held by {}: the VM may run",
                                    where(), lease.info.node));
        // A new image has no clients; one that was there may be the disk of a running VM.
        StorageAnswer open = existed ? storage.volume_clients() : StorageAnswer{Tri::kNo, ""};
        if (open.value != Tri::kNo)
            throw Error(fmt::format(
                "import into {}: {}", where(),
                open.value == Tri::kYes ? open.detail + ": the VM may run" : open.detail));
        std::string what = fmt::format("{} ({}, {}) into {}", file.path, file.format,
                                       human(file.virtual_size), where());
        if (common.dry_run) return step("import", true, "import " + what + " and compare");
        report.line(fmt::format("import: importing {} ...", what));
        double t0 = now_seconds();
        // qemu-img reports the percentage copied; in MiB of the virtual size for the bar.
        ProgressBar bar(report, "import", "MiB");
        std::function<void(double)> progress;
        if (bar.shown())
            progress = [&bar, &file](double pct) {
                bar.update(
                    static_cast<uint64_t>(pct / 100 * static_cast<double>(file.virtual_size)),
                    file.virtual_size);
            };
        ceph::import_disk_file(ceph.client, ceph.image, file, seconds_to_ms(opts.import_timeout_s),
                               progress);
        bar.finish();
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

    // The domain XML at vm.domain_xml: written once (new UUIDs, the cluster's monitors), then
    // used as it is, also when an operator edited or wrote it.
    std::string domain_xml() {
        std::optional<std::string> have = read_file(cfg.domain_xml);
        if (have) {
            std::string name = virt::domain_name_from_xml(*have);
            if (name != cfg.vm_name)
                throw ConfigError(fmt::format("{}: domain <name> is \"{}\", vm.name is \"{}\"",
                                              cfg.domain_xml, name, cfg.vm_name));
            if (domain_uuid_from_xml(*have).empty())
                throw ConfigError(fmt::format(
                    "{}: the domain has no <uuid>: every node must define it with the same one",
                    cfg.domain_xml));
            step("domain", false,
                 fmt::format("{} is there (checksum {})", cfg.domain_xml,
                             definition_checksum(*have)));
            return *have;
        }
        DomainSpec spec;
        spec.name = cfg.vm_name;
        spec.uuid = new_uuid();
        spec.virt_type = opts.virt_type;
        spec.memory_mib = memory_mib;
        spec.vcpus = opts.vcpus;
        spec.pool = ceph.client.pool;
        spec.image = ceph.image;
        spec.client = ceph.client.client;
        spec.secret_uuid = new_uuid();
        spec.monitors = ceph::monitor_addrs(client);
        spec.bridge = opts.bridge;
        std::string xml = render_domain_xml(spec);
        if (!common.dry_run) write_file_atomic(cfg.domain_xml, xml, 0644);
        step("domain", true,
             fmt::format("write {} (UUID {}, {} MiB, {} vCPUs, disk {}, {} monitors)",
                         cfg.domain_xml, spec.uuid, spec.memory_mib, spec.vcpus, where(),
                         spec.monitors.size()));
        return xml;
    }

    // The libvirt secret the domain's disk names, holding the client's key, on every node.
    void secrets(const std::string& xml) {
        std::string uuid = ceph_secret_uuid_from_xml(xml);
        if (uuid.empty())
            return step("secret", false, cfg.domain_xml + " names no ceph secret: none defined");
        std::string entity = "client." + ceph.client.client;
        virt::SecretSpec spec{uuid, "storkit " + entity, ceph::auth_key(client, entity)};
        for (const PeerEntry& n : cfg.nodes) {
            try {
                virt::Change c =
                    virt::define_secret(n.libvirt, spec, common.dry_run, libvirt_timeout());
                step("secret", c != virt::Change::kNone,
                     c == virt::Change::kCreated ? fmt::format("define {} ({}'s key)", uuid, entity)
                     : c == virt::Change::kUpdated ? fmt::format("set {} to {}'s key", uuid, entity)
                                                   : fmt::format("{} holds {}'s key", uuid, entity),
                     n.name);
            } catch (const std::exception& e) {
                failed("secret", n.name, e.what());
            }
        }
        explicit_bzero(spec.value.data(), spec.value.size());
    }

    // The same definition (UUID and checksum) on every node, autostart off.
    void define(const std::string& xml) {
        virt::DefinitionSpec spec{cfg.vm_name, domain_uuid_from_xml(xml), xml,
                                  definition_checksum(xml)};
        for (const PeerEntry& n : cfg.nodes) {
            try {
                virt::Change c =
                    virt::define_domain(n.libvirt, spec, common.dry_run, libvirt_timeout());
                step("define", c != virt::Change::kNone,
                     c == virt::Change::kCreated
                         ? fmt::format("define {} (checksum {}, autostart off)", spec.name,
                                       spec.checksum)
                     : c == virt::Change::kUpdated
                         ? fmt::format("redefine {} (checksum {}, autostart off)", spec.name,
                                       spec.checksum)
                     : c == virt::Change::kAutostartOff
                         ? fmt::format("{} is defined (checksum {}); autostart off again",
                                       spec.name, spec.checksum)
                         : fmt::format("{} is defined (checksum {})", spec.name, spec.checksum),
                     n.name);
            } catch (const std::exception& e) {
                failed("define", n.name, e.what());
            }
        }
    }

    // A file storkit wrote (its first line says so), or none: either may be replaced.
    bool ours_or_absent(const std::string& path) {
        std::optional<std::string> t = read_file(path);
        return !t || t->rfind(kWrittenBy, 0) == 0;
    }

    void put(const std::string& path, const std::string& text, int mode) {
        std::optional<std::string> now = read_file(path);
        if (now == text) return step("tick", false, path + " is in place");
        if (!ours_or_absent(path))
            throw Error(
                fmt::format("{}: not written by mgmtvm-deploy: left alone; move it away "
                            "to let mgmtvm-deploy write it",
                            path));
        if (!common.dry_run) write_file_atomic(path, text, mode);
        step("tick", true, fmt::format("{} {}", now ? "rewrite" : "write", path));
    }

    void remove(const std::string& path, const std::string& why) {
        if (!read_file(path) || !ours_or_absent(path)) return;
        if (!common.dry_run) std::filesystem::remove(path);
        step("tick", true, fmt::format("remove {} ({})", path, why));
    }

    std::string tick_command() const {
        std::string tool =
            std::filesystem::read_symlink("/proc/self/exe").parent_path() / "mgmtvm-reconcile";
        std::string config = std::filesystem::absolute(cfg.file.path()).string();
        return fmt::format("{} --config {} --syslog", tool, config);
    }

    // A systemd timer whose period is lease.tick_s, whatever it is.
    void timer() {
        std::string config = std::filesystem::absolute(cfg.file.path()).string();
        std::string unit = opts.unit_dir + "/storkit-mgmtvm-reconcile";
        put(unit + ".service",
            fmt::format("{}\n"
                        "[Unit]\n"
                        "Description=storkit: one tick of the management VM's reconcile\n"
                        "After=network-online.target libvirtd.service\n"
                        "Wants=network-online.target\n"
                        "\n"
                        "[Service]\n"
                        "Type=oneshot\n"
                        "ExecStart={}\n",
                        kWrittenBy, tick_command()),
            0644);
        put(unit + ".timer",
            fmt::format("{}\n"
                        "# Every lease.tick_s ({} s in {}).\n"
                        "[Unit]\n"
                        "Description=storkit: the management VM's reconcile every {} s\n"
                        "\n"
                        "[Timer]\n"
                        "OnBootSec={}s\n"
                        "OnUnitActiveSec={}s\n"
                        "AccuracySec=1s\n"
                        "\n"
                        "[Install]\n"
                        "WantedBy=timers.target\n",
                        kWrittenBy, cfg.lease_tick_s, config, cfg.lease_tick_s, cfg.lease_tick_s,
                        cfg.lease_tick_s),
            0644);
        remove(opts.cron_file, "the timer runs the tick");
        if (!report.changed || common.dry_run) return;
        if (!std::filesystem::exists("/run/systemd/system")) {
            report.line(
                "tick: systemd does not run here: start the timer with "
                "systemctl enable --now storkit-mgmtvm-reconcile.timer");
            return;
        }
        for (std::vector<std::string> argv :
             {std::vector<std::string>{"systemctl", "daemon-reload"},
              std::vector<std::string>{"systemctl", "enable", "--now",
                                       "storkit-mgmtvm-reconcile.timer"}}) {
            ExecRequest req;
            req.argv = argv;
            req.timeout = std::chrono::seconds(30);
            ExecResult r = run_command(req);
            if (!r.ok())
                throw Error(fmt::format("{} {}: {}: {}", argv[0], argv[1], r.describe(),
                                        r.err.substr(0, r.err.find('\n'))));
        }
        step("tick", true, "enable and start storkit-mgmtvm-reconcile.timer");
    }

    // cron's period is a minute: the lease's tick must be too.
    void tick() {
        if (opts.timer) return timer();
        std::string config = std::filesystem::absolute(cfg.file.path()).string();
        put(opts.cron_file,
            fmt::format("{}\n"
                        "# One tick of the management VM's reconcile a minute on this node\n"
                        "# (lease.tick_s = 60 in {}).\n"
                        "* * * * * root {}\n",
                        kWrittenBy, config, tick_command()),
            0644);
        for (const char* suffix : {".timer", ".service"})
            remove(opts.unit_dir + "/storkit-mgmtvm-reconcile" + suffix, "cron runs the tick");
    }
};

}  // namespace

void mgmtvm_deploy_command(const CommonOptions& common, const DeployOptions& opts, Report& report) {
    MgmtvmConfig cfg = load_mgmtvm_config(common.config, "");
    ConfigNode section = cfg.storage();
    if (section.string_or("backend", "") != "ceph")
        throw ConfigError(
            fmt::format("{}: mgmtvm-deploy works with storage.backend \"ceph\"", cfg.file.path()));
    CephStorageConfig ceph = parse_ceph_storage(section);
    CephStorage storage(ceph, {cfg.node, cfg.vm_name, cfg.volume});
    std::optional<ceph::DiskFile> file;
    if (!opts.image_file.empty()) file = ceph::inspect_disk_file(opts.image_file);
    uint64_t wanted = opts.size.empty() ? 0 : parse_size(opts.size, "--size");
    uint64_t memory_mib = parse_size(opts.memory, "--memory") >> 20;
    if (memory_mib == 0)
        throw ConfigError(fmt::format("--memory {}: less than 1 MiB", opts.memory));
    if (file) wanted = std::max(wanted, file->virtual_size);

    // Checked before anything changes: cron's period is a minute, so the lease's tick must be.
    if (!opts.timer && cfg.lease_tick_s != 60)
        throw Error(
            fmt::format("lease.tick_s is {} s, but cron runs the tick every 60 s: set "
                        "lease.tick_s to 60, or use --timer",
                        cfg.lease_tick_s));
    report.data["steps"] = json::array();
    Deploy d{common, opts, report, cfg, ceph, storage, ceph::Client(ceph.client), memory_mib, {}};
    bool existed = d.image(wanted);
    if (file) d.import(*file, existed);
    std::string xml = d.domain_xml();
    d.secrets(xml);
    d.define(xml);
    d.tick();
    if (!d.failures.empty()) {
        report.failed = true;
        report.msg = fmt::format("deploy: failed: {}; rerun once the node answers",
                                 fmt::join(d.failures, ", "));
        return;
    }
    report.msg = report.changed ? (common.dry_run ? "deploy: changes planned" : "deployed")
                                : "deploy: nothing to change";
}

}  // namespace storkit
