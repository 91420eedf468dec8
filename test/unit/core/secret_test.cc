#include "core/secret.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>

#include "core/error.h"

namespace {

// A file under a fresh temp directory, removed with it.
struct TempFile {
    std::string dir;
    std::string path;
    TempFile(const std::string& content, mode_t mode) {
        char tmpl[] = "/tmp/storkit-secret.XXXXXX";
        dir = ::mkdtemp(tmpl);
        path = dir + "/pw";
        std::ofstream(path) << content;
        ::chmod(path.c_str(), mode);
    }
    ~TempFile() {
        ::unlink(path.c_str());
        ::rmdir(dir.c_str());
    }
};

}  // namespace

TEST_CASE("a password file only its owner and group can read gives its first line", "[secret]") {
    TempFile f("s3cret\nignored\n", 0600);
    CHECK(storkit::read_secret_file(f.path, "password file") == "s3cret");
    ::chmod(f.path.c_str(), 0640);
    CHECK(storkit::read_secret_file(f.path, "password file") == "s3cret");
    TempFile crlf("pw\r\n", 0400);
    CHECK(storkit::read_secret_file(crlf.path, "password file") == "pw");
}

TEST_CASE("a password file its group can write, or another user owns, is refused", "[secret]") {
    TempFile f("s3cret\n", 0660);
    CHECK_THROWS_WITH(
        storkit::read_secret_file(f.path, "password file"),
        Catch::Contains(f.path) && Catch::Contains("mode 0660") && !Catch::Contains("s3cret"));
    ::chmod(f.path.c_str(), 0620);
    CHECK_THROWS_AS(storkit::read_secret_file(f.path, "password file"), storkit::ConfigError);
    if (::geteuid() != 0) return;
    ::chmod(f.path.c_str(), 0600);
    REQUIRE(::chown(f.path.c_str(), 65534, 65534) == 0);
    CHECK_THROWS_WITH(
        storkit::read_secret_file(f.path, "password file"),
        Catch::Contains(f.path) && Catch::Contains("owned by uid 65534, not by root"));
}

TEST_CASE("a password file others can read is refused, naming the file and mode", "[secret]") {
    TempFile f("s3cret\n", 0644);
    CHECK_THROWS_AS(storkit::read_secret_file(f.path, "password file"), storkit::ConfigError);
    CHECK_THROWS_WITH(
        storkit::read_secret_file(f.path, "password file"),
        Catch::Contains(f.path) && Catch::Contains("0644") && !Catch::Contains("s3cret"));
    ::chmod(f.path.c_str(), 0601);
    CHECK_THROWS_WITH(storkit::read_secret_file(f.path, "password file"), Catch::Contains("0601"));
}

TEST_CASE("an empty, missing or non-regular password file is refused", "[secret]") {
    TempFile empty("\nsecond line\n", 0600);
    CHECK_THROWS_WITH(storkit::read_secret_file(empty.path, "password file"),
                      Catch::Contains("empty"));
    CHECK_THROWS_AS(storkit::read_secret_file(empty.dir + "/missing", "password file"),
                    storkit::ConfigError);
    CHECK_THROWS_WITH(storkit::read_secret_file(empty.dir, "password file"),
                      Catch::Contains("not a regular file"));
    TempFile big(std::string(100000, 'x'), 0600);
    CHECK_THROWS_WITH(storkit::read_secret_file(big.path, "password file"),
                      Catch::Contains(big.path) && Catch::Contains("65536 bytes"));
}

TEST_CASE("the password comes from the file first, then the environment", "[secret]") {
    TempFile f("from-file\n", 0600);
    ::setenv("STORKIT_TEST_PW", "from-env", 1);
    CHECK(storkit::load_secret(f.path, "STORKIT_TEST_PW", "BMC password") == "from-file");
    CHECK(storkit::load_secret("", "STORKIT_TEST_PW", "BMC password") == "from-env");
    ::setenv("STORKIT_TEST_PW", "", 1);
    CHECK_THROWS_WITH(storkit::load_secret("", "STORKIT_TEST_PW", "BMC password"),
                      Catch::Contains("STORKIT_TEST_PW") && Catch::Contains("no BMC password"));
    ::unsetenv("STORKIT_TEST_PW");
    CHECK_THROWS_AS(storkit::load_secret("", "STORKIT_TEST_PW", "BMC password"),
                    storkit::ConfigError);
}

// run_tool takes the secret variables out of the environment before anything starts: libvirt's
// ssh or any other program started later cannot inherit them, and load_secret still finds them.
TEST_CASE("a secret taken from the environment is gone from it and still loads", "[secret]") {
    CHECK_THROWS_AS(storkit::load_secret("", "STORKIT_TEST_TAKEN", "test secret"),
                    storkit::ConfigError);  // names it a secret variable
    ::setenv("STORKIT_TEST_TAKEN", "taken", 1);
    ::setenv("STORKIT_TEST_NOT_SECRET", "stays", 1);
    storkit::take_secret_env();
    CHECK(std::getenv("STORKIT_TEST_TAKEN") == nullptr);
    CHECK(std::string(std::getenv("STORKIT_TEST_NOT_SECRET")) == "stays");
    CHECK(storkit::load_secret("", "STORKIT_TEST_TAKEN", "test secret") == "taken");
    TempFile f("from-file\n", 0600);
    CHECK(storkit::load_secret(f.path, "STORKIT_TEST_TAKEN", "test secret") == "from-file");
    ::unsetenv("STORKIT_TEST_NOT_SECRET");
}
