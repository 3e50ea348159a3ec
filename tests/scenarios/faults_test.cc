// Fault injection (issue 17, engine/fault_injection.h) on the shipped scenarios of
// scenarios/faults/: the instances a fault stops, requests re-routed with their progress and
// none lost (every run checks that requests, tokens and KV blocks are conserved:
// engine/simulation.cc CheckConservation, which counts stranded requests too), the dip and the
// recovery; determinism; bad input.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"
#include "engine/instance_scheduler.h"
#include "engine/scenario.h"
#include "tools/report_writers.h"

namespace moesim {
namespace {

using Catch::Matchers::Contains;

nlohmann::json Shipped(const std::string& name) { return testing::ShippedScenario("faults", name); }

const char* kTp8 = "qwen3-235b-h200-8x-tp8-gpu-and-server-failure";
const char* kEp64 = "deepseek-v3-h200-2x-dp-attention-ep64-nic-failure";
const char* kSpine = "deepseek-v3-h200-ep64-two-racks-spine-link-failure";
const char* kRedundant = "deepseek-v3-h200-2x-dp-attention-ep64-gpu-failure-redundant-experts";
const char* kSpineSwitch = "deepseek-v3-h200-ep64-two-racks-spine-switch-failure";
const char* kPd = "deepseek-v3-h200-2p2d-tp8-prefill-and-decode-failures";
const char* kNvlink = "deepseek-v3-h200-tp8-nvlink-ports-failure";
const char* kRlvr = "deepseek-v3-h200-rlvr-rollout-and-trainer-failures";

// The mean of a time-series column over the intervals that start in [from_s, to_s).
double MeanOver(const nlohmann::json& ts, const char* column, double from_s, double to_s) {
  double sum = 0;
  int n = 0;
  for (size_t k = 0; k < ts["t_s"].size(); ++k) {
    const double t = ts["t_s"][k].get<double>();
    if (t < from_s || t >= to_s || ts[column][k].is_null()) continue;
    sum += ts[column][k].get<double>();
    ++n;
  }
  REQUIRE(n > 0);
  return sum / n;
}

// Qwen3-30B-A3B TP16 over two racks of one 8-GPU server (leaves 2:1 oversubscribed: 4 uplink
// ports a rack), so its all-reduces cross the spine; three of rack 0's four ports fail from 2 s
// to 4 s.
nlohmann::json Tp16AcrossRacks(const std::string& collectives) {
  nlohmann::json doc = testing::SmallScenarioJson(16, 64, "layer");
  doc["hardware"] = {{"gpu", "H200"},
                     {"gpus_per_server", 8},
                     {"servers_per_rack", 1},
                     {"racks", 2},
                     {"leaf_oversubscription", 2}};
  doc["simulation"]["collectives"] = collectives;
  doc["simulation"]["timeseries_interval_s"] = 0.5;
  doc["faults"] = nlohmann::json::parse(
      R"([{"at_s": 2, "kind": "link", "rack": 0, "ports": 3, "recover_after_s": 2}])");
  return doc;
}

TEST_CASE("faults: a failed GPU stops its replica, its requests move on, it rejoins", "[faults]") {
  nlohmann::json healthy = Shipped(kTp8);
  healthy.erase("faults");
  const auto r = testing::RunReports({Shipped(kTp8), healthy});
  const nlohmann::json& f = r[0]["faults"];
  CHECK_FALSE(r[1].contains("faults"));
  const nlohmann::json& gpu = f["events"][0];
  const nlohmann::json& server = f["events"][1];
  INFO(f.dump(1));
  CHECK(gpu["instances_stopped"] == nlohmann::json::array({1}));  // GPU 11: server 1's replica
  CHECK(server["instances_stopped"] == nlohmann::json::array({5}));
  CHECK(gpu["requests_retried"].get<int64_t>() > 50);
  CHECK(gpu["tokens_recomputed"].get<int64_t>() > gpu["requests_retried"].get<int64_t>());
  CHECK(gpu["recovered_at_s"].get<double>() == Approx(140.0));
  CHECK(server["recovered_at_s"].is_null());  // no recover_after_s: down for good
  // The other replicas had room: nothing waited for a live instance.
  CHECK(gpu["max_requests_stranded"] == 0);
  // The dip, and a recovery within the outage (seven replicas absorb an eighth's load).
  CHECK(gpu["output_tok_per_s_lowest_after"].get<double>() <
        0.8 * gpu["output_tok_per_s_before"].get<double>());
  REQUIRE(gpu["time_to_recover_s"].is_number());
  CHECK(gpu["time_to_recover_s"].get<double>() < 40);
  // Every retried request finished or is still in the system at the end: none lost.
  CHECK(f["retried_requests_finished"].get<int64_t>() +
            f["retried_requests_unfinished"].get<int64_t>() ==
        f["requests_retried"].get<int64_t>());
  CHECK(f["requests_retried"] ==
        gpu["requests_retried"].get<int64_t>() + server["requests_retried"].get<int64_t>());
  // Recomputed prefill and a replica down for the last 40 s cost throughput.
  CHECK(r[0]["throughput"]["output_tok_per_s"].get<double>() <
        r[1]["throughput"]["output_tok_per_s"].get<double>());
}

TEST_CASE("faults: a NIC stops the EP group that spans servers, not a replica inside one",
          "[faults]") {
  nlohmann::json tp8_nic = Shipped(kTp8);
  tp8_nic["faults"] = nlohmann::json::parse(R"([{"at_s": 100, "kind": "nic", "gpu": 11}])");
  const auto r = testing::RunReports({Shipped(kEp64), tp8_nic});
  const nlohmann::json& ep = r[0]["faults"]["events"][0];
  INFO(ep.dump());
  CHECK(ep["instances_stopped"] == nlohmann::json::array({0}));
  CHECK(ep["requests_retried"].get<int64_t>() > 500);  // group 0's share of 2,048 clients
  CHECK(ep["output_tok_per_s_lowest_after"].get<double>() <
        0.6 * ep["output_tok_per_s_before"].get<double>());
  CHECK(ep["recovered_at_s"].get<double>() == Approx(45.0));
  // A replica inside one server talks over NVLink: its GPU's NIC failing stops nothing.
  const nlohmann::json& tp = r[1]["faults"]["events"][0];
  CHECK(tp["instances_stopped"].empty());
  CHECK(tp["requests_retried"] == 0);
}

TEST_CASE("faults: an EP group with every expert twice goes on without a failed GPU", "[faults]") {
  // Cut to 48 s (the GPU is back at 45 s) to keep the test short under the sanitizers.
  nlohmann::json go = Shipped(kRedundant);
  go["simulation"]["duration_s"] = 48;
  nlohmann::json stop = go;
  stop["faults"][0]["ep_group"] = "stop";
  const auto r = testing::RunReports({go, stop});
  const nlohmann::json& go_on = r[0]["faults"]["events"][0];
  const nlohmann::json& stopped = r[1]["faults"]["events"][0];
  INFO(go_on.dump() << "\n" << stopped.dump());
  CHECK(go_on["instances_stopped"].empty());
  CHECK(go_on["instances_degraded"] == nlohmann::json::array({0}));
  CHECK(go_on["ranks_dropped"] == 1);
  CHECK(stopped["instances_stopped"] == nlohmann::json::array({0}));
  // Only rank 20's requests move (about 1,024 / 64), not the group's.
  CHECK(go_on["requests_retried"].get<int64_t>() > 0);
  CHECK(go_on["requests_retried"].get<int64_t>() < 40);
  CHECK(stopped["requests_retried"].get<int64_t>() > 500);
  CHECK(go_on["tokens_recomputed"].get<int64_t>() * 20 <
        stopped["tokens_recomputed"].get<int64_t>());
  CHECK(go_on["output_tok_per_s_lowest_after"].get<double>() >
        1.5 * stopped["output_tok_per_s_lowest_after"].get<double>());
  CHECK(go_on["recovered_at_s"].get<double>() == Approx(45.0));
  CHECK(r[0]["faults"]["retried_requests_finished"].get<int64_t>() +
            r[0]["faults"]["retried_requests_unfinished"].get<int64_t>() ==
        r[0]["faults"]["requests_retried"].get<int64_t>());
  // The lost replicas' tokens land on the GPUs holding the other replicas.
  CHECK(r[0]["moe"]["max_gpu_imbalance"].get<double>() >
        r[1]["moe"]["max_gpu_imbalance"].get<double>());
}

TEST_CASE("faults: an EP group with an expert on the failed GPU alone stops even if told to go on",
          "[faults]") {
  // 64 redundant slots and no guaranteed second replica: some expert of GPU 20 has no replica
  // elsewhere, so "continue" falls back to stopping the group. (30 s: the fault is at 25 s.)
  nlohmann::json doc = Shipped(kEp64);
  doc["simulation"]["duration_s"] = 30;
  doc["faults"][0]["ep_group"] = "continue";
  const auto r = testing::RunReports({doc});
  const nlohmann::json& e = r[0]["faults"]["events"][0];
  INFO(e.dump());
  CHECK(e["instances_stopped"] == nlohmann::json::array({0}));
  CHECK(e["instances_degraded"].empty());
  CHECK(e["ranks_dropped"] == 0);
  CHECK(e["requests_retried"].get<int64_t>() > 500);
}

TEST_CASE("faults: a spine link down slows the EP group that spans racks, stops nothing",
          "[faults]") {
  nlohmann::json healthy = Shipped(kSpine);
  healthy.erase("faults");
  const auto r = testing::RunReports({Shipped(kSpine), healthy});
  const nlohmann::json& f = r[0]["faults"];
  const nlohmann::json& link = f["events"][0];
  INFO(f.dump(1));
  CHECK(link["kind"] == "link");
  CHECK(link["rack"] == 0);
  CHECK(link["uplink_ports"].get<double>() == Approx(8.0));  // 4 servers × 8 NICs / 4
  CHECK(link["uplink_share_during"].get<double>() == Approx(0.25));
  // ECMP carries the traffic on the ports left: no instance stops, no request moves.
  CHECK(link["instances_stopped"].empty());
  CHECK(f["requests_retried"] == 0);
  CHECK(link["recovered_at_s"].get<double>() == Approx(40.0));
  // The group's all-to-alls wait on the thinner uplink while it lasts...
  CHECK(link["output_tok_per_s_lowest_after"].get<double>() <
        0.85 * link["output_tok_per_s_before"].get<double>());
  // ...and not before the ports are back (20 s later).
  REQUIRE(link["time_to_recover_s"].is_number());
  CHECK(link["time_to_recover_s"].get<double>() >= 18.0);
  CHECK(r[0]["throughput"]["output_tok_per_s"].get<double>() <
        0.97 * r[1]["throughput"]["output_tok_per_s"].get<double>());
}

TEST_CASE("faults: one spine switch of four down thins every rack's uplink, stops nothing",
          "[faults]") {
  nlohmann::json healthy = Shipped(kSpineSwitch);
  healthy.erase("faults");
  const auto r = testing::RunReports({Shipped(kSpineSwitch), healthy});
  const nlohmann::json& f = r[0]["faults"];
  const nlohmann::json& spine = f["events"][0];
  INFO(f.dump(1));
  CHECK(spine["kind"] == "switch");
  CHECK(spine["spine"] == 1);
  CHECK(spine["spine_switches"] == 4);
  // Each rack's 8 uplink ports reach the 4 spines two by two: 6 of 8 are left, on both racks.
  CHECK(spine["uplink_share_during"].get<double>() == Approx(0.75));
  CHECK_THAT(ReportToText(r[0]),
             Contains("spine switch 1 of 4 (every rack's uplink at 75 % of its capacity) down"));
  CHECK(spine["instances_stopped"].empty());
  CHECK(f["requests_retried"] == 0);
  CHECK(spine["recovered_at_s"].get<double>() == Approx(40.0));
  CHECK(spine["output_tok_per_s_lowest_after"].get<double>() <
        0.97 * spine["output_tok_per_s_before"].get<double>());
  CHECK(r[0]["throughput"]["output_tok_per_s"].get<double>() <
        r[1]["throughput"]["output_tok_per_s"].get<double>());
}

TEST_CASE(
    "faults: the only spine switch down cuts the racks apart and stops the instance across them",
    "[faults]") {
  nlohmann::json doc = Tp16AcrossRacks("analytic");  // one spine switch (the default)
  doc["faults"] =
      nlohmann::json::parse(R"([{"at_s": 2, "kind": "switch", "spine": 0, "recover_after_s": 2}])");
  const auto r = testing::RunReports({doc});
  const nlohmann::json& spine = r[0]["faults"]["events"][0];
  INFO(spine.dump(1));
  CHECK(spine["instances_stopped"] == nlohmann::json::array({0}));
  CHECK(spine["uplink_share_during"].get<double>() == 0.0);
  CHECK(spine["requests_retried"].get<int64_t>() > 0);
  // The only instance is down: its requests wait for it, none is lost.
  CHECK(spine["max_requests_stranded"].get<int64_t>() > 0);
  CHECK(spine["recovered_at_s"].get<double>() == Approx(4.0));
  CHECK(r[0]["faults"]["retried_requests_finished"].get<int64_t>() > 0);
}

TEST_CASE("faults: a thinner uplink is seen alike by the closed form and by SimGrid", "[faults]") {
  nlohmann::json healthy = Tp16AcrossRacks("analytic");
  healthy.erase("faults");
  const auto r =
      testing::RunReports({Tp16AcrossRacks("analytic"), Tp16AcrossRacks("ptask"), healthy});
  const double analytic = r[0]["throughput"]["output_tok_per_s"].get<double>();
  const double ptask = r[1]["throughput"]["output_tok_per_s"].get<double>();
  const double unharmed = r[2]["throughput"]["output_tok_per_s"].get<double>();
  INFO("analytic " << analytic << ", ptask " << ptask << ", healthy " << unharmed);
  // The closed form reads the link's up share, SimGrid the link's bandwidth set at the fault:
  // a parallel task alone on its links takes the bottleneck bound, so they agree within 1 %.
  CHECK(ptask == Approx(analytic).epsilon(0.01));
  // Two seconds of three-quarters of the uplink gone cost the TP16 all-reduces time.
  CHECK(analytic < 0.98 * unharmed);
  CHECK(r[1]["faults"]["events"][0]["recovered_at_s"].get<double>() == Approx(4.0));
}

TEST_CASE("faults: a rack cut off or its leaf down stops the instances that need it", "[faults]") {
  nlohmann::json cut = Shipped(kSpine);
  cut["simulation"]["duration_s"] = 30;
  cut["faults"] = nlohmann::json::parse(
      R"([{"at_s": 15, "kind": "link", "rack": 1, "ports": 8, "recover_after_s": 5}])");
  nlohmann::json leaf = cut;
  leaf["faults"] = nlohmann::json::parse(R"([{"at_s": 15, "kind": "switch", "leaf": 0}])");
  // A TP8 replica inside one server does not use its rack's leaf.
  nlohmann::json tp8 = Shipped(kTp8);
  tp8["faults"] = nlohmann::json::parse(R"([{"at_s": 100, "kind": "switch", "leaf": 0}])");
  const auto r = testing::RunReports({cut, leaf, tp8});
  const nlohmann::json& c = r[0]["faults"]["events"][0];
  INFO(r[0]["faults"].dump(1));
  CHECK(c["uplink_share_during"] == 0.0);
  CHECK(c["instances_stopped"] == nlohmann::json::array({0}));
  // The only group: its clients' requests wait for it, and it comes back 5 s later.
  CHECK(c["requests_retried"].get<int64_t>() > 500);
  CHECK(c["max_requests_stranded"].get<int64_t>() > 500);
  CHECK(c["recovered_at_s"].get<double>() == Approx(20.0));
  CHECK(r[0]["faults"]["retried_requests_finished"].get<int64_t>() > 0);
  const nlohmann::json& l = r[1]["faults"]["events"][0];
  CHECK(l["kind"] == "switch");
  CHECK(l["leaf"] == 0);
  CHECK(l["instances_stopped"] == nlohmann::json::array({0}));
  CHECK(l["recovered_at_s"].is_null());
  CHECK(r[2]["faults"]["events"][0]["instances_stopped"].empty());
}

TEST_CASE("faults: with every instance down, requests wait for a live one and are not lost",
          "[faults]") {
  nlohmann::json doc = testing::SmallScenarioJson(2, 16, "layer");
  doc["simulation"]["duration_s"] = 12;
  doc["faults"] = nlohmann::json::parse(
      R"([{"at_s": 4, "kind": "gpu", "gpu": 1, "recover_after_s": 3},
          {"at_s": 9, "kind": "server", "server": 0}])");
  const auto r = testing::RunReports({doc});
  const nlohmann::json& f = r[0]["faults"];
  INFO(f.dump(1));
  // The closed loop's 16 clients: in flight when the GPU fails, stranded until it rejoins.
  CHECK(f["events"][0]["requests_retried"] == 16);
  CHECK(f["events"][0]["max_requests_stranded"] == 16);
  CHECK(f["events"][0]["recovered_at_s"].get<double>() == Approx(7.0));
  CHECK(f["events"][1]["max_requests_stranded"] == 16);
  CHECK(f["events"][1]["recovered_at_s"].is_null());
  CHECK(f["retried_requests_unfinished"].get<int64_t>() == 16);  // stranded at the end
}

TEST_CASE("faults: an instance stopped twice comes back when the last fault recovers", "[faults]") {
  nlohmann::json doc = testing::SmallScenarioJson(2, 16, "layer");
  doc["simulation"]["duration_s"] = 12;
  // The GPU recovers at 6 s, but the server (with the same GPUs) is down from 5 s to 9 s.
  doc["faults"] = nlohmann::json::parse(
      R"([{"at_s": 4, "kind": "gpu", "gpu": 1, "recover_after_s": 2},
          {"at_s": 5, "kind": "server", "server": 0, "recover_after_s": 4}])");
  const auto r = testing::RunReports({doc});
  const nlohmann::json& f = r[0]["faults"];
  INFO(f.dump(1));
  CHECK(f["events"][0]["recovered_at_s"].is_null());  // its recovery did not bring it back
  CHECK(f["events"][1]["recovered_at_s"].get<double>() == Approx(9.0));
  CHECK(f["events"][0]["requests_retried"] == 16);
  CHECK(f["events"][1]["requests_retried"] == 0);            // nothing left to hand back
  CHECK(f["retried_requests_finished"].get<int64_t>() > 0);  // served again after 9 s
}

