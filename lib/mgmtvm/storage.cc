#include "mgmtvm/storage.h"

#include <chrono>

#include "core/clock.h"
#include "core/error.h"
#include "mgmtvm/backend_command.h"
#include "mgmtvm/backend_sim.h"

namespace storkit {

std::optional<std::string> Storage::shared_read(const std::string&) {
    return std::nullopt;
}

void Storage::shared_write(const std::string& key, const std::string&) {
    throw Error(fmt::format("storage backend {} has no shared store for {}", backend(), key));
}

double Storage::now() const {
    return now_seconds();
}

std::unique_ptr<Storage> make_storage(const ConfigNode& cfg, const StorageContext& ctx) {
    std::string backend = cfg.string("backend");
    if (backend == "command")
        return std::make_unique<CommandStorage>(parse_command_storage(cfg), ctx);
    if (backend == "sim") return std::make_unique<SimStorage>(parse_sim_storage(cfg), ctx);
    cfg.fail("backend",
             fmt::format("unknown storage backend \"{}\" (known: command, sim)", backend));
}

}  // namespace storkit
