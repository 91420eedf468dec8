#include "pxe/iso.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "core/error.h"
#include "core/statefile.h"
#include "pxe/fixture.h"
#include "pxe/image_cache.h"

using namespace storkit;
using Catch::Contains;

TEST_CASE("entry names: relative and clean, never absolute or with ..") {
    CHECK(safe_entry_path("images/pxeboot/vmlinuz") == "images/pxeboot/vmlinuz");
    CHECK(safe_entry_path("./images//pxeboot/./vmlinuz") == "images/pxeboot/vmlinuz");
    CHECK(safe_entry_path(".") == "");
    CHECK(safe_entry_path("./") == "");
    CHECK_FALSE(safe_entry_path("/etc/passwd").has_value());
    CHECK_FALSE(safe_entry_path("../etc/passwd").has_value());
    CHECK_FALSE(safe_entry_path("images/../../etc").has_value());
    CHECK_FALSE(safe_entry_path("images/..").has_value());
    CHECK(safe_entry_path("images/..x") == "images/..x");
}

TEST_CASE("symlinks must resolve inside the tree, through other symlinks too") {
    std::map<std::string, std::string> links;
    CHECK(symlink_stays_inside("latest", "BaseOS", links));
    CHECK(symlink_stays_inside("debian", ".", links));
    CHECK(symlink_stays_inside("a/b/c", "../../x", links));
    CHECK_FALSE(symlink_stays_inside("a/b/c", "../../../x", links));
    CHECK_FALSE(symlink_stays_inside("a", "/etc/passwd", links));
    CHECK_FALSE(symlink_stays_inside("a", "", links));
    // Lexically inside, but "up" is the root itself, so "up/.." is the root's parent.
    links = {{"sub/up", ".."}, {"sub/esc", "up/../.."}};
    CHECK(symlink_stays_inside("sub/up", "..", links));
    CHECK_FALSE(symlink_stays_inside("sub/esc", "up/../..", links));
    // A loop never resolves.
    links = {{"x", "y"}, {"y", "x"}};
    CHECK_FALSE(symlink_stays_inside("x", "y", links));
    // Through an absolute link.
    links = {{"abs", "/"}, {"via", "abs/etc"}};
    CHECK_FALSE(symlink_stays_inside("via", "abs/etc", links));
}

TEST_CASE("an image is extracted byte for byte, its inside symlinks kept") {
    test::PxeFixture f(true);
    std::filesystem::create_symlink("BaseOS", f.tree + "/latest");
    test::make_iso(f.tree, f.repo + "/links.iso");
    ImageListing l = scan_image(f.repo + "/links.iso");
    CHECK(l.files.size() == 3);
    CHECK(l.bytes == 5000 + 9000 + 3);
    CHECK(l.symlinks == std::map<std::string, std::string>{{"latest", "BaseOS"}});
    std::string dest = f.dir.path + "/x/tree";
    std::filesystem::create_directories(f.dir.path + "/x");
    extract_image(f.repo + "/links.iso", dest, l, {});
    CHECK(*read_file(dest + "/images/pxeboot/initrd.img") == std::string(9000, 'i'));
    CHECK(*read_file(dest + "/latest/Packages/a.rpm") == "rpm");
    CHECK(std::filesystem::read_symlink(dest + "/latest") == "BaseOS");
    struct stat st {};
    REQUIRE(::stat(dest.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0755);
    // Nothing else beside it: the temp directory was renamed.
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(f.dir.path + "/x"))
        ++entries;
    CHECK(entries == 1);
}

TEST_CASE("an image with an escaping symlink is refused and nothing is written") {
    test::PxeFixture f(true);
    std::filesystem::create_symlink("../../../etc/shadow", f.tree + "/images/pxeboot/escape");
    test::make_iso(f.tree, f.repo + "/evil.iso");
    CHECK_THROWS_WITH(scan_image(f.repo + "/evil.iso"),
                      f.repo +
                          "/evil.iso: symlink \"images/pxeboot/escape\" -> "
                          "\"../../../etc/shadow\" points outside the image; refusing the "
                          "image");
    ImageCache cache(f.out + "/cache");
    CHECK_THROWS_AS(cache.inspect(f.repo + "/evil.iso", "", "", {}), Error);
    CHECK_FALSE(std::filesystem::exists(f.out));
}

