#include "core/trust.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "core/error.h"

using namespace storkit;

namespace {

// A root-owned directory tree under /tmp (sticky, root's) that is removed afterwards.
struct Tree {
    std::string dir;
    Tree() {
        char tmpl[] = "/tmp/storkit-trust.XXXXXX";
        dir = ::mkdtemp(tmpl);
        ::chmod(dir.c_str(), 0755);
    }
    ~Tree() { std::filesystem::remove_all(dir); }
    std::string file(const std::string& rel, mode_t mode = 0600) const {
        std::string p = dir + "/" + rel;
        std::filesystem::create_directories(std::filesystem::path(p).parent_path());
        std::ofstream(p) << "{}";
        ::chmod(p.c_str(), mode);
        return p;
    }
    std::string subdir(const std::string& rel, mode_t mode) const {
        std::string p = dir + "/" + rel;
        std::filesystem::create_directories(p);
        ::chmod(p.c_str(), mode);
        return p;
    }
};

std::string refusal(const std::string& path) {
    try {
        require_root_only_writable(path, "config");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("a symlink's own directory is checked, not only where it leads", "[trust]") {
    if (::geteuid() != 0) return;  // the check guards root only
    Tree t;
    std::string real = t.file("etc/mgmtvm.json");
    CHECK(refusal(real) == "");

    // Anyone may replace the link in a 0777 directory without the sticky bit.
    std::string open_dir = t.subdir("open", 0777);
    std::string link = open_dir + "/mgmtvm.json";
    REQUIRE(::symlink(real.c_str(), link.c_str()) == 0);
    CHECK(refusal(link) == "config " + link + ": directory " + open_dir +
                               " is writable by group or others (mode 0777); refusing it "
                               "(chmod go-w " +
                               open_dir + ")");

    // A sticky directory protects root's link; a link someone else owns is refused.
    std::string sticky = t.subdir("sticky", 01777);
    std::string ok_link = sticky + "/mgmtvm.json";
    REQUIRE(::symlink(real.c_str(), ok_link.c_str()) == 0);
    CHECK(refusal(ok_link) == "");
    std::string theirs = sticky + "/theirs.json";
    REQUIRE(::symlink(real.c_str(), theirs.c_str()) == 0);
    REQUIRE(::lchown(theirs.c_str(), 65534, 65534) == 0);
    CHECK_THAT(refusal(theirs), Catch::Contains("symlink " + theirs + " is owned by uid 65534"));

    // A chain: a good link to a link in the open directory.
    std::string chain = t.dir + "/etc/chain.json";
    REQUIRE(::symlink(link.c_str(), chain.c_str()) == 0);
    CHECK_THAT(refusal(chain), Catch::Contains("directory " + open_dir + " is writable"));

    // A relative link in a good directory to a file in a good directory.
    std::string rel = t.dir + "/etc/rel.json";
    REQUIRE(::symlink("mgmtvm.json", rel.c_str()) == 0);
    CHECK(refusal(rel) == "");

    // The file a link leads to is still checked.
    ::chmod(real.c_str(), 0666);
    CHECK_THAT(refusal(rel), Catch::Contains("it is writable by group or others (mode 0666)"));
}

TEST_CASE("a symlink loop is refused, not followed forever", "[trust]") {
    if (::geteuid() != 0) return;
    Tree t;
    std::string a = t.dir + "/a", b = t.dir + "/b";
    REQUIRE(::symlink(b.c_str(), a.c_str()) == 0);
    REQUIRE(::symlink(a.c_str(), b.c_str()) == 0);
    CHECK_THAT(refusal(a), Catch::Contains("too many symlinks"));
}
