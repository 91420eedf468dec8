#include "pxe/config.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "core/error.h"
#include "man_page.h"
#include "pxe/fixture.h"

using namespace storkit;
using Catch::Contains;
using nlohmann::json;

TEST_CASE("a valid pxe.json loads with its defaults") {
    test::PxeFixture f;
    PxeConfig c = f.load();
    CHECK(c.data_subnet.str() == "198.18.0.0/24");
    CHECK(c.pool.str() == "198.18.0.100-198.18.0.199");
    CHECK(ipv4_string(c.server) == "198.18.0.2");
    CHECK(c.http_port == 80);
    CHECK_FALSE(c.serve_dns);
    CHECK(c.lease_s == 3600);
    CHECK(c.iso_path == f.repo + "/rocky-9.iso");
    CHECK(c.firmware == Firmware::kAuto);
    CHECK(c.loader == Loader::kIpxe);
    CHECK_FALSE(c.kernel_args.has_value());
    CHECK(c.hosts_dir == f.out + "/state/pxe/dhcp-hosts");
    REQUIRE(c.nodes.has_value());
    REQUIRE(c.nodes->size() == 2);
    CHECK((*c.nodes)[1].name == "n2");
    CHECK((*c.nodes)[1].mac == "52:54:00:00:00:02");
    CHECK(ipv4_string(*(*c.nodes)[1].ip) == "198.18.0.50");
    CHECK(c.var_names.back() == "tz");
    CHECK(c.var_defaults.back() == "UTC");
}

TEST_CASE("without nodes the config is valid: nodes come from the node table") {
    test::PxeFixture f;
    f.config.erase("nodes");
    CHECK_FALSE(f.load().nodes.has_value());
}