// The KV hierarchy's shipped cases (scenarios/kv), widened to more instances, with a GPU of the
// second one failing for a while: that instance's cached blocks (HBM, host DRAM, SSD), its
// running requests' offloaded blocks and its swapped requests' host copies are lost with it, and
// its requests start over elsewhere; the run's conservation checks cover the tiers.
nlohmann::json KvWithFault(const std::string& name, int instances, double at_s) {
  nlohmann::json doc = testing::ShippedScenario("kv", name);
  doc["deployment"]["instances"] = instances;
  doc["workload"]["concurrency"] = doc["workload"]["concurrency"].get<int>() * instances;
  doc["hardware"]["servers_per_rack"] = instances;
  doc["faults"] = {{{"at_s", at_s}, {"kind", "gpu"}, {"gpu", 11}, {"recover_after_s", 40}}};
  return doc;
}

TEST_CASE("faults: with a KV hierarchy, the failed instance's KV is lost from every tier",
          "[faults][kv-hierarchy]") {
  // Prefix caching with a host tier (TP8), swap preemption (TP8), a DP-attention EP8 group
  // with cache-aware ranks and a host tier.
  nlohmann::json dpa = KvWithFault("deepseek-v3-h200-dpa-ep8-chat-think20-cache-aware", 2, 80);
  dpa["kv_hierarchy"]["host_kv_gb_per_server"] = 512;
  dpa["simulation"]["duration_s"] = 140;
  nlohmann::json healthy = KvWithFault("qwen3-235b-h200-tp8-chat-think20-host-tier", 3, 120);
  healthy.erase("faults");
  const auto r =
      testing::RunReports({KvWithFault("qwen3-235b-h200-tp8-chat-think20-host-tier", 3, 120),
                           healthy, KvWithFault("qwen3-235b-h200-tp8-32k-swap", 2, 150), dpa});
  for (size_t i : {size_t(0), size_t(2), size_t(3)}) {
    INFO("run " << i);
    const nlohmann::json& f = r[i]["faults"];
    INFO(f.dump(1));
    CHECK(f["events"][0]["instances_stopped"] == nlohmann::json::array({1}));
    CHECK(f["requests_retried"].get<int64_t>() > 50);
    CHECK(f["retried_requests_finished"].get<int64_t>() +
              f["retried_requests_unfinished"].get<int64_t>() ==
          f["requests_retried"].get<int64_t>());
  }
  // The fault costs throughput (its requests' KV is recomputed, the replica is down a while).
  CHECK(r[0]["throughput"]["output_tok_per_s"].get<double>() <
        r[1]["throughput"]["output_tok_per_s"].get<double>());
  // The swap case had swapped sequences to lose.
  CHECK(r[2]["kv_hierarchy"]["preemptions"]["swap"].get<int64_t>() > 0);
}