TEST_CASE("an image with an absolute symlink is refused") {
    test::PxeFixture f(true);
    std::filesystem::create_symlink("/etc", f.tree + "/etc");
    test::make_iso(f.tree, f.repo + "/abs.iso");
    CHECK_THROWS_WITH(scan_image(f.repo + "/abs.iso"), Contains("symlink \"etc\" -> \"/etc\""));
}

TEST_CASE("the image cache: checksum, extraction once per content") {
    test::PxeFixture f(true);
    std::string iso = f.repo + "/rocky-9.iso";
    std::string sha = sha256_file(iso);
    CHECK(sha.size() == 64);
    ImageCache cache(f.out + "/cache");

    SECTION("a wrong .sha256 refuses the image, writing nothing") {
        test::write_text(iso + ".sha256", std::string(64, 'a') + "  rocky-9.iso\n");
        CHECK_THROWS_WITH(cache.inspect(iso, "", "", {}),
                          iso + ": SHA-256 is " + sha +
                              " but the repository's checksum file says " + std::string(64, 'a') +
                              "; refusing the image");
        CHECK_FALSE(std::filesystem::exists(f.out));
    }
    SECTION("a sha256sum file for several images") {
        test::write_text(f.repo + "/rocky-9.sha256",
                         std::string(64, 'b') + "  other.iso\n" + sha + " *rocky-9.iso\n");
        CHECK(expected_sha256(iso) == sha);
        CHECK_NOTHROW(cache.inspect(iso, "", "", {}));
        test::write_text(f.repo + "/rocky-9.sha256", "no hashes here\n");
        CHECK_THROWS_WITH(expected_sha256(iso), Contains("rocky-9.sha256: no SHA-256 for "
                                                         "rocky-9.iso"));
    }
    SECTION("extracted once, then found in the cache without hashing again") {
        test::write_text(iso + ".sha256", sha + "  rocky-9.iso\n");
        PreparedImage a = cache.inspect(iso, "", "", {});
        CHECK(a.hashed);
        CHECK_FALSE(a.cached);
        CHECK(a.boot.family == "rhel");
        CHECK(a.boot.kernel == "images/pxeboot/vmlinuz");
        cache.store(a, {});
        CHECK(a.extracted);
        CHECK(a.tree == f.out + "/cache/" + sha);
        CHECK(*read_file(a.tree + "/images/pxeboot/vmlinuz") == std::string(5000, 'k'));

        PreparedImage b = cache.inspect(iso, "", "", {});
        CHECK_FALSE(b.hashed);
        CHECK(b.cached);
        CHECK(b.sha256 == sha);
        cache.store(b, {});
        CHECK_FALSE(b.extracted);

        // The same content under another name is the same cache entry.
        std::filesystem::copy_file(iso, f.repo + "/copy.iso");
        PreparedImage c = cache.inspect(f.repo + "/copy.iso", "", "", {});
        CHECK(c.hashed);
        CHECK(c.cached);
    }
    SECTION("kernel and initrd named by the config must exist") {
        CHECK_THROWS_WITH(cache.inspect(iso, "boot/linux", "boot/initrd", {}),
                          Contains("boot/linux is not a file in the image"));
        PreparedImage p = cache.inspect(iso, "BaseOS/Packages/a.rpm", "images/pxeboot/vmlinuz", {});
        CHECK(p.boot.family == "custom");
    }
}

TEST_CASE("boot files at the usual places") {
    std::set<std::string> files = {"install.amd/vmlinuz", "install.amd/initrd.gz"};
    auto in = [&](const std::string& p) { return files.count(p) > 0; };
    BootFiles b = find_boot_files(in, "debian.iso");
    CHECK(b.family == "debian");
    CHECK(b.initrd == "install.amd/initrd.gz");
    CHECK(default_kernel_args("debian").find("url={{ks_url}}") != std::string::npos);
    files = {"images/pxeboot/vmlinuz"};
    CHECK_THROWS_WITH(find_boot_files(in, "half.iso"),
                      Contains("half.iso: no installer kernel and initrd at the usual places "
                               "(images/pxeboot/vmlinuz + images/pxeboot/initrd.img"));
}
