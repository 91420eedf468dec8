#include "oracle.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace fault {

namespace {

std::atomic<int> g_in_flight{0};

void quiet(void*, virErrorPtr) {}

// libvirt prints every error on stderr unless told otherwise.
void init() {
    static std::once_flag once;
    std::call_once(once, [] {
        virInitialize();
        virSetErrorFunc(nullptr, quiet);
    });
}

Seen ask_now(const std::string& uri, const std::string& domain) {
    virConnectPtr c = virConnectOpen(uri.c_str());
    if (!c) return Seen::kUnknown;
    Seen seen = Seen::kUnknown;
    if (virDomainPtr d = virDomainLookupByName(c, domain.c_str())) {
        int state = 0, reason = 0;
        if (virDomainGetState(d, &state, &reason, 0) == 0)
            seen = state == VIR_DOMAIN_SHUTOFF ? Seen::kStopped : Seen::kRunning;
        virDomainFree(d);
    } else {
        virErrorPtr e = virGetLastError();
        if (e && e->code == VIR_ERR_NO_DOMAIN) seen = Seen::kStopped;
    }
    virConnectClose(c);
    return seen;
}

}  // namespace

const char* to_string(Seen s) {
    switch (s) {
        case Seen::kRunning: return "running";
        case Seen::kStopped: return "stopped";
        case Seen::kUnknown: return "unknown";
    }
    return "unknown";
}

Seen ask_libvirt(const std::string& uri, const std::string& domain,
                 std::chrono::milliseconds timeout) {
    init();
    struct Answer {
        std::mutex mu;
        std::condition_variable cv;
        bool done = false;
        Seen seen = Seen::kUnknown;
    };
    auto a = std::make_shared<Answer>();
    ++g_in_flight;
    std::thread([a, uri, domain] {
        Seen s = ask_now(uri, domain);
        {
            std::lock_guard<std::mutex> lock(a->mu);
            a->seen = s;
            a->done = true;
        }
        a->cv.notify_all();
        --g_in_flight;
    }).detach();
    std::unique_lock<std::mutex> lock(a->mu);
    if (!a->cv.wait_for(lock, timeout, [&] { return a->done; })) return Seen::kUnknown;
    return a->seen;
}

Seen ask_until_known(const std::string& uri, const std::string& domain, int tries,
                     long& unanswered) {
    for (int i = 0; i < tries; ++i) {
        Seen s = ask_libvirt(uri, domain, std::chrono::milliseconds(2000));
        if (s != Seen::kUnknown) return s;
        ++unanswered;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Seen::kUnknown;
}

bool destroy_domain(const std::string& uri, const std::string& domain) {
    init();
    virConnectPtr c = virConnectOpen(uri.c_str());
    if (!c) return false;
    bool done = true;
    if (virDomainPtr d = virDomainLookupByName(c, domain.c_str())) {
        if (virDomainIsActive(d) == 1) done = virDomainDestroy(d) == 0;
        virDomainFree(d);
    }
    virConnectClose(c);
    return done;
}

bool oracle_settled(std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (g_in_flight > 0 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return g_in_flight == 0;
}

}  // namespace fault
