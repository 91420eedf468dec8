#include "mgmtvm/virt.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <unistd.h>

#include <mutex>
#include <thread>

#include "core/deadline.h"
#include "core/error.h"
#include "core/statefile.h"
#include "core/trust.h"
#include "mgmtvm/virt_handle.h"

namespace storkit::virt {

namespace {
void ignore_libvirt_error(void*, virErrorPtr) {}
}  // namespace

void init_libvirt() {
    static std::once_flag once;
    std::call_once(once, [] {
        virInitialize();
        virSetErrorFunc(nullptr, ignore_libvirt_error);
    });
}

std::string last_error() {
    virErrorPtr e = virGetLastError();
    return e && e->message ? e->message : "unknown libvirt error";
}

bool last_error_is_no_domain() {
    virErrorPtr e = virGetLastError();
    return e && e->code == VIR_ERR_NO_DOMAIN;
}

// The domain, or an empty Dom when the node does not know it; throws on other errors.
Dom lookup(const Conn& c, const std::string& name) {
    virDomainPtr d = virDomainLookupByName(c.get(), name.c_str());
    if (!d && !last_error_is_no_domain())
        throw Error(
            fmt::format("libvirt {}: lookup of domain {}: {}", c.uri(), name, last_error()));
    return Dom(d);
}

std::string definition_mark(virDomainPtr d) {
    char* meta = virDomainGetMetadata(d, VIR_DOMAIN_METADATA_ELEMENT, kDefinitionNamespace,
                                      VIR_DOMAIN_AFFECT_CONFIG);
    if (!meta) return "";
    std::string text = meta;
    free(meta);
    for (const char* quote : {"checksum='", "checksum=\""}) {
        size_t at = text.find(quote);
        if (at == std::string::npos) continue;
        at += 10;
        size_t end = text.find(quote[9], at);
        if (end != std::string::npos) return text.substr(at, end - at);
    }
    return "";
}

namespace {

const char* state_name(int state) {
    switch (state) {
        case VIR_DOMAIN_RUNNING: return "running";
        case VIR_DOMAIN_BLOCKED: return "blocked";
        case VIR_DOMAIN_PAUSED: return "paused";
        case VIR_DOMAIN_SHUTDOWN: return "shutting-down";
        case VIR_DOMAIN_SHUTOFF: return "shutoff";
        case VIR_DOMAIN_CRASHED: return "crashed";
        case VIR_DOMAIN_PMSUSPENDED: return "suspended";
        default: return "nostate";
    }
}

// libvirt's reason for VIR_DOMAIN_PAUSED, as the reconcile sees it.
std::pair<Pause, const char*> pause_of(int reason) {
    switch (reason) {
        case VIR_DOMAIN_PAUSED_IOERROR: return {Pause::kIoError, "I/O error"};
        case VIR_DOMAIN_PAUSED_USER: return {Pause::kOperator, "operator"};
        case VIR_DOMAIN_PAUSED_MIGRATION: return {Pause::kOther, "migration"};
        case VIR_DOMAIN_PAUSED_SAVE: return {Pause::kOther, "save"};
        case VIR_DOMAIN_PAUSED_DUMP: return {Pause::kOther, "dump"};
        case VIR_DOMAIN_PAUSED_WATCHDOG: return {Pause::kOther, "watchdog"};
        case VIR_DOMAIN_PAUSED_FROM_SNAPSHOT: return {Pause::kOther, "snapshot"};
        case VIR_DOMAIN_PAUSED_SHUTTING_DOWN: return {Pause::kOther, "shutting down"};
        case VIR_DOMAIN_PAUSED_SNAPSHOT: return {Pause::kOther, "snapshot"};
        case VIR_DOMAIN_PAUSED_CRASHED: return {Pause::kOther, "crashed"};
        case VIR_DOMAIN_PAUSED_STARTING_UP: return {Pause::kOther, "starting up"};
        default: return {Pause::kOther, "unknown reason"};
    }
}

DomainStatus status_of(const Conn& c, const std::string& name) {
    DomainStatus st;
    Dom d = lookup(c, name);
    if (!d) {
        st.active = Tri::kNo;
        st.state = "absent";
        return st;
    }
    int state = 0, reason = 0;
    if (virDomainGetState(d.get(), &state, &reason, 0) < 0)
        throw Error(fmt::format("libvirt {}: state of {}: {}", c.uri(), name, last_error()));
    st.state = state_name(state);
    if (state == VIR_DOMAIN_PAUSED) std::tie(st.paused, st.pause_reason) = pause_of(reason);
    // Anything but "shut off" may hold the disk: a paused or crashed-but-preserved domain too.
    st.active = state == VIR_DOMAIN_SHUTOFF ? Tri::kNo : Tri::kYes;
    st.persistent = virDomainIsPersistent(d.get()) == 1;
    int autostart = 0;
    if (st.persistent && virDomainGetAutostart(d.get(), &autostart) == 0)
        st.autostart = autostart != 0;
    if (st.persistent) st.definition = definition_mark(d.get());
    return st;
}

}  // namespace

std::string domain_name_from_xml(const std::string& xml) {
    size_t open = xml.find("<name>");
    if (open == std::string::npos) return "";
    open += 6;
    size_t close = xml.find("</name>", open);
    if (close == std::string::npos) return "";
    std::string name = xml.substr(open, close - open);
    size_t b = name.find_first_not_of(" \t\r\n");
    size_t e = name.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? "" : name.substr(b, e - b + 1);
}

DomainStatus query(const std::string& uri, const std::string& name, milliseconds timeout) {
    init_libvirt();
    DomainStatus st;
    try {
        std::optional<DomainStatus> r = call_with_deadline<DomainStatus>(
            [uri, name] {
                Conn c(uri);
                return status_of(c, name);
            },
            timeout);
        if (r) return *r;
        st.error = fmt::format("libvirt {}: no answer within {} ms", uri, timeout.count());
    } catch (const std::exception& e) {
        st.error = e.what();
    }
    st.state = "unknown";
    return st;
}

void start(const std::string& uri, const std::string& name, const std::string& xml_path,
           milliseconds timeout) {
    bounded(fmt::format("libvirt {}: start {}", uri, name), timeout, [uri, name, xml_path] {
        Conn c(uri);
        Dom d = lookup(c, name);
        if (d) {
            if (virDomainIsActive(d.get()) == 1) return;
            if (virDomainIsPersistent(d.get()) == 1) {
                if (virDomainSetAutostart(d.get(), 0) < 0)
                    throw Error(fmt::format("libvirt {}: autostart off for {}: {}", uri, name,
                                            last_error()));
                if (virDomainCreate(d.get()) < 0)
                    throw Error(fmt::format("libvirt {}: start {}: {}", uri, name, last_error()));
                return;
            }
        }
        // The definition says what runs as root (qemu's binary, its devices): only root may
        // be able to change it.
        if (::access(xml_path.c_str(), F_OK) == 0)
            require_root_only_writable(xml_path, "domain definition vm.domain_xml");
        std::optional<std::string> text = read_input_file(xml_path, 1 << 20);
        if (!text)
            throw Error(fmt::format("{}: domain definition missing; cannot start {} on {}",
                                    xml_path, name, uri));
        std::string xml_name = domain_name_from_xml(*text);
        if (xml_name != name)
            throw Error(fmt::format("{}: domain <name> is \"{}\", expected \"{}\"", xml_path,
                                    xml_name, name));
        Dom created(virDomainCreateXML(c.get(), text->c_str(), 0));
        if (!created)
            throw Error(
                fmt::format("libvirt {}: start {} from {}: {}", uri, name, xml_path, last_error()));
    });
}

namespace {

// Is the domain (looked up again: it may have gone) still active? An error is not "stopped".
bool still_active(const Conn& c, const std::string& name) {
    Dom d = lookup(c, name);
    if (!d) return false;
    int active = virDomainIsActive(d.get());
    if (active < 0)
        throw Error(fmt::format("libvirt {}: is {} active? {}", c.uri(), name, last_error()));
    return active == 1;
}

}  // namespace

void stop(const std::string& uri, const std::string& name, milliseconds graceful,
          milliseconds timeout) {
    bounded(fmt::format("libvirt {}: stop {}", uri, name), timeout, [uri, name, graceful] {
        Conn c(uri);
        if (!still_active(c, name)) return;
        Dom d = lookup(c, name);
        if (!d) return;
        // Ask the guest first; a guest that ignores ACPI is destroyed at the graceful deadline.
        if (virDomainShutdown(d.get()) == 0) {
            auto until = std::chrono::steady_clock::now() + graceful;
            while (std::chrono::steady_clock::now() < until) {
                if (!still_active(c, name)) return;
                std::this_thread::sleep_for(milliseconds(200));
            }
        }
        if (!still_active(c, name)) return;
        Dom again = lookup(c, name);
        if (!again) return;
        if (virDomainDestroy(again.get()) < 0)
            throw Error(fmt::format("libvirt {}: destroy {}: {}", uri, name, last_error()));
    });
}

void resume(const std::string& uri, const std::string& name, milliseconds timeout) {
    bounded(fmt::format("libvirt {}: resume {}", uri, name), timeout, [uri, name] {
        Conn c(uri);
        Dom d = lookup(c, name);
        if (!d) throw Error(fmt::format("libvirt {}: resume {}: no such domain", uri, name));
        if (virDomainResume(d.get()) < 0)
            throw Error(fmt::format("libvirt {}: resume {}: {}", uri, name, last_error()));
    });
}

void disable_autostart(const std::string& uri, const std::string& name, milliseconds timeout) {
    bounded(fmt::format("libvirt {}: autostart off for {}", uri, name), timeout, [uri, name] {
        Conn c(uri);
        Dom d = lookup(c, name);
        if (d && virDomainSetAutostart(d.get(), 0) < 0)
            throw Error(
                fmt::format("libvirt {}: autostart off for {}: {}", uri, name, last_error()));
    });
}

}  // namespace storkit::virt
