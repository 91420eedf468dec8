// /etc/storkit/pxe.json: the BMC and data subnets, the control machine, the ISO to install,
// where generated files go, how nodes boot, the install template and (optionally) groups of
// nodes and the nodes, each with its own template variables and BMC login. Loading validates
// everything a command reads (PxeConfigParts); every error names the file and the key path.
#pragma once

#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_file.h"
#include "core/netaddr.h"
#include "core/text_template.h"
#include "pxe/monitor.h"
#include "pxe/node_table.h"
#include "pxe/report_snippets.h"

namespace storkit {

inline constexpr const char* kDefaultPxeConfig = "/etc/storkit/pxe.json";
// The user lighttpd (and so the report CGI) runs as: never root.
inline constexpr const char* kDefaultCgiUser = "storkit-pxe";

enum class Firmware { kAuto, kBios, kUefi };  // which first stages DHCP offers
enum class Loader { kIpxe, kNative };         // iPXE (HTTP), or pxelinux (BIOS) + GRUB (UEFI)

// Variables every template (install template, boot.kernel_args) can use, in this order;
// install.vars follow them. kTemplateVars names them: loading, rendering and the man-page check
// all read that one table.
enum TemplateVar : size_t {
    kVarName,
    kVarHostname,
    kVarFqdn,
    kVarDomain,
    kVarIp,
    kVarNetmask,
    kVarPrefix,
    kVarGateway,
    kVarDns,
    kVarMac,
    kVarBmc,
    kVarServer,
    kVarHttpUrl,
    kVarRepoUrl,
    kVarKsUrl,
    kVarReportUrl,
    kVarKernelUrl,
    kVarInitrdUrl,
    kVarVersion,
    kVarImageSha256,
    kBuiltinVarCount
};
struct TemplateVarName {
    TemplateVar var;
    std::string_view name;
};
inline constexpr TemplateVarName kTemplateVars[] = {
    {kVarName, "name"},
    {kVarHostname, "hostname"},
    {kVarFqdn, "fqdn"},
    {kVarDomain, "domain"},
    {kVarIp, "ip"},
    {kVarNetmask, "netmask"},
    {kVarPrefix, "prefix"},
    {kVarGateway, "gateway"},
    {kVarDns, "dns"},
    {kVarMac, "mac"},
    {kVarBmc, "bmc"},
    {kVarServer, "server"},
    {kVarHttpUrl, "http_url"},
    {kVarRepoUrl, "repo_url"},
    {kVarKsUrl, "ks_url"},
    {kVarReportUrl, "report_url"},
    {kVarKernelUrl, "kernel_url"},
    {kVarInitrdUrl, "initrd_url"},
    {kVarVersion, "version"},
    {kVarImageSha256, "image_sha256"},
};
constexpr bool template_vars_in_order() {
    for (size_t i = 0; i < std::size(kTemplateVars); ++i)
        if (kTemplateVars[i].var != i) return false;
    return std::size(kTemplateVars) == kBuiltinVarCount;
}
static_assert(template_vars_in_order(), "kTemplateVars: one row per TemplateVar, in order");

// The names of kTemplateVars, in order.
const std::vector<std::string>& builtin_template_vars();

// What of pxe.json a command reads. kPower is what powering the nodes needs (bmc-power,
// pxe-provision boot): the bmc, groups, nodes, paths and power sections and boot.firmware
// (power.boot_mode's default). The other sections are neither read nor checked, so a missing
// image or a broken install template does not keep anyone from powering nodes; node addresses
// are not checked against the data network, and the template variables of groups and nodes
// are not checked against the templates.
enum class PxeConfigParts { kAll, kPower };

// groups.NAME: settings its nodes (nodes.NAME.group) share.
struct NodeGroup {
    std::string name;
    NodeSettings settings;
};

// Where a node's IPMI login comes from: its own keys, else its group's, else the bmc section.
struct BmcLoginSource {
    std::string user;
    std::string password_file;
    // The key naming password_file, for messages: e.g. "groups.rack1.bmc_password_file".
    std::string password_key;
};

struct PxeConfig {
    std::string path;
    PxeConfigParts parts = PxeConfigParts::kAll;  // what was read

