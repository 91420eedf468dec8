#include "pxe/table.h"

#include <fmt/chrono.h>
#include <time.h>

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "core/netaddr.h"
#include "pxe/json_fields.h"

namespace storkit {

namespace {

using nlohmann::json;

json or_null(const std::string& s) {
    return s.empty() ? json() : json(s);
}
json or_null(double t) {
    return t > 0 ? json(t) : json();
}

constexpr size_t kLastRefused = 10;

json refused_json(uint64_t count, const std::vector<PxeEvent>& last) {
    json list = json::array();
    for (const PxeEvent& e : last) list.push_back(e.to_json());
    return {{"count", count}, {"last", list}};
}

}  // namespace

json DhcpLease::to_json() const {
    json files = json::array();
    for (const BootFile& f : boot_files)
        files.push_back({{"file", f.file}, {"size", f.size}, {"time", f.time}});
    return {{"mac", mac},
            {"ip", or_null(ip)},
            {"hostname", or_null(hostname)},
            {"first_seen", or_null(first_seen)},
            {"last_seen", or_null(last_seen)},
            {"first_was_add", first_was_add},
            {"active", active},
            {"released", or_null(released)},
            {"tags", or_null(tags)},
            {"boot_files", files},
            {"phase", or_null(phase)},
            {"phase_time", or_null(phase_time)},
            {"phase_detail", or_null(phase_detail)}};
}

bool DhcpLeaseTable::apply(const PxeEvent& e) {
    if (e.kind == "refused") {
        ++refused;
        last_refused.push_back(e);
        if (last_refused.size() > kLastRefused) last_refused.erase(last_refused.begin());
        return true;
    }
    std::string mac = e.mac;
    if (mac.empty()) {
        std::optional<std::string> found = mac_of_ip(e.ip);
        if (!found) return false;
        mac = *found;
    }
    DhcpLease& r = leases_[mac];
    bool is_new = r.mac.empty();
    if (is_new && leases_.size() > kMaxLeaseRows) {
        // A machine on the provisioning network that makes up MACs must not grow the table
        // (and every later event's time) without bound: the row seen longest ago goes,
        // released leases first.
        auto victim = leases_.end();
        for (auto it = leases_.begin(); it != leases_.end(); ++it) {
            if (it->first == mac) continue;
            if (victim == leases_.end() ||
                std::pair(it->second.active, it->second.last_seen) <
                    std::pair(victim->second.active, victim->second.last_seen))
                victim = it;
        }
        leases_.erase(victim);
    }
    r.mac = mac;
    if (e.kind == "dhcp") {
        if (is_new) {
            r.first_seen = e.time;
            r.first_was_add = e.action == "add";
        }
        r.last_seen = e.time;
        r.ip = e.ip;
        if (!e.hostname.empty()) r.hostname = e.hostname;
        if (!e.tags.empty()) r.tags = e.tags;
        r.active = e.action != "del";
        r.released = e.action == "del" ? e.time : 0;
    } else if (e.kind == "tftp") {
        r.boot_files.push_back({e.file, e.size, e.time});
        // A machine stuck in a boot loop fetches its files again and again: the latest count.
        if (r.boot_files.size() > kMaxBootFiles) r.boot_files.erase(r.boot_files.begin());
    } else if (e.kind == "phase") {
        r.phase = e.phase;
        r.phase_time = e.time;
        r.phase_detail = e.detail;
    }
    return true;
}

std::optional<std::string> DhcpLeaseTable::mac_of_ip(const std::string& ip) const {
    const DhcpLease* best = nullptr;
    for (const auto& [mac, r] : leases_)
        if (r.active && r.ip == ip && (!best || r.last_seen > best->last_seen)) best = &r;
    if (!best) return std::nullopt;
    return best->mac;
}

json DhcpLeaseTable::to_json() const {
    json list = json::array();
    for (const auto& [mac, r] : leases_) list.push_back(r.to_json());
    return {{"applied_bytes", applied_bytes},
            {"log_inode", log_inode},
            {"log_head", log_head},
            {"refused", refused_json(refused, last_refused)},
            {"leases", list}};
}

DhcpLeaseTable DhcpLeaseTable::from_json(const json& j, const std::string& path) {
    if (!j.is_object() || !j.contains("leases") || !j["leases"].is_array())
        throw Error(fmt::format("{}: not a lease table", path));
    DhcpLeaseTable t;
    t.applied_bytes = json_unsigned(j, "applied_bytes");
    t.log_inode = json_unsigned(j, "log_inode");
    t.log_head = json_string(j, "log_head");
    if (j.contains("refused") && j["refused"].is_object()) {
        const json& r = j["refused"];
        t.refused = json_unsigned(r, "count");
        if (r.contains("last") && r["last"].is_array())
            for (const json& e : r["last"]) try {
                    t.last_refused.push_back(PxeEvent::from_json(e, path));
                } catch (const Error&) {
                }
    }
    for (const json& l : j["leases"]) {
        DhcpLease r;
        r.mac = json_string(l, "mac");
        if (r.mac.empty()) throw Error(fmt::format("{}: a lease without a MAC", path));
        r.ip = json_string(l, "ip");
        r.hostname = json_string(l, "hostname");
        r.first_seen = json_number(l, "first_seen");
        r.last_seen = json_number(l, "last_seen");
        r.first_was_add = l.value("first_was_add", false);
        r.active = l.value("active", false);
        r.released = json_number(l, "released");
        r.tags = json_string(l, "tags");
        if (l.contains("boot_files") && l["boot_files"].is_array())
            for (const json& f : l["boot_files"])
                r.boot_files.push_back({json_string(f, "file"),
                                        static_cast<long long>(json_number(f, "size")),
                                        json_number(f, "time")});
        r.phase = json_string(l, "phase");
        r.phase_time = json_number(l, "phase_time");
        r.phase_detail = json_string(l, "phase_detail");
        t.leases_[r.mac] = std::move(r);
    }
    return t;
}

json joined_table(const std::vector<NodeEntry>& nodes, const DhcpLeaseTable& leases, double now) {
    json rows = json::array();
    std::set<std::string> claimed;
    for (const NodeEntry& n : nodes) {
        json row = {{"name", n.name},
                    {"bmc", n.bmc ? json(ipv4_string(*n.bmc)) : json()},
                    {"mac", or_null(n.mac)}};
        auto it = n.mac.empty() ? leases.leases().end() : leases.leases().find(n.mac);
        if (it != leases.leases().end()) {
            claimed.insert(n.mac);
            json lease = it->second.to_json();
            for (const char* key :
                 {"ip", "hostname", "first_seen", "last_seen", "active", "released", "tags",
                  "boot_files", "phase", "phase_time", "phase_detail"})
                row[key] = lease[key];
        } else {
            row["ip"] = nullptr;
            row["active"] = false;
        }
        rows.push_back(row);
    }
    json unbound = json::array();
    for (const auto& [mac, r] : leases.leases())
        if (!claimed.count(mac)) unbound.push_back(r.to_json());
    return {{"updated", now},
            {"nodes", rows},
            {"unbound", unbound},
            {"refused", refused_json(leases.refused, leases.last_refused)}};
}

std::string refused_summary(const json& table) {
    const json& r = table.value("refused", json::object());
    uint64_t count = r.is_object() ? json_unsigned(r, "count") : 0;
    if (count == 0) return "";
    std::string out = fmt::format("refused reports: {}", count);
    const json& last = r.value("last", json::array());
    if (last.is_array() && !last.empty() && last.back().is_object()) {
        const json& e = last.back();
        std::string when = "?";
        try {
            when = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}",
                               fmt::gmtime(static_cast<time_t>(json_number(e, "time"))));
        } catch (const fmt::format_error&) {
        }
        out += fmt::format(", the last from {} at {}: {}", json_string(e, "ip"), when,
                           json_string(e, "detail"));
    }
    return out;
}

}  // namespace storkit