TEST_CASE("faults: the same seed gives the same report", "[faults][determinism]") {
  const auto r = testing::RunReports({Shipped(kTp8), Shipped(kTp8)});
  CHECK(r[0].dump() == r[1].dump());
}

absl::Status ParseWith(const nlohmann::json& doc) {
  return ParseScenario(doc, "faults.json", testing::Presets()).status();
}

TEST_CASE("faults: bad input names the key and what was expected", "[faults][bad-input]") {
  const nlohmann::json base = Shipped(kTp8);
  REQUIRE(ParseWith(base).ok());
  auto with = [&](const char* path, nlohmann::json value) {
    nlohmann::json doc = base;
    doc[nlohmann::json::json_pointer(path)] = value;
    return std::string(ParseWith(doc).message());
  };
  CHECK_THAT(with("/faults/0/gpu", 64), Contains("$.faults[0].gpu") && Contains("64 GPUs"));
  CHECK_THAT(with("/faults/1/server", 8), Contains("$.faults[1].server") && Contains("8 servers"));
  CHECK_THAT(with("/faults/0/at_s", 200),
             Contains("$.faults[0].at_s") && Contains("before the end of the run"));
  CHECK_THAT(with("/faults/0/at_s", -1), Contains("$.faults[0].at_s"));
  CHECK_THAT(with("/faults/0/recover_after_s", 0), Contains("$.faults[0].recover_after_s"));
  // Links and switches: a rack in the cluster, ports its uplink has, a spine switch there is.
  CHECK_THAT(with("/faults/0", {{"at_s", 10}, {"kind", "link"}, {"rack", 0}}),
             Contains("$.faults[0]") && Contains("one rack"));
  CHECK_THAT(with("/faults/0", {{"at_s", 10}, {"kind", "switch"}, {"spine", 0}}),
             Contains("$.faults[0]") && Contains("no spine switch"));
  CHECK_THAT(with("/faults/0", {{"at_s", 10}, {"kind", "switch"}, {"spine", 0}, {"leaf", 0}}),
             Contains("$.faults[0]") && Contains("one of them"));
  CHECK_THAT(with("/faults/0", {{"at_s", 10}, {"kind", "switch"}}),
             Contains("$.faults[0]") && Contains("\"leaf\""));
  CHECK_THAT(with("/faults/0", {{"at_s", 10}, {"kind", "switch"}, {"leaf", 1}}),
             Contains("$.faults[0].leaf") && Contains("1 racks"));
  // "link" with "gpu": that GPU's NVLink links (below).
  CHECK(with("/faults/0", {{"at_s", 10}, {"kind", "link"}, {"gpu", 1}}).empty());
  {
    const nlohmann::json spine = Shipped(kSpine);
    auto spine_with = [&](nlohmann::json faults) {
      nlohmann::json doc = spine;
      doc["faults"] = std::move(faults);
      return std::string(ParseWith(doc).message());
    };
    REQUIRE(ParseWith(spine).ok());
    CHECK_THAT(spine_with(nlohmann::json::parse(R"([{"at_s": 1, "kind": "link", "rack": 2}])")),
               Contains("$.faults[0].rack") && Contains("2 racks"));
    CHECK_THAT(spine_with(nlohmann::json::parse(
                   R"([{"at_s": 1, "kind": "link", "rack": 0, "ports": 9}])")),
               Contains("$.faults[0].ports") && Contains("8 uplink ports"));
    CHECK_THAT(spine_with(nlohmann::json::parse(
                   R"([{"at_s": 1, "kind": "link", "rack": 1, "ports": 5},
                       {"at_s": 9, "kind": "link", "rack": 1, "ports": 3}])")),
               Contains("$.faults") && Contains("rack 1") && Contains("every port down"));
    CHECK(ParseWith([&] {
            nlohmann::json doc = spine;
            doc["faults"] = nlohmann::json::parse(
                R"([{"at_s": 1, "kind": "link", "rack": 1, "ports": 8},
                    {"at_s": 9, "kind": "link", "rack": 1, "ports": 3}])");
            return doc;
          }())
              .ok());
    // Spine switches: one the hardware has, at most one per uplink port, and with link faults
    // never all of a rack's ports in all (a spine of four takes two of each rack's eight).
    CHECK_THAT(spine_with(nlohmann::json::parse(R"([{"at_s": 1, "kind": "switch", "spine": 1}])")),
               Contains("$.faults[0].spine") && Contains("1 spine switches"));
    nlohmann::json spines = Shipped(kSpineSwitch);
    REQUIRE(ParseWith(spines).ok());
    spines["faults"] = nlohmann::json::parse(
        R"([{"at_s": 1, "kind": "switch", "spine": 3},
            {"at_s": 9, "kind": "link", "rack": 0, "ports": 6}])");
    CHECK_THAT(std::string(ParseWith(spines).message()),
               Contains("$.faults") && Contains("rack 0") && Contains("spine-switch faults"));
    spines["faults"] = nlohmann::json::parse(
        R"([{"at_s": 1, "kind": "switch", "spine": 3},
            {"at_s": 9, "kind": "link", "rack": 0, "ports": 5}])");
    CHECK(ParseWith(spines).ok());
    spines["hardware"]["spine_switches"] = 9;
    CHECK_THAT(std::string(ParseWith(spines).message()),
               Contains("$.hardware.spine_switches") && Contains("8 uplink ports"));
  }
  CHECK_THAT(with("/faults/0/kind", "psu"), Contains("$.faults[0].kind"));
  {
    // A GPU's scale-up links: fewer than the fabric's links per GPU, all faults on it counted.
    nlohmann::json nv = Shipped(kNvlink);
    REQUIRE(ParseWith(nv).ok());
    nv["faults"][0]["ports"] = 18;
    CHECK_THAT(std::string(ParseWith(nv).message()),
               Contains("$.faults[0].ports") && Contains("18 nvlink4 links"));
    nv["faults"][0]["ports"] = 9;
    nv["faults"].push_back({{"at_s", 100}, {"kind", "link"}, {"gpu", 3}, {"ports", 9}});
    CHECK_THAT(std::string(ParseWith(nv).message()), Contains("18 in all"));
    nv["faults"][1]["gpu"] = 4;
    CHECK(ParseWith(nv).ok());
    nv["faults"][1]["rack"] = 0;
    CHECK_THAT(std::string(ParseWith(nv).message()),
               Contains("$.faults[1]") && Contains("\"rack\"") && Contains("\"gpu\""));
    nv["faults"][1].erase("gpu");
    nv["faults"][1].erase("rack");
    CHECK_THAT(std::string(ParseWith(nv).message()), Contains("one of them"));
    nv["faults"].erase(1);
    nv["hardware"]["fabrics"] = {{"scaleup", "pcie5-x16"}};
    CHECK_THAT(std::string(ParseWith(nv).message()),
               Contains("$.faults[0]") && Contains("links_per_gpu"));
    nv["hardware"].erase("fabrics");
    nv["hardware"]["gpus_per_server"] = 1;
    nv["deployment"] = {{"tensor_parallel", 1}};
    nv["model"]["preset"] = "Qwen3-30B-A3B";
    nv["faults"][0]["gpu"] = 0;
    CHECK_THAT(std::string(ParseWith(nv).message()), Contains("no scale-up link"));
  }
  // Going on without a GPU needs a DP-attention EP group with redundant experts.
  CHECK_THAT(with("/faults/0/ep_group", "continue"),
             Contains("$.faults[0].ep_group") && Contains("redundant"));
  CHECK_THAT(with("/faults/0/ep_group", "maybe"), Contains("$.faults[0].ep_group"));
  CHECK_THAT(with("/faults/0/when", 3), Contains("when"));
  CHECK_THAT(with("/faults", nlohmann::json::array()), Contains("$.faults"));
  {
    // Prefill/decode pools take faults, but not an EP group going on without a rank.
    nlohmann::json doc = testing::ShippedScenario("disaggregation", "deepseek-v3-h200-1p1d-tp8");
    doc["faults"] = nlohmann::json::parse(R"([{"at_s": 10, "kind": "gpu", "gpu": 0}])");
    CHECK(ParseWith(doc).ok());
    doc["faults"][0]["ep_group"] = "continue";
    CHECK_THAT(std::string(ParseWith(doc).message()),
               Contains("$.faults[0].ep_group") && Contains("prefill/decode"));
  }
}

