// Internal to virt*.cc: owners of libvirt handles and the deadline around a libvirt call.
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <chrono>
#include <string>

#include "core/deadline.h"
#include "core/error.h"

namespace storkit::virt {

using std::chrono::milliseconds;

// libvirt prints every error on stderr unless told otherwise; ours carry its message instead.
void init_libvirt();
std::string last_error();
bool last_error_is_no_domain();

// RAII owners for libvirt handles.
class Conn {
  public:
    explicit Conn(const std::string& uri) : uri_(uri), ptr_(virConnectOpen(uri.c_str())) {
        if (!ptr_) throw Error(fmt::format("libvirt {}: cannot connect: {}", uri, last_error()));
    }
    ~Conn() { virConnectClose(ptr_); }
    Conn(const Conn&) = delete;
    Conn& operator=(const Conn&) = delete;
    virConnectPtr get() const { return ptr_; }
    const std::string& uri() const { return uri_; }

  private:
    std::string uri_;
    virConnectPtr ptr_ = nullptr;
};

class Dom {
  public:
    explicit Dom(virDomainPtr p) : ptr_(p) {}
    ~Dom() {
        if (ptr_) virDomainFree(ptr_);
    }
    Dom(const Dom&) = delete;
    Dom& operator=(const Dom&) = delete;
    virDomainPtr get() const { return ptr_; }
    explicit operator bool() const { return ptr_ != nullptr; }

  private:
    virDomainPtr ptr_;
};

// The domain, or an empty Dom when the node does not know it; throws on other errors.
Dom lookup(const Conn& c, const std::string& name);

// The checksum in the persistent definition's storkit mark, "" when it has none.
std::string definition_mark(virDomainPtr d);

// Runs `fn` within `timeout`; a missed deadline becomes an Error naming what was asked.
template <typename F>
void bounded(const std::string& what, milliseconds timeout, F fn) {
    init_libvirt();
    std::optional<bool> done = call_with_deadline<bool>(
        [fn]() {
            fn();
            return true;
        },
        timeout);
    if (!done) throw Error(fmt::format("{}: no answer within {} ms", what, timeout.count()));
}

}  // namespace storkit::virt
