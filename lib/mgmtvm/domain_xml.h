// The management VM's libvirt domain XML as mgmtvm-deploy writes it: one RBD network disk
// (monitors, cephx secret, error_policy 'stop' so a lost cluster pauses the guest instead of
// handing it I/O errors), and what deploy reads back from a definition an operator wrote.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mgmtvm/ceph_auth.h"

namespace storkit {

struct DomainSpec {
    std::string name;
    std::string uuid;       // the same on every node
    std::string virt_type;  // "kvm", or "qemu" (no hardware virtualisation)
    uint64_t memory_mib = 4096;
    unsigned vcpus = 2;
    std::string pool, image;  // the RBD image
    std::string client;       // cephx id, without "client."
    std::string secret_uuid;  // the libvirt secret holding that client's key
    std::vector<ceph::MonitorAddr> monitors;
    std::string bridge;  // a host bridge for a virtio NIC ("" = no NIC)
};

std::string render_domain_xml(const DomainSpec& s);

// A random (version 4) UUID, lower-case.
std::string new_uuid();

// The text of the first <uuid> element, or "".
std::string domain_uuid_from_xml(const std::string& xml);
// The uuid attribute of the first <secret type='ceph' ...> element, or "".
std::string ceph_secret_uuid_from_xml(const std::string& xml);

// A checksum (64-bit FNV-1a, 16 hex digits) of a definition's text, to tell whether two nodes
// were given the same one. Not a defence against anyone.
std::string definition_checksum(const std::string& text);

}  // namespace storkit
