#include "mgmtvm/storage.h"

#include <chrono>

#include "core/clock.h"
#include "core/error.h"
#include "mgmtvm/backend_ceph.h"
#include "mgmtvm/backend_command.h"
#include "mgmtvm/backend_sim.h"

namespace storkit {

std::optional<std::string> Storage::shared_read(const std::string&) {
    return std::nullopt;
}

void Storage::shared_write(const std::string& key, const std::string&) {
    throw Error(fmt::format("storage backend {} has no shared store for {}", backend(), key));
}

bool Storage::shared_replace(const std::string& key, const std::optional<std::string>&,
                             const std::string& value) {
    shared_write(key, value);  // throws: no shared store
    return false;
}

double Storage::now() const {
    return now_seconds();
}

namespace {

constexpr StorageBackend kBackends[] = {
    {"ceph", kCephStorageKeys,
     [](const ConfigNode& cfg, const StorageContext& ctx) -> std::unique_ptr<Storage> {
         return std::make_unique<CephStorage>(parse_ceph_storage(cfg), ctx);
     }},
    {"command", kCommandStorageKeys,
     [](const ConfigNode& cfg, const StorageContext& ctx) -> std::unique_ptr<Storage> {
         return std::make_unique<CommandStorage>(parse_command_storage(cfg), ctx);
     }},
    {"sim", kSimStorageKeys,
     [](const ConfigNode& cfg, const StorageContext& ctx) -> std::unique_ptr<Storage> {
         return std::make_unique<SimStorage>(parse_sim_storage(cfg), ctx);
     }},
};

}  // namespace

std::span<const StorageBackend> storage_backends() {
    return kBackends;
}

std::unique_ptr<Storage> make_storage(const ConfigNode& cfg, const StorageContext& ctx) {
    std::string backend = cfg.string("backend");
    for (const StorageBackend& b : kBackends)
        if (b.name == backend) return b.make(cfg, ctx);
    std::vector<std::string_view> known;
    for (const StorageBackend& b : kBackends) known.push_back(b.name);
    std::string names = fmt::format("{}", fmt::join(known, ", "));
    if (cfg.ok("backend"))
        cfg.problem("backend",
                    fmt::format("unknown storage backend \"{}\" (known: {})", backend, names));
    return nullptr;
}

}  // namespace storkit
