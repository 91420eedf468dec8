#include "core/deadline.h"

#include <atomic>

namespace storkit {
namespace {
std::atomic<int> g_abandoned{0};
}

int abandoned_calls() {
    return g_abandoned.load();
}
void note_abandoned_call() {
    ++g_abandoned;
}

}  // namespace storkit

namespace storkit {

Watchdog::Watchdog(std::chrono::milliseconds timeout, std::function<void()> on_expiry) {
    thread_ = std::thread([this, timeout, on_expiry = std::move(on_expiry)] {
        std::unique_lock<std::mutex> lock(mu_);
        if (!cv_.wait_for(lock, timeout, [this] { return disarmed_; })) on_expiry();
    });
}

Watchdog::~Watchdog() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        disarmed_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

}  // namespace storkit
