#pragma once
// The QR image of a handoff code (GET /v1/handoffs/{code}/qr.svg), drawn with libqrencode.
//
// The symbol encodes the canonical code itself (10 characters, QR alphanumeric mode, error correction M), not
// a URL: a till's scanner acts as a keyboard, so it types the code into the same field a cashier would, and
// the smallest symbol (version 1, 21x21 modules) scans from a phone screen at arm's length.
//
// The SVG is one <path> of unit squares on a white background with the standard 4-module quiet zone, scaled by
// `module_px`; it is deterministic (same text, same bytes), so it may be cached and ETagged.
//
// Pure function; thread-safe (libqrencode's QRcode_encodeString is reentrant).

#include <string>
#include <string_view>
#include <vector>

#include "broker/core/result.h"

namespace passerelle::handoff {

// The module matrix: true = dark. Row-major, width x width. Exposed for tests and other renderers.
struct qr_matrix {
  int width = 0;
  std::vector<bool> dark;
  bool at(int x, int y) const {
    return dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x)];
  }
};

// Errors: reject/"qr_too_long" when the text does not fit a QR symbol; fatal/"qr_failed" otherwise.
result<qr_matrix> qr_encode(std::string_view text);
result<std::string> qr_svg(std::string_view text, int module_px = 8);

}  // namespace passerelle::handoff
