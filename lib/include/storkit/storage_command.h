// The `command` storage backend: each question is an operator-supplied program, run without a
// shell, with STORKIT_NODE, STORKIT_VM and STORKIT_VOLUME in its environment.
// Exit 0 means yes/healthy, exit 1 means no/unhealthy; anything else, or no exit within
// `timeout_s`, means unknown.
#pragma once

#include <string>
#include <vector>

#include "storkit/storage.h"

namespace storkit {

struct CommandStorageConfig {
    std::vector<std::string> service_health;
    std::vector<std::string> volume_health;
    std::vector<std::string> is_master;
    std::chrono::milliseconds timeout{10000};
};

// Reads the `storage` object of a config (backend "command"). Throws ConfigError.
CommandStorageConfig parse_command_storage(const ConfigNode& cfg);

class CommandStorage : public Storage {
  public:
    CommandStorage(CommandStorageConfig cfg, StorageContext ctx);
    std::string backend() const override { return "command"; }
    StorageAnswer service_healthy() override;
    StorageAnswer volume_healthy() override;
    StorageAnswer is_master() override;

  private:
    StorageAnswer ask(const std::vector<std::string>& argv) const;
    CommandStorageConfig cfg_;
    StorageContext ctx_;
};

}  // namespace storkit
