#include "pxe/event.h"

#include <stdlib.h>

#include <catch2/catch.hpp>

#include "core/error.h"

using storkit::event_from_hook;
using Args = std::vector<std::string>;

TEST_CASE("dnsmasq's lease calls become DHCP events", "[pxe_event]") {
    ::setenv("DNSMASQ_TAGS", "efi64 known", 1);
    ::setenv("DNSMASQ_VENDOR_CLASS", "PXEClient:Arch:00007:UNDI:003016", 1);
    std::optional<storkit::PxeEvent> e =
        event_from_hook(Args{"add", "52:54:00:AB:cd:01", "198.18.0.100", "node1"}, 42.5);
    ::unsetenv("DNSMASQ_TAGS");
    ::unsetenv("DNSMASQ_VENDOR_CLASS");
    REQUIRE(e);
    CHECK(e->kind == "dhcp");
    CHECK(e->action == "add");
    CHECK(e->mac == "52:54:00:ab:cd:01");
    CHECK(e->ip == "198.18.0.100");
    CHECK(e->hostname == "node1");
    CHECK(e->tags == "efi64 known");
    CHECK(e->vendor_class == "PXEClient:Arch:00007:UNDI:003016");
    CHECK(e->time == 42.5);
    CHECK(event_from_hook(Args{"del", "52:54:00:ab:cd:01", "198.18.0.100"}, 1)->action == "del");
    // A round trip through the log line keeps everything.
    storkit::PxeEvent back = storkit::PxeEvent::from_json(e->to_json(), "test");
    CHECK(back.to_json() == e->to_json());
}

TEST_CASE("dnsmasq's TFTP calls become TFTP events", "[pxe_event]") {
    std::optional<storkit::PxeEvent> e =
        event_from_hook(Args{"tftp", "1024", "198.18.0.100", "/srv/tftp/ipxe.efi"}, 1);
    REQUIRE(e);
    CHECK(e->kind == "tftp");
    CHECK(e->size == 1024);
    CHECK(e->mac.empty());
    CHECK(e->file == "/srv/tftp/ipxe.efi");
}

TEST_CASE("calls that are not recorded, and malformed ones", "[pxe_event]") {
    CHECK_FALSE(event_from_hook(Args{"init"}, 1));
    CHECK_FALSE(event_from_hook(Args{"arp-add", "52:54:00:00:00:01", "198.18.0.1"}, 1));
    CHECK_THROWS_AS(event_from_hook(Args{}, 1), storkit::ConfigError);
    CHECK_THROWS_WITH(event_from_hook(Args{"add", "52:54:00:00:00", "198.18.0.1"}, 1),
                      Catch::Contains("52:54:00:00:00"));
    CHECK_THROWS_WITH(event_from_hook(Args{"add", "52:54:00:00:00:01", "198.18.0.256"}, 1),
                      Catch::Contains("198.18.0.256"));
    CHECK_THROWS_AS(event_from_hook(Args{"add", "52:54:00:00:00:01"}, 1), storkit::ConfigError);
    CHECK_THROWS_AS(event_from_hook(Args{"tftp", "-1", "198.18.0.1", "f"}, 1),
                    storkit::ConfigError);
    CHECK_THROWS_AS(event_from_hook(Args{"tftp", "12", "198.18.0.1"}, 1), storkit::ConfigError);
    // A client-chosen host name with control characters is dropped, not stored.
    CHECK(event_from_hook(Args{"add", "52:54:00:00:00:01", "198.18.0.1", "a\nb"}, 1)
              ->hostname.empty());
}

TEST_CASE("phase reports are checked field by field", "[pxe_event]") {
    storkit::PxeEvent e = storkit::phase_event(
        {{"phase", "installing"}, {"mac", "52-54-00-00-00-0A"}, {"detail", "50%"}}, "198.18.0.9",
        7);
    CHECK(e.kind == "phase");
    CHECK(e.phase == "installing");
    CHECK(e.mac == "52:54:00:00:00:0a");
    CHECK(e.ip == "198.18.0.9");
    CHECK(e.detail == "50%");
    CHECK(storkit::phase_event({{"phase", "done"}}, "", 7).mac.empty());
    CHECK_THROWS_WITH(storkit::phase_event({{"phase", "Done!"}}, "", 7), Catch::Contains("phase"));
    CHECK_THROWS_AS(storkit::phase_event({}, "", 7), storkit::ConfigError);
    CHECK_THROWS_AS(storkit::phase_event({{"phase", std::string(33, 'a')}}, "", 7),
                    storkit::ConfigError);
    CHECK_THROWS_WITH(storkit::phase_event({{"phase", "done"}, {"detail", "a\x01"}}, "", 7),
                      Catch::Contains("detail"));
    CHECK_THROWS_AS(storkit::phase_event({{"phase", "done"}, {"mac", "x"}}, "", 7),
                    storkit::ConfigError);
}

TEST_CASE("form fields are URL-decoded", "[pxe_event]") {
    auto f = storkit::parse_form("phase=done&detail=all+good%21&empty=&flag&phase=failed");
    CHECK(f["phase"] == "failed");
    CHECK(f["detail"] == "all good!");
    CHECK(f["empty"].empty());
    CHECK(f.count("flag") == 1);
    CHECK(storkit::parse_form("").empty());
    CHECK_THROWS_AS(storkit::parse_form("a=%zz"), storkit::ConfigError);
    CHECK_THROWS_AS(storkit::parse_form("a=%4"), storkit::ConfigError);
}
