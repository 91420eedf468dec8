#include "mgmtvm/node_state.h"

#include "core/json_integer.h"
#include "core/log.h"
#include "core/statefile.h"

namespace storkit {

using nlohmann::json;

json NodeState::to_json() const {
    return {{"renew_failures", renew_failures}, {"local_silent", local_silent},
            {"lease_expires", lease_expires},   {"fenced_epoch", fenced_epoch},
            {"tick_starts", tick_starts},       {"last", last}};
}

NodeState NodeState::from_json(const json& j) {
    NodeState s;
    s.renew_failures = json_integer_or(j, "renew_failures", 0);
    s.local_silent = json_integer_or(j, "local_silent", 0);
    s.lease_expires = j.value("lease_expires", 0.0);
    s.fenced_epoch = json_integer_or(j, "fenced_epoch", uint64_t{0});
    s.tick_starts = j.value("tick_starts", std::vector<double>{});
    if (j.contains("last")) s.last = j["last"];
    return s;
}

std::string node_state_path(const std::string& state_dir, const std::string& node) {
    return state_dir + "/mgmtvm." + node + ".json";
}

NodeState load_node_state(const std::string& path) {
    try {
        std::optional<std::string> text = read_file(path);
        if (!text) return {};
        return NodeState::from_json(json::parse(*text));
    } catch (const std::exception& e) {
        log::warn("{}: unreadable, starting afresh: {}", path, e.what());
        return {};
    }
}

void save_node_state(const std::string& path, const NodeState& s) {
    write_file_atomic(path, s.to_json().dump() + "\n");
}

}  // namespace storkit
