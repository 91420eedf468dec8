#include "mgmtvm/vm_lease.h"

namespace storkit {

nlohmann::json LeaseInfo::to_json() const {
    return {{"node", node}, {"epoch", epoch}, {"expires", expires}, {"released", released}};
}

LeaseInfo LeaseInfo::from_json(const nlohmann::json& j) {
    LeaseInfo l;
    l.node = j.at("node").get<std::string>();
    l.epoch = j.at("epoch").get<uint64_t>();
    l.expires = j.at("expires").get<double>();
    l.released = j.value("released", false);
    return l;
}

const char* to_string(LeaseStatus s) {
    switch (s) {
        case LeaseStatus::kOk: return "ok";
        case LeaseStatus::kBusy: return "busy";
        case LeaseStatus::kLost: return "lost";
        case LeaseStatus::kError: return "error";
    }
    return "error";
}

}  // namespace storkit
