// libvirt control of one domain on one node, every call bounded by a deadline.
// The seam is the libvirt URI: tests point it at real libvirtd daemons serving the test driver.
#pragma once

#include <chrono>
#include <string>

#include "core/tri.h"

namespace storkit::virt {

using std::chrono::milliseconds;

// Why a paused domain is paused: only a pause for an I/O error is the reconcile's to undo.
enum class Pause { kNone, kIoError, kOperator, kOther };

// What one node's libvirt says about the domain.
struct DomainStatus {
    Tri active = Tri::kUnknown;  // yes: running/paused/...; no: shut off or not defined
    std::string state;           // "running", "paused", "shutoff", "absent", ... or "unknown"
    Pause paused = Pause::kNone;
    std::string pause_reason;  // libvirt's reason for a pause: "I/O error", "operator", ...
    bool persistent = false;   // defined on this node (not only transient)
    bool autostart = false;
    // The checksum mgmtvm-deploy marked the persistent definition with ("" when unmarked).
    std::string definition;
    std::string error;  // why `active` is unknown
};

// The XML namespace of the mark mgmtvm-deploy puts in a definition's <metadata>.
inline constexpr const char* kDefinitionNamespace = "urn:storkit:mgmtvm-deploy";

// Asks `uri` about domain `name`. Never throws: no answer within `timeout`, or any libvirt
// error, gives active == kUnknown with the reason in `error`.
DomainStatus query(const std::string& uri, const std::string& name, milliseconds timeout);

// Starts the domain: from its persistent definition if the node has one (autostart is
// switched off first), else from `xml_path` as a transient domain, whose <name> must equal
// `name`. Throws Error naming the URI on failure or at the deadline.
void start(const std::string& uri, const std::string& name, const std::string& xml_path,
           milliseconds timeout);

// Stops the domain: graceful shutdown, wait up to `graceful`, then destroy. A domain that is
// not running is left alone. Throws Error on failure or when `timeout` (the whole call) passes.
void stop(const std::string& uri, const std::string& name, milliseconds graceful,
          milliseconds timeout);

// Resumes a paused domain. Throws Error on failure or at the deadline.
void resume(const std::string& uri, const std::string& name, milliseconds timeout);

// Turns autostart off for a persistent domain. Throws Error on failure.
void disable_autostart(const std::string& uri, const std::string& name, milliseconds timeout);

// The text of the first <name> element of a domain XML document, or "" when there is none.
std::string domain_name_from_xml(const std::string& xml);

}  // namespace storkit::virt
