#include "pxe/render.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "core/error.h"
#include "core/exec.h"
#include "core/statefile.h"
#include "man_page.h"
#include "pxe/fixture.h"
#include "pxe/install_book.h"

using namespace storkit;
using Catch::Contains;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

struct Rendered {
    test::PxeFixture f;
    PxeConfig cfg;
    PreparedImage image;
    FileSet files{f.dir.path + "/manifest"};

    void render() {
        cfg = f.load();
        image.sha256 = std::string(64, 'c');
        image.tree = f.dir.path + "/cache/tree";
        image.boot = {"images/pxeboot/vmlinuz", "images/pxeboot/initrd.img", "rhel"};
        Inventory inv = build_inventory(cfg, {});
        LoaderPlan loaders = loader_plan(cfg.firmware, cfg.loader);
        render_pxe({cfg, inv, image, loaders, "", false}, files);
        files.plan();
    }
    std::string file(const std::string& rel) const { return *read_file(f.out + "/" + rel); }
};

}  // namespace

TEST_CASE("dnsmasq config: iPXE, both firmwares, reservations only get boot files") {
    test::PxeFixture f;
    f.config["data"]["dns"] = {"198.18.0.1", "198.18.0.3"};
    f.config["data"]["domain"] = "stor.test";
    PxeConfig cfg = f.load();
    std::string conf = render_dnsmasq_conf(cfg, loader_plan(cfg.firmware, cfg.loader));
    for (const char* line :
         {"port=0", "interface=eth1", "bind-interfaces",
          "dhcp-range=198.18.0.100,198.18.0.199,255.255.255.0,3600",
          "dhcp-option=option:router,198.18.0.1",
          "dhcp-option=option:dns-server,198.18.0.1,198.18.0.3",
          "dhcp-option=option:domain-name,stor.test", "enable-tftp",
          "dhcp-match=set:bios,option:client-arch,0", "dhcp-match=set:efi64,option:client-arch,7",
          "dhcp-match=set:efi64,option:client-arch,9", "dhcp-userclass=set:ipxe,iPXE",
          "dhcp-boot=tag:known,tag:ipxe,http://198.18.0.2/storkit/boot.ipxe",
          "dhcp-boot=tag:known,tag:!ipxe,tag:bios,undionly.kpxe",
          "dhcp-boot=tag:known,tag:!ipxe,tag:efi64,snponly.efi"})
        CHECK(has_line(conf, line));
    CHECK(has_line(conf, "dhcp-hostsdir=" + f.out + "/state/pxe/dhcp-hosts"));
    CHECK(has_line(conf, "tftp-root=" + f.out + "/tftp"));
    // The hook is pxe-report told the state directory prepare uses (not the config's default).
    CHECK(has_line(conf, "dhcp-script=" + f.out + "/state/pxe/report-hook"));
    CHECK(has_line(conf, "script-on-renewal"));
}

TEST_CASE("dnsmasq config: native loaders, one firmware, DNS on request") {
    test::PxeFixture f;
    f.config["boot"] = {{"firmware", "bios"}, {"loader", "native"}};
    f.config["server"]["dns"] = true;
    f.config["server"]["http_port"] = 8080;
    PxeConfig cfg = f.load();
    std::string conf = render_dnsmasq_conf(cfg, loader_plan(cfg.firmware, cfg.loader));
    CHECK(has_line(conf, "dhcp-boot=tag:known,tag:bios,pxelinux.0"));
    CHECK(conf.find("tag:efi64,") == std::string::npos);
    CHECK_FALSE(has_line(conf, "port=0"));
    CHECK(conf.find("ipxe") == std::string::npos);
    CHECK(http_base_url(cfg) == "http://198.18.0.2:8080");
    cfg.firmware = Firmware::kUefi;
    conf = render_dnsmasq_conf(cfg, loader_plan(cfg.firmware, cfg.loader));
    CHECK(has_line(conf, "dhcp-boot=tag:known,tag:efi64,boot/grub/x86_64-efi/core.efi"));
    CHECK(conf.find("pxelinux.0") == std::string::npos);
}

