// The storage cluster as the management-VM reconcile sees it. One interface, several backends:
// `command` (operator-supplied programs for any vendor's CLI), and more to come.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "storkit/config.h"
#include "storkit/tri.h"

namespace storkit {

// One answer from the storage, with what it was based on ("exit 1", "timed out after 10 s").
struct StorageAnswer {
    Tri value = Tri::kUnknown;
    std::string detail;
};

// Who and what the storage questions are about.
struct StorageContext {
    std::string node;    // this node's name
    std::string vm;      // the management VM's name
    std::string volume;  // the volume holding its disk ("" when the backend does not need it)
};

class Storage {
  public:
    virtual ~Storage() = default;
    virtual std::string backend() const = 0;
    // Is this node's block-storage service healthy?
    virtual StorageAnswer service_healthy() = 0;
    // Is the volume that holds the VM's disk healthy?
    virtual StorageAnswer volume_healthy() = 0;
    // Is this node the storage cluster's master?
    virtual StorageAnswer is_master() = 0;
};

// Builds the backend named by `cfg` ("backend" key). Throws ConfigError naming the key.
std::unique_ptr<Storage> make_storage(const ConfigNode& cfg, const StorageContext& ctx);

}  // namespace storkit
