#include "pxe/event.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "core/error.h"
#include "core/netaddr.h"
#include "pxe/json_fields.h"

namespace storkit {

namespace {

std::string hook_env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::string checked_mac(const std::string& text) {
    std::optional<std::string> mac = normalize_mac(text);
    if (!mac) throw ConfigError(fmt::format("'{}' is not a MAC address", text));
    return *mac;
}

std::string checked_ip(const std::string& text) {
    if (!parse_ipv4(text)) throw ConfigError(fmt::format("'{}' is not an IPv4 address", text));
    return text;
}

bool printable(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= 0x20 && c < 0x7f; });
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string url_decode(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) throw ConfigError("bad %-escape in the request");
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

nlohmann::json PxeEvent::to_json() const {
    nlohmann::json j = {{"time", time}, {"kind", kind}};
    auto put = [&](const char* key, const std::string& v) {
        if (!v.empty()) j[key] = v;
    };
    put("action", action);
    put("mac", mac);
    put("ip", ip);
    put("hostname", hostname);
    put("file", file);
    if (size >= 0) j["size"] = size;
    put("phase", phase);
    put("detail", detail);
    put("tags", tags);
    put("vendor_class", vendor_class);
    return j;
}

PxeEvent PxeEvent::from_json(const nlohmann::json& j, const std::string& where) {
    if (!j.is_object() || !j.contains("time") || !j["time"].is_number() ||
        json_string(j, "kind").empty())
        throw Error(fmt::format("{}: not an event", where));
    PxeEvent e;
    e.time = j["time"].get<double>();
    e.kind = json_string(j, "kind");
    e.action = json_string(j, "action");
    e.mac = json_string(j, "mac");
    e.ip = json_string(j, "ip");
    e.hostname = json_string(j, "hostname");
    e.file = json_string(j, "file");
    if (j.contains("size") && j["size"].is_number_integer()) e.size = j["size"].get<long long>();
    e.phase = json_string(j, "phase");
    e.detail = json_string(j, "detail");
    e.tags = json_string(j, "tags");
    e.vendor_class = json_string(j, "vendor_class");
    return e;
}

std::optional<PxeEvent> event_from_hook(const std::vector<std::string>& args, double now) {
    if (args.empty())
        throw ConfigError("no event: expected add|old|del MAC IP or tftp SIZE IP FILE");
    const std::string& action = args[0];
    PxeEvent e;
    e.time = now;
    if (action == "add" || action == "old" || action == "del") {
        if (args.size() < 3 || args.size() > 4)
            throw ConfigError(fmt::format("{}: expected MAC IP [HOSTNAME]", action));
        e.kind = "dhcp";
        e.action = action;
        e.mac = checked_mac(args[1]);
        e.ip = checked_ip(args[2]);
        if (args.size() == 4 && printable(args[3])) e.hostname = args[3].substr(0, 255);
        e.tags = hook_env("DNSMASQ_TAGS").substr(0, 512);
        e.vendor_class = hook_env("DNSMASQ_VENDOR_CLASS").substr(0, 255);
        if (!printable(e.tags)) e.tags.clear();
        if (!printable(e.vendor_class)) e.vendor_class.clear();
        return e;
    }
    if (action == "tftp") {
        if (args.size() != 4) throw ConfigError("tftp: expected SIZE IP FILE");
        long long size = 0;
        const std::string& s = args[1];
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), size);
        if (ec != std::errc() || end != s.data() + s.size() || size < 0)
            throw ConfigError(fmt::format("tftp: '{}' is not a size", s));
        e.kind = "tftp";
        e.action = "tftp";
        e.size = size;
        e.ip = checked_ip(args[2]);
        e.file = printable(args[3]) ? args[3].substr(0, 1024) : "?";
        return e;
    }
    // dnsmasq also calls the script for "init", the ARP table and DHCP relays: nothing to keep.
    return std::nullopt;
}

PxeEvent phase_event(const std::map<std::string, std::string>& fields, const std::string& ip,
                     double now) {
    auto get = [&](const char* key) {
        auto it = fields.find(key);
        return it == fields.end() ? std::string() : it->second;
    };
    PxeEvent e;
    e.time = now;
    e.kind = "phase";
    e.phase = get("phase");
    bool good = !e.phase.empty() && e.phase.size() <= 32 &&
                std::all_of(e.phase.begin(), e.phase.end(), [](unsigned char c) {
                    return std::islower(c) || std::isdigit(c) || c == '-' || c == '_';
                });
    if (!good)
        throw ConfigError(fmt::format("phase '{}': expected lower-case letters, digits, - and _",
                                      printable(e.phase) ? e.phase.substr(0, 40) : "?"));
    if (!get("mac").empty()) e.mac = checked_mac(get("mac"));
    e.ip = ip.empty() ? "" : checked_ip(ip);
    e.detail = get("detail");
    if (e.detail.size() > 200 || !printable(e.detail))
        throw ConfigError("detail: at most 200 printable characters");
    return e;
}

std::map<std::string, std::string> parse_form(std::string_view text) {
    std::map<std::string, std::string> out;
    while (!text.empty()) {
        size_t amp = text.find('&');
        std::string_view pair = text.substr(0, amp);
        size_t eq = pair.find('=');
        if (!pair.empty())
            out[url_decode(pair.substr(0, eq))] =
                eq == std::string_view::npos ? "" : url_decode(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        text.remove_prefix(amp + 1);
    }
    return out;
}

}  // namespace storkit
