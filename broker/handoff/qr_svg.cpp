#include "broker/handoff/qr_svg.h"

#include <qrencode.h>

#include <cerrno>
#include <memory>

namespace passerelle::handoff {

namespace {
constexpr int quiet_zone = 4;  // modules of white around the symbol (ISO/IEC 18004)
}

result<qr_matrix> qr_encode(std::string_view text) {
  const std::string nul_terminated(text);
  // version 0: the smallest symbol that fits; case-sensitive so lower-case text is kept as it is.
  const std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString(nul_terminated.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!code) {
    if (errno == ERANGE) return error::reject("qr_too_long", "the text does not fit in a QR code");
    return error::fatal("qr_failed", "libqrencode could not encode the text");
  }
  qr_matrix m;
  m.width = code->width;
  const auto cells = static_cast<std::size_t>(code->width) * static_cast<std::size_t>(code->width);
  m.dark.resize(cells);
  // Bit 0 of each byte is the module's colour; the other bits describe the module's role.
  for (std::size_t i = 0; i < cells; ++i) m.dark[i] = (code->data[i] & 1U) != 0;
  return m;
}

result<std::string> qr_svg(std::string_view text, int module_px) {
  auto m = qr_encode(text);
  if (!m) return std::move(m).err();
  const int px = module_px < 1 ? 1 : module_px;
  const int size = (m->width + 2 * quiet_zone) * px;
  std::string svg;
  svg.reserve(static_cast<std::size_t>(m->width * m->width) * 12 + 300);
  svg += R"(<?xml version="1.0" encoding="UTF-8"?>)";
  svg += "\n<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + std::to_string(size) +
         "\" height=\"" + std::to_string(size) + "\" viewBox=\"0 0 " + std::to_string(m->width + 2 * quiet_zone) + " " +
         std::to_string(m->width + 2 * quiet_zone) + "\" shape-rendering=\"crispEdges\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n<path fill=\"#000\" d=\"";
  for (int y = 0; y < m->width; ++y) {
    for (int x = 0; x < m->width; ++x) {
      if (!m->at(x, y)) continue;
      // One horizontal run of dark modules per "M x y h n v1 h -n z".
      int run = 1;
      while (x + run < m->width && m->at(x + run, y)) ++run;
      svg += "M" + std::to_string(x + quiet_zone) + " " + std::to_string(y + quiet_zone) + "h" + std::to_string(run) +
             "v1h-" + std::to_string(run) + "z";
      x += run - 1;
    }
  }
  svg += "\"/>\n</svg>\n";
  return svg;
}

}  // namespace passerelle::handoff
