// Status propagation helpers for absl::Status / absl::StatusOr.
//
//   MOESIM_RETURN_IF_ERROR(DoThing());
//   MOESIM_ASSIGN_OR_RETURN(double x, reader.Number("hbm_gb", Positive()));
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define MOESIM_STATUS_CONCAT_INNER(a, b) a##b
#define MOESIM_STATUS_CONCAT(a, b) MOESIM_STATUS_CONCAT_INNER(a, b)

#define MOESIM_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    const ::absl::Status moesim_status_ = (expr);    \
    if (!moesim_status_.ok()) return moesim_status_; \
  } while (0)

#define MOESIM_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(tmp).value()

#define MOESIM_ASSIGN_OR_RETURN(lhs, expr) \
  MOESIM_ASSIGN_OR_RETURN_IMPL(MOESIM_STATUS_CONCAT(moesim_statusor_, __LINE__), lhs, expr)