TEST_CASE("lighttpd config serves the HTTP root and the report CGI") {
    test::PxeFixture f;
    PxeConfig cfg = f.load();
    std::string conf = render_lighttpd_conf(cfg);
    CHECK(has_line(conf, "server.document-root = \"" + f.out + "/www\""));
    CHECK(has_line(conf, "server.bind = \"198.18.0.2\""));
    CHECK(has_line(conf, "server.port = 80"));
    CHECK(has_line(conf,
                   "alias.url = (\"/storkit/report\" => \"" + f.out + "/state/pxe/report-hook\","));
    // Never root; kickstarts go through the CGI, which hands each to its own node only.
    CHECK(has_line(conf, "server.username = \"storkit-pxe\""));
    CHECK(has_line(conf,
                   "url.rewrite-once = (\"^/storkit/ks/([a-z0-9-]+)[.]cfg$\" => "
                   "\"/storkit/report?ks=$1\")"));
    cfg.cgi_group = "storkit-pxe";
    CHECK(has_line(render_lighttpd_conf(cfg), "server.groupname = \"storkit-pxe\""));
    CHECK(has_line(
        conf, "             \"/storkit/table.json\" => \"" + f.out + "/state/pxe/table.json\")"));
    CHECK(has_line(conf, "  cgi.assign = (\"\" => \"\")"));
}

TEST_CASE("per-node files: reservation, loader configs and kickstart") {
    Rendered r;
    r.f.config["boot"] = {
        {"loader", "native"},
        {"kernel_args", "ks={{ks_url}} ds=nocloud;s={{http_url}}/x/ name={{name}}"}};
    r.f.config["nodes"]["n3"] = {{"bmc", "198.18.64.13"}};  // no MAC: no files
    r.render();
    std::vector<std::string> changed = r.files.changed();
    auto has = [&](const std::string& rel) {
        return std::find(changed.begin(), changed.end(), r.f.out + "/" + rel) != changed.end();
    };
    CHECK(has("state/pxe/dhcp-hosts/n1"));
    CHECK(has("state/pxe/ks/n2.cfg"));
    CHECK(has("state/pxe/report-hook"));
    CHECK(has("tftp/pxelinux.cfg/01-52-54-00-00-00-01"));
    CHECK(has("tftp/boot/grub/grub.cfg-01-52-54-00-00-00-02"));
    CHECK(has("tftp/pxelinux.cfg/default"));
    CHECK(has("tftp/storkit/images/rocky-9/images/pxeboot/vmlinuz"));  // pending: dry run
    CHECK_FALSE(has("state/pxe/dhcp-hosts/n3"));
    CHECK_FALSE(has("state/pxe/ks/n3.cfg"));
    CHECK(std::none_of(changed.begin(), changed.end(), [&](const std::string& p) {
        return p.rfind(r.f.out + "/www/storkit/ks/", 0) == 0;  // no kickstart is served as a file
    }));
    CHECK_FALSE(has("www/storkit/boot.ipxe"));

    // Write them (the image is not extracted: drop the pending entries) and read them back.
    FileSet files(r.f.dir.path + "/m2");
    Inventory inv = build_inventory(r.cfg, {});
    LoaderPlan loaders = loader_plan(r.cfg.firmware, r.cfg.loader);
    loaders.files.clear();
    test::write_text(r.image.tree + "/images/pxeboot/vmlinuz", "k");
    test::write_text(r.image.tree + "/images/pxeboot/initrd.img", "i");
    loaders.grub = false;
    render_pxe({r.cfg, inv, r.image, loaders, "", true}, files);
    files.plan();
    files.commit();
    CHECK(r.file("state/pxe/dhcp-hosts/n1") == "52:54:00:00:00:01,198.18.0.100,n1\n");
    CHECK(r.file("state/pxe/dhcp-hosts/n2") == "52:54:00:00:00:02,198.18.0.50,n2\n");
    // The template's text, then the reporting sections (install.report "kickstart").
    std::string ks = r.file("state/pxe/ks/n1.cfg");
    CHECK(ks.rfind("host n1 ip 198.18.0.100/24 tz UTC\n", 0) == 0);
    CHECK(ks.find("\n%pre --log=/tmp/storkit-report.log\n") != std::string::npos);
    CHECK(ks.find("'http://198.18.0.2/storkit/report'") != std::string::npos);
    CHECK(ks.find("storkit_report started\n") != std::string::npos);
    CHECK(ks.find("storkit_report finished\n") != std::string::npos);
    CHECK(ks.find("\n%onerror\n") != std::string::npos);
    std::string pxe = r.file("tftp/pxelinux.cfg/01-52-54-00-00-00-01");
    CHECK(has_line(pxe, "  KERNEL storkit/images/rocky-9/images/pxeboot/vmlinuz"));
    CHECK(has_line(pxe,
                   "  APPEND ks=http://198.18.0.2/storkit/ks/n1.cfg "
                   "ds=nocloud;s=http://198.18.0.2/x/ name=n1"));
    std::string grub = r.file("tftp/boot/grub/grub.cfg-01-52-54-00-00-00-02");
    // GRUB would take ";" as the end of a command: quoted.
    CHECK(has_line(grub,
                   "  linux (tftp,198.18.0.2)/storkit/images/rocky-9/images/pxeboot/vmlinuz "
                   "ks=http://198.18.0.2/storkit/ks/n2.cfg "
                   "'ds=nocloud;s=http://198.18.0.2/x/' name=n2"));
    CHECK(std::filesystem::read_symlink(r.f.out + "/www/storkit/images/rocky-9") == r.image.tree);
}

