// The management VM's records as they come back from storage or disk: a number no tick could
// have written makes the record unreadable (its readers then treat it as unknown) instead of a
// value made up by a cast.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "mgmtvm/maintenance.h"
#include "mgmtvm/node_state.h"
#include "mgmtvm/vm_lease.h"

using namespace storkit;
using nlohmann::json;

TEST_CASE("a lease record reads back what it wrote") {
    VmLease l;
    l.node = "n1";
    l.epoch = 18446744073709551615ULL;
    l.expires = 1.5;
    VmLease back = VmLease::from_json(l.to_json());
    CHECK(back.epoch == l.epoch);
    CHECK(back.to_json() == l.to_json());
}

TEST_CASE("a lease epoch that is not a whole number in range is unreadable") {
    for (const json& epoch : {json(1e30), json(-1), json(2.5), json(-1e30), json("7")})
        CHECK_THROWS(VmLease::from_json({{"node", "n1"}, {"epoch", epoch}, {"expires", 1}}));
}

TEST_CASE("node state counters out of range are unreadable") {
    CHECK(NodeState::from_json({{"renew_failures", 2}, {"fenced_epoch", 9}}).renew_failures == 2);
    CHECK_THROWS(NodeState::from_json({{"renew_failures", 1e30}}));
    CHECK_THROWS(NodeState::from_json({{"local_silent", 4294967296LL}}));
    CHECK_THROWS(NodeState::from_json({{"fenced_epoch", -3}}));
}

TEST_CASE("a confirmed-down epoch out of range is unreadable") {
    json j = {{"confirmed_down", {{"n2", {{"epoch", 4}, {"at", 1}}}}}};
    CHECK(Maintenance::from_json(j).down.at("n2").epoch == 4);
    j["confirmed_down"]["n2"]["epoch"] = -1e30;
    CHECK_THROWS(Maintenance::from_json(j));
    j["confirmed_down"]["n2"]["epoch"] = -1;
    CHECK_THROWS(Maintenance::from_json(j));
}
