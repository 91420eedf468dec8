#include "core/fanout.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

using storkit::Attempt;
using storkit::FanoutOptions;
using storkit::FanoutOutcome;
using storkit::run_fanout;

namespace {

// Waits until `pred` holds. The generous limit only keeps a broken engine from hanging the
// test run; no result depends on how long anything takes.
template <typename Pred>
bool wait_until(std::mutex& mu, std::condition_variable& cv, Pred pred) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(20), pred);
}

FanoutOptions options(size_t window, int retries) {
    FanoutOptions o;
    o.window = window;
    o.retries = retries;
    o.retry_delay = std::chrono::milliseconds(0);
    return o;
}

}  // namespace

TEST_CASE("every target is worked on exactly once", "[fanout]") {
    std::vector<std::atomic<int>> calls(50);
    std::vector<FanoutOutcome> out = run_fanout(50, options(8, 2), [&](size_t i, int) {
        ++calls[i];
        return Attempt::kDone;
    });
    REQUIRE(out.size() == 50);
    for (size_t i = 0; i < 50; ++i) {
        CHECK(calls[i] == 1);
        CHECK(out[i].ok);
        CHECK(out[i].attempts == 1);
        CHECK(out[i].finished >= out[i].started);
    }
    CHECK(run_fanout(0, options(8, 2), [](size_t, int) { return Attempt::kDone; }).empty());
}

TEST_CASE("the window is filled and never exceeded", "[fanout]") {
    const size_t window = 4;
    std::mutex mu;
    std::condition_variable cv;
    size_t active = 0, most = 0, arrived = 0;
    bool filled = true;
    std::set<std::thread::id> threads;
    run_fanout(30, options(window, 0), [&](size_t i, int) {
        std::unique_lock<std::mutex> lock(mu);
        ++active;
        most = std::max(most, active);
        threads.insert(std::this_thread::get_id());
        if (i < window) ++arrived;
        cv.notify_all();
        // The first `window` targets wait for each other: they only all get here if the
        // engine runs that many at once.
        if (i < window &&
            !cv.wait_for(lock, std::chrono::seconds(20), [&] { return arrived == window; }))
            filled = false;
        --active;
        return Attempt::kDone;
    });
    CHECK(filled);
    CHECK(most == window);
    CHECK(threads.size() <= window);
}

TEST_CASE("a target that hangs holds up no other target", "[fanout]") {
    std::mutex mu;
    std::condition_variable cv;
    size_t others_done = 0;
    bool first_saw_all = false;
    std::vector<FanoutOutcome> out = run_fanout(12, options(2, 0), [&](size_t i, int) {
        if (i == 0) {
            // The "dead BMC": it returns only once all eleven others are finished, which
            // happens only if they went on without it through the window's other slot.
            first_saw_all = wait_until(mu, cv, [&] { return others_done == 11; });
            return Attempt::kRetry;
        }
        std::lock_guard<std::mutex> lock(mu);
        ++others_done;
        cv.notify_all();
        return Attempt::kDone;
    });
    CHECK(first_saw_all);
    CHECK_FALSE(out[0].ok);
    for (size_t i = 1; i < 12; ++i) {
        CHECK(out[i].ok);
        // Each one started while the hung target still held its slot (its own `finished` is
        // stamped after its attempt returns, so it may land just after target 0's).
        CHECK(out[i].started <= out[0].finished);
    }
}

TEST_CASE("retries follow what the attempt says", "[fanout]") {
    std::vector<FanoutOutcome> out = run_fanout(4, options(4, 2), [](size_t i, int n) {
        switch (i) {
            case 0: return Attempt::kRetry;                           // always times out
            case 1: return Attempt::kGiveUp;                          // wrong password
            case 2: return n < 2 ? Attempt::kRetry : Attempt::kDone;  // one lost packet
            default: return Attempt::kDone;
        }
    });
    CHECK_FALSE(out[0].ok);
    CHECK(out[0].attempts == 3);
    CHECK_FALSE(out[1].ok);
    CHECK(out[1].attempts == 1);
    CHECK(out[2].ok);
    CHECK(out[2].attempts == 2);
    CHECK(out[3].ok);
    CHECK(out[3].attempts == 1);
}

TEST_CASE("an exception ends only its own target", "[fanout]") {
    std::vector<FanoutOutcome> out = run_fanout(3, options(1, 3), [](size_t i, int) {
        if (i == 1) throw std::runtime_error("broken reply");
        return Attempt::kDone;
    });
    CHECK(out[0].ok);
    CHECK_FALSE(out[1].ok);
    CHECK(out[1].attempts == 1);
    CHECK(out[1].error == "broken reply");
    CHECK(out[2].ok);
}

TEST_CASE("a window larger than the work or zero still works", "[fanout]") {
    CHECK(run_fanout(3, options(100, 0), [](size_t, int) { return Attempt::kDone; }).size() == 3);
    std::vector<FanoutOutcome> out =
        run_fanout(3, options(0, 0), [](size_t, int) { return Attempt::kDone; });
    CHECK(out[2].ok);
}