// kTemplateVars is the one list of variables: every one of them has a value in the rendered
// files, and the man page lists exactly these.
TEST_CASE("every built-in template variable gets a value, and the man page lists them all") {
    Rendered r;
    std::string ks;
    for (const std::string& name : builtin_template_vars()) ks += name + "=[{{" + name + "}}]\n";
    test::write_text(r.f.dir.path + "/ks.in", ks);
    r.f.config["data"]["dns"] = {"198.18.0.1"};
    r.f.config["data"]["domain"] = "stor.test";
    r.render();
    FileSet files(r.f.dir.path + "/m2");
    Inventory inv = build_inventory(r.cfg, {});
    LoaderPlan loaders = loader_plan(r.cfg.firmware, r.cfg.loader);
    loaders.files.clear();
    loaders.grub = false;
    test::write_text(r.image.tree + "/images/pxeboot/vmlinuz", "k");
    test::write_text(r.image.tree + "/images/pxeboot/initrd.img", "i");
    render_pxe({r.cfg, inv, r.image, loaders, "", true}, files);
    files.plan();
    files.commit();
    std::string n2 = r.file("state/pxe/ks/n2.cfg");  // n2 has a BMC, a MAC and an IP
    auto value = [&n2](const std::string& name) {
        size_t at = ("\n" + n2).find("\n" + name + "=[");
        if (at == std::string::npos) return std::string("(no line)");
        at += name.size() + 2;
        return n2.substr(at, n2.find("]\n", at) - at);
    };
    for (const std::string& name : builtin_template_vars()) {
        INFO(name);
        CHECK_FALSE(value(name).empty());
    }
    CHECK(value("ip") == "198.18.0.50");
    CHECK(value("fqdn") == "n2.stor.test");

    std::vector<std::string> documented =
        test::paragraph_words(test::man_page("pxe-provision.1"), "Built-in variables:");
    CHECK(documented == builtin_template_vars());
}

