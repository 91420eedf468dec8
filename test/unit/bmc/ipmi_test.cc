#include "bmc/ipmi.h"

#include <catch2/catch.hpp>

#include "bmc/power_action.h"

// The boot override as it goes on the wire (IPMI 2.0 spec, Set System Boot Options, parameter
// 5): these bits are what a BMC acts on, so they are checked against the spec, not against
// FreeIPMI's names.
TEST_CASE("the one-time PXE override is encoded per the IPMI spec", "[ipmi]") {
    std::vector<uint8_t> bios = storkit::boot_once_pxe_request(storkit::BootMode::kBios);
    REQUIRE(bios.size() == 7);
    CHECK(bios[0] == 0x08);         // Set System Boot Options
    CHECK(bios[1] == 0x05);         // parameter 5 (boot flags), parameter valid/unlocked
    CHECK(bios[2] == 0x80);         // flags valid, next boot only, PC compatible (legacy BIOS)
    CHECK((bios[3] >> 2) == 0x01);  // boot device: force PXE
    storkit::BootFlags f;
    f.device = bios[3] >> 2;
    CHECK(f.device_name() == "pxe");

    std::vector<uint8_t> efi = storkit::boot_once_pxe_request(storkit::BootMode::kEfi);
    REQUIRE(efi.size() == 7);
    CHECK(efi[2] == 0xa0);  // as above, plus bit 5: EFI boot type
    CHECK(efi[3] == bios[3]);
}

TEST_CASE("cipher suites are checked against the ones FreeIPMI knows", "[ipmi]") {
    CHECK(storkit::valid_cipher_suite(3));
    CHECK(storkit::valid_cipher_suite(17));
    CHECK_FALSE(storkit::valid_cipher_suite(4));
    CHECK_FALSE(storkit::valid_cipher_suite(-1));
}

TEST_CASE("a session needs an explicit port", "[ipmi]") {
    storkit::IpmiLogin login;
    login.password = "x";
    CHECK_THROWS_WITH(storkit::IpmiSession("127.0.0.1", login), Catch::Contains("no port"));
}

TEST_CASE("power actions parse by name and describe their result", "[ipmi]") {
    using storkit::PowerAction;
    for (const char* name : {"status", "on", "off", "soft", "cycle", "reset", "pxe", "pxe-boot"})
        CHECK(storkit::to_string(*storkit::parse_power_action(name)) == std::string(name));
    CHECK_FALSE(storkit::parse_power_action("boot"));
    CHECK(storkit::power_action_names() == "status|on|off|soft|cycle|reset|pxe|pxe-boot");
    CHECK(storkit::power_action_dry_run(PowerAction::kOn, storkit::BootMode::kEfi) ==
          "would power on unless on");
    CHECK(storkit::power_action_dry_run(PowerAction::kPxeBoot, storkit::BootMode::kEfi) ==
          "would set PXE (efi) for the next boot, then power on (cycle if on)");
    // A cycle, reset or soft shutdown is never sent twice; the others look first.
    for (const storkit::PowerActionInfo& i : storkit::kPowerActions)
        CHECK(i.repeat_safe == (i.action == PowerAction::kStatus || i.action == PowerAction::kOn ||
                                i.action == PowerAction::kOff || i.action == PowerAction::kPxe));

    storkit::BmcResult r;
    r.host = "10.0.0.5:623";
    r.action = PowerAction::kOn;
    r.ok = true;
    r.was_on = false;
    r.is_on = true;
    r.changed = true;
    CHECK(r.line() == "10.0.0.5:623: on (was off)");
    r.changed = false;
    r.was_on = true;
    CHECK(r.line() == "10.0.0.5:623: on (unchanged)");
    r.action = PowerAction::kPxeBoot;
    r.boot_mode = storkit::BootMode::kEfi;
    CHECK(r.line() == "10.0.0.5:623: on, booting pxe (efi, cycled)");
    r.ok = false;
    r.error = "session: connection timeout";
    r.attempts = 2;
    CHECK(r.line() == "10.0.0.5:623: failed: session: connection timeout (2 attempts)");
    CHECK(r.to_json()["error"] == "session: connection timeout");
}
