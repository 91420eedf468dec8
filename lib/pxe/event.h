// What happens to a node during a network install, as one event: a DHCP lease or a TFTP
// transfer (from dnsmasq's dhcp-script), or an install phase the node reports over HTTP.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace storkit {

struct PxeEvent {
    double time = 0;     // seconds since the epoch, when it was recorded
    std::string kind;    // "dhcp", "tftp" or "phase"
    std::string action;  // dhcp: "add", "old" or "del"
    std::string mac;     // normalized (lower case, colons); tftp: empty (dnsmasq gives the IP)
    std::string ip;
    std::string hostname;      // dhcp: the name the client sent, if any
    std::string file;          // tftp: the path dnsmasq sent
    long long size = -1;       // tftp: bytes sent
    std::string phase;         // phase: e.g. "installing", "done", "failed"
    std::string detail;        // phase: a short free text from the node
    std::string tags;          // dhcp: dnsmasq's tags for the request (e.g. "efi64 known")
    std::string vendor_class;  // dhcp: e.g. "PXEClient:Arch:00007:UNDI:003016"

    nlohmann::json to_json() const;
    // Throws Error on an object that is not an event (`where` names the file and line).
    static PxeEvent from_json(const nlohmann::json& j, const std::string& where);
};

// Reads dnsmasq's dhcp-script arguments: `add|old|del MAC IP [HOSTNAME]` or
// `tftp SIZE IP FILE`, plus the DNSMASQ_TAGS and DNSMASQ_VENDOR_CLASS environment. Returns
// nullopt for calls that are not recorded (init, arp, arp-old, arp-del, relay-snoop, ...).
// Throws ConfigError naming the argument when a recorded call is malformed.
std::optional<PxeEvent> event_from_hook(const std::vector<std::string>& args, double now);

// A phase report: `phase` is required (lower-case letters, digits, - and _, at most 32),
// `mac` optional (the caller finds it from the sender's address otherwise), `detail` at most
// 200 printable characters. Throws ConfigError naming the field.
PxeEvent phase_event(const std::map<std::string, std::string>& fields, const std::string& ip,
                     double now);

// Decodes an application/x-www-form-urlencoded string ("a=1&b=x%20y"). A key given twice keeps
// its last value. Throws ConfigError on a bad %-escape.
std::map<std::string, std::string> parse_form(std::string_view text);

}  // namespace storkit
