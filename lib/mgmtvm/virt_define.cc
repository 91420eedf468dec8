#include "mgmtvm/virt_define.h"

#include <string.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "mgmtvm/virt.h"
#include "mgmtvm/virt_handle.h"

namespace storkit::virt {

namespace {

class Secret {
  public:
    explicit Secret(virSecretPtr p) : ptr_(p) {}
    ~Secret() {
        if (ptr_) virSecretFree(ptr_);
    }
    Secret(const Secret&) = delete;
    Secret& operator=(const Secret&) = delete;
    virSecretPtr get() const { return ptr_; }
    explicit operator bool() const { return ptr_ != nullptr; }

  private:
    virSecretPtr ptr_;
};

// The secret's value equals `want`; the copy libvirt hands out is wiped before it is freed.
bool value_is(const Secret& s, const std::string& want) {
    size_t len = 0;
    unsigned char* v = virSecretGetValue(s.get(), &len, 0);
    if (!v) return false;
    bool same = len == want.size() && std::memcmp(want.data(), v, len) == 0;
    explicit_bzero(v, len);
    free(v);
    return same;
}

void set_value(const Conn& c, const Secret& s, const SecretSpec& spec) {
    if (virSecretSetValue(s.get(), reinterpret_cast<const unsigned char*>(spec.value.data()),
                          spec.value.size(), 0) < 0)
        throw Error(fmt::format("libvirt {}: setting the value of secret {}: {}", c.uri(),
                                spec.uuid, last_error()));
}

void mark(const Conn& c, const Dom& d, const DefinitionSpec& spec) {
    std::string meta = fmt::format("<definition checksum='{}'/>", spec.checksum);
    if (virDomainSetMetadata(d.get(), VIR_DOMAIN_METADATA_ELEMENT, meta.c_str(), "storkit",
                             kDefinitionNamespace, VIR_DOMAIN_AFFECT_CONFIG) < 0)
        throw Error(fmt::format("libvirt {}: marking the definition of {}: {}", c.uri(), spec.name,
                                last_error()));
}

}  // namespace

Change define_secret(const std::string& uri, const SecretSpec& spec, bool dry_run,
                     std::chrono::milliseconds timeout) {
    Change change = Change::kNone;
    bounded(fmt::format("libvirt {}: secret {}", uri, spec.uuid), timeout, [&] {
        Conn c(uri);
        Secret by_usage(
            virSecretLookupByUsage(c.get(), VIR_SECRET_USAGE_TYPE_CEPH, spec.usage.c_str()));
        if (by_usage) {
            char uuid[VIR_UUID_STRING_BUFLEN] = {};
            virSecretGetUUIDString(by_usage.get(), uuid);
            if (spec.uuid != uuid)
                throw Error(fmt::format(
                    "libvirt {}: a ceph secret for \"{}\" exists with UUID {}, not {}: undefine "
                    "it, or name it in the domain XML",
                    uri, spec.usage, uuid, spec.uuid));
            if (value_is(by_usage, spec.value)) return;
            change = Change::kUpdated;
            if (!dry_run) set_value(c, by_usage, spec);
            return;
        }
        change = Change::kCreated;
        if (dry_run) return;
        // private='no': the value can be read back (by root, over the read-write socket) so
        // that a rerun can tell whether it is current; Ceph's keyring is root's to read anyway.
        std::string xml = fmt::format(
            "<secret ephemeral='no' private='no'>\n"
            "  <uuid>{}</uuid>\n"
            "  <usage type='ceph'><name>{}</name></usage>\n"
            "</secret>\n",
            spec.uuid, spec.usage);
        Secret made(virSecretDefineXML(c.get(), xml.c_str(), 0));
        if (!made)
            throw Error(
                fmt::format("libvirt {}: defining secret {}: {}", uri, spec.uuid, last_error()));
        set_value(c, made, spec);
    });
    return change;
}

Change define_domain(const std::string& uri, const DefinitionSpec& spec, bool dry_run,
                     std::chrono::milliseconds timeout) {
    Change change = Change::kNone;
    bounded(fmt::format("libvirt {}: define {}", uri, spec.name), timeout, [&] {
        Conn c(uri);
        Dom d = lookup(c, spec.name);
        if (d) {
            char uuid[VIR_UUID_STRING_BUFLEN] = {};
            virDomainGetUUIDString(d.get(), uuid);
            if (spec.uuid != uuid)
                throw Error(fmt::format(
                    "libvirt {}: domain {} has UUID {}, the definition {}: a different VM of "
                    "the same name; undefine it first",
                    uri, spec.name, uuid, spec.uuid));
        }
        bool persistent = d && virDomainIsPersistent(d.get()) == 1;
        if (persistent && definition_mark(d.get()) == spec.checksum) {
            int autostart = 0;
            if (virDomainGetAutostart(d.get(), &autostart) == 0 && autostart == 0) return;
            change = Change::kAutostartOff;
            if (!dry_run && virDomainSetAutostart(d.get(), 0) < 0)
                throw Error(fmt::format("libvirt {}: autostart off for {}: {}", uri, spec.name,
                                        last_error()));
            return;
        }
        change = persistent ? Change::kUpdated : Change::kCreated;
        if (dry_run) return;
        Dom defined(virDomainDefineXML(c.get(), spec.xml.c_str()));
        if (!defined)
            throw Error(fmt::format("libvirt {}: defining {}: {}", uri, spec.name, last_error()));
        if (virDomainSetAutostart(defined.get(), 0) < 0)
            throw Error(
                fmt::format("libvirt {}: autostart off for {}: {}", uri, spec.name, last_error()));
        mark(c, defined, spec);
    });
    return change;
}

}  // namespace storkit::virt
