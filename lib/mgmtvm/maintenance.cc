#include "mgmtvm/maintenance.h"

#include <chrono>

#include "core/error.h"
#include "core/json_integer.h"
#include "core/statefile.h"
#include "mgmtvm/storage.h"

namespace storkit {

using nlohmann::json;

namespace {

json entry_json(const MaintEntry& e) {
    return {{"until", e.until ? json(*e.until) : json(nullptr)},
            {"reason", e.reason},
            {"set_by", e.set_by},
            {"set_at", e.set_at}};
}

MaintEntry entry_from(const json& j) {
    MaintEntry e;
    if (j.contains("until") && !j["until"].is_null()) e.until = j["until"].get<double>();
    e.reason = j.value("reason", "");
    e.set_by = j.value("set_by", "");
    e.set_at = j.value("set_at", 0.0);
    return e;
}

constexpr const char* kKey = "maintenance";

}  // namespace

Maint Maintenance::effective(const std::string& node, double now) const {
    if (global && global->active(now)) return Maint::kGlobal;
    auto it = nodes.find(node);
    if (it != nodes.end() && it->second.active(now)) return Maint::kNode;
    return Maint::kNone;
}

json Maintenance::to_json() const {
    json n = json::object();
    for (const auto& [name, e] : nodes) n[name] = entry_json(e);
    json d = json::object();
    for (const auto& [name, e] : down)
        d[name] = {{"epoch", e.epoch}, {"at", e.at}, {"by", e.by}, {"reason", e.reason}};
    return {{"global", global ? entry_json(*global) : json(nullptr)},
            {"nodes", n},
            {"confirmed_down", d}};
}

Maintenance Maintenance::from_json(const json& j) {
    Maintenance m;
    if (j.contains("global") && !j["global"].is_null()) m.global = entry_from(j["global"]);
    if (j.contains("nodes"))
        for (auto it = j["nodes"].begin(); it != j["nodes"].end(); ++it)
            m.nodes[it.key()] = entry_from(it.value());
    if (j.contains("confirmed_down"))
        for (auto it = j["confirmed_down"].begin(); it != j["confirmed_down"].end(); ++it)
            m.down[it.key()] = {json_integer<uint64_t>(it.value().at("epoch"), "epoch"),
                                it.value().value("at", 0.0), it.value().value("by", ""),
                                it.value().value("reason", "")};
    return m;
}

MaintenanceStore::MaintenanceStore(Storage& storage, const std::string& state_dir)
    : storage_(storage), local_file_(state_dir + "/maintenance.json") {}

std::string MaintenanceStore::where() const {
    return storage_.supports_shared() ? "storage (" + storage_.backend() + ")" : local_file_;
}

Maintenance MaintenanceStore::load() const {
    return parse(storage_.supports_shared() ? storage_.shared_read(kKey) : read_file(local_file_));
}

Maintenance MaintenanceStore::parse(const std::optional<std::string>& text) const {
    if (!text || text->empty()) return {};
    try {
        return Maintenance::from_json(json::parse(*text));
    } catch (const std::exception& e) {
        throw Error(fmt::format("maintenance record in {}: {}", where(), e.what()));
    }
}

Maintenance MaintenanceStore::update(const std::function<bool(Maintenance&)>& change) const {
    std::string dir = local_file_.substr(0, local_file_.rfind('/'));
    make_dirs(dir);
    // A writer holds it for milliseconds; one that holds it for 10 s has hung.
    FileLock here = FileLock::acquire_within(dir + "/maintenance.lock", std::chrono::seconds(10));
    if (!storage_.supports_shared()) {
        Maintenance m = load();
        if (change(m)) save(m);
        return m;
    }
    constexpr int kAttempts = 8;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        std::optional<std::string> text = storage_.shared_read(kKey);
        Maintenance m = parse(text);
        if (!change(m)) return m;
        if (storage_.shared_replace(kKey, text, m.to_json().dump(2) + "\n")) return m;
    }
    throw Error(
        fmt::format("maintenance record in {}: changed by another writer {} times in a "
                    "row; try again",
                    where(), kAttempts));
}

void MaintenanceStore::save(const Maintenance& m) const {
    std::string text = m.to_json().dump(2) + "\n";
    if (storage_.supports_shared())
        storage_.shared_write(kKey, text);
    else {
        make_dirs(local_file_.substr(0, local_file_.rfind('/')));
        write_file_atomic(local_file_, text);
    }
}

}  // namespace storkit