// Each node's files get its own values: the node's vars over its group's over install.vars.
TEST_CASE("per-node template variables: node over group over install.vars") {
    Rendered r;
    test::write_text(r.f.dir.path + "/ks.in",
                     "host {{name}} tz {{tz}} disk {{disk}} role {{role}} ip {{ip}}\n");
    r.f.config["install"]["vars"] = {{"tz", "UTC"}, {"disk", "sda"}, {"role", "storage"}};
    r.f.config["install"]["report"] = "none";
    r.f.config["groups"] = {{"rack2", {{"vars", {{"disk", "nvme0n1"}, {"role", "osd"}}}}}};
    r.f.config["boot"] = {{"kernel_args", "inst.ks={{ks_url}} role={{role}} disk={{disk}}"}};
    r.f.config["nodes"]["n1"]["group"] = "rack2";
    r.f.config["nodes"]["n1"]["vars"] = {{"disk", "sdb"}};
    r.f.config["nodes"]["n3"] = {{"mac", "52:54:00:00:00:03"}, {"group", "rack2"}};
    r.f.config["nodes"]["n4"] = {{"mac", "52:54:00:00:00:04"}, {"vars", {{"tz", "CET"}}}};
    r.render();
    FileSet files(r.f.dir.path + "/m2");
    Inventory inv = build_inventory(r.cfg, {});
    LoaderPlan loaders;  // iPXE scripts only
    test::write_text(r.image.tree + "/images/pxeboot/vmlinuz", "k");
    test::write_text(r.image.tree + "/images/pxeboot/initrd.img", "i");
    render_pxe({r.cfg, inv, r.image, loaders, "", true}, files);
    files.plan();
    files.commit();
    // n1: its own disk, its group's role; n3: its group's; n2: install.vars; n4: its own tz.
    CHECK(r.file("state/pxe/ks/n1.cfg") == "host n1 tz UTC disk sdb role osd ip 198.18.0.100\n");
    CHECK(r.file("state/pxe/ks/n2.cfg") == "host n2 tz UTC disk sda role storage ip 198.18.0.50\n");
    CHECK(r.file("state/pxe/ks/n3.cfg") ==
          "host n3 tz UTC disk nvme0n1 role osd ip 198.18.0.101\n");
    CHECK(r.file("state/pxe/ks/n4.cfg") ==
          "host n4 tz CET disk sda role storage ip 198.18.0.102\n");
    // The kernel arguments too, for each node.
    CHECK(r.file("www/storkit/ipxe/52-54-00-00-00-01.ipxe").find(" role=osd disk=sdb\n") !=
          std::string::npos);
    CHECK(r.file("www/storkit/ipxe/52-54-00-00-00-02.ipxe").find(" role=storage disk=sda\n") !=
          std::string::npos);
    CHECK(r.file("www/storkit/ipxe/52-54-00-00-00-03.ipxe").find(" role=osd disk=nvme0n1\n") !=
          std::string::npos);
}

TEST_CASE("iPXE: one chain script and a script per node, all over HTTP") {
    Rendered r;
    r.render();
    FileSet files(r.f.dir.path + "/m2");
    Inventory inv = build_inventory(r.cfg, {});
    LoaderPlan loaders;  // no loader binaries in this test
    test::write_text(r.image.tree + "/images/pxeboot/vmlinuz", "k");
    test::write_text(r.image.tree + "/images/pxeboot/initrd.img", "i");
    render_pxe({r.cfg, inv, r.image, loaders, "", true}, files);
    files.plan();
    files.commit();
    CHECK(r.file("www/storkit/boot.ipxe")
              .find("chain http://198.18.0.2/storkit/ipxe/${mac:hexhyp}.ipxe || exit 1") !=
          std::string::npos);
    std::string node = r.file("www/storkit/ipxe/52-54-00-00-00-01.ipxe");
    CHECK(has_line(node,
                   "kernel http://198.18.0.2/storkit/images/rocky-9/images/pxeboot/vmlinuz "
                   "initrd=initrd inst.ks=http://198.18.0.2/storkit/ks/n1.cfg "
                   "inst.repo=http://198.18.0.2/storkit/images/rocky-9 ip=dhcp"));
    CHECK(has_line(node,
                   "initrd --name initrd "
                   "http://198.18.0.2/storkit/images/rocky-9/images/pxeboot/initrd.img"));
    CHECK_FALSE(std::filesystem::exists(r.f.out + "/tftp/pxelinux.cfg"));
}

