// Bounding a blocking call that has no timeout of its own (libvirt's connect to a stopped daemon
// blocks forever): the call runs on its own thread and is abandoned at the deadline.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace storkit {

// Counts calls left running past their deadline. A process with abandoned calls ends with
// _exit() so that no static destructor races a thread still inside a C library.
int abandoned_calls();
void note_abandoned_call();

// Runs `fn` on a new thread and waits up to `timeout`. Returns its result, or nullopt at the
// deadline (the thread is left to finish on its own). Exceptions from `fn` are rethrown. An
// answer in time comes back only after `fn` and what it captured are destroyed.
template <typename T>
std::optional<T> call_with_deadline(std::function<T()> fn, std::chrono::milliseconds timeout) {
    struct State {
        std::mutex mu;
        std::condition_variable cv;
        bool done = false;
        std::optional<T> value;
        std::exception_ptr error;
    };
    auto state = std::make_shared<State>();
    std::thread([state, fn = std::move(fn)]() mutable {
        std::optional<T> value;
        std::exception_ptr error;
        try {
            value.emplace(fn());
        } catch (...) {
            error = std::current_exception();
        }
        // What the call holds (a storage client whose release shuts a library down) is let go
        // here, before the caller hears back: once an answer in time is returned, nothing of
        // the call runs on, least of all under the process's exit.
        fn = nullptr;
        std::lock_guard<std::mutex> lock(state->mu);
        state->value = std::move(value);
        state->error = error;
        state->done = true;
        state->cv.notify_all();
    }).detach();
    std::unique_lock<std::mutex> lock(state->mu);
    if (!state->cv.wait_for(lock, timeout, [&] { return state->done; })) {
        note_abandoned_call();
        return std::nullopt;
    }
    if (state->error) std::rethrow_exception(state->error);
    return std::move(state->value);
}

}  // namespace storkit

namespace storkit {

// Ends the whole process if it is still alive `timeout` after construction: `on_expiry` runs
// on the watchdog thread (it should report and call _exit). Destroying the watchdog disarms it.
class Watchdog {
  public:
    Watchdog(std::chrono::milliseconds timeout, std::function<void()> on_expiry);
    ~Watchdog();
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool disarmed_ = false;
    std::thread thread_;
};

}  // namespace storkit