// Each bad config gives one error naming the key path and the value.
TEST_CASE("bad configs name the key and the value") {
    test::PxeFixture f;
    std::string file = f.config_path() + ": key ";
    SECTION("overlapping subnets") {
        f.config["bmc"]["subnet"] = "198.18.0.0/16";
        CHECK_THROWS_WITH(f.load(), file +
                                        "'data.subnet': 198.18.0.0/24 overlaps bmc.subnet "
                                        "198.18.0.0/16");
    }
    SECTION("a pool outside the subnet") {
        f.config["data"]["pool"] = "198.18.0.200-198.18.1.10";
        CHECK_THROWS_WITH(f.load(), file +
                                        "'data.pool': 198.18.0.200-198.18.1.10 is outside "
                                        "data.subnet 198.18.0.0/24");
    }
    SECTION("a domain dnsmasq would refuse") {
        f.config["data"]["domain"] = std::string(300, 'a') + ".example";
        CHECK_THROWS_WITH(f.load(), Contains("'data.domain': \"aaaa") &&
                                        Contains("is not a DNS domain") &&
                                        Contains("at most 253 characters"));
        f.config["data"]["domain"] = std::string(64, 'a') + ".example";
        CHECK_THROWS_WITH(f.load(), Contains("labels of 1 to 63"));
        f.config["data"]["domain"] = "stor..example";
        CHECK_THROWS_WITH(f.load(), Contains("'data.domain'"));
        f.config["data"]["domain"] = std::string(63, 'a') + ".example";
        CHECK_NOTHROW(f.load());
        f.config["data"]["domain"] = std::string(1000000, 'a');
        try {
            f.load();
            FAIL("a 1 MB domain loaded");
        } catch (const storkit::ConfigError& e) {
            CHECK(std::string(e.what()).size() < 500);
        }
    }
    SECTION("kernel arguments longer than a kernel command line") {
        f.config["boot"]["kernel_args"] = "inst.ks={{ks_url}} " + std::string(2100, 'x');
        CHECK_THROWS_WITH(f.load(), file +
                                        "'boot.kernel_args': 2119 bytes, more than the 2048 of "
                                        "a kernel command line");
    }
    SECTION("a pool holding the network address") {
        f.config["data"]["pool"] = "198.18.0.0-198.18.0.10";
        CHECK_THROWS_WITH(f.load(), Contains("'data.pool': 198.18.0.0-198.18.0.10 includes the "
                                             "network or broadcast address"));
    }
    SECTION("an inverted pool") {
        f.config["data"]["pool"] = "198.18.0.199-198.18.0.100";
        CHECK_THROWS_WITH(f.load(), Contains("the first address is above the last"));
    }
    SECTION("the server inside the pool") {
        f.config["server"]["address"] = "198.18.0.120";
        CHECK_THROWS_WITH(f.load(), file +
                                        "'server.address': 198.18.0.120 is inside data.pool "
                                        "198.18.0.100-198.18.0.199");
    }
    SECTION("a gateway outside the subnet") {
        f.config["data"]["gateway"] = "198.19.0.1";
        CHECK_THROWS_WITH(f.load(), Contains("'data.gateway': 198.19.0.1 is outside data.subnet"));
    }
    SECTION("duplicate MACs, written differently") {
        f.config["nodes"]["n2"]["mac"] = "52-54-00-00-00-01";
        CHECK_THROWS_WITH(f.load(), file +
                                        "'nodes.n2.mac': 52:54:00:00:00:01 is also the mac of "
                                        "node n1");
    }
    SECTION("duplicate IPs") {
        f.config["nodes"]["n1"]["ip"] = "198.18.0.50";
        CHECK_THROWS_WITH(f.load(), file + "'nodes.n2.ip': 198.18.0.50 is also the ip of node n1");
    }
    SECTION("duplicate BMC addresses") {
        f.config["nodes"]["n2"]["bmc"] = "198.18.64.11";
        CHECK_THROWS_WITH(f.load(), Contains("'nodes.n2.bmc': 198.18.64.11 is also the bmc of "
                                             "node n1"));
    }
    SECTION("a node at the server's address") {
        f.config["nodes"]["n2"]["ip"] = "198.18.0.2";
        CHECK_THROWS_WITH(f.load(), Contains("'nodes.n2.ip': 198.18.0.2 is the server's address"));
    }
    SECTION("a BMC outside the BMC subnet") {
        f.config["nodes"]["n1"]["bmc"] = "198.18.0.11";
        CHECK_THROWS_WITH(f.load(), Contains("'nodes.n1.bmc': 198.18.0.11 is outside bmc.subnet"));
    }
    SECTION("a bad MAC") {
        f.config["nodes"]["n1"]["mac"] = "52:54:00:00:01";
        CHECK_THROWS_WITH(f.load(), Contains("'nodes.n1.mac': \"52:54:00:00:01\" is not a MAC"));
    }
    SECTION("a node name that is no DNS label") {
        f.config["nodes"]["Node_3"] = json::object();
        CHECK_THROWS_WITH(f.load(), Contains("'nodes.Node_3': a node name is a DNS label"));
    }
    SECTION("a missing ISO lists the available versions") {
        f.config["iso"]["version"] = "rocky-10";
        CHECK_THROWS_WITH(f.load(), file + "'iso.version': no image " + f.repo +
                                        "/rocky-10.iso in the repository (available: rocky-9)");
    }
    SECTION("a version that is a path") {
        f.config["iso"]["version"] = "../rocky-9";
        CHECK_THROWS_WITH(f.load(), Contains("'iso.version': \"../rocky-9\" is not a version"));
    }
    SECTION("iso.kernel needs iso.initrd and boot.kernel_args") {
        f.config["iso"]["kernel"] = "boot/linux";
        CHECK_THROWS_WITH(f.load(), Contains("'iso.initrd': give iso.kernel and iso.initrd"));
        f.config["iso"]["initrd"] = "boot/initrd";
        CHECK_THROWS_WITH(f.load(), Contains("'boot.kernel_args': required with iso.kernel"));
        f.config["iso"]["initrd"] = "../initrd";
        CHECK_THROWS_WITH(f.load(), Contains("'iso.initrd': expected a relative path inside"));
    }
    SECTION("a typo in a key") {
        f.config["data"]["gatway"] = "198.18.0.1";
        CHECK_THROWS_WITH(f.load(), Contains("'data.gatway': unknown key"));
    }
    SECTION("an unknown variable in the kernel arguments") {
        f.config["boot"] = {{"kernel_args", "ks={{kickstart}}"}};
        CHECK_THROWS_WITH(f.load(), Contains("'boot.kernel_args': boot.kernel_args:1: unknown "
                                             "variable {{kickstart}}"));
    }
    SECTION("a line break that would reach the loader configs") {
        f.config["install"]["vars"]["console"] = "ttyS0\nboot evil";
        f.config["boot"] = {{"kernel_args", "console={{console}}"}};
        CHECK_THROWS_WITH(f.load(), Contains("'boot.kernel_args': uses install.vars.console, "
                                             "which holds a line break"));
    }
    SECTION("an unknown variable in the install template") {
        test::write_text(f.dir.path + "/ks.in", "ok {{name}}\n{{ ipaddr }}\n");
        CHECK_THROWS_WITH(f.load(), file + "'install.template': " + f.dir.path +
                                        "/ks.in:2: unknown variable {{ipaddr}} (known: " +
                                        "name, hostname, fqdn, domain, ip, netmask, prefix, " +
                                        "gateway, dns, mac, bmc, server, http_url, repo_url, " +
                                        "ks_url, report_url, kernel_url, initrd_url, version, " +
                                        "image_sha256, tz)");
    }
    SECTION("a missing install template") {
        f.config["install"]["template"] = f.dir.path + "/nope.in";
        CHECK_THROWS_WITH(f.load(),
                          Contains("'install.template': " + f.dir.path + "/nope.in: no such file"));
    }
    SECTION("a variable that shadows a built-in one") {
        f.config["install"]["vars"]["ip"] = "1.2.3.4";
        CHECK_THROWS_WITH(f.load(), Contains("'install.vars.ip': is a built-in variable"));
    }
    SECTION("one root for TFTP and HTTP") {
        f.config["paths"]["http_root"] = f.out + "/tftp/www";
        CHECK_THROWS_WITH(f.load(), Contains("'paths.http_root': must not be paths.tftp_root"));
    }
    SECTION("a config inside a served root") {
        f.config["paths"]["lighttpd_conf"] = f.out + "/www/lighttpd.conf";
        CHECK_THROWS_WITH(f.load(), Contains("'paths.lighttpd_conf': " + f.out +
                                             "/www/lighttpd.conf must not be inside"));
    }
    SECTION("a path that would break a generated config") {
        f.config["paths"]["tftp_root"] = "/srv/tftp\nport=53";
        CHECK_THROWS_WITH(f.load(), Contains("'paths.tftp_root': a path here must not hold"));
    }
    SECTION("unknown firmware and loader") {
        f.config["boot"] = {{"firmware", "efi"}};
        CHECK_THROWS_WITH(f.load(), Contains("'boot.firmware': \"efi\": expected auto, bios or "
                                             "uefi"));
        f.config["boot"] = {{"loader", "grub"}};
        CHECK_THROWS_WITH(f.load(), Contains("'boot.loader': \"grub\": expected ipxe or native"));
    }
    SECTION("an interface name that is too long") {
        f.config["server"]["interface"] = "enp0s31f6-provisioning";
        CHECK_THROWS_WITH(f.load(), Contains("'server.interface': \"enp0s31f6-provisioning\" is "
                                             "not a network interface name"));
    }
    SECTION("dns that is not a list of addresses") {
        f.config["data"]["dns"] = json::array({"198.18.0.1", "ns1"});
        CHECK_THROWS_WITH(f.load(), Contains("'data.dns': \"ns1\" is not an IPv4 address"));
    }
}

