// The prefill -> decode hand-off measurements (engine/handoff_metrics.h): TTFT stages that add
// up, layer-wise transfers counted from the prompt's end, the measurement window, and the
// time-weighted count of prompts waiting for decode KV.
#include "engine/handoff_metrics.h"

#include <catch2/catch.hpp>

namespace moesim {
namespace {

Request Handed(double arrival, double prefill_start, double prefill_end, double transfer_start,
               double transfer_end, double first_token, double finish) {
  Request r;
  r.arrival_s = arrival;
  r.handoff.prefill_start_s = prefill_start;
  r.handoff.prefill_end_s = prefill_end;
  r.handoff.transfer_start_s = transfer_start;
  r.handoff.transfer_end_s = transfer_end;
  r.first_token_s = first_token;
  r.finish_s = finish;
  return r;
}

TEST_CASE("handoff metrics: TTFT stages add up to the time to first token", "[disaggregation]") {
  HandoffMetrics h(10, 100);
  const Request r = Handed(11.0, 11.5, 12.0, 12.75, 13.0, 13.125, 20.0);
  h.OnRequestFinished(r);
  REQUIRE(h.stages().size() == 1);
  const TtftStages& s = h.stages()[0];
  CHECK(s.prefill_queue == Approx(0.5));
  CHECK(s.prefill == Approx(0.5));
  CHECK(s.decode_reservation == Approx(0.75));
  CHECK(s.kv_transfer == Approx(0.25));
  CHECK(s.decode_admission == Approx(0.125));
  CHECK(s.prefill_queue + s.prefill + s.decode_reservation + s.kv_transfer + s.decode_admission ==
        Approx(*r.first_token_s - r.arrival_s));
  CHECK(h.requests_that_waited() == 1);
}

TEST_CASE("handoff metrics: a layer-wise transfer counts only what is left after the prompt",
          "[disaggregation]") {
  HandoffMetrics h(0, 100);
  // The transfer started with the last prefill step (11.8) and ended 0.1 s after the prompt.
  h.OnRequestFinished(Handed(11.0, 11.2, 12.0, 11.8, 12.1, 12.2, 20.0));
  const TtftStages& s = h.stages()[0];
  CHECK(s.decode_reservation == 0);
  CHECK(s.kv_transfer == Approx(0.1));
  CHECK(s.prefill_queue + s.prefill + s.decode_reservation + s.kv_transfer + s.decode_admission ==
        Approx(1.2));
  CHECK(h.requests_that_waited() == 0);
}

TEST_CASE("handoff metrics: the window bounds transfers, requests and the waiting count",
          "[disaggregation]") {
  HandoffMetrics h(10, 20);
  Request early = Handed(1, 2, 3, 3, 4, 5, 9);  // finished and moved before the window
  h.OnTransfer(early, 1.0, 100, {1, 2, 3, 4}, 1);
  h.OnRequestFinished(early);
  Request inside = Handed(11, 12, 13, 13, 14, 15, 19);
  h.OnTransfer(inside, 1.0, 100, {1, 2, 3, 4}, 1);
  h.OnRequestFinished(inside);
  CHECK(h.transfer_seconds().size() == 1);
  CHECK(h.transfer_bytes() == 100);
  CHECK(h.tier_bytes()[3] == 4);
  CHECK(h.tier_seconds()[1] == 1.0);
  CHECK(h.stages().size() == 1);
  // 4 waiting from t = 5 to 15, then 0: 4 x 5 s inside a 10 s window.
  h.OnWaiting(5, 4);
  h.OnWaiting(15, 0);
  h.Finish();
  CHECK(h.mean_waiting() == Approx(2.0));
  CHECK(h.max_waiting() == 0);  // the 4 was reached before the window
  h.OnWaiting(16, 3);
  CHECK(h.max_waiting() == 3);
}

}  // namespace
}  // namespace moesim
