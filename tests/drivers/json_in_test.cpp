// A peer's JSON parsed with its nesting bounded (drivers/text/json_in.hpp).
#include <doctest/doctest.h>

#include <string>

#include "drivers/text/json_in.hpp"

using drivers::text::parse_peer_json;

namespace {

std::string nested(int depth, const std::string& inner = "1") {
  return std::string(static_cast<std::size_t>(depth), '[') + inner + std::string(static_cast<std::size_t>(depth), ']');
}

}  // namespace

TEST_CASE("json_in: a peer's document parses as the library parses it") {
  const std::string text = R"({"STATUS":[{"STATUS":"S","Code":131}],"SUMMARY":[{"MHS av":1.5e7,"a":[1,[2,{"b":null}]]}]})";
  const auto j = parse_peer_json(text);
  REQUIRE_FALSE(j.is_discarded());
  CHECK(j == nlohmann::json::parse(text));
  CHECK(parse_peer_json("5") == 5);
  CHECK(parse_peer_json("\"on\"") == "on");
}

TEST_CASE("json_in: what is not JSON is refused, never thrown") {
  for (const char* text : {"", "{", "{\"a\":}", "[1,2", "ON", "{\"a\":1}}", "\xff"}) {
    CAPTURE(text);
    CHECK(parse_peer_json(text).is_discarded());
  }
}

TEST_CASE("json_in: nesting up to the bound is taken, one level past it refused") {
  const auto at_bound = parse_peer_json(nested(drivers::text::kJsonMaxDepth));
  REQUIRE_FALSE(at_bound.is_discarded());
  CHECK(at_bound.dump() == nested(drivers::text::kJsonMaxDepth));
  CHECK(parse_peer_json(nested(drivers::text::kJsonMaxDepth + 1)).is_discarded());
  // Objects count as lists do, and a deep branch beside shallow ones refuses the whole.
  std::string objects = "1";
  for (int i = 0; i <= drivers::text::kJsonMaxDepth; ++i) objects = "{\"k\":" + objects + "}";
  CHECK(parse_peer_json(objects).is_discarded());
  CHECK(parse_peer_json("{\"ok\":[1,2],\"deep\":" + nested(drivers::text::kJsonMaxDepth) + "}").is_discarded());
  CHECK(parse_peer_json(nested(4), nullptr, 3).is_discarded());
  CHECK_FALSE(parse_peer_json(nested(3), nullptr, 3).is_discarded());
}

TEST_CASE("json_in: a miner's megabyte of '[' is refused without a deep tree") {
  // As one 1 MiB reply (drivers/miners/tcp_exchange.hpp's bound): the library would build it and
  // overflow the stack at its first copy or dump.
  std::string why;
  const auto j = parse_peer_json(nested(500'000), &why);
  CHECK(j.is_discarded());
  CHECK(why == "nested deeper than 32 levels");
  CHECK(parse_peer_json("{\"a\":", &why).is_discarded());
  CHECK(why == "not JSON");
  const auto unclosed = parse_peer_json(std::string(1 << 20, '['));
  CHECK(unclosed.is_discarded());
}
