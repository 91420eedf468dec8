// The storage cluster as the management-VM tools see it. One interface, several backends:
// `command` (operator-supplied programs for any vendor's CLI) and `sim` (a directory that plays
// a whole cluster, for the demo and fault-injection tests).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/config_file.h"
#include "core/statefile.h"
#include "core/tri.h"
#include "mgmtvm/vm_lease.h"

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

    // The lease (see lease.h). A backend without one answers supports_lease() == false and the
    // reconcile keeps the published flow's safe behaviour.
    virtual bool supports_lease() const { return false; }
    virtual VmLeaseOutcome lease_read() { return unsupported(); }
    // Takes the lease for this node with a new epoch, if it is free, expired or already ours.
    virtual VmLeaseOutcome lease_acquire(double /*seconds*/) { return unsupported(); }
    // Extends this node's lease (same epoch); kLost when another node holds a newer epoch.
    virtual VmLeaseOutcome lease_renew(double /*seconds*/) { return unsupported(); }
    // Gives this node's lease up cleanly, so the next holder needs no fencing.
    virtual VmLeaseOutcome lease_release() { return unsupported(); }
    // Takes the lease from `held` (node and epoch), which an operator confirmed down
    // (mgmtvm-maint confirm-down), before it expires: a new epoch for this node, or kBusy when
    // the lease has moved on from that epoch. The caller fences before it starts the VM.
    virtual VmLeaseOutcome lease_break(double /*seconds*/, const VmLease& /*held*/) {
        return unsupported();
    }

    // Cuts every client of the VM's volume except this node's off the storage, so that no
    // other copy of the VM can write another byte, whoever held the lease before. `epoch` is
    // the lease epoch this node holds. Repeating it is harmless. Unsupported: value kUnknown
    // with a detail saying so.
    virtual bool supports_fence() const { return false; }
    virtual StorageAnswer fence(uint64_t /*epoch*/) { return {Tri::kUnknown, "no fencing"}; }

    // Small records every node can read (maintenance, each node's last decision). A backend
    // without a shared store returns nullopt / throws Error on write.
    virtual bool supports_shared() const { return false; }
    virtual std::optional<std::string> shared_read(const std::string& key);
    virtual void shared_write(const std::string& key, const std::string& value);
    // Writes record `key` only if it still holds `expected` (nullopt: there is none), in one
    // step on the storage, so that a read-modify-write from one node never loses another
    // node's change; false when the record changed in between. Throws Error when the store
    // does not answer.
    virtual bool shared_replace(const std::string& key, const std::optional<std::string>& expected,
                                const std::string& value);

    // Who has the VM's volume open now (every running copy of the VM is one client), as a
    // second witness beside libvirt's answers: kYes with the clients named in the detail, kNo
    // when nobody, kUnknown when the storage cannot tell. For mgmtvm-status and
    // storage-health; the tick does not ask (a copy about to open the volume is not a client
    // yet, so "nobody" can never allow a start that the lease would not).
    virtual bool supports_clients() const { return false; }
    virtual StorageAnswer volume_clients() { return {Tri::kUnknown, "not supported"}; }

    // The storage's clock, in seconds since 1970 (lease expiry and maintenance use it).
    virtual double now() const;

    // The kinds of call a tick makes, and the longest one of each can keep it waiting (its
    // deadlines added up). The config check adds them up over a tick's worst path.
    enum class Call { kProbe, kLeaseRead, kLeaseChange, kFence, kSharedRead, kSharedWrite };
    virtual std::chrono::milliseconds longest(Call c) const = 0;

  private:
    static VmLeaseOutcome unsupported() { return {VmLeaseStatus::kError, {}, "no lease support"}; }
};

// A storage backend: its name in `storage.backend`, the keys of `storage` it allows, and how it
// is built from them.
struct StorageBackend {
    std::string_view name;
    std::span<const std::string_view> keys;
    std::unique_ptr<Storage> (*make)(const ConfigNode& cfg, const StorageContext& ctx);
};
std::span<const StorageBackend> storage_backends();

// Builds the backend named by `cfg` ("backend" key). A problem throws ConfigError naming the
// key; with a ConfigErrors behind `cfg` it is recorded there instead (and the result may be
// nullptr).
std::unique_ptr<Storage> make_storage(const ConfigNode& cfg, const StorageContext& ctx);

}  // namespace storkit
