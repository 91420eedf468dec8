#include "pxe/bmc_fleet.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "core/error.h"
#include "pxe/fixture.h"

using namespace storkit;

namespace {

void write_secret(const std::string& path, const std::string& text, mode_t mode = 0600) {
    test::write_text(path, text + "\n");
    ::chmod(path.c_str(), mode);
}

// A config with a group that has its own login and a node that has its own password file.
struct Fleet {
    test::PxeFixture f;
    Fleet() {
        write_secret(f.dir.path + "/bmc.pw", "common");
        write_secret(f.dir.path + "/rack2.pw", "rack2-secret");
        write_secret(f.dir.path + "/n3.pw", "n3-secret");
        f.config["groups"] = {
            {"rack2", {{"bmc_user", "rackop"}, {"bmc_password_file", f.dir.path + "/rack2.pw"}}}};
        f.config["nodes"]["n2"]["group"] = "rack2";
        f.config["nodes"]["n3"] = {{"bmc", "198.18.64.13"},
                                   {"group", "rack2"},
                                   {"bmc_password_file", f.dir.path + "/n3.pw"}};
    }
};

}  // namespace

TEST_CASE("bmc-power's fleet: each node with its login, from a config it can power with") {
    Fleet fl;
    // Neither the image nor the install template is needed to power nodes.
    std::filesystem::remove(fl.f.repo + "/rocky-9.iso");
    test::write_text(fl.f.dir.path + "/ks.in", "{{broken\n");
    fl.f.write();
    BmcFleet fleet = load_pxe_bmc_fleet(fl.f.config_path());
    REQUIRE(fleet.members.size() == 3);
    const BmcFleet::Member& n1 = fleet.members[0];
    const BmcFleet::Member& n2 = fleet.members[1];
    const BmcFleet::Member& n3 = fleet.members[2];
    CHECK(n1.name + " " + *n1.bmc + " " + n1.user + " " + n1.password_key ==
          "n1 198.18.64.11 admin bmc.password_file");
    CHECK(n1.password_file == fl.f.dir.path + "/bmc.pw");
    CHECK(n2.user + " " + n2.password_key == "rackop groups.rack2.bmc_password_file");
    CHECK(n2.password_file == fl.f.dir.path + "/rack2.pw");
    CHECK(n3.user + " " + n3.password_key == "rackop nodes.n3.bmc_password_file");
    CHECK(n3.password_file == fl.f.dir.path + "/n3.pw");
    CHECK(fleet.user == "admin");
    CHECK(fleet.password_key == "bmc.password_file");

    // What it reads is still checked: an unknown group names the file and the key.
    fl.f.config["nodes"]["n1"]["group"] = "rack9";
    fl.f.write();
    CHECK_THROWS_WITH(load_pxe_bmc_fleet(fl.f.config_path()),
                      fl.f.config_path() +
                          ": key 'nodes.n1.group': \"rack9\" is no group of groups (known: rack2)");
}

TEST_CASE("pxe-provision boot's logins: each node's password, files read as secrets") {
    Fleet fl;
    PxeConfig cfg = fl.f.load();
    std::vector<IpmiLogin> logins = pxe_node_logins(cfg, {"n1", "n2", "n3", "from-table"});
    REQUIRE(logins.size() == 4);
    CHECK(logins[0].user + "/" + logins[0].password == "admin/common");
    CHECK(logins[1].user + "/" + logins[1].password == "rackop/rack2-secret");
    CHECK(logins[2].user + "/" + logins[2].password == "rackop/n3-secret");
    CHECK(logins[3].user + "/" + logins[3].password == "admin/common");
    CHECK(logins[2].cipher_suite == 3);
    CHECK(pxe_power_settings(cfg).login.password.empty());

    // A password file others can read is refused, naming the config, the key and the file.
    ::chmod((fl.f.dir.path + "/rack2.pw").c_str(), 0644);
    CHECK_NOTHROW(pxe_node_logins(cfg, {"n1", "n3"}));  // neither uses the group's file
    CHECK_THROWS_WITH(pxe_node_logins(cfg, {"n1", "n2"}),
                      cfg.path + ": key 'groups.rack2.bmc_password_file': BMC password file " +
                          fl.f.dir.path + "/rack2.pw: mode 0644 gives others access; refusing it " +
                          "(chmod o-rwx " + fl.f.dir.path + "/rack2.pw)");
}
