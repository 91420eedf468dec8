#include "core/fanout.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <system_error>
#include <thread>

namespace storkit {

namespace {

void work_on(size_t index, const FanoutOptions& options,
             const std::function<Attempt(size_t, int)>& attempt, FanoutOutcome& out) {
    out.started = std::chrono::system_clock::now();
    for (int n = 1;; ++n) {
        out.attempts = n;
        Attempt result = Attempt::kGiveUp;
        try {
            result = attempt(index, n);
        } catch (const std::exception& e) {
            out.error = e.what();
        } catch (...) {
            out.error = "unknown exception";
        }
        if (result == Attempt::kDone) out.ok = true;
        if (result != Attempt::kRetry || n > options.retries) break;
        std::this_thread::sleep_for(options.retry_delay);
    }
    out.finished = std::chrono::system_clock::now();
}

}  // namespace

std::vector<FanoutOutcome> run_fanout(size_t count, const FanoutOptions& options,
                                      const std::function<Attempt(size_t, int)>& attempt) {
    std::vector<FanoutOutcome> outcomes(count);
    if (count == 0) return outcomes;
    // Workers pull the next index when they finish one: a slow target costs one worker, and the
    // window is full for as long as targets are left.
    std::atomic<size_t> next{0};
    auto worker = [&] {
        for (size_t i = next++; i < count; i = next++) work_on(i, options, attempt, outcomes[i]);
    };
    size_t workers = std::min(std::max<size_t>(options.window, 1), count);
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (size_t w = 0; w < workers; ++w) {
        try {
            threads.emplace_back(worker);
        } catch (const std::system_error&) {
            // Out of threads: the ones running work through the rest, just with a narrower
            // window.
            if (threads.empty()) throw;
            break;
        }
    }
    for (std::thread& t : threads) t.join();
    return outcomes;
}

}  // namespace storkit
