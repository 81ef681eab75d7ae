#include "broker/handoff/qr_svg.h"

#include <catch2/catch.hpp>
#include <pugixml.hpp>
#include <regex>
#include <string>

using passerelle::handoff::qr_encode;
using passerelle::handoff::qr_matrix;
using passerelle::handoff::qr_svg;

namespace {

// A finder pattern: 7x7 dark ring, white ring, 3x3 dark centre, with its top-left corner at (x0, y0).
bool finder_at(const qr_matrix& m, int x0, int y0) {
  for (int y = 0; y < 7; ++y) {
    for (int x = 0; x < 7; ++x) {
      const bool ring = x == 0 || y == 0 || x == 6 || y == 6;
      const bool centre = x >= 2 && x <= 4 && y >= 2 && y <= 4;
      if (m.at(x0 + x, y0 + y) != (ring || centre)) return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("a handoff code encodes in the smallest QR symbol with its three finder patterns", "[handoff]") {
  const auto m = qr_encode("7KQ2MXD4RB");
  REQUIRE(m);
  CHECK(m->width == 21);  // version 1: 10 alphanumeric characters fit at level M
  CHECK(finder_at(*m, 0, 0));
  CHECK(finder_at(*m, m->width - 7, 0));
  CHECK(finder_at(*m, 0, m->width - 7));
  CHECK_FALSE(finder_at(*m, m->width - 7, m->width - 7));
  // Timing pattern: row 6 alternates between the finders.
  for (int x = 8; x < m->width - 8; ++x) CHECK(m->at(x, 6) == (x % 2 == 0));
}

TEST_CASE("the SVG is well-formed, sized with a quiet zone, and draws exactly the dark modules", "[handoff]") {
  const auto m = qr_encode("7KQ2MXD4RB");
  const auto svg = qr_svg("7KQ2MXD4RB", 8);
  REQUIRE(m);
  REQUIRE(svg);
  pugi::xml_document doc;
  REQUIRE(doc.load_string(svg->c_str()));
  const auto root = doc.child("svg");
  REQUIRE(root);
  CHECK(std::string(root.attribute("width").value()) == std::to_string((21 + 8) * 8));
  CHECK(std::string(root.attribute("viewBox").value()) == "0 0 29 29");

  // Re-draw the path's runs into a matrix and compare with the encoder's.
  const std::string d = root.child("path").attribute("d").value();
  std::vector<bool> drawn(static_cast<std::size_t>(21 * 21), false);
  const std::regex run(R"(M(\d+) (\d+)h(\d+)v1h-(\d+)z)");
  std::size_t covered = 0;
  for (auto it = std::sregex_iterator(d.begin(), d.end(), run); it != std::sregex_iterator(); ++it) {
    const int x = std::stoi((*it)[1]) - 4;
    const int y = std::stoi((*it)[2]) - 4;
    const int n = std::stoi((*it)[3]);
    REQUIRE(std::stoi((*it)[4]) == n);
    for (int i = 0; i < n; ++i) {
      REQUIRE(x + i >= 0);
      REQUIRE(x + i < 21);
      drawn[(static_cast<std::size_t>(y) * 21) + static_cast<std::size_t>(x + i)] = true;
    }
    covered += static_cast<std::size_t>(it->length());
  }
  CHECK(covered == d.size());  // nothing in the path but runs
  CHECK(drawn == m->dark);
}

TEST_CASE("the image is deterministic, and oversized text is refused", "[handoff]") {
  CHECK(*qr_svg("7KQ2MXD4RB") == *qr_svg("7KQ2MXD4RB"));
  CHECK(*qr_svg("7KQ2MXD4RB") != *qr_svg("7KQ2MXD4RC"));
  const auto too_long = qr_svg(std::string(8000, 'x'));
  REQUIRE_FALSE(too_long);
  CHECK(too_long.err().code == "qr_too_long");
}
