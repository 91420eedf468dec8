#include "storkit/reconcile.h"

#include <catch2/catch.hpp>

using namespace storkit;

namespace {

constexpr Tri Y = Tri::kYes;
constexpr Tri N = Tri::kNo;
constexpr Tri U = Tri::kUnknown;

Observations obs(Tri service, Tri volume, Tri master, Tri here, std::vector<Tri> peers = {N, N}) {
    Observations o{service, volume, master, here, {}};
    for (size_t i = 0; i < peers.size(); ++i)
        o.peers.push_back({"node" + std::to_string(i + 2), peers[i]});
    return o;
}

}  // namespace

TEST_CASE("published flow, row by row") {
    struct Case {
        Observations in;
        const char* rule;
        Action action;
        bool failed;
    };
    // clang-format off
    std::vector<Case> cases = {
        // Step 2: storage service not healthy -> stop the VM if it runs here.
        {obs(N, Y, Y, Y), "service-down-stop", Action::kStop, false},
        {obs(U, Y, Y, Y), "service-down-stop", Action::kStop, false},
        {obs(N, Y, Y, U), "service-down-blind", Action::kNone, true},
        {obs(N, Y, Y, N), "service-down", Action::kNone, false},
        {obs(N, N, N, N, {Y, U}), "service-down", Action::kNone, false},
        // Step 3: volume not healthy -> nothing, even on the master with the VM nowhere.
        {obs(Y, N, Y, N), "volume-down", Action::kNone, false},
        {obs(Y, U, Y, Y), "volume-down", Action::kNone, false},
        {obs(Y, N, N, Y), "volume-down", Action::kNone, false},
        // Step 5: master.
        {obs(Y, Y, Y, Y), "master-running-here", Action::kNone, false},
        {obs(Y, Y, Y, Y, {Y, N}), "master-running-here", Action::kNone, false},
        {obs(Y, Y, Y, U), "master-blind", Action::kNone, true},
        {obs(Y, Y, Y, N, {N, Y}), "master-running-elsewhere", Action::kNone, false},
        {obs(Y, Y, Y, N, {U, Y}), "master-running-elsewhere", Action::kNone, false},
        {obs(Y, Y, Y, N, {N, U}), "master-peer-unknown", Action::kNone, false},
        {obs(Y, Y, Y, N, {N, N}), "master-start", Action::kStart, false},
        {obs(Y, Y, Y, N, {}), "master-start", Action::kStart, false},
        // Step 6: not master (or master unknown).
        {obs(Y, Y, N, Y), "slave-stop", Action::kStop, false},
        {obs(Y, Y, U, Y), "slave-stop", Action::kStop, false},
        {obs(Y, Y, N, U), "slave-blind", Action::kNone, true},
        {obs(Y, Y, N, N), "slave-idle", Action::kNone, false},
        {obs(Y, Y, U, N, {N, N}), "slave-idle", Action::kNone, false},
    };
    // clang-format on
    for (const Case& c : cases) {
        Decision d = decide(c.in);
        INFO("expected rule " << c.rule);
        CHECK(d.rule == c.rule);
        CHECK(d.action == c.action);
        CHECK(d.failed == c.failed);
        CHECK_FALSE(d.reason.empty());
    }
}

TEST_CASE("reasons name the peers involved") {
    Decision d = decide(obs(Y, Y, Y, N, {N, Y}));
    CHECK(d.reason == "the VM runs on node3");
    d = decide(obs(Y, Y, Y, N, {U, U}));
    CHECK(d.reason == "the VM may run on node2, node3 (no answer): not starting it");
}

TEST_CASE("running elsewhere: yes beats unknown, unknown beats no") {
    CHECK(running_elsewhere({}) == Tri::kNo);
    CHECK(running_elsewhere({{"a", N}, {"b", N}}) == Tri::kNo);
    CHECK(running_elsewhere({{"a", N}, {"b", U}}) == Tri::kUnknown);
    CHECK(running_elsewhere({{"a", U}, {"b", Y}}) == Tri::kYes);
}

TEST_CASE("every combination has a rule, and the safety properties hold") {
    const Tri all[] = {Y, N, U};
    int combos = 0;
    for (Tri s : all)
        for (Tri v : all)
            for (Tri m : all)
                for (Tri h : all)
                    for (Tri p1 : all)
                        for (Tri p2 : all) {
                            Observations o = obs(s, v, m, h, {p1, p2});
                            Decision d = decide(o);
                            ++combos;
                            CHECK(d.rule != "no-rule");
                            if (d.action == Action::kStart) {
                                // Only a healthy master with the VM provably nowhere starts it.
                                CHECK(s == Y);
                                CHECK(v == Y);
                                CHECK(m == Y);
                                CHECK(h == N);
                                CHECK(p1 == N);
                                CHECK(p2 == N);
                            }
                            if (d.action == Action::kStop) CHECK(h == Y);
                            if (s != Y && h == Y) CHECK(d.action == Action::kStop);
                        }
    CHECK(combos == 729);
}