TEST_CASE("faults: prefill and decode instances fail, their requests start over, none lost",
          "[faults][disaggregation]") {
  nlohmann::json healthy = Shipped(kPd);
  healthy.erase("faults");
  const auto r = testing::RunReports({Shipped(kPd), healthy, Shipped(kPd)});
  const nlohmann::json& f = r[0]["faults"];
  INFO(f.dump(1));
  CHECK(r[0].dump() == r[2].dump());  // deterministic
  const nlohmann::json& decode = f["events"][0];
  const nlohmann::json& prefill = f["events"][1];
  // GPU 17 is decode instance 0 (global 2, after the two prefill instances); server 0 holds
  // prefill instance 0.
  CHECK(decode["instances_stopped"] == nlohmann::json::array({2}));
  CHECK(prefill["instances_stopped"] == nlohmann::json::array({0}));
  CHECK(decode["instances_stopped_by_pool"] == nlohmann::json::parse(R"({"decode": [0]})"));
  CHECK(prefill["instances_stopped_by_pool"] == nlohmann::json::parse(R"({"prefill": [0]})"));
  const std::string text = ReportToText(r[0]);
  CHECK_THAT(text, Contains("gpu 17 down; instances stopped: decode 0; back at 80.0 s"));
  CHECK_THAT(text, Contains("KV transfers: 0 lost with their prefill GPUs"));
  // The decode instance's running sequences lost their KV and were prefilled again.
  CHECK(decode["requests_retried"].get<int64_t>() > 20);
  CHECK(decode["tokens_recomputed"].get<int64_t>() >
        2000 * decode["requests_retried"].get<int64_t>());
  CHECK(prefill["requests_retried"].get<int64_t>() >= 1);
  for (const auto& e : f["events"]) {
    CHECK(e.contains("kv_transfers_lost"));
    CHECK(e.contains("kv_transfers_redone"));
    CHECK(e["max_requests_stranded"] == 0);  // the other instance of each pool stayed live
    REQUIRE(e["time_to_recover_s"].is_number());
  }
  CHECK(decode["output_tok_per_s_lowest_after"].get<double>() <
        0.8 * decode["output_tok_per_s_before"].get<double>());
  CHECK(decode["recovered_at_s"].get<double>() == Approx(80.0));
  CHECK(f["retried_requests_finished"].get<int64_t>() +
            f["retried_requests_unfinished"].get<int64_t>() ==
        f["requests_retried"].get<int64_t>());
  // Below capacity the window's throughput is the offered load either way (the delayed tokens
  // still come inside it); the cost shows in the dip above and in the latency tail.
  CHECK(r[0]["latency_s"]["ttft"]["p99"].get<double>() >
        r[1]["latency_s"]["ttft"]["p99"].get<double>());
  CHECK(r[0]["latency_s"]["e2e"]["p99"].get<double>() >
        r[1]["latency_s"]["e2e"]["p99"].get<double>());
}

