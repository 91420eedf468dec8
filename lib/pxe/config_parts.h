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

// Reads the `nodes` section into c.nodes (nothing when absent); each node allows `keys`. The
// networks, the server and the gateway are read already.
void load_nodes(PxeConfig& c, const ConfigNode& root, std::span<const std::string_view> keys);

}  // namespace storkit::pxe_config