// groups.NAME and nodes.NAME set template variables and BMC logins: node over group over
// install.vars and the bmc section.
TEST_CASE("per-node data: template variables, groups and BMC logins") {
    test::PxeFixture f;
    test::write_text(f.dir.path + "/ks.in", "{{name}} {{tz}} {{disk}} {{role}}\n");
    f.config["install"]["vars"] = {{"tz", "UTC"}, {"disk", "sda"}};
    f.config["groups"] = {{"rack2",
                           {{"vars", {{"disk", "nvme0n1"}, {"role", "osd"}}},
                            {"bmc_user", "rackop"},
                            {"bmc_password_file", f.dir.path + "/rack2.pw"}}},
                          {"spare", {{"vars", {{"role", "spare"}}}}}};
    f.config["nodes"]["n1"]["group"] = "rack2";
    f.config["nodes"]["n1"]["vars"] = {{"disk", "sdb"}};
    f.config["nodes"]["n1"]["bmc_password_file"] = f.dir.path + "/n1.pw";
    f.config["nodes"]["n2"]["group"] = "spare";
    f.config["nodes"]["n2"]["bmc_user"] = "n2op";
    PxeConfig c = f.load();

    // Every variable any of them sets is known to the templates; only install.vars has defaults.
    std::vector<std::string> extra(c.var_names.begin() + kBuiltinVarCount, c.var_names.end());
    CHECK(extra == std::vector<std::string>{"disk", "tz", "role"});
    CHECK(c.var_defaults == std::vector<std::optional<std::string>>{"sda", "UTC", std::nullopt});
    REQUIRE(c.groups.size() == 2);
    CHECK(c.group("rack2")->settings.vars ==
          TemplateValues{{kBuiltinVarCount, "nvme0n1"}, {kBuiltinVarCount + 2, "osd"}});
    CHECK(c.group("nope") == nullptr);
    CHECK(c.node("n1")->group == "rack2");
    CHECK(c.node("n1")->settings.vars == TemplateValues{{kBuiltinVarCount, "sdb"}});
    CHECK(c.node("n3") == nullptr);

    // n1: its own password file, its group's user.
    BmcLoginSource n1 = c.bmc_login("n1");
    CHECK(n1.user == "rackop");
    CHECK(n1.password_file == f.dir.path + "/n1.pw");
    CHECK(n1.password_key == "nodes.n1.bmc_password_file");
    // n2: its own user; its group has no login, so bmc.password_file.
    BmcLoginSource n2 = c.bmc_login("n2");
    CHECK(n2.user == "n2op");
    CHECK(n2.password_file == f.dir.path + "/bmc.pw");
    CHECK(n2.password_key == "bmc.password_file");
    // A node of the node table only: the bmc section.
    CHECK(c.bmc_login("n9").user == "admin");

    // The group's password file when the node has none of its own.
    f.config["nodes"]["n1"].erase("bmc_password_file");
    BmcLoginSource from_group = f.load().bmc_login("n1");
    CHECK(from_group.password_file == f.dir.path + "/rack2.pw");
    CHECK(from_group.password_key == "groups.rack2.bmc_password_file");
}

