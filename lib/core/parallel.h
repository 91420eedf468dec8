// Spreading independent work (mostly system calls, such as stat on thousands of files) over
// the machine's cores.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace storkit {

// Calls fn(i) for every i in [0, n), on up to `max_threads` threads when n is at least
// `min_per_thread` per thread; each thread takes one contiguous range. Rethrows the first
// exception a call threw, after all threads ended.
template <typename F>
void parallel_for(size_t n, const F& fn, size_t max_threads = 4, size_t min_per_thread = 1024) {
    size_t threads = std::min<size_t>(max_threads, std::thread::hardware_concurrency());
    threads = std::min(threads, n / std::max<size_t>(min_per_thread, 1));
    if (threads < 2) {
        for (size_t i = 0; i < n; ++i) fn(i);
        return;
    }
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> errors(threads);
    for (size_t t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            try {
                for (size_t i = n * t / threads; i < n * (t + 1) / threads; ++i) fn(i);
            } catch (...) {
                errors[t] = std::current_exception();
            }
        });
    for (std::thread& th : pool) th.join();
    for (const std::exception_ptr& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace storkit
