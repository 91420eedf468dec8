// The install state directory that pxe-report keeps and pxe-provision reads (<state_dir>/pxe):
//
//   events.jsonl  every event, one JSON object per line, appended (the record of what happened)
//   leases.json   the DhcpLeaseTable: all events applied, and how many log bytes that covers
//   table.json    BMC -> MAC -> DHCP address with times (joined_table), for the monitor
//   nodes.json    pxe-provision's node table (read here, written there)
//   report.lock   flock(2) held while the three files above change
//
// Safe against concurrent runs (dnsmasq's hook, CGI requests, pxe-provision): every change
// happens under the lock, files are replaced atomically, and a run killed half-way is caught up
// by the next one (leases.json records how much of the log it reflects).
#pragma once

#include <chrono>
#include <string>

#include "core/clock.h"
#include "core/statefile.h"
#include "pxe/event.h"
#include "pxe/table.h"

namespace storkit {

inline constexpr const char* kPxeStateEnv = "STORKIT_PXE_STATE_DIR";
inline constexpr const char* kDefaultPxeStateDir = "/var/lib/storkit/pxe";

// Where the state is: `option` when given, else $STORKIT_PXE_STATE_DIR, else
// "<paths.state_dir>/pxe" from the pxe-provision config `config_path` when that file exists,
// else /var/lib/storkit/pxe. Throws ConfigError naming the file and key when it cannot be read,
// is not root-only writable, or has an unknown key at its top level or in "paths", or a
// state_dir that is not an absolute path.
std::string resolve_pxe_state_dir(const std::string& option, const std::string& config_path);

class PxeState {
  public:
    explicit PxeState(std::string dir) : dir_(std::move(dir)) {}
    const std::string& dir() const { return dir_; }
    std::string path(const char* name) const { return dir_ + "/" + name; }

    // Creates the directory and takes the lock, waiting up to `wait` for another holder; throws
    // LockedError (exit 75) when it stays taken.
    FileLock lock(std::chrono::milliseconds wait = std::chrono::milliseconds(10000)) const;
    // Appends the event to events.jsonl and syncs it. Hold the lock.
    void append(const PxeEvent& e) const;
    // leases.json with every logged event after it applied. Hold the lock.
    DhcpLeaseTable leases() const;
    // Writes leases.json, then table.json joined with nodes.json. Hold the lock.
    void save(const DhcpLeaseTable& leases, double now) const;
    // The node table, or no nodes when pxe-provision has not written one.
    std::vector<NodeEntry> nodes() const;

  private:
    std::string dir_;
};

// The whole of recording one event: lock, append, apply, save. Returns false when a TFTP or
// phase event could not be tied to a MAC (it is in the log all the same).
bool record_event(const PxeState& state, const PxeEvent& e);

}  // namespace storkit
