// Defining the management VM on one node, for mgmtvm-deploy: the libvirt secret that holds the
// Ceph client's key, and the persistent domain (autostart off), marked with the checksum of the
// XML it was defined from so that every node's definition can be compared (virt::query reads
// the mark back as DomainStatus::definition). Every call bounded by a deadline.
#pragma once

#include <chrono>
#include <string>

namespace storkit::virt {

// What a define did, or would do with dry_run.
enum class Change { kNone, kCreated, kUpdated, kAutostartOff };

struct SecretSpec {
    std::string uuid;
    std::string usage;  // the usage name of a secret of type ceph
    std::string value;  // the key's raw bytes; never printed
};

// Makes the node hold secret `s.uuid` with value `s.value`. A secret of another UUID with the
// same usage is an Error (libvirt allows one per usage). Throws Error naming `uri`.
Change define_secret(const std::string& uri, const SecretSpec& s, bool dry_run,
                     std::chrono::milliseconds timeout);

struct DefinitionSpec {
    std::string name, uuid;
    std::string xml;       // the domain XML, whose <name> and <uuid> are these
    std::string checksum;  // of `xml`, kept in the definition's metadata
};

// Makes the node's persistent definition of `d.name` the one from `d.xml`, autostart off.
// Left alone when it already carries `d.checksum` and autostart is off. A domain of that name
// with another UUID is a different VM: an Error, nothing changed. A running domain's new
// definition takes effect at its next start.
Change define_domain(const std::string& uri, const DefinitionSpec& d, bool dry_run,
                     std::chrono::milliseconds timeout);

}  // namespace storkit::virt