TEST_CASE("per-node data: what is wrong names the node or group and the variable") {
    test::PxeFixture f;
    std::string file = f.config_path() + ": key ";
    f.config["groups"] = {{"rack2", {{"vars", {{"disk", "nvme0n1"}}}}}};
    SECTION("an unknown group") {
        f.config["nodes"]["n1"]["group"] = "rack9";
        CHECK_THROWS_WITH(
            f.load(), file + "'nodes.n1.group': \"rack9\" is no group of groups (known: rack2)");
        f.config.erase("groups");
        CHECK_THROWS_WITH(f.load(), file +
                                        "'nodes.n1.group': \"rack9\" is no group of groups "
                                        "(there are none)");
    }
    SECTION("a node's or a group's variable may not shadow a built-in one") {
        f.config["nodes"]["n1"]["vars"] = {{"ip", "198.18.0.9"}};
        f.config["groups"]["rack2"]["vars"]["hostname"] = "x";
        CHECK_THROWS_WITH(f.load(), file +
                                        "'groups.rack2.vars.hostname': is a built-in variable; "
                                        "choose another name\n" +
                                        file +
                                        "'nodes.n1.vars.ip': is a built-in variable; choose "
                                        "another name");
    }
    SECTION("a variable name that is not letters, digits and _") {
        f.config["nodes"]["n2"]["vars"] = {{"boot-disk", "sda"}};
        CHECK_THROWS_WITH(f.load(), file +
                                        "'nodes.n2.vars.boot-disk': a variable name is "
                                        "letters, digits and _");
    }
    SECTION("a variable that is no string") {
        f.config["nodes"]["n2"]["vars"] = {{"disk", 3}};
        CHECK_THROWS_WITH(f.load(), file +
                                        "'nodes.n2.vars.disk': expected a non-empty string, "
                                        "got the number 3");
    }
    SECTION("a node without a value for a variable the template uses") {
        test::write_text(f.dir.path + "/ks.in", "{{name}} {{disk}}\n");
        f.config["nodes"]["n1"]["group"] = "rack2";  // n1 has it from its group, n2 has none
        CHECK_THROWS_WITH(f.load(), file +
                                        "'nodes.n2.vars.disk': missing: the install template "
                                        "uses {{disk}}; set it here, in the vars of a group or "
                                        "in install.vars");
        f.config["groups"]["empty"] = json::object();
        f.config["nodes"]["n2"]["group"] = "empty";
        f.config["boot"] = {{"kernel_args", "root={{disk}}"}};
        CHECK_THROWS_WITH(f.load(), file +
                                        "'nodes.n2.vars.disk': missing: the install template "
                                        "and boot.kernel_args use {{disk}}; set it here, in "
                                        "groups.empty.vars or in install.vars");
        f.config["install"]["vars"]["disk"] = "sda";  // a default for every node
        CHECK_NOTHROW(f.load());
    }
    SECTION("without nodes, a variable only groups set has no value for the table's nodes") {
        test::write_text(f.dir.path + "/ks.in", "{{name}} {{disk}}\n");
        f.config.erase("nodes");
        CHECK_THROWS_WITH(f.load(), file +
                                        "'install.vars': the install template uses {{disk}}, "
                                        "which only groups or nodes set: the nodes of the node "
                                        "table (the config names none) need it here");
    }
    SECTION("a line break in a value the kernel arguments use") {
        f.config["groups"]["rack2"]["vars"]["console"] = "ttyS0\nboot evil";
        f.config["nodes"]["n1"]["vars"] = {{"console", "tty0\r"}};
        f.config["install"]["vars"]["console"] = "tty0";
        f.config["boot"] = {{"kernel_args", "console={{console}}"}};
        CHECK_THROWS_WITH(f.load(), file +
                                        "'groups.rack2.vars.console': holds a line break, and "
                                        "boot.kernel_args uses it\n" +
                                        file +
                                        "'nodes.n1.vars.console': holds a line break, and "
                                        "boot.kernel_args uses it");
    }
    SECTION("a group name that is no DNS label, a typo in a group's key") {
        f.config["groups"]["Rack_3"] = json::object();
        f.config["groups"]["rack2"]["bmc_pasword_file"] = "/etc/pw";
        CHECK_THROWS_WITH(f.load(), Contains("'groups.Rack_3': a group name is a DNS label") &&
                                        Contains("'groups.rack2.bmc_pasword_file': unknown key"));
    }
    SECTION("a password file that is no absolute path") {
        f.config["nodes"]["n1"]["bmc_password_file"] = "n1.pw";
        CHECK_THROWS_WITH(f.load(), file +
                                        "'nodes.n1.bmc_password_file': expected an absolute "
                                        "path, got \"n1.pw\"");
    }
}

