// What a VM's RBD disk needs to reach the cluster, asked of the monitors for mgmtvm-deploy: the
// monitors' addresses and the cephx key of the client the VM connects as.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mgmtvm/ceph_client.h"

namespace storkit::ceph {

struct MonitorAddr {
    std::string host;  // an IPv4 or IPv6 address, without brackets
    int port = 0;
};

// Every monitor of the monmap, each at its legacy (v1) address when it has one (a bare
// host:port reaches it from any client), else its v2 one. Throws Error when the monitors do not
// answer or the answer cannot be read.
std::vector<MonitorAddr> monitor_addrs(Client& c);

// The key of `entity` ("client.admin") as the cluster holds it: the raw bytes behind the base64
// text `ceph auth get-key` prints, which is what a libvirt secret of type ceph holds. Throws
// Error naming the entity (never the key).
std::string auth_key(Client& c, const std::string& entity);

// Decodes standard base64 (padding optional); nullopt for anything else.
std::optional<std::string> base64_decode(const std::string& text);

}  // namespace storkit::ceph