TEST_CASE("boot loaders come from packages; a missing one names its package") {
    LoaderPlan ipxe = loader_plan(Firmware::kAuto, Loader::kIpxe);
    REQUIRE(ipxe.files.size() == 2);
    CHECK(ipxe.files[0].source == "/usr/lib/ipxe/undionly.kpxe");
    CHECK(ipxe.bios_boot == "undionly.kpxe");
    CHECK(ipxe.uefi_boot == "snponly.efi");
    LoaderPlan native = loader_plan(Firmware::kAuto, Loader::kNative);
    CHECK(native.grub);
    CHECK(native.bios_boot == "pxelinux.0");
    CHECK_NOTHROW(check_loaders(native));  // installed by scripts/deps
    test::ScratchDir empty;
    LoaderPlan none = loader_plan(Firmware::kAuto, Loader::kNative, empty.path);
    CHECK_THROWS_WITH(check_loaders(none, empty.path),
                      "boot loader files missing: " + empty.path +
                          "/usr/lib/PXELINUX/pxelinux.0 (Debian package pxelinux), " + empty.path +
                          "/usr/lib/syslinux/modules/bios/ldlinux.c32 (Debian package "
                          "syslinux-common), " +
                          empty.path +
                          "/usr/lib/grub/x86_64-efi/kernel.img (Debian package "
                          "grub-efi-amd64-bin), " +
                          empty.path +
                          "/usr/bin/grub-mknetdir (Debian package grub-common); install them "
                          "with: apt-get install grub-common grub-efi-amd64-bin pxelinux "
                          "syslinux-common");
}

TEST_CASE("install.report: a preseed gets d-i commands, none gets the template alone") {
    for (const char* kind : {"preseed", "none"}) {
        Rendered r;
        r.f.config["install"]["report"] = kind;
        r.cfg = r.f.load();
        r.image.tree = r.f.dir.path + "/cache/tree";
        r.image.boot = {"images/pxeboot/vmlinuz", "images/pxeboot/initrd.img", "rhel"};
        test::write_text(r.image.tree + "/images/pxeboot/vmlinuz", "k");
        test::write_text(r.image.tree + "/images/pxeboot/initrd.img", "i");
        LoaderPlan loaders = loader_plan(r.cfg.firmware, r.cfg.loader);
        loaders.files.clear();
        loaders.grub = false;
        render_pxe({r.cfg, build_inventory(r.cfg, {}), r.image, loaders, "", true}, r.files);
        r.files.plan();
        r.files.commit();
        std::string ks = r.file("state/pxe/ks/n1.cfg");
        if (std::string(kind) == "none") {
            CHECK(ks == "host n1 ip 198.18.0.100/24 tz UTC\n");
        } else {
            CHECK(ks.find("\nd-i preseed/early_command string ") != std::string::npos);
            CHECK(ks.find("\nd-i preseed/late_command string ") != std::string::npos);
            CHECK(ks.find("%pre") == std::string::npos);
        }
    }
    test::PxeFixture f;
    f.config["install"]["report"] = "curl";
    CHECK_THROWS_WITH(f.load(), Catch::Contains("install.report") &&
                                    Catch::Contains("expected kickstart, preseed or none"));
}