    Subnet bmc_subnet;
    std::string bmc_user;
    std::string bmc_password_file;  // read by the power commands, never by prepare
    int bmc_cipher_suite = 3;
    long bmc_timeout_ms = 5000;  // per answer from a BMC
    int bmc_retries = 1;

    // Powering the nodes on (pxe-provision boot): `power_wave` nodes at a time, waves at least
    // `power_interval_ms` apart; a node without a MAC is powered alone and waits up to
    // `bind_timeout_ms` for its first lease.
    long power_wave = 1;
    long power_interval_ms = 10000;
    long bind_timeout_ms = 300000;
    bool boot_efi = false;  // the one-time boot override asks for UEFI (else legacy BIOS)

    Subnet data_subnet;
    AddressRange pool;
    std::optional<Ipv4> gateway;
    std::vector<Ipv4> dns;
    std::string domain;
    long lease_s = 3600;

    std::string interface;
    Ipv4 server = 0;
    long http_port = 80;
    bool serve_dns = false;
    std::string hook;  // pxe-report: dnsmasq's dhcp-script and the CGI behind /storkit/report
    // lighttpd's user (server.user); prepare resolves its group, through which the CGI writes
    // the install state.
    std::string cgi_user;
    std::string cgi_group;  // set by prepare
    long cgi_gid = -1;      // set by prepare

    std::string iso_repository;
    std::string iso_version;
    std::string iso_path;                // <repository>/<version>.iso, which exists
    std::string iso_kernel, iso_initrd;  // paths inside the image; empty: found by layout

    std::string tftp_root, http_root, dnsmasq_conf, lighttpd_conf, state_dir, hosts_dir;

    Firmware firmware = Firmware::kAuto;
    Loader loader = Loader::kIpxe;
    std::optional<TextTemplate> kernel_args;  // absent: the default for the image's family

    std::string template_path;
    TextTemplate install_template;
    // Every variable a template may use: the builtins, then the keys of install.vars, then the
    // variables only groups and nodes set (groups.NAME.vars, nodes.NAME.vars).
    std::vector<std::string> var_names;
    // install.vars, the values every node has unless its group or itself sets another, by
    // index - kBuiltinVarCount; none: only groups or nodes set it.
    std::vector<std::optional<std::string>> var_defaults;
    // install.report: the reporting snippets appended to every rendered install file.
    ReportSnippets report_snippets = ReportSnippets::kKickstart;

    // pxe-monitor: the deadlines, where results go and who is told.
    MonitorSettings monitor;
    std::string monitor_feedback;             // JSON lines; default <pxe state>/feedback.jsonl
    std::vector<std::string> monitor_notify;  // argv run per result; empty: none

    std::vector<NodeGroup> groups;                // sorted by name
    std::optional<std::vector<NodeEntry>> nodes;  // sorted by name; absent: from the node table

    // <state_dir>/pxe: the node table, the file manifest, the image cache, the lock.
    std::string pxe_state() const { return state_dir + "/pxe"; }
    // The program dnsmasq and lighttpd run: pxe-report with this state directory.
    std::string report_hook() const { return pxe_state() + "/report-hook"; }
    // Where the kickstarts are: outside the served roots; the CGI hands each to its node.
    std::string ks_dir() const { return pxe_state() + "/ks"; }
    // The config's node `name`; nullptr when it has none of that name (or no nodes at all).
    const NodeEntry* node(std::string_view name) const;
    // The group `name`; nullptr when there is none (or `name` is empty).
    const NodeGroup* group(std::string_view name) const;
    // The IPMI login of node `name` (a node of the node table has the bmc section's).
    BmcLoginSource bmc_login(std::string_view name) const;
    bool wants_bios() const { return firmware != Firmware::kUefi; }
    bool wants_uefi() const { return firmware != Firmware::kBios; }
};

// Reads and validates `path`, or the `parts` of it a command needs. Throws one ConfigError
// listing every problem of what it read, one per line, each naming the file, the key path and
// the value.
PxeConfig load_pxe_config(const std::string& path, PxeConfigParts parts = PxeConfigParts::kAll);

// Every object of pxe.json with the keys it allows: what loading checks and what
// man/pxe-provision.1 documents.
std::span<const ConfigSection> pxe_config_sections();

}  // namespace storkit
