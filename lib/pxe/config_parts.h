// Parts of the pxe.json loader (config.cc): the kinds of value its keys hold, and the nodes.
// Each problem names the key path and is recorded or thrown as core/config_file.h says.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/config_file.h"
#include "core/netaddr.h"
#include "pxe/config.h"

namespace storkit::pxe_config {

// The keys of pxe.json's top level and of its "paths" (pxe-report checks these two without
// loading the rest of the file).
inline constexpr std::string_view kRootKeys[] = {"bmc",     "data",   "server",  "iso",
                                                 "paths",   "boot",   "install", "power",
                                                 "monitor", "groups", "nodes"};
inline constexpr std::string_view kPathsKeys[] = {"tftp_root",     "http_root", "dnsmasq_conf",
                                                  "lighttpd_conf", "state_dir", "dhcp_hostsdir"};

// An IPv4 address; 0 after a problem.
Ipv4 address(const ConfigNode& n, const std::string& key);

// ADDRESS/PREFIX; 0.0.0.0/0 after a problem.
Subnet subnet(const ConfigNode& n, const std::string& key);

// An absolute path (`fallback` when absent) fit for the generated dnsmasq and lighttpd configs,
// without a trailing slash.
std::string abs_path(const ConfigNode& n, const std::string& key, const std::string& fallback);

// A path inside the image: relative, no "." or ".." components.
std::string image_path(const ConfigNode& n, const std::string& key);

// Whether `path` is `dir` or inside it.
bool inside(const std::string& path, const std::string& dir);

// A problem at `key` unless `addr` is a usable host address of `s` (not its network or broadcast
// address); `subnet_key` names `s` in the message.
void require_host(const ConfigNode& n, const std::string& key, Ipv4 addr, const Subnet& s,
                  const std::string& subnet_key);

// Reads the `groups` section into c.groups (nothing when absent); each group allows `keys`.
void load_groups(PxeConfig& c, const ConfigNode& root, std::span<const std::string_view> keys);

// A problem at `key` when `value` looks like a secret written inline (a crypt(3) password hash,
// a PEM private key): such values belong in install.secret_files.
void refuse_inline_secret(const ConfigNode& vars, const std::string& key, const std::string& value);

// Reads the `nodes` section into c.nodes (nothing when absent); each node allows `keys`. The
// networks, the server, the gateway (for c.parts kAll) and the groups are read already.
void load_nodes(PxeConfig& c, const ConfigNode& root, std::span<const std::string_view> keys);

inline constexpr size_t kNoVar = static_cast<size_t>(-1);

// Adds the template variable `key` of the object `vars` (install.vars, or a group's or a
// node's vars) to c.var_names unless it is there already, and returns its index. A name that
// is not letters, digits and _ is a problem; a built-in name is one too, and gives kNoVar.
size_t declare_var(PxeConfig& c, const ConfigNode& vars, const std::string& key);

// The `vars` object of a group or a node (`owner`), declaring each variable.
TemplateValues load_vars(PxeConfig& c, const ConfigNode& owner);

// Reads install.template and compiles it and boot.kernel_args with every variable known; then
// checks that each node has a value for every variable they use, and that no value that
// boot.kernel_args uses holds a line break.
void load_templates(PxeConfig& c, const ConfigNode& root);

}  // namespace storkit::pxe_config