// The install book decides what each node is served: an installer (with its token in every
// report) until it reports finished, the local disk after.
TEST_CASE("install book: tokens in the kickstart, installed nodes boot the local disk") {
    Rendered r;
    r.f.config["boot"] = {{"loader", "native"}};
    r.render();
    Inventory inv = build_inventory(r.cfg, {});
    LoaderPlan loaders = loader_plan(r.cfg.firmware, r.cfg.loader);
    loaders.files.clear();
    loaders.grub = false;
    test::write_text(r.image.tree + "/images/pxeboot/vmlinuz", "k");
    test::write_text(r.image.tree + "/images/pxeboot/initrd.img", "i");
    InstallBook book;
    book.mark("n1", "new", "52:54:00:00:00:01", "198.18.0.100", 1);
    book.mark("n2", "new", "52:54:00:00:00:02", "198.18.0.50", 1);
    REQUIRE(book.nodes["n1"].token.size() == 32);
    CHECK(book.nodes["n1"].token != book.nodes["n2"].token);
    book.nodes["n2"].state = InstallState::kInstalled;
    std::map<std::string, std::vector<std::string>> boot_files;
    FileSet files(r.f.dir.path + "/m3");
    render_pxe({r.cfg, inv, r.image, loaders, "", true, &book, &boot_files}, files);
    files.plan();
    files.commit();

    std::string ks = r.file("state/pxe/ks/n1.cfg");
    CHECK(ks.find("-d 'node=n1&token=" + book.nodes["n1"].token + "'") != std::string::npos);
    CHECK(ks.find("--post-data \"node=n1&token=" + book.nodes["n1"].token + "&phase=$1") !=
          std::string::npos);
    // Installed: no kickstart at all, and loader configs that boot the local disk.
    CHECK_FALSE(read_file(r.f.out + "/state/pxe/ks/n2.cfg"));
    std::string pxe2 = r.file("tftp/pxelinux.cfg/01-52-54-00-00-00-02");
    CHECK(has_line(pxe2, "  LOCALBOOT 0"));
    CHECK(pxe2.find("KERNEL") == std::string::npos);
    CHECK(r.file("tftp/boot/grub/grub.cfg-01-52-54-00-00-00-02") ==
          local_boot_config("x/boot/grub/grub.cfg-01-52-54-00-00-00-02", "n2"));
    CHECK(has_line(r.file("tftp/pxelinux.cfg/01-52-54-00-00-00-01"), "DEFAULT install"));
    // Each node's loader configs are recorded for the hand-off, and the CGI's group may
    // rewrite them (mode 0664), not read the kickstart's neighbours' secrets (0640).
    CHECK(boot_files["n1"] ==
          std::vector<std::string>{r.f.out + "/tftp/pxelinux.cfg/01-52-54-00-00-00-01",
                                   r.f.out + "/tftp/boot/grub/grub.cfg-01-52-54-00-00-00-01"});
    struct stat st {};
    REQUIRE(::stat((r.f.out + "/tftp/pxelinux.cfg/01-52-54-00-00-00-01").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0664);
    REQUIRE(::stat((r.f.out + "/state/pxe/ks/n1.cfg").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0640);

    // The hand-off rewrites n1's files in place to what prepare renders for an installed node.
    CHECK(hand_off_to_local_disk(boot_files["n1"], "n1").empty());
    book.nodes["n1"].state = InstallState::kInstalled;
    FileSet again(r.f.dir.path + "/m3");
    render_pxe({r.cfg, inv, r.image, loaders, "", true, &book, &boot_files}, again);
    again.plan();
    std::vector<std::string> changed = again.changed(), removed = again.removed();
    CHECK(std::find(changed.begin(), changed.end(),
                    r.f.out + "/tftp/pxelinux.cfg/01-52-54-00-00-00-01") == changed.end());
    CHECK(removed == std::vector<std::string>{r.f.out + "/state/pxe/ks/n1.cfg"});
}

TEST_CASE("the report hook runs pxe-report with the state directory, quoted") {
    test::PxeFixture f;
    f.config["paths"]["state_dir"] = f.out + "/it's here";
    f.config["server"]["hook"] = f.dir.path + "/args";
    PxeConfig cfg = f.load();
    test::write_text(f.dir.path + "/args", "#!/bin/sh\nfor a; do echo \"[$a]\"; done\n");
    ::chmod((f.dir.path + "/args").c_str(), 0755);
    test::write_text(f.dir.path + "/hook.sh", render_report_hook(cfg));
    ExecRequest req;
    req.argv = {"/bin/sh", f.dir.path + "/hook.sh", "add", "-n", "a b"};
    req.timeout = std::chrono::seconds(10);
    ExecResult run = run_command(req);
    INFO(run.describe() << ": " << run.err);
    CHECK(run.ok());
    CHECK(run.out == "[--state-dir]\n[" + f.out + "/it's here/pxe]\n[add]\n[-n]\n[a b]\n");
}