TEST_CASE("faults: KV transfers in flight when either end fails are lost or sent again",
          "[faults][disaggregation]") {
  // The shipped 2P2D plan with one 1 GB/s NIC per server and more prompts than it can move:
  // every prefill server's NIC always carries transfers, so a failure always catches some.
  nlohmann::json doc = Shipped(kPd);
  doc["hardware"]["nics_per_server"] = 1;
  doc["hardware"]["fabrics"] = {{"scaleout", {{"preset", "ib-ndr-400"}, {"gb_per_s", 1}}}};
  doc["workload"]["rate_per_s"] = 2.4;
  doc["simulation"]["duration_s"] = 60;
  doc["simulation"]["warmup_s"] = 10;
  doc["simulation"]["timeseries_interval_s"] = 1;
  // Both decode instances at once (servers 2 and 3), then prefill server 0.
  doc["faults"] = nlohmann::json::parse(
      R"([{"at_s": 20, "kind": "gpu", "gpu": 16, "recover_after_s": 5},
          {"at_s": 20, "kind": "gpu", "gpu": 24, "recover_after_s": 5},
          {"at_s": 40, "kind": "server", "server": 0, "recover_after_s": 5}])");
  const nlohmann::json f = testing::RunReports({doc})[0]["faults"];
  INFO(f.dump(1));
  const nlohmann::json& e = f["events"];
  // Transfers into the failed decode instances went again from the prefill GPUs that still
  // held the KV, once a decode instance was back; nothing was prefilled again for them.
  CHECK(e[0]["kv_transfers_redone"].get<int64_t>() + e[1]["kv_transfers_redone"].get<int64_t>() >=
        1);
  CHECK(e[0]["kv_transfers_lost"] == 0);
  // Transfers out of the failed prefill server lost their KV: prefilled again.
  CHECK(e[2]["kv_transfers_lost"].get<int64_t>() >= 1);
  CHECK(e[2]["kv_transfers_redone"] == 0);
  CHECK(e[2]["requests_retried"].get<int64_t>() >= e[2]["kv_transfers_lost"].get<int64_t>());
  // Every run checks conservation (requests, tokens, KV blocks) at its end; none lost here.
  CHECK(f["retried_requests_finished"].get<int64_t>() +
            f["retried_requests_unfinished"].get<int64_t>() ==
        f["requests_retried"].get<int64_t>());
}

