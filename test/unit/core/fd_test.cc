#include "core/fd.h"

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "core/error.h"

using storkit::UniqueFd;

namespace {

bool is_open(int fd) {
    return ::fcntl(fd, F_GETFD) >= 0;
}

}  // namespace

TEST_CASE("UniqueFd closes what it holds, once") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    {
        UniqueFd a(p[0]);
        UniqueFd b(std::move(a));
        CHECK_FALSE(a);
        CHECK(b.get() == p[0]);
        UniqueFd c;
        c = std::move(b);
        CHECK(is_open(p[0]));
    }
    CHECK_FALSE(is_open(p[0]));
    UniqueFd w(p[1]);
    int raw = w.release();
    CHECK_FALSE(w);
    CHECK(is_open(raw));
    w.reset(raw);
    w.reset();
    CHECK_FALSE(is_open(raw));
}

TEST_CASE("write_all and read_all move every byte through a pipe") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    UniqueFd r(p[0]), w(p[1]);
    std::string data(50000, 'x');
    data += "end";
    storkit::write_all(w.get(), data, "pipe");
    w.reset();
    CHECK(storkit::read_all(r.get(), "pipe") == data);
}

TEST_CASE("read_all refuses more than its limit, and stops reading there") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    UniqueFd r(p[0]), w(p[1]);
    storkit::write_all(w.get(), std::string(30000, 'y'), "pipe");
    w.reset();
    CHECK_THROWS_WITH(storkit::read_all(r.get(), "pipe", 100),
                      "pipe: more than the 100 bytes allowed");
    // /dev/zero never ends: only the limit ends the read.
    UniqueFd zero(::open("/dev/zero", O_RDONLY));
    REQUIRE(zero);
    CHECK_THROWS_AS(storkit::read_all(zero.get(), "/dev/zero", 1 << 20), storkit::Error);
    REQUIRE(::pipe(p) == 0);
    UniqueFd r2(p[0]), w2(p[1]);
    storkit::write_all(w2.get(), std::string(100, 'y'), "pipe");
    w2.reset();
    CHECK(storkit::read_all(r2.get(), "pipe", 100).size() == 100);
}

TEST_CASE("read and write errors name the file") {
    UniqueFd dir(::open("/", O_RDONLY | O_DIRECTORY));
    REQUIRE(dir);
    CHECK_THROWS_WITH(storkit::read_all(dir.get(), "/some/dir"),
                      Catch::StartsWith("/some/dir: read: "));
    CHECK_THROWS_WITH(storkit::write_all(dir.get(), "x", "/some/dir"),
                      Catch::StartsWith("/some/dir: write: "));
}
