#include "pxe/file_set.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "core/error.h"
#include "core/statefile.h"
#include "pxe/fixture.h"

using namespace storkit;
using Strings = std::vector<std::string>;

namespace {

int entries(const std::string& dir) {
    int n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
    return n;
}

}  // namespace

TEST_CASE("only changed files are written, and files no longer wanted are removed") {
    test::ScratchDir d;
    std::string m = d.path + "/state/manifest", a = d.path + "/out/a", b = d.path + "/out/sub/b";
    {
        FileSet fs(m);
        fs.add_content(a, "alpha\n");
        fs.add_content(b, "beta\n", 0600);
        fs.add_dir(d.path + "/out/empty");
        fs.plan();
        CHECK(fs.changed() == Strings{a, d.path + "/out/empty/", b});
        CHECK(fs.replaced().empty());
        fs.commit();
    }
    CHECK(*read_file(a) == "alpha\n");
    struct stat st {};
    REQUIRE(::stat(b.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(std::filesystem::is_directory(d.path + "/out/empty"));
    CHECK(entries(d.path + "/out") == 3);  // no temp files left
    REQUIRE(::stat(a.c_str(), &st) == 0);
    ino_t a_ino = st.st_ino;
    {
        FileSet fs(m);
        fs.add_content(a, "alpha\n");
        fs.add_content(b, "BETA\n", 0600);
        fs.plan();
        CHECK(fs.changed() == Strings{b});
        CHECK(fs.replaced() == Strings{b});
        CHECK(fs.unchanged() == 1);
        fs.commit();
    }
    REQUIRE(::stat(a.c_str(), &st) == 0);
    CHECK(st.st_ino == a_ino);  // untouched
    CHECK(*read_file(b) == "BETA\n");
    {
        FileSet fs(m);
        fs.add_content(a, "alpha\n");
        fs.plan();
        CHECK(fs.changed().empty());
        CHECK(fs.removed() == Strings{b});
        fs.commit();
    }
    CHECK_FALSE(std::filesystem::exists(b));
}

TEST_CASE("a file changed behind our back is rewritten; a lost manifest costs no rewrite") {
    test::ScratchDir d;
    std::string m = d.path + "/manifest", a = d.path + "/a";
    auto plan = [&](const std::string& content) {
        FileSet fs(m);
        fs.add_content(a, content);
        fs.plan();
        Strings changed = fs.changed();
        fs.commit();
        return changed;
    };
    CHECK(plan("one\n") == Strings{a});
    CHECK(plan("one\n").empty());
    test::write_text(a, "two\n");  // same size, edited in place
    CHECK(plan("one\n") == Strings{a});
    CHECK(*read_file(a) == "one\n");
    ::unlink(m.c_str());
    CHECK(plan("one\n").empty());
    ::unlink(a.c_str());
    CHECK(plan("one\n") == Strings{a});
}

TEST_CASE("copies, hard links and symlinks follow their source") {
    test::ScratchDir d;
    std::string m = d.path + "/manifest", src = d.path + "/src";
    test::write_text(src, "loader v1");
    auto run = [&] {
        FileSet fs(m);
        fs.add_copy(d.path + "/out/copy", src);
        fs.add_hardlink(d.path + "/out/link", src);
        fs.add_symlink(d.path + "/out/sym", "../src");
        fs.plan();
        Strings changed = fs.changed();
        fs.commit();
        return changed;
    };
    CHECK(run().size() == 3);
    CHECK(*read_file(d.path + "/out/copy") == "loader v1");
    CHECK(*read_file(d.path + "/out/sym") == "loader v1");
    struct stat s1 {
    }, s2{};
    ::stat(src.c_str(), &s1);
    ::stat((d.path + "/out/link").c_str(), &s2);
    CHECK(s1.st_ino == s2.st_ino);
    CHECK(run().empty());
    // A package upgrade replaces the source file.
    test::write_text(src + ".new", "loader v2");
    std::filesystem::rename(src + ".new", src);
    CHECK(run() == Strings{d.path + "/out/copy", d.path + "/out/link"});
    CHECK(*read_file(d.path + "/out/copy") == "loader v2");
    CHECK(*read_file(d.path + "/out/link") == "loader v2");
}

TEST_CASE("a missing source and a pending file are errors, before anything is written") {
    test::ScratchDir d;
    FileSet fs(d.path + "/manifest");
    fs.add_copy(d.path + "/out/x", d.path + "/missing");
    CHECK_THROWS_AS(fs.plan(), Error);
    FileSet pending(d.path + "/manifest");
    pending.add_content(d.path + "/out/a", "a");
    pending.add_pending(d.path + "/out/kernel");
    pending.plan();
    CHECK(pending.changed().size() == 2);
    CHECK_THROWS_WITH(pending.commit(), Catch::Contains("its source does not exist yet"));
    CHECK_FALSE(std::filesystem::exists(d.path + "/out"));
}

TEST_CASE("many files are written as one batch") {
    test::ScratchDir d;
    FileSet fs(d.path + "/manifest");
    for (int i = 0; i < 200; ++i)
        fs.add_content(fmt::format("{}/hosts/n{}", d.path, i), fmt::format("n{}\n", i));
    fs.plan();
    CHECK(fs.changed().size() == 200);
    fs.commit();
    CHECK(entries(d.path + "/hosts") == 200);
    CHECK(*read_file(d.path + "/hosts/n199") == "n199\n");
    FileSet again(d.path + "/manifest");
    for (int i = 0; i < 200; ++i)
        again.add_content(fmt::format("{}/hosts/n{}", d.path, i), fmt::format("n{}\n", i));
    again.plan();
    CHECK(again.changed().empty());
    CHECK(again.unchanged() == 200);
}