TEST_CASE("faults: a DP-attention decode group and layer-wise transfers under P/D faults",
          "[faults][disaggregation]") {
  // Two TP8 prefill instances and one DP-attention EP16 decode group, KV streamed layer by layer
  // through one 2 GB/s NIC per server: the decode group's failure catches transfers into it
  // (sent again), the prefill instance's catches transfers out of it (prefilled again).
  nlohmann::json doc = testing::ShippedScenario("disaggregation", "deepseek-v3-h200-2p1d-dpa-ep16");
  doc["hardware"]["nics_per_server"] = 1;
  doc["hardware"]["fabrics"] = {{"scaleout", {{"preset", "ib-ndr-400"}, {"gb_per_s", 2}}}};
  doc["deployment"]["kv_transfer"]["layerwise"] = true;
  doc["faults"] = nlohmann::json::parse(
      R"([{"at_s": 40, "kind": "gpu", "gpu": 20, "recover_after_s": 10},
          {"at_s": 60, "kind": "gpu", "gpu": 3, "recover_after_s": 10}])");
  const nlohmann::json f = testing::RunReports({doc})[0]["faults"];
  INFO(f.dump(1));
  const nlohmann::json& e = f["events"];
  CHECK(e[0]["instances_stopped_by_pool"] == nlohmann::json::parse(R"({"decode": [0]})"));
  CHECK(e[0]["requests_retried"].get<int64_t>() > 100);  // the group's sequences, all ranks
  CHECK(e[0]["kv_transfers_redone"].get<int64_t>() >= 1);
  CHECK(e[1]["instances_stopped_by_pool"] == nlohmann::json::parse(R"({"prefill": [0]})"));
  CHECK(e[1]["kv_transfers_lost"].get<int64_t>() >= 1);
  CHECK(f["retried_requests_finished"].get<int64_t>() +
            f["retried_requests_unfinished"].get<int64_t>() ==
        f["requests_retried"].get<int64_t>());
}

TEST_CASE("faults: prefill/decode failures with prefix caching lose no block", "[faults][kv]") {
  // Two prefill instances with prefix caches and cache-aware routing, one decode instance; one
  // 1 GB/s NIC per server so that KV transfers are in flight when either end fails. The run's
  // checks (KV blocks, cache references and pins, requests, tokens) hold through both faults.
  // Also with prefill instances of two pipeline stages, whose lanes hand back one by one while
  // the other's step may still hand prompts off.
  nlohmann::json doc =
      testing::ShippedScenario("kv", "qwen3-235b-h200-2p1d-chat-think20-cache-aware");
  doc["hardware"]["nics_per_server"] = 1;
  doc["hardware"]["fabrics"] = {{"scaleout", {{"preset", "ib-ndr-400"}, {"gb_per_s", 1}}}};
  doc["faults"] = nlohmann::json::parse(
      R"([{"at_s": 90, "kind": "gpu", "gpu": 3, "recover_after_s": 30},
          {"at_s": 130, "kind": "server", "server": 2, "recover_after_s": 20}])");
  nlohmann::json staged = doc;
  staged["deployment"]["pools"][0].update(
      {{"tensor_parallel", 4}, {"pipeline_parallel", 2}, {"expert_parallel", 4}});
  const auto reports = testing::RunReports({doc, staged});
  const nlohmann::json& r = reports[0];
  const nlohmann::json& f = r["faults"];
  INFO(f.dump(1));
  INFO(reports[1]["faults"].dump(1));
  CHECK(reports[1]["faults"]["events"][0]["kv_transfers_lost"].get<int64_t>() >= 1);
  CHECK(f["events"][0]["instances_stopped_by_pool"] ==
        nlohmann::json::parse(R"({"prefill": [0]})"));
  CHECK(f["events"][1]["instances_stopped_by_pool"] == nlohmann::json::parse(R"({"decode": [0]})"));
  CHECK(f["events"][0]["kv_transfers_lost"].get<int64_t>() >= 1);
  CHECK(f["events"][1]["kv_transfers_redone"].get<int64_t>() >= 1);
  // The only decode instance was down: sequences waited for it, none was lost.
  CHECK(f["retried_requests_finished"].get<int64_t>() +
            f["retried_requests_unfinished"].get<int64_t>() ==
        f["requests_retried"].get<int64_t>());
  CHECK(r["pools"]["prefill"]["kv_hierarchy"]["prefix_cache"]["hit_ratio"]["total"].get<double>() >
        0.2);
}

