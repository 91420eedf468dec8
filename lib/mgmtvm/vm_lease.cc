#include "mgmtvm/vm_lease.h"

#include "core/json_integer.h"

namespace storkit {

nlohmann::json VmLease::to_json() const {
    return {{"node", node}, {"epoch", epoch}, {"expires", expires}, {"released", released}};
}

VmLease VmLease::from_json(const nlohmann::json& j) {
    VmLease l;
    l.node = j.at("node").get<std::string>();
    l.epoch = json_integer<uint64_t>(j.at("epoch"), "epoch");
    l.expires = j.at("expires").get<double>();
    l.released = j.value("released", false);
    return l;
}

const char* to_string(VmLeaseStatus s) {
    switch (s) {
        case VmLeaseStatus::kOk: return "ok";
        case VmLeaseStatus::kBusy: return "busy";
        case VmLeaseStatus::kLost: return "lost";
        case VmLeaseStatus::kError: return "error";
    }
    return "error";
}

}  // namespace storkit
