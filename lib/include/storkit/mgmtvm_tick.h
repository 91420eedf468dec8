// One reconcile tick on one node: observe (storage + every node's libvirt, concurrently),
// decide (reconcile.h), act (virt.h), and describe all of it as a JSON trace.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "storkit/mgmtvm_config.h"
#include "storkit/reconcile.h"
#include "storkit/storage.h"
#include "storkit/virt.h"

namespace storkit {

struct TickResult {
    Observations obs;
    Decision decision;
    std::map<std::string, StorageAnswer> storage;       // "service", "volume", "master" as asked
    std::map<std::string, virt::DomainStatus> domains;  // every node's answer
    bool changed = false;
    bool failed = false;
    std::string msg;  // one line: what was seen, done and why

    nlohmann::json to_json() const;
};

TickResult run_tick(const MgmtvmConfig& cfg, Storage& storage, bool dry_run);

}  // namespace storkit
