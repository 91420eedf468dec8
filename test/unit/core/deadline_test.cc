#include "core/deadline.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

using storkit::abandoned_calls;
using storkit::call_with_deadline;
using namespace std::chrono_literals;

namespace {

// Something a call holds (a storage client, say) whose release takes a while and must not
// overlap the caller's next steps (at the end of a process: the exit's destructors).
struct SlowRelease {
    std::atomic<bool>& released;
    explicit SlowRelease(std::atomic<bool>& r) : released(r) {}
    SlowRelease(const SlowRelease&) = delete;
    SlowRelease& operator=(const SlowRelease&) = delete;
    ~SlowRelease() {
        std::this_thread::sleep_for(200ms);
        released = true;
    }
};

}  // namespace

TEST_CASE("a call in time has released what it held when it returns") {
    std::atomic<bool> released{false};
    auto held = std::make_shared<SlowRelease>(released);
    std::optional<int> r = call_with_deadline<int>(
        [held = std::move(held)] { return held ? 7 : 0; }, std::chrono::seconds(20));
    REQUIRE(r);
    CHECK(*r == 7);
    // The call's thread dropped the only reference before the answer came back: nothing of
    // the call is left running once the caller has its answer.
    CHECK(released);
}

TEST_CASE("a call that throws has released what it held when the error reaches the caller") {
    std::atomic<bool> released{false};
    auto held = std::make_shared<SlowRelease>(released);
    CHECK_THROWS_WITH(call_with_deadline<int>(
                          [held = std::move(held)]() -> int {
                              if (held) throw std::runtime_error("refused");
                              return 0;
                          },
                          std::chrono::seconds(20)),
                      "refused");
    CHECK(released);
}

TEST_CASE("a call past its deadline is abandoned and counted") {
    auto gate = std::make_shared<std::atomic<bool>>(false);
    auto finished = std::make_shared<std::atomic<bool>>(false);
    int before = abandoned_calls();
    std::optional<std::string> r = call_with_deadline<std::string>(
        [gate, finished] {
            while (!*gate) std::this_thread::sleep_for(1ms);
            *finished = true;
            return std::string("late");
        },
        50ms);
    CHECK_FALSE(r);
    CHECK(abandoned_calls() == before + 1);
    // The abandoned call still ends on its own once it can.
    *gate = true;
    for (int i = 0; i < 20000 && !*finished; ++i) std::this_thread::sleep_for(1ms);
    CHECK(*finished);
}
