// Maintenance of the management-VM reconcile: global (every tick observes and reports, changes
// nothing) or per node (the node never starts the VM and hands it off if it runs it), each with
// an optional expiry so that a forgotten maintenance ends by itself.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "mgmtvm/reconcile.h"

namespace storkit {

class Storage;

struct MaintEntry {
    std::optional<double> until;  // storage clock, seconds; nullopt: until cleared
    std::string reason;
    std::string set_by;  // the node the command ran on
    double set_at = 0;

    bool active(double now) const { return !until || *until > now; }
};

// An operator's word that a node is really off (mgmtvm-maint confirm-down): the lease epoch it
// held then may be taken before it expires, behind a fence. A later epoch is not covered.
struct DownEntry {
    uint64_t epoch = 0;
    double at = 0;  // storage clock
    std::string by;
    std::string reason;
};

struct Maintenance {
    std::optional<MaintEntry> global;
    std::map<std::string, MaintEntry> nodes;
    std::map<std::string, DownEntry> down;  // confirmed down, by node

    // What applies to `node` at `now`: global beats node.
    Maint effective(const std::string& node, double now) const;
    nlohmann::json to_json() const;
    // Throws std::runtime_error on a malformed record.
    static Maintenance from_json(const nlohmann::json& j);
};

// Where maintenance is kept: the storage's shared store when it has one (every node sees it),
// else a file in the local state directory (this machine only).
class MaintenanceStore {
  public:
    MaintenanceStore(Storage& storage, const std::string& state_dir);
    Maintenance load() const;
    void save(const Maintenance& m) const;
    // Loads, lets `change` edit and saves the record without losing another writer's change:
    // the shared store replaces it only if it is still as read (else the change is made again
    // on the new record, a few times), and a lock in the state directory keeps writers on this
    // machine in turn. `change` returns whether to save.
    Maintenance update(const std::function<bool(Maintenance&)>& change) const;
    std::string where() const;

  private:
    Maintenance parse(const std::optional<std::string>& text) const;
    Storage& storage_;
    std::string local_file_;
};

}  // namespace storkit
