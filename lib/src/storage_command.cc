#include "storkit/storage_command.h"

#include <fmt/format.h>

#include "storkit/exec.h"
#include "storkit/trust.h"

namespace storkit {

CommandStorageConfig parse_command_storage(const ConfigNode& cfg) {
    cfg.allow_only({"backend", "service_health", "volume_health", "is_master", "timeout_s"});
    CommandStorageConfig c;
    c.service_health = cfg.argv("service_health");
    c.volume_health = cfg.argv("volume_health");
    c.is_master = cfg.argv("is_master");
    c.timeout = seconds_to_ms(cfg.positive_or("timeout_s", 10));
    for (const char* key : {"service_health", "volume_health", "is_master"})
        require_root_only_writable(cfg.argv(key)[0], "command " + cfg.key_path(key));
    return c;
}

CommandStorage::CommandStorage(CommandStorageConfig cfg, StorageContext ctx)
    : cfg_(std::move(cfg)), ctx_(std::move(ctx)) {}

StorageAnswer CommandStorage::ask(const std::vector<std::string>& argv) const {
    ExecRequest req;
    req.argv = argv;
    req.timeout = cfg_.timeout;
    req.env = {
        {"STORKIT_NODE", ctx_.node}, {"STORKIT_VM", ctx_.vm}, {"STORKIT_VOLUME", ctx_.volume}};
    ExecResult r = run_command(req);
    StorageAnswer a;
    if (r.timed_out) {
        a.detail = fmt::format("{}: timed out after {} s", argv[0], cfg_.timeout.count() / 1000.0);
    } else if (!r.started || r.signal) {
        a.detail = r.describe();
    } else if (r.exit_code == 0 || r.exit_code == 1) {
        a.value = r.exit_code == 0 ? Tri::kYes : Tri::kNo;
        a.detail = fmt::format("exit {}", r.exit_code);
    } else {
        a.detail = fmt::format("{}: exit {}", argv[0], r.exit_code);
    }
    // The command's own words (first line of stderr) help the operator most.
    if (a.value != Tri::kYes && !r.err.empty()) {
        std::string first = r.err.substr(0, r.err.find('\n'));
        if (!first.empty()) a.detail += ": " + first.substr(0, 200);
    }
    return a;
}

StorageAnswer CommandStorage::service_healthy() {
    return ask(cfg_.service_health);
}
StorageAnswer CommandStorage::volume_healthy() {
    return ask(cfg_.volume_health);
}
StorageAnswer CommandStorage::is_master() {
    return ask(cfg_.is_master);
}

}  // namespace storkit
