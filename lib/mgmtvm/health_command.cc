#include "mgmtvm/health_command.h"

#include <fmt/format.h>

#include <chrono>
#include <functional>

#include "mgmtvm/config.h"
#include "mgmtvm/storage.h"

namespace storkit {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct Check {
    std::string name;
    std::string value;   // yes, no, unknown; or what was read
    std::string detail;  // the backend's words
    double ms = 0;
    bool judged = false;  // counts for the exit code
};

template <typename F>
Check timed(const std::string& name, bool judged, F&& probe) {
    Check c;
    c.name = name;
    c.judged = judged;
    auto t0 = Clock::now();
    probe(c);
    c.ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    return c;
}

Check answer(const std::string& name, bool judged, const std::function<StorageAnswer()>& ask) {
    return timed(name, judged, [&](Check& c) {
        StorageAnswer a = ask();
        c.value = to_string(a.value);
        c.detail = a.detail;
    });
}

Check lease_check(Storage& storage) {
    return timed("lease", false, [&](Check& c) {
        VmLeaseOutcome l = storage.lease_read();
        if (l.status != VmLeaseStatus::kOk) {
            c.value = "unknown";
            c.detail = l.detail;
        } else if (l.info.node.empty()) {
            c.value = "free";
            c.detail = "never held";
        } else if (l.info.live()) {
            c.value = "held";
            c.detail = fmt::format("by {}, epoch {}, {:.0f} s left", l.info.node, l.info.epoch,
                                   l.info.expires - l.info.now);
        } else {
            c.value = "free";
            c.detail = fmt::format("{} by {}, epoch {}",
                                   l.info.released ? "released" : "expired: last held", l.info.node,
                                   l.info.epoch);
        }
    });
}

Check shared_check(Storage& storage) {
    return timed("shared", false, [&](Check& c) {
        try {
            std::optional<std::string> m = storage.shared_read("maintenance");
            c.value = "yes";
            c.detail = m ? "maintenance record readable" : "no maintenance record";
        } catch (const std::exception& e) {
            c.value = "unknown";
            c.detail = e.what();
        }
    });
}

}  // namespace

void storage_health_command(const CommonOptions& common, const HealthOptions& opts,
                            Report& report) {
    MgmtvmConfig cfg = load_mgmtvm_config(common.config, opts.node);
    std::unique_ptr<Storage> storage =
        make_storage(cfg.storage(), {cfg.node, cfg.vm_name, cfg.volume});
    std::vector<Check> checks;
    checks.push_back(answer("service", true, [&] { return storage->service_healthy(); }));
    checks.push_back(answer("volume", true, [&] { return storage->volume_healthy(); }));
    checks.push_back(answer("master", false, [&] { return storage->is_master(); }));
    if (storage->supports_clients())
        checks.push_back(answer("clients", false, [&] { return storage->volume_clients(); }));
    if (storage->supports_lease()) checks.push_back(lease_check(*storage));
    if (storage->supports_shared()) checks.push_back(shared_check(*storage));

    bool healthy = true;
    json list = json::array();
    for (const Check& c : checks) {
        if (c.judged && c.value != "yes") healthy = false;
        report.text +=
            fmt::format("{:<8} {:<8} {:>7.1f} ms  {}\n", c.name, c.value, c.ms, c.detail);
        list.push_back({{"check", c.name},
                        {"value", c.value},
                        {"detail", c.detail},
                        {"ms", c.ms},
                        {"judged", c.judged}});
    }
    report.data["node"] = cfg.node;
    report.data["backend"] = storage->backend();
    report.data["checks"] = list;
    report.data["healthy"] = healthy;
    report.failed = !healthy;
    report.msg = fmt::format("{}: storage ({}) {}", cfg.node, storage->backend(),
                             healthy ? "healthy" : "not healthy");
}

}  // namespace storkit
