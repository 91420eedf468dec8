// The BMC -> MAC -> DHCP address table of a network install, with times: what each node's MAC
// leased, which boot files it fetched and which install phase it reported.
//
// Built from two sources: the leases (every PxeEvent applied in order, kept by pxe-report) and
// the node table of pxe-provision (node_table.h), which says which MAC belongs to which node
// and BMC.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pxe/event.h"
#include "pxe/node_table.h"

namespace storkit {

struct BootFile {
    std::string file;
    long long size = 0;
    double time = 0;
};

// Everything seen of one MAC.
struct DhcpLease {
    std::string mac;
    std::string ip;              // the last address it leased
    std::string hostname;        // the last name it sent
    double first_seen = 0;       // first lease event (add or old)
    bool first_was_add = false;  // it first appeared as a new lease, not replayed by dnsmasq
    double last_seen = 0;        // last lease event
    bool active = false;         // false after "del" (released or expired)
    double released = 0;
    std::string tags;                  // dnsmasq's tags at the last lease (e.g. "efi64 known")
    std::vector<BootFile> boot_files;  // TFTP transfers to its address, in order
    std::string phase;                 // the last reported install phase
    double phase_time = 0;
    std::string phase_detail;

    nlohmann::json to_json() const;
};

// All MACs seen, and how much of the event log they reflect.
class DhcpLeaseTable {
  public:
    // Bounds: MACs kept (the one seen longest ago goes first, released leases before active
    // ones) and TFTP transfers kept per MAC (the latest).
    static constexpr size_t kMaxLeaseRows = 20000;
    static constexpr size_t kMaxBootFiles = 32;

    // Applies one event. A TFTP transfer or a phase report without a MAC goes to the MAC whose
    // active lease has the event's address (the latest one); returns false when there is none.
    bool apply(const PxeEvent& e);
    std::optional<std::string> mac_of_ip(const std::string& ip) const;
    const std::map<std::string, DhcpLease>& leases() const { return leases_; }
    // Bytes of the event log applied so far (see pxe_report: catching up after a crash), and
    // what identifies that log: its inode and a hash of its first line (a rotated or truncated
    // log is read again from its start).
    uint64_t applied_bytes = 0;
    uint64_t log_inode = 0;
    std::string log_head;
    // Reports pxe-report refused (kind "refused"): how many, and the last few.
    uint64_t refused = 0;
    std::vector<PxeEvent> last_refused;

    nlohmann::json to_json() const;
    // Throws Error naming `path` on content that is not a lease table.
    static DhcpLeaseTable from_json(const nlohmann::json& j, const std::string& path);

  private:
    std::map<std::string, DhcpLease> leases_;
};

// The joined table: one row per node (BMC -> MAC -> lease), in name order, and the leases of
// MACs that no node claims.
nlohmann::json joined_table(const std::vector<NodeEntry>& nodes, const DhcpLeaseTable& leases,
                            double now);

// One line on the reports pxe-report refused ("refused reports: 3, the last from 198.18.0.9 at
// 2026-12-01T10:00:00Z: wrong token for node node2"), "" when there were none.
std::string refused_summary(const nlohmann::json& table);

}  // namespace storkit
