// The management VM's records read back from storage and from disk: the lease, the node's
// own state and the maintenance record. A record that cannot be read throws (its callers treat
// it as unknown), never crashes; what reads, writes back to what reads the same.
#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "mgmtvm/maintenance.h"
#include "mgmtvm/node_state.h"
#include "mgmtvm/vm_lease.h"

using nlohmann::json;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    json j = json::parse(storkit::fuzz::text_of(data, size), nullptr, false);
    storkit::fuzz::unreadable_ok([&] {
        storkit::VmLease l = storkit::VmLease::from_json(j);
        storkit::VmLease again = storkit::VmLease::from_json(l.to_json());
        if (again.to_json() != l.to_json()) __builtin_trap();
    });
    storkit::fuzz::unreadable_ok([&] { (void)storkit::NodeState::from_json(j).to_json(); });
    storkit::fuzz::unreadable_ok([&] { (void)storkit::Maintenance::from_json(j).to_json(); });
    return 0;
}
