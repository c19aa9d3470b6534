#include <doctest/doctest.h>

#include <limits>

#include "rules/profile.hpp"
#include "rules/soc.hpp"

using rules::soc_from_v;
using rules::v_from_soc;

TEST_CASE("SOC from voltage over the Solar Shack curve") {
  const auto curve = rules::solar_shack_defaults().site.curve;
  CHECK(soc_from_v(curve, 45.0) == doctest::Approx(0));
  CHECK(soc_from_v(curve, 47.0) == doctest::Approx(15));
  CHECK(soc_from_v(curve, 50.0) == doctest::Approx(40));
  CHECK(soc_from_v(curve, 54.5) == doctest::Approx(80));
  CHECK(soc_from_v(curve, 56.0) == doctest::Approx(100));
  // The source design's example: 52.3 V is "about 65 %"; 53.0 V is the dump load's 70 %.
  CHECK(soc_from_v(curve, 52.3) == doctest::Approx(65.33).epsilon(0.001));
  CHECK(soc_from_v(curve, 53.0) == doctest::Approx(70));
}

TEST_CASE("SOC is clamped to 0 and 100 %") {
  const auto curve = rules::solar_shack_defaults().site.curve;
  CHECK(soc_from_v(curve, 40.0) == 0);
  CHECK(soc_from_v(curve, 44.99) == 0);
  CHECK(soc_from_v(curve, 58.0) == 100);
  CHECK(v_from_soc(curve, -5) == doctest::Approx(45.0));
  CHECK(v_from_soc(curve, 120) == doctest::Approx(56.0));
}

TEST_CASE("voltage from SOC is the inverse") {
  const auto curve = rules::solar_shack_defaults().site.curve;
  CHECK(v_from_soc(curve, 70) == doctest::Approx(53.0));
  CHECK(v_from_soc(curve, 40) == doctest::Approx(50.0));
  for (double v = 45.0; v <= 56.0; v += 0.37) {
    CHECK(v_from_soc(curve, soc_from_v(curve, v)) == doctest::Approx(v));
  }
}

TEST_CASE("a curve that is not strictly increasing is refused") {
  auto curve = rules::solar_shack_defaults().site.curve;
  CHECK_FALSE(rules::check_curve(curve));

  SUBCASE("a voltage that goes down") {
    curve[3].v = 49.0;
    const auto err = rules::check_curve(curve);
    REQUIRE(err);
    CHECK(*err == "curve[3]: (49.00 V, 60.0 %) must be above curve[2] (50.00 V, 40.0 %): the curve must be strictly increasing");
  }
  SUBCASE("a flat step") {
    curve[2].v = curve[1].v;
    REQUIRE(rules::check_curve(curve));
    CHECK(rules::check_curve(curve)->find("strictly increasing") != std::string::npos);
  }
  SUBCASE("SOC that goes down") {
    curve[4].soc_pct = 55;
    REQUIRE(rules::check_curve(curve));
    CHECK(rules::check_curve(curve)->find("curve[4]") != std::string::npos);
  }
  SUBCASE("not from 0 to 100 %") {
    curve[5].soc_pct = 95;
    REQUIRE(rules::check_curve(curve));
    CHECK(*rules::check_curve(curve) == "curve: must run from 0 % to 100 % (got 0.0 % to 95.0 %)");
  }
  SUBCASE("not a number") {
    curve[0].v = std::numeric_limits<double>::quiet_NaN();
    REQUIRE(rules::check_curve(curve));
    CHECK(rules::check_curve(curve)->find("finite") != std::string::npos);
  }
}
