#include "storkit/storage.h"

#include "storkit/error.h"
#include "storkit/storage_command.h"

namespace storkit {

std::unique_ptr<Storage> make_storage(const ConfigNode& cfg, const StorageContext& ctx) {
    std::string backend = cfg.string("backend");
    if (backend == "command")
        return std::make_unique<CommandStorage>(parse_command_storage(cfg), ctx);
    cfg.fail("backend", fmt::format("unknown storage backend \"{}\" (known: command)", backend));
}

}  // namespace storkit
