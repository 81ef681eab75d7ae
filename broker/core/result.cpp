#include "broker/core/result.h"

namespace passerelle {

std::string_view to_string(error_kind kind) noexcept {
  switch (kind) {
    case error_kind::retry: return "retry";
    case error_kind::reject: return "reject";
    case error_kind::not_found: return "not_found";
    case error_kind::unauthorized: return "unauthorized";
    case error_kind::conflict: return "conflict";
    case error_kind::fatal: return "fatal";
  }
  return "fatal";
}

}  // namespace passerelle
