#include "mgmtvm/reconcile.h"

#include <catch2/catch.hpp>
#include <functional>

using namespace storkit;

namespace {

constexpr Tri Y = Tri::kYes;
constexpr Tri N = Tri::kNo;
constexpr Tri U = Tri::kUnknown;

Observations obs(Tri service, Tri volume, Tri master, Tri here, std::vector<Tri> peers = {N, N}) {
    Observations o;
    o.service = service;
    o.volume = volume;
    o.master = master;
    o.here = here;
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

TEST_CASE("published flow: every combination has a rule, and the safety properties hold") {
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

namespace {

// Calls `fn` with every combination of every observation the decision reads (one peer), and
// returns how many there were.
long for_each_observation(const std::function<void(const Observations&)>& fn) {
    const Tri all[] = {Y, N, U};
    const LeaseView leases[] = {LeaseView::kOff,   LeaseView::kFree,    LeaseView::kMine,
                                LeaseView::kOther, LeaseView::kUnknown, LeaseView::kLapsed};
    const Maint maints[] = {Maint::kNone, Maint::kGlobal, Maint::kNode, Maint::kUnknown};
    long n = 0;
    for (Tri s : all)
        for (Tri v : all)
            for (Tri m : all)
                for (Tri h : all)
                    for (Tri p : all)
                        for (LeaseView l : leases)
                            for (Maint mt : maints)
                                for (int flags = 0; flags < 16; ++flags) {
                                    Observations o = obs(s, v, m, h, {p});
                                    o.lease = l;
                                    o.maint = mt;
                                    o.renew_overdue = flags & 1;
                                    o.allow_unknown_peers = flags & 2;
                                    o.sticky = flags & 4;
                                    o.paused_io = flags & 8;
                                    fn(o);
                                    ++n;
                                }
    return n;
}

}  // namespace

TEST_CASE("only the master's decision depends on where else the VM runs") {
    // The tick asks the other nodes only when this node is the master; this is what makes
    // that safe: for every other observation, every peer answer gives the same decision.
    for_each_observation([](const Observations& o) {
        if (o.master == Y) return;
        std::string rule = decide(o).rule;
        for (Tri p : {Y, N, U}) {
            Observations other = o;
            other.peers = {{"node2", p}};
            CHECK(decide(other).rule == rule);
        }
    });
}

TEST_CASE("with lease and maintenance: every combination has a rule, and starts are safe") {
    long combos = for_each_observation([](const Observations& o) {
        Decision d = decide(o);
        Tri p = o.peers[0].running;
        LeaseView l = o.lease;
        REQUIRE(d.rule != "no-rule");
        if (o.maint == Maint::kGlobal || o.maint == Maint::kUnknown)
            CHECK(d.action == Action::kNone);
        if (o.maint == Maint::kUnknown) CHECK(d.failed);
        if (d.action == Action::kStop) CHECK(o.here == Y);
        // Sticky keeps a copy only under this node's lease, on healthy storage.
        if (d.rule == "sticky-keep")
            CHECK((o.sticky && l == LeaseView::kMine && o.service == Y && o.volume == Y &&
                   !o.renew_overdue));
        if (!o.sticky) CHECK(d.rule != "sticky-keep");
        // Resume only a copy paused by an I/O error that stays here, on healthy storage, under
        // this node's lease.
        if (d.action == Action::kResume)
            CHECK((o.paused_io && o.here == Y && o.service == Y && o.volume == Y &&
                   o.maint == Maint::kNone && !o.renew_overdue &&
                   (l == LeaseView::kMine || l == LeaseView::kOff)));
        // A copy whose disk another holder may have fenced is never kept.
        if (l == LeaseView::kLapsed && o.here == Y && o.service == Y && o.maint != Maint::kGlobal &&
            o.maint != Maint::kUnknown)
            CHECK(d.action == Action::kStop);
        if (d.action != Action::kStart) return;
        CHECK(o.maint == Maint::kNone);
        CHECK((o.service == Y && o.volume == Y && o.master == Y && o.here == N));
        CHECK(p != Y);  // a peer that runs it: never
        // A silent peer: only with the lease free (lapsed is free too) or ours, or by the
        // explicit published-behaviour switch.
        if (p == U)
            CHECK((l == LeaseView::kFree || l == LeaseView::kMine || l == LeaseView::kLapsed ||
                   (l == LeaseView::kOff && o.allow_unknown_peers)));
        CHECK(l != LeaseView::kOther);
        CHECK(l != LeaseView::kUnknown);
    });
    CHECK(combos == 3 * 3 * 3 * 3 * 3 * 6 * 4 * 16);
}

TEST_CASE("lease and maintenance rows") {
    struct Case {
        Observations in;
        const char* rule;
        Action action;
    };
    auto with = [](Observations o, LeaseView l, Maint m = Maint::kNone, bool overdue = false,
                   bool allow = false, bool sticky = false) {
        o.sticky = sticky;
        o.lease = l;
        o.lease_holder = "node3";
        o.maint = m;
        o.renew_overdue = overdue;
        o.allow_unknown_peers = allow;
        o.sticky = sticky;
        return o;
    };
    auto paused_io = [](Observations o) {
        o.paused_io = true;
        return o;
    };
    const LeaseView F = LeaseView::kFree, M = LeaseView::kMine, O = LeaseView::kOther,
                    X = LeaseView::kUnknown, OFF = LeaseView::kOff, L = LeaseView::kLapsed;
    // clang-format off
    std::vector<Case> cases = {
        {with(obs(Y, Y, Y, N, {N, N}), F, Maint::kGlobal), "maintenance-global", Action::kNone},
        {with(obs(N, Y, Y, Y), M, Maint::kGlobal), "maintenance-global", Action::kNone},
        {with(obs(Y, Y, Y, N, {N, N}), F, Maint::kUnknown), "maintenance-unknown", Action::kNone},
        {with(obs(N, Y, Y, Y), M, Maint::kUnknown), "maintenance-unknown", Action::kNone},
        {with(obs(Y, Y, U, Y), M), "master-unknown-keep", Action::kNone},
        {with(obs(Y, Y, N, Y), M, Maint::kNone, false, false, true), "sticky-keep", Action::kNone},
        {paused_io(with(obs(Y, Y, Y, Y), M)), "paused-io-resume", Action::kResume},
        {paused_io(with(obs(Y, Y, Y, Y), OFF)), "paused-io-resume", Action::kResume},
        {paused_io(with(obs(Y, Y, N, Y), M, Maint::kNone, false, false, true)), "paused-io-resume", Action::kResume},
        {paused_io(with(obs(Y, N, Y, Y), M)), "volume-down", Action::kNone},
        {paused_io(with(obs(Y, Y, N, Y), M)), "slave-stop", Action::kStop},
        {paused_io(with(obs(Y, Y, Y, Y), M, Maint::kGlobal)), "maintenance-global", Action::kNone},
        {with(obs(Y, Y, N, Y), M), "slave-stop", Action::kStop},
        {with(obs(Y, Y, N, Y), X, Maint::kNone, false, false, true), "slave-stop", Action::kStop},
        {with(obs(N, Y, N, Y), M, Maint::kNone, false, false, true), "service-down-stop", Action::kStop},
        {with(obs(Y, Y, N, Y), M, Maint::kNode, false, false, true), "maintenance-handoff", Action::kStop},
        {with(obs(Y, Y, U, Y), F), "slave-stop", Action::kStop},
        {with(obs(Y, Y, U, Y), M, Maint::kNone, true), "lease-overdue-stop", Action::kStop},
        {with(obs(Y, Y, Y, Y), O), "lease-lost-stop", Action::kStop},
        {with(obs(Y, N, N, Y), O), "lease-lost-stop", Action::kStop},
        {with(obs(Y, Y, Y, Y), L), "lease-lapsed-stop", Action::kStop},
        {with(obs(Y, N, Y, Y), L), "lease-lapsed-stop", Action::kStop},
        {with(obs(Y, Y, Y, Y), L, Maint::kGlobal), "maintenance-global", Action::kNone},
        {with(obs(Y, Y, Y, Y), X, Maint::kNone, true), "lease-overdue-stop", Action::kStop},
        {with(obs(Y, Y, Y, Y), M, Maint::kNode), "maintenance-handoff", Action::kStop},
        {with(obs(Y, Y, N, Y), M, Maint::kNode), "maintenance-handoff", Action::kStop},
        {with(obs(Y, Y, Y, N, {N, N}), F, Maint::kNode), "maintenance-node", Action::kNone},
        {with(obs(Y, Y, Y, N, {N, U}), X), "master-lease-unknown", Action::kNone},
        {with(obs(Y, Y, Y, N, {N, N}), O), "master-lease-held", Action::kNone},
        {with(obs(Y, Y, Y, N, {N, U}), O), "master-lease-held", Action::kNone},
        {with(obs(Y, Y, Y, N, {U, U}), F), "master-takeover", Action::kStart},
        {with(obs(Y, Y, Y, N, {N, U}), M), "master-takeover", Action::kStart},
        {with(obs(Y, Y, Y, N, {N, U}), OFF), "master-peer-unknown", Action::kNone},
        {with(obs(Y, Y, Y, N, {N, U}), OFF, Maint::kNone, false, true), "master-start-unknown", Action::kStart},
        {with(obs(Y, Y, Y, N, {N, N}), F), "master-start", Action::kStart},
        {with(obs(Y, Y, Y, N, {Y, U}), F), "master-running-elsewhere", Action::kNone},
        {with(obs(Y, Y, Y, Y), M), "master-running-here", Action::kNone},
    };
    // clang-format on
    for (const Case& c : cases) {
        Decision d = decide(c.in);
        INFO("expected rule " << c.rule);
        CHECK(d.rule == c.rule);
        CHECK(d.action == c.action);
    }
    CHECK(decide(with(obs(Y, Y, Y, Y), L)).reason ==
          "node3 held the lease while the VM ran here and may have fenced its disk: stopping it "
          "so that it starts afresh");
    CHECK(decide(with(obs(Y, Y, Y, N, {N, N}), O)).reason ==
          "the lease is held by node3: waiting for it to be renewed or expire");
}
