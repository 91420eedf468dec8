#include "mgmtvm/domain_xml.h"

#include <fmt/format.h>
#include <sys/random.h>

#include <array>

#include "core/error.h"

namespace storkit {

namespace {

std::string escape(const std::string& s) {
    std::string out;
    for (char ch : s) {
        switch (ch) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '\'': out += "&apos;"; break;
            case '"': out += "&quot;"; break;
            default: out += ch;
        }
    }
    return out;
}

// The value of attribute `attr` in the element that starts at `from`, or "".
std::string attribute(const std::string& xml, size_t from, const std::string& attr) {
    size_t end = xml.find('>', from);
    std::string tag = xml.substr(from, end == std::string::npos ? std::string::npos : end - from);
    size_t at = 0;
    while ((at = tag.find(attr + "=", at)) != std::string::npos) {
        bool boundary = at > 0 && (tag[at - 1] == ' ' || tag[at - 1] == '\t' ||
                                   tag[at - 1] == '\n' || tag[at - 1] == '\r');
        size_t q = at + attr.size() + 1;
        if (boundary && q < tag.size() && (tag[q] == '\'' || tag[q] == '"')) {
            size_t close = tag.find(tag[q], q + 1);
            if (close != std::string::npos) return tag.substr(q + 1, close - q - 1);
        }
        at = q;
    }
    return "";
}

std::string trimmed(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    size_t e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

std::string render_domain_xml(const DomainSpec& s) {
    std::string hosts;
    for (const ceph::MonitorAddr& m : s.monitors)
        hosts += fmt::format("        <host name='{}' port='{}'/>\n", escape(m.host), m.port);
    std::string nic = s.bridge.empty() ? ""
                                       : fmt::format(
                                             "    <interface type='bridge'>\n"
                                             "      <source bridge='{}'/>\n"
                                             "      <model type='virtio'/>\n"
                                             "    </interface>\n",
                                             escape(s.bridge));
    return fmt::format(
        "<!-- The management VM, written by mgmtvm-deploy. Its disk is the RBD image "
        "{pool}/{image};\n"
        "     error_policy 'stop' pauses the guest when the cluster stops answering (the "
        "reconcile\n"
        "     resumes it), instead of handing the guest I/O errors. Defined on every node with\n"
        "     autostart off: mgmtvm-reconcile decides where it runs. -->\n"
        "<domain type='{type}'>\n"
        "  <name>{name}</name>\n"
        "  <uuid>{uuid}</uuid>\n"
        "  <memory unit='MiB'>{mem}</memory>\n"
        "  <vcpu>{vcpus}</vcpu>\n"
        "  <os>\n"
        "    <type arch='x86_64' machine='q35'>hvm</type>\n"
        "    <boot dev='hd'/>\n"
        "  </os>\n"
        "  <features>\n"
        "    <acpi/>\n"
        "    <apic/>\n"
        "  </features>\n"
        "  <on_poweroff>destroy</on_poweroff>\n"
        "  <on_reboot>restart</on_reboot>\n"
        "  <on_crash>destroy</on_crash>\n"
        "  <devices>\n"
        "    <disk type='network' device='disk'>\n"
        "      <driver name='qemu' type='raw' cache='writeback' error_policy='stop' "
        "rerror_policy='stop' discard='unmap'/>\n"
        "      <auth username='{client}'>\n"
        "        <secret type='ceph' uuid='{secret}'/>\n"
        "      </auth>\n"
        "      <source protocol='rbd' name='{pool}/{image}'>\n"
        "{hosts}"
        "      </source>\n"
        "      <target dev='vda' bus='virtio'/>\n"
        "    </disk>\n"
        "{nic}"
        "    <serial type='pty'/>\n"
        "    <console type='pty'/>\n"
        "  </devices>\n"
        "</domain>\n",
        fmt::arg("pool", escape(s.pool)), fmt::arg("image", escape(s.image)),
        fmt::arg("type", escape(s.virt_type)), fmt::arg("name", escape(s.name)),
        fmt::arg("uuid", s.uuid), fmt::arg("mem", s.memory_mib), fmt::arg("vcpus", s.vcpus),
        fmt::arg("client", escape(s.client)), fmt::arg("secret", s.secret_uuid),
        fmt::arg("hosts", hosts), fmt::arg("nic", nic));
}

std::string new_uuid() {
    std::array<unsigned char, 16> b{};
    if (getrandom(b.data(), b.size(), 0) != static_cast<ssize_t>(b.size()))
        throw Error("cannot read random bytes for a UUID");
    b[6] = (b[6] & 0x0f) | 0x40;  // version 4
    b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
    std::string hex;
    for (size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
        hex += fmt::format("{:02x}", b[i]);
    }
    return hex;
}

std::string domain_uuid_from_xml(const std::string& xml) {
    size_t open = xml.find("<uuid>");
    if (open == std::string::npos) return "";
    size_t close = xml.find("</uuid>", open);
    if (close == std::string::npos) return "";
    return trimmed(xml.substr(open + 6, close - open - 6));
}

std::string ceph_secret_uuid_from_xml(const std::string& xml) {
    size_t at = 0;
    while ((at = xml.find("<secret", at)) != std::string::npos) {
        if (attribute(xml, at, "type") == "ceph") return attribute(xml, at, "uuid");
        at += 7;
    }
    return "";
}

std::string definition_checksum(const std::string& text) {
    uint64_t h = 14695981039346656037ull;
    for (unsigned char ch : text) {
        h ^= ch;
        h *= 1099511628211ull;
    }
    return fmt::format("{:016x}", h);
}

}  // namespace storkit