// Secrets for the templates come from files only root can read, never from the JSON.
TEST_CASE("template secrets: root-only files, never inline") {
    test::PxeFixture f;
    std::string file = f.config_path() + ": key ";
    std::string hash = "$6$salt$Q1xWmQhash";
    std::string pw = f.dir.path + "/rootpw.hash";
    test::write_text(pw, hash + "\n");
    std::filesystem::permissions(
        pw, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    test::write_text(f.dir.path + "/ks.in", "{{name}} rootpw --iscrypted {{rootpw}}\n");
    f.config["install"]["secret_files"] = {{"rootpw", pw}};
    SECTION("the file's content is every node's value") {
        PxeConfig c = f.load();
        REQUIRE(c.var_names.back() == "rootpw");
        CHECK(c.var_defaults.back() == hash);
    }
    SECTION("a file others may read is refused, naming its owner and mode") {
        std::filesystem::permissions(pw, std::filesystem::perms::group_read,
                                     std::filesystem::perm_options::add);
        CHECK_THROWS_WITH(f.load(), file + "'install.secret_files.rootpw': secret file " + pw +
                                        ": owner uid 0, mode 0640: only root may read it "
                                        "(chown root " +
                                        pw + " && chmod 600 " + pw + ")");
    }
    SECTION("a file owned by another user is refused") {
        REQUIRE(::chown(pw.c_str(), 65534, 65534) == 0);
        CHECK_THROWS_WITH(f.load(), Contains("secret file " + pw + ": owner uid 65534, mode 0600"));
    }
    SECTION("a missing file, a directory") {
        f.config["install"]["secret_files"]["rootpw"] = f.dir.path + "/nope";
        CHECK_THROWS_WITH(f.load(), Contains("'install.secret_files.rootpw': secret file " +
                                             f.dir.path + "/nope: No such file or directory"));
        f.config["install"]["secret_files"]["rootpw"] = f.dir.path;
        CHECK_THROWS_WITH(f.load(), Contains(f.dir.path + ": not a regular file"));
    }
    SECTION("a password hash or private key inline in any vars is refused") {
        f.config["install"]["secret_files"].erase("rootpw");
        f.config["install"]["vars"]["rootpw"] = hash;
        f.config["nodes"]["n1"]["vars"] = {{"sshkey", "-----BEGIN OPENSSH PRIVATE KEY-----\nx"}};
        CHECK_THROWS_WITH(f.load(), Contains(file + "'install.vars.rootpw': looks like a password "
                                                    "hash: put it in a file only root can read and "
                                                    "name that file in install.secret_files") &&
                                        Contains(file + "'nodes.n1.vars.sshkey': looks like a "
                                                        "private key"));
    }
}

// bmc-power and pxe-provision boot read what powering needs, and check that as strictly.
TEST_CASE("the power parts of a config: no image, template or data network needed") {
    test::PxeFixture f;
    std::filesystem::remove(f.repo + "/rocky-9.iso");
    test::write_text(f.dir.path + "/ks.in", "{{name}} {{no_such_var}}\n");
    f.config["data"] = {{"subnet", "not a subnet"}};
    f.config["monitor"] = {{"dhcp_s", -1}};
    f.config["boot"] = {{"firmware", "uefi"}, {"loader", "grub"}, {"kernel_args", "{{nope}}"}};
    f.config["nodes"]["n1"]["ip"] = "203.0.113.5";  // checked against data.subnet by prepare
    CHECK_THROWS_WITH(f.load(), Contains("'iso.version': no image") &&
                                    Contains("'install.template'") && Contains("'data.subnet'") &&
                                    Contains("'monitor.dhcp_s'") && Contains("'boot.loader'") &&
                                    Contains("'boot.kernel_args'"));
    PxeConfig c = load_pxe_config(f.config_path(), PxeConfigParts::kPower);
    CHECK(c.parts == PxeConfigParts::kPower);
    REQUIRE(c.nodes.has_value());
    CHECK(ipv4_string(*(*c.nodes)[0].bmc) == "198.18.64.11");
    CHECK(c.state_dir == f.out + "/state");
    CHECK(c.bmc_login("n2").password_file == f.dir.path + "/bmc.pw");
    CHECK(c.boot_efi);  // power.boot_mode's default follows boot.firmware

    // What it reads is checked as strictly as ever, every problem named.
    std::string file = f.config_path() + ": key ";
    f.config["nodes"]["n2"]["bmc"] = "198.18.65.12";
    f.config["nodes"]["n1"]["group"] = "rack1";
    f.config["power"] = {{"wave", 0}};
    f.config["bmc"].erase("user");
    f.write();
    CHECK_THROWS_WITH(
        load_pxe_config(f.config_path(), PxeConfigParts::kPower),
        file + "'bmc.user': missing\n" + file +
            "'power.wave': expected an integer from 1 to 1024, got the number 0\n" + file +
            "'nodes.n1.group': \"rack1\" is no group of groups (there are none)\n" + file +
            "'nodes.n2.bmc': 198.18.65.12 is outside bmc.subnet " + "198.18.64.0/24");
}

TEST_CASE("one run reports every bad key of the file, each on its own line") {
    test::PxeFixture f;
    std::string file = f.config_path() + ": key ";
    f.config["bmc"]["timeout_ms"] = 50;                 // out of range
    f.config["data"]["gatway"] = "198.18.0.1";          // a typo: an unknown key
    f.config["power"] = {{"wave", "2"}};                // a wrong type
    f.config["nodes"]["n1"]["mac"] = "52:54:00:00:01";  // a value that does not parse
    CHECK_THROWS_WITH(
        f.load(),
        file + "'bmc.timeout_ms': expected an integer from 100 to 600000, got the number 50\n" +
            file +
            "'data.gatway': unknown key (known here: subnet, pool, gateway, dns, domain, "
            "lease_s)\n" +
            file + "'power.wave': expected an integer from 1 to 1024, got the string \"2\"\n" +
            file + "'nodes.n1.mac': \"52:54:00:00:01\" is not a MAC address");
}

// A check that combines keys runs only on keys that read well: one bad value, one message.
TEST_CASE("what follows from a bad key is not reported again") {
    test::PxeFixture f;
    std::string file = f.config_path() + ": key ";
    SECTION("a bad data subnet: no pool, gateway, server or node address checks against it") {
        f.config["data"]["subnet"] = "198.18.0.0";
        CHECK_THROWS_WITH(f.load(), file +
                                        "'data.subnet': \"198.18.0.0\": expected "
                                        "ADDRESS/PREFIX, e.g. 198.18.0.0/24");
    }
    SECTION("a missing bmc section: none of its keys, and no node BMC checks") {
        f.config.erase("bmc");
        CHECK_THROWS_WITH(f.load(), file + "'bmc': missing");
    }
    SECTION("a bad pool: no gateway or server checks against it") {
        f.config["data"]["pool"] = 7;
        CHECK_THROWS_WITH(f.load(), file +
                                        "'data.pool': expected a non-empty string, got the "
                                        "number 7");
    }
    SECTION("a misspelt required key is unknown, not also missing") {
        f.config["server"]["adress"] = f.config["server"]["address"];
        f.config["server"].erase("address");
        CHECK_THROWS_WITH(f.load(), file +
                                        "'server.adress': unknown key (known here: interface, "
                                        "address, http_port, dns, hook, user)");
    }
    SECTION("two nodes with bad BMC addresses are not duplicates of each other") {
        f.config["nodes"]["n1"]["bmc"] = "x";
        f.config["nodes"]["n2"]["bmc"] = "y";
        CHECK_THROWS_WITH(f.load(), file + "'nodes.n1.bmc': \"x\" is not an IPv4 address\n" + file +
                                        "'nodes.n2.bmc': \"y\" is not an IPv4 address");
    }
}

// One table of keys drives allow_only and this check: a key added in code and not documented,
// or documented and not in code, fails here.
TEST_CASE("man/pxe-provision.1 documents exactly the keys pxe.json allows") {
    std::set<std::string> table = test::table_keys(pxe_config_sections());
    std::set<std::string> documented = test::documented_keys(test::man_page("pxe-provision.1"));
    CHECK(test::undocumented(table, documented) == std::set<std::string>{});
    CHECK(test::unknown(table, documented) == std::set<std::string>{});
}