TEST_CASE("faults: a NIC stops a prefill instance whose KV leaves its server", "[faults]") {
  nlohmann::json doc = Shipped(kPd);
  doc["faults"] = nlohmann::json::parse(R"([{"at_s": 60, "kind": "nic", "gpu": 9}])");
  // Each TP8 instance fits in its server (no collective crosses a NIC), but every KV
  // transfer does.
  const auto r = testing::RunReports({doc});
  CHECK(r[0]["faults"]["events"][0]["instances_stopped"] == nlohmann::json::array({1}));
}

TEST_CASE("faults: NVLink links down slow a TP8 instance without stopping it", "[faults]") {
  nlohmann::json healthy = Shipped(kNvlink);
  healthy.erase("faults");
  const auto r = testing::RunReports({Shipped(kNvlink), healthy});
  const nlohmann::json& e = r[0]["faults"]["events"][0];
  INFO(e.dump(1));
  CHECK(e["kind"] == "link");
  CHECK(e["gpu"] == 3);
  CHECK(e["ports"] == 12);
  CHECK(e["links_per_gpu"] == 18);  // NVLink4 (fabric preset links_per_gpu)
  CHECK(e["scaleup_share_during"].get<double>() == Approx(1.0 / 3));
  CHECK(e["instances_stopped"].empty());
  CHECK(e["requests_retried"] == 0);
  CHECK(e["recovered_at_s"].get<double>() == Approx(90.0));
  // The decode step waits for GPU 3's port: TPOT rises while the links are down, and is as
  // before once they are back.
  const nlohmann::json& ts = r[0]["timeseries"];
  const double before = MeanOver(ts, "tpot_p50_s", 34, 58);
  const double during = MeanOver(ts, "tpot_p50_s", 64, 88);
  CHECK(during > 1.1 * before);
  CHECK(MeanOver(r[1]["timeseries"], "tpot_p50_s", 64, 88) < 1.05 * before);
  CHECK(r[0]["latency_s"]["tpot"]["p99"].get<double>() >
        r[1]["latency_s"]["tpot"]["p99"].get<double>());
  CHECK_THAT(ReportToText(r[0]),
             Contains("gpu 3 scale-up links (12 of 18; 33 % of its capacity left) down"));
}

TEST_CASE("faults: NVLink links down slow the closed form and SimGrid alike", "[faults]") {
  nlohmann::json doc = Shipped(kNvlink);
  doc["simulation"]["duration_s"] = 40;
  doc["simulation"]["warmup_s"] = 10;
  doc["faults"][0]["at_s"] = 15;
  doc["faults"][0]["recover_after_s"] = 15;
  nlohmann::json ptask = doc;
  ptask["simulation"]["collectives"] = "ptask";
  const auto r = testing::RunReports({doc, ptask});
  // Collectives on SimGrid links whose bandwidth the fault set, against the closed form's link
  // shares: the same steps.
  CHECK(r[1]["latency_s"]["tpot"]["p50"].get<double>() ==
        Approx(r[0]["latency_s"]["tpot"]["p50"].get<double>()).epsilon(0.01));
  CHECK(MeanOver(r[1]["timeseries"], "tpot_p50_s", 18, 30) ==
        Approx(MeanOver(r[0]["timeseries"], "tpot_p50_s", 18, 30)).epsilon(0.01));
}

TEST_CASE("faults: an RLVR rollout instance and a trainer GPU fail; the step pays, none lost",
          "[faults][rlvr]") {
  nlohmann::json healthy = Shipped(kRlvr);
  healthy.erase("faults");
  const auto r = testing::RunReports({Shipped(kRlvr), healthy});
  const nlohmann::json& f = r[0]["faults"];
  INFO(f.dump(1));
  const nlohmann::json& rollout = f["events"][0];
  const nlohmann::json& trainer = f["events"][1];
  // Server 2 holds rollout instance 2; its samples moved with their progress and finished.
  CHECK(rollout["instances_stopped"] == nlohmann::json::array({2}));
  CHECK(rollout["requests_retried"].get<int64_t>() > 50);
  CHECK(f["retried_requests_finished"] == f["requests_retried"]);
  CHECK_FALSE(rollout.contains("trainer_stopped"));
  // GPU 200 is the trainer's (GPUs 128-255): step 1's training started again after it.
  CHECK(trainer["trainer_stopped"] == true);
  CHECK(trainer["training_restarts"] == 1);
  CHECK(trainer["instances_stopped"].empty());
  CHECK_FALSE(trainer.contains("output_tok_per_s_before"));  // RLVR: the steps tell the cost
  const nlohmann::json& faulted = r[0]["rlvr"]["steps"];
  const nlohmann::json& plain = r[1]["rlvr"]["steps"];
  CHECK(faulted[0]["training_restarts"] == 0);
  CHECK(faulted[1]["training_restarts"] == 1);
  // Training began when step 1's rollout ended; the fault at 1,100 s lost what it had done.
  const double train_start =
      faulted[1]["rollout_start_s"].get<double>() + faulted[1]["rollout_s"].get<double>();
  CHECK(faulted[1]["train_lost_s"].get<double>() == Approx(1100 - train_start).margin(1e-6));
  // Step 1's training: the lost attempt, the wait until the GPU is back at 1,220 s, the full
  // training again.
  CHECK(faulted[1]["train_s"].get<double>() ==
        Approx(1220 - train_start + plain[1]["train_s"].get<double>()).epsilon(1e-6));
  CHECK(faulted[2]["train_s"].get<double>() ==
        Approx(plain[2]["train_s"].get<double>()).epsilon(1e-9));
  // Every sample generated to its length: the run's checks held; the same tokens either way.
  for (int k = 0; k < 3; ++k) {
    CHECK(faulted[k]["samples_finished"] == plain[k]["samples_finished"]);
    CHECK(faulted[k]["response_tokens"] == plain[k]["response_tokens"]);
  }
  CHECK(r[0]["rlvr"]["step_time_s"].get<double>() > r[1]["rlvr"]["step_time_s"].get<double>());
  const std::string text = ReportToText(r[0]);
  CHECK_THAT(text, Contains("trained again 1 times after trainer faults"));
  CHECK_THAT(text, Contains("stopped the RLVR trainer: 1 steps trained again"));
}

