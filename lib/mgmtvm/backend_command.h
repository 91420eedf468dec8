// The `command` storage backend: each question is an operator-supplied program, run without a
// shell, with STORKIT_NODE, STORKIT_VM and STORKIT_VOLUME in its environment.
// Exit 0 means yes/healthy/done, exit 1 means no/unhealthy/refused; anything else, or no exit
// within `timeout_s`, means unknown.
//
// Optional keys add the lease (lease_acquire, lease_renew, lease_release with STORKIT_LEASE_S
// set; lease_holder prints {"node","epoch","expires"[,"released","now"]} as JSON), fencing
// (fence, with STORKIT_EPOCH) and a shared store (shared_get prints
// the value of STORKIT_KEY, exit 1 when there is none; shared_put reads it on stdin).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mgmtvm/storage.h"

namespace storkit {

using Argv = std::vector<std::string>;

struct CommandStorageConfig {
    Argv service_health, volume_health, is_master;
    std::optional<Argv> lease_acquire, lease_renew, lease_release, lease_holder;
    std::optional<Argv> fence;
    std::optional<Argv> shared_get, shared_put;
    std::chrono::milliseconds timeout{3000};  // storage.timeout_s: each command's deadline
};

// The keys of the `storage` object with backend "command".
inline constexpr std::string_view kCommandStorageKeys[] = {
    "backend",     "service_health", "volume_health", "is_master", "timeout_s",  "lease_acquire",
    "lease_renew", "lease_release",  "lease_holder",  "fence",     "shared_get", "shared_put"};

// Reads the `storage` object of a config (backend "command"). Problems go to `cfg`'s errors,
// or throw ConfigError.
CommandStorageConfig parse_command_storage(const ConfigNode& cfg);

class CommandStorage : public Storage {
  public:
    CommandStorage(CommandStorageConfig cfg, StorageContext ctx);
    std::string backend() const override { return "command"; }
    StorageAnswer service_healthy() override;
    StorageAnswer volume_healthy() override;
    StorageAnswer is_master() override;

    bool supports_lease() const override { return cfg_.lease_acquire.has_value(); }
    VmLeaseOutcome lease_read() override;
    VmLeaseOutcome lease_acquire(double seconds) override;
    // lease_acquire run with STORKIT_BREAK_HOLDER and STORKIT_BREAK_EPOCH: a command that does
    // not know them refuses as for any live lease, which is safe.
    VmLeaseOutcome lease_break(double seconds, const VmLease& held) override;
    VmLeaseOutcome lease_renew(double seconds) override;
    VmLeaseOutcome lease_release() override;

    bool supports_fence() const override { return cfg_.fence.has_value(); }
    StorageAnswer fence(uint64_t epoch) override;

    bool supports_shared() const override { return cfg_.shared_get.has_value(); }
    std::optional<std::string> shared_read(const std::string& key) override;
    void shared_write(const std::string& key, const std::string& value) override;
    // shared_put run with STORKIT_EXPECT (the record as read) or STORKIT_EXPECT_ABSENT=1:
    // exit 0 written, exit 1 refused because the record differs.
    bool shared_replace(const std::string& key, const std::optional<std::string>& expected,
                        const std::string& value) override;

    // One command each, timeout_s; a lease change runs its command and then lease_holder.
    std::chrono::milliseconds longest(Call c) const override {
        return c == Call::kLeaseChange ? 2 * cfg_.timeout : cfg_.timeout;
    }

  private:
    struct Run;
    Run run(const Argv& argv, std::map<std::string, std::string> env = {},
            const std::string& input = "") const;
    StorageAnswer ask(const Argv& argv, std::map<std::string, std::string> env = {}) const;
    VmLeaseOutcome lease_op(const Argv& argv, double seconds, VmLeaseStatus on_refusal,
                            const char* done, std::map<std::string, std::string> env = {});
    CommandStorageConfig cfg_;
    StorageContext ctx_;
};

}  // namespace storkit
