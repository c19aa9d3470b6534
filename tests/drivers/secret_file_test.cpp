// A secret's file read with bounds (drivers/text/secret_file.hpp): a FIFO, a device and a file with
// no line end are refused at once, never waited on or read whole.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "drivers/text/secret_file.hpp"

namespace {

struct SecretDir {
  std::string path;
  SecretDir() {
    char tmpl[] = "/tmp/secret_file_test.XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~SecretDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string p = path + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
};

}  // namespace

TEST_CASE("secret file: the first line, its line end taken off") {
  SecretDir d;
  std::string why;
  CHECK(drivers::text::read_first_line(d.write("a", "s3cret\nsecond line\n"), why) == "s3cret");
  CHECK(drivers::text::read_first_line(d.write("b", "s3cret\r\n"), why) == "s3cret");
  CHECK(drivers::text::read_first_line(d.write("c", "no line end"), why) == "no line end");
  CHECK(drivers::text::read_first_line(d.write("d", ""), why) == "");
  // A long file whose first line is short: read no further than needed.
  CHECK(drivers::text::read_first_line(d.write("e", "tok\n" + std::string(1 << 20, 'x')), why) == "tok");
}

TEST_CASE("secret file: what is not a short regular file is refused, named, at once") {
  SecretDir d;
  std::string why;
  CHECK_FALSE(drivers::text::read_first_line(d.path + "/missing", why));
  CHECK(why == "No such file or directory");
  CHECK_FALSE(drivers::text::read_first_line(d.path, why));  // a directory
  CHECK(why == "not a regular file");
  // A FIFO with no writer: an open without O_NONBLOCK would wait here for ever.
  const std::string fifo = d.path + "/fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_FALSE(drivers::text::read_first_line(fifo, why));
  CHECK(why == "not a regular file");
  CHECK_FALSE(drivers::text::read_first_line("/dev/zero", why));  // getline would read on for ever
  CHECK(why == "not a regular file");
  CHECK_FALSE(drivers::text::read_first_line(d.write("long", std::string(drivers::text::kSecretFileMaxBytes + 1, 'x')), why));
  CHECK(why == "its first line is longer than 4096 bytes");
  CHECK(drivers::text::read_first_line(d.write("exact", std::string(drivers::text::kSecretFileMaxBytes, 'x')), why)->size() ==
        drivers::text::kSecretFileMaxBytes);
}