TEST_CASE("faults: a colocated RLVR GPU fault stops its rollout instance and the training",
          "[faults][rlvr]") {
  nlohmann::json doc = testing::ShippedScenario("rlvr", "deepseek-v3-h200-colocated");
  doc["rlvr"]["prompts_per_step"] = 128;
  doc["rlvr"]["steps"] = 2;
  // Step 0's rollout ends at ~244 s; GPU 5 (rollout instance 0, and the trainer) fails at 255 s.
  doc["faults"] =
      nlohmann::json::parse(R"([{"at_s": 255, "kind": "gpu", "gpu": 5, "recover_after_s": 30}])");
  const nlohmann::json r = testing::RunReports({doc})[0];
  const nlohmann::json& e = r["faults"]["events"][0];
  INFO(r["faults"].dump(1));
  CHECK(e["instances_stopped"] == nlohmann::json::array({0}));
  CHECK(e["trainer_stopped"] == true);
  CHECK(e["training_restarts"] == 1);
  const nlohmann::json& step = r["rlvr"]["steps"][0];
  CHECK(step["training_restarts"] == 1);
  CHECK(step["train_lost_s"].get<double>() > 0);
  // Step 1's rollout waited for the training (and the GPU) to finish.
  CHECK(r["rlvr"]["steps"][1]["rollout_start_s"].get<double>() > 285);
}

TEST_CASE("faults: a fault that stops the RLVR trainer for good is refused by name",
          "[faults][rlvr][bad-input]") {
  nlohmann::json doc = Shipped(kRlvr);
  doc["faults"][1].erase("recover_after_s");
  const auto report = testing::SimulateInChild(testing::MustParse(doc));
  REQUIRE_FALSE(report.ok());
  CHECK_THAT(std::string(report.status().message()),
             Contains("$.faults[1]") && Contains("trainer") && Contains("recover_after_s"));
  // A rollout fault may stay down for good.
  doc = Shipped(kRlvr);
  doc["faults"][0].erase("recover_after_s");
  doc["faults"].erase(1);
  CHECK(ParseWith(doc).ok());
}

TEST_CASE("faults: a scheduler hands back its requests with their KV freed and progress kept",
          "[faults][scheduler]") {
  const nlohmann::json doc = testing::SmallScenarioJson(1, 4, "layer");
  const ModelSpec model = testing::MustParse(doc).model;
  const KvFootprint fp(model, 1, 16);
  PagedKvPool pool(1000);
  InstanceScheduler s({8, 4096, 0}, fp, &pool);
  Request a, b, c;
  a.input_tokens = b.input_tokens = 100;
  a.output_tokens = b.output_tokens = 50;
  c.input_tokens = 30;
  c.output_tokens = 10;
  s.Enqueue(&a);
  s.Enqueue(&b);
  s.Schedule(0);
  s.Complete(1.0);  // a and b prefilled, one token each
  s.Schedule(0);
  s.Complete(2.0);  // a second token
  s.Enqueue(&c);    // waiting
  REQUIRE(pool.used() > 0);
  const std::vector<Request*> out = s.EvictAll();
  REQUIRE(out.size() == 3);
  CHECK(out[0] == &a);
  CHECK(out[2] == &c);
  CHECK(pool.used() == 0);
  CHECK_FALSE(s.HasWork());
  CHECK(a.generated == 2);
  CHECK(a.prompt_tokens == 102);  // its tokens so far are prefilled again elsewhere
  CHECK(a.kv_tokens == 0);
  CHECK(a.kv_blocks == 0);
  CHECK(c.generated == 0);
}

TEST_CASE("faults: disaggregation state leaves a failed scheduler without a block lost",
          "[faults][scheduler][disaggregation]") {
  const nlohmann::json doc = testing::SmallScenarioJson(1, 4, "layer");
  const ModelSpec model = testing::MustParse(doc).model;
  const KvFootprint fp(model, 1, 16);
  SECTION("prefill side: a handed-off prompt's blocks go back once, without joining a cache") {
    PagedKvPool pool(1000);
    SchedulerConfig config{8, 4096, 0};
    config.hand_off_prefilled = true;
    InstanceScheduler s(config, fp, &pool);
    Request a;
    a.input_tokens = 100;
    a.output_tokens = 50;
    s.Enqueue(&a);
    s.Schedule(0);
    s.Complete(1.0);
    REQUIRE(s.TakeHandedOff().size() == 1);
    REQUIRE(a.handoff.prefill_blocks == fp.BlocksFor(100));
    CHECK(pool.used() == a.handoff.prefill_blocks);
    s.DiscardHandedOff(&a);
    CHECK(pool.used() == 0);
    CHECK(a.handoff.prefill_blocks == 0);
    s.DiscardHandedOff(&a);  // idempotent: the transfer that lands later finds nothing
    CHECK(pool.used() == 0);
    a.StartOver();
    CHECK(a.prompt_tokens == 101);  // the token sampled at the end of prefill is kept
    CHECK_FALSE(a.handoff.prefill_end_s.has_value());
  }
  SECTION("decode side: transferred sequences are evicted, reservations cancelled on landing") {
    PagedKvPool pool(1000);
    InstanceScheduler s({8, 4096, 0}, fp, &pool);
    Request moved, moving;
    for (Request* r : {&moved, &moving}) {
      r->input_tokens = 100;
      r->output_tokens = 50;
      r->prompt_tokens = 100;
      r->generated = 1;
      REQUIRE(s.Reserve(r));
    }
    s.EnqueueTransferred(&moved);  // KV in place, waiting for a slot
    const std::vector<Request*> out = s.EvictAll();
    REQUIRE(out.size() == 1);
    CHECK(out[0] == &moved);
    CHECK(moved.kv_blocks == 0);
    CHECK(moved.prompt_tokens == 101);
    CHECK(s.waiting() == 1);  // the transfer still in flight holds its reservation
    CHECK(pool.used() == moving.handoff.decode_blocks);
    s.CancelReservation(&moving);
    CHECK(pool.used() == 0);
    CHECK(s.waiting() == 0);
    CHECK_FALSE(s.HasWork());
  }
}

}  // namespace
}  // namespace moesim
