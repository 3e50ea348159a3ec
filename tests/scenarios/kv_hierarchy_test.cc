// The KV memory hierarchy (issue 14) on the shipped scenarios of scenarios/kv/: prefix caching,
// a host-DRAM tier, an SSD tier, swap preemption and capacity offload, each against its twin
// without it.
// Every run also checks that requests, tokens and KV blocks are conserved across the tiers
// (engine/simulation.cc CheckConservation, models/prefix_cache.h Check()).
#include <fstream>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../engine/test_scenarios.h"
#include "engine/scenario.h"

namespace moesim {
namespace {

using Catch::Matchers::Contains;

nlohmann::json Shipped(const std::string& name) {
  std::ifstream in(std::string(MOESIM_SOURCE_DIR) + "/scenarios/kv/" + name + ".json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

double Output(const nlohmann::json& r) { return r["throughput"]["output_tok_per_s"].get<double>(); }
double TtftP50(const nlohmann::json& r) { return r["latency_s"]["ttft"]["p50"].get<double>(); }

TEST_CASE("kv hierarchy: prefix caching serves a chat's history from HBM", "[kv-hierarchy]") {
  const auto r = testing::RunReports({Shipped("qwen3-235b-h200-tp8-chat-no-cache"),
                                      Shipped("qwen3-235b-h200-tp8-chat-prefix-cache")});
  CHECK_FALSE(r[0].contains("kv_hierarchy"));
  const nlohmann::json& k = r[1]["kv_hierarchy"];
  const double hit = k["prefix_cache"]["hit_ratio"]["hbm"].get<double>();
  INFO("HBM hit ratio " << hit << ", output " << Output(r[0]) << " -> " << Output(r[1]));
  // 10 turns, each resending the history: the hits are most of the prompt tokens.
  CHECK(hit > 0.8);
  CHECK(k["prefix_cache"]["hit_ratio"]["host"].get<double>() == 0);
  CHECK(Output(r[1]) > 1.2 * Output(r[0]));
  CHECK(TtftP50(r[1]) < TtftP50(r[0]));
  // Fewer tokens processed per output token: the history is not prefilled again; the tokens
  // served (input + output) rise with the requests served.
  CHECK(r[1]["throughput"]["processed_tok_per_s"].get<double>() <
        r[0]["throughput"]["processed_tok_per_s"].get<double>());
  CHECK(r[1]["throughput"]["total_tok_per_s"].get<double>() >
        r[0]["throughput"]["total_tok_per_s"].get<double>());
}

TEST_CASE("kv hierarchy: a host tier keeps paused sessions' KV", "[kv-hierarchy]") {
  const auto r = testing::RunReports({Shipped("qwen3-235b-h200-tp8-chat-think20-hbm-cache"),
                                      Shipped("qwen3-235b-h200-tp8-chat-think20-host-tier")});
  const nlohmann::json& hbm = r[0]["kv_hierarchy"];
  const nlohmann::json& host = r[1]["kv_hierarchy"];
  const double hbm_total = hbm["prefix_cache"]["hit_ratio"]["total"].get<double>();
  const double host_total = host["prefix_cache"]["hit_ratio"]["total"].get<double>();
  INFO("hit ratio " << hbm_total << " -> " << host_total << ", output " << Output(r[0]) << " -> "
                    << Output(r[1]));
  CHECK(host["prefix_cache"]["hit_ratio"]["host"].get<double>() > 0.1);
  CHECK(host_total > hbm_total + 0.1);
  CHECK(Output(r[1]) > 1.1 * Output(r[0]));
  CHECK(TtftP50(r[1]) < TtftP50(r[0]));
  // Bytes moved both ways, each block's shard on each of the 8 GPUs.
  const nlohmann::json& link = host["host_link"];
  CHECK(link["to_host_gb"].get<double>() > 0);
  CHECK(link["from_host_gb"].get<double>() > 0);
  CHECK(link["blocks"]["write_backs"].get<int64_t>() > 0);
  CHECK(link["blocks"]["prefix_loads"].get<int64_t>() > 0);
  CHECK(hbm["host_link"]["to_host_gb"].get<double>() == 0);
  // The host tier never exceeds its capacity.
  CHECK(host["host_tier"]["peak_utilisation"].get<double>() <= 1.0);
}

TEST_CASE("kv hierarchy: an SSD tier keeps what a small host tier drops", "[kv-hierarchy][ssd]") {
  const auto r = testing::RunReports({Shipped("qwen3-235b-h200-tp8-chat-think20-host-256g"),
                                      Shipped("qwen3-235b-h200-tp8-chat-think20-host-256g-ssd")});
  const nlohmann::json& host = r[0]["kv_hierarchy"];
  const nlohmann::json& ssd = r[1]["kv_hierarchy"];
  const double host_total = host["prefix_cache"]["hit_ratio"]["total"].get<double>();
  const double ssd_total = ssd["prefix_cache"]["hit_ratio"]["total"].get<double>();
  const double ssd_hits = ssd["prefix_cache"]["hit_ratio"]["ssd"].get<double>();
  INFO("hit ratio " << host_total << " -> " << ssd_total << " (SSD " << ssd_hits << "), output "
                    << Output(r[0]) << " -> " << Output(r[1]));
  CHECK_FALSE(host.contains("ssd_tier"));
  // The small host tier fills and drops blocks; the SSD keeps them.
  CHECK(host["host_tier"]["peak_utilisation"].get<double>() > 0.99);
  CHECK(host["prefix_cache"]["dropped_blocks"].get<int64_t>() > 0);
  CHECK(ssd_hits > 0.2);
  CHECK(ssd_total > host_total + 0.2);
  CHECK(Output(r[1]) > 1.05 * Output(r[0]));
  // Bytes both ways on the drives, within their capacity.
  const nlohmann::json& tier = ssd["ssd_tier"];
  CHECK(tier["read_gb"].get<double>() > 0);
  CHECK(tier["write_gb"].get<double>() > 0);
  CHECK(tier["blocks"]["reads"].get<int64_t>() > 0);
  CHECK(tier["blocks"]["writes"].get<int64_t>() > 0);
  CHECK(tier["peak_utilisation"].get<double>() > 0);
  CHECK(tier["peak_utilisation"].get<double>() <= 1.0);
  CHECK(tier["utilisation"]["read"].get<double>() < 1.0);
  CHECK(tier["utilisation"]["write"].get<double>() < 1.0);
  // Every block read from SSD crosses the host links too (each block's shard on 8 GPUs).
  CHECK(ssd["host_link"]["blocks"]["ssd_loads"].get<int64_t>() ==
        tier["blocks"]["reads"].get<int64_t>());
  // The steps wait for the SSDs, the busier of the two, and the report says so.
  CHECK(ssd["io_wait_share_of_step_time"].get<double>() >
        host["io_wait_share_of_step_time"].get<double>());
  CHECK(ssd["limit"]["subsystem"].get<std::string>() == "ssd");
}

TEST_CASE("kv hierarchy: an SSD tier's run is the same for the same seed",
          "[kv-hierarchy][ssd][determinism]") {
  const auto r = testing::RunReports({Shipped("qwen3-235b-h200-tp8-chat-think20-host-256g-ssd"),
                                      Shipped("qwen3-235b-h200-tp8-chat-think20-host-256g-ssd")});
  CHECK(r[0].dump() == r[1].dump());
}

TEST_CASE("kv hierarchy: routing by shared document decides a fleet's prefix hits",
          "[kv-hierarchy][prefix-groups]") {
  const auto r =
      testing::RunReports({Shipped("gpt-oss-120b-h100x16-shared-docs-least-loaded"),
                           Shipped("gpt-oss-120b-h100x16-shared-docs-least-loaded-host-tier"),
                           Shipped("gpt-oss-120b-h100x16-shared-docs-cache-aware")});
  auto hit = [&](int i, const char* tier) {
    return r[i]["kv_hierarchy"]["prefix_cache"]["hit_ratio"][tier].get<double>();
  };
  auto requests = [&](int i) { return r[i]["throughput"]["requests_per_s"].get<double>(); };
  INFO("HBM hits " << hit(0, "hbm") << " / " << hit(1, "hbm") << " / " << hit(2, "hbm") << ", host "
                   << hit(1, "host") << ", req/s " << requests(0) << " / " << requests(1) << " / "
                   << requests(2) << " of 35");
  // Spread over 16 replicas, 250 documents thrash each replica's HBM cache.
  CHECK(hit(0, "hbm") < 0.4);
  // Routed by document, each replica keeps its 16 documents (a 256-token question and the
  // prompt's last token are computed: at most 16,000 / 16,256 of the tokens hit).
  CHECK(hit(2, "hbm") > 0.95);
  CHECK(hit(2, "hbm") <= 16000.0 / 16256.0);
  CHECK(TtftP50(r[2]) < 0.1);
  CHECK(TtftP50(r[0]) > 10 * TtftP50(r[2]));
  // The host tier adds hits, but its cache is cold: compulsory misses dominate.
  CHECK(hit(1, "host") > 0.05);
  CHECK(requests(1) > requests(0));
  // Only the cache-aware fleet keeps up with the offered 35 requests/s.
  CHECK(requests(2) == Approx(35).epsilon(0.05));
  CHECK(requests(0) < 0.9 * 35);
}

TEST_CASE("kv hierarchy: swapping 32K-token sequences beats recomputing them", "[kv-hierarchy]") {
  const auto r = testing::RunReports(
      {Shipped("qwen3-235b-h200-tp8-32k-recompute"), Shipped("qwen3-235b-h200-tp8-32k-swap")});
  const nlohmann::json& k = r[1]["kv_hierarchy"];
  INFO("output " << Output(r[0]) << " -> " << Output(r[1]));
  CHECK(r[0]["kv"]["preemptions"].get<int64_t>() > 0);
  CHECK(k["preemptions"]["swap"].get<int64_t>() > 0);
  CHECK(k["host_link"]["blocks"]["swap_outs"].get<int64_t>() > 0);
  CHECK(k["host_link"]["blocks"]["swap_ins"].get<int64_t>() > 0);
  CHECK(Output(r[1]) > 1.5 * Output(r[0]));
}

TEST_CASE("kv hierarchy: capacity offload turns a KV limit into a host-link limit",
          "[kv-hierarchy]") {
  const auto r = testing::RunReports({Shipped("qwen3-235b-h200-tp8-128k-hbm-only"),
                                      Shipped("qwen3-235b-h200-tp8-128k-capacity-offload"),
                                      Shipped("qwen3-235b-gb200-tp8-128k-capacity-offload-c2c"),
                                      Shipped("qwen3-235b-gb200-tp8-128k-capacity-offload-pcie")});
  const nlohmann::json& pcie = r[1]["kv_hierarchy"];
  INFO("H200 running " << r[0]["batch"]["mean_running"] << " -> " << r[1]["batch"]["mean_running"]
                       << "; limit " << pcie["limit"]);
  CHECK(r[1]["batch"]["mean_running"].get<double>() > r[0]["batch"]["mean_running"].get<double>());
  CHECK(pcie["host_link"]["blocks"]["streamed"].get<int64_t>() > 0);
  CHECK(pcie["limit"]["subsystem"] == "host_link");
  // The batch grew past HBM, but each step streams the offloaded KV over PCIe: no gain.
  CHECK(Output(r[1]) < Output(r[0]));
  // The same offload over C2C (7x PCIe Gen5's bandwidth) waits less and decodes far faster.
  const double c2c_wait = r[2]["kv_hierarchy"]["io_wait_share_of_step_time"].get<double>();
  const double pcie_wait = r[3]["kv_hierarchy"]["io_wait_share_of_step_time"].get<double>();
  INFO("GB200 io wait share: C2C " << c2c_wait << ", PCIe " << pcie_wait << "; output "
                                   << Output(r[2]) << " vs " << Output(r[3]));
  CHECK(c2c_wait < pcie_wait);
  CHECK(Output(r[2]) > 3 * Output(r[3]));
  CHECK(r[1]["limit"]["subsystem"] == "kv_host_link");
}

TEST_CASE("kv hierarchy: cache-aware routing into a disaggregated plan's prefill pool",
          "[kv-hierarchy]") {
  const auto r = testing::RunReports({Shipped("qwen3-235b-h200-2p1d-chat-think20-least-loaded"),
                                      Shipped("qwen3-235b-h200-2p1d-chat-think20-cache-aware")});
  auto hit = [](const nlohmann::json& report) {
    return report["pools"]["prefill"]["kv_hierarchy"]["prefix_cache"]["hit_ratio"]["hbm"]
        .get<double>();
  };
  INFO("prefill-pool HBM hit ratio: least loaded " << hit(r[0]) << ", cache aware " << hit(r[1]));
  CHECK(hit(r[1]) > hit(r[0]) + 0.2);
  // The decode pool receives each prompt's KV whole: it looks nothing up.
  CHECK(r[1]["pools"]["decode"]["kv_hierarchy"]["prefix_caching"] == false);
  CHECK(r[1]["pools"]["decode"]["kv_hierarchy"]["prefix_cache"]["lookup_tokens"] == 0);
  CHECK(r[1]["latency_s"]["ttft"]["p50"].get<double>() <
        r[0]["latency_s"]["ttft"]["p50"].get<double>());
}

TEST_CASE("kv hierarchy: a DP-attention group's ranks each cache their own sessions",
          "[kv-hierarchy]") {
  const nlohmann::json scattered = Shipped("deepseek-v3-h200-dpa-ep8-chat-think20-least-loaded");
  const nlohmann::json sticky = Shipped("deepseek-v3-h200-dpa-ep8-chat-think20-cache-aware");
  // The same with a host tier and swap preemption: the ranks' copies run on their own links.
  nlohmann::json host = scattered;
  host["kv_hierarchy"]["host_kv_gb_per_server"] = 1024;
  host["kv_hierarchy"]["preemption"] = "swap";
  const auto r = testing::RunReports({scattered, sticky, host});
  auto hit = [](const nlohmann::json& report) {
    return report["kv_hierarchy"]["prefix_cache"]["hit_ratio"]["hbm"].get<double>();
  };
  INFO("HBM hit ratio: least-loaded ranks " << hit(r[0]) << ", session's rank " << hit(r[1])
                                            << "; output " << Output(r[0]) << " -> "
                                            << Output(r[1]));
  CHECK(hit(r[1]) > hit(r[0]) + 0.2);
  CHECK(Output(r[1]) > 1.3 * Output(r[0]));
  const nlohmann::json& k = r[2]["kv_hierarchy"];
  CHECK(k["host_link"]["to_host_gb"].get<double>() > 0);
  CHECK(k["host_link"]["from_host_gb"].get<double>() > 0);
  CHECK(k["prefix_cache"]["hit_ratio"]["host"].get<double>() > 0);
}

TEST_CASE("kv hierarchy: the same seed gives the same report", "[kv-hierarchy][determinism]") {
  const auto r = testing::RunReports({Shipped("qwen3-235b-h200-tp8-chat-think20-host-tier"),
                                      Shipped("qwen3-235b-h200-tp8-chat-think20-host-tier")});
  CHECK(r[0].dump() == r[1].dump());
}

absl::Status ParseWith(nlohmann::json doc) {
  return ParseScenario(doc, "kv.json", testing::Presets()).status();
}

TEST_CASE("kv hierarchy: bad input names the key and what was expected",
          "[kv-hierarchy][bad-input]") {
  const nlohmann::json base = Shipped("qwen3-235b-h200-tp8-chat-prefix-cache");
  REQUIRE(ParseWith(base).ok());
  auto with = [&](const char* path, nlohmann::json value) {
    nlohmann::json doc = base;
    doc[nlohmann::json::json_pointer(path)] = value;
    return std::string(ParseWith(doc).message());
  };
  CHECK_THAT(with("/kv_hierarchy/preemption", "swap"),
             Contains("$.kv_hierarchy.preemption") && Contains("host tier"));
  CHECK_THAT(with("/kv_hierarchy/preemption", "evict"), Contains("$.kv_hierarchy.preemption"));
  CHECK_THAT(with("/kv_hierarchy/host_kv_gb_per_server", -1),
             Contains("$.kv_hierarchy.host_kv_gb_per_server"));
  CHECK_THAT(with("/kv_hierarchy/prefix_cashing", true), Contains("prefix_cashing"));
  CHECK_THAT(with("/kv_hierarchy", nlohmann::json::object()),
             Contains("$.kv_hierarchy") && Contains("sets nothing"));
  CHECK_THAT(with("/kv_hierarchy/capacity_offload", true),
             Contains("$.kv_hierarchy.capacity_offload"));
  CHECK_THAT(with("/workload/sessions/turns", 0), Contains("$.workload.sessions.turns"));
  CHECK_THAT(with("/workload/shared_prefix_tokens", -5),
             Contains("$.workload.shared_prefix_tokens"));
  CHECK_THAT(with("/workload/shared_prefix_groups", 0),
             Contains("$.workload.shared_prefix_groups"));
  {
    nlohmann::json doc = base;
    doc["workload"].erase("shared_prefix_tokens");
    doc["workload"]["shared_prefix_groups"] = 10;
    CHECK_THAT(std::string(ParseWith(doc).message()),
               Contains("$.workload.shared_prefix_groups") && Contains("shared_prefix_tokens"));
  }
  CHECK_THAT(with("/deployment/router", "sticky"), Contains("cache_aware"));
  // The SSD tier: it needs its drives, its space, a host tier and prefix caching.
  CHECK_THAT(with("/kv_hierarchy/ssd_kv_gb_per_server", 1000),
             Contains("$.kv_hierarchy.ssd_kv_gb_per_server") && Contains("\"ssd\""));
  CHECK_THAT(with("/kv_hierarchy/ssd", "dgx-h100-local-nvme"),
             Contains("$.kv_hierarchy.ssd") && Contains("is 0"));
  CHECK_THAT(with("/kv_hierarchy/ssd", "floppy"),
             Contains("$.kv_hierarchy.ssd") && Contains("kv_storage.json"));
  {
    nlohmann::json doc = base;
    doc["kv_hierarchy"]["ssd_kv_gb_per_server"] = 1000;
    doc["kv_hierarchy"]["ssd"] = "dgx-h100-local-nvme";
    CHECK_THAT(std::string(ParseWith(doc).message()),
               Contains("$.kv_hierarchy.ssd_kv_gb_per_server") && Contains("host tier"));
    doc["kv_hierarchy"]["host_kv_gb_per_server"] = 256;
    REQUIRE(ParseWith(doc).ok());
    doc["kv_hierarchy"]["ssd_kv_gb_per_server"] = 40000;
    CHECK_THAT(std::string(ParseWith(doc).message()),
               Contains("$.kv_hierarchy.ssd_kv_gb_per_server") && Contains("30720"));
    doc["kv_hierarchy"]["ssd_kv_gb_per_server"] = 1000;
    doc["kv_hierarchy"]["ssd"] = {{"preset", "dgx-h100-local-nvme"}, {"drives", 0}};
    CHECK_THAT(std::string(ParseWith(doc).message()), Contains("$.kv_hierarchy.ssd.drives"));
    doc["kv_hierarchy"]["ssd"] = {{"preset", "dgx-h100-local-nvme"}, {"read_gbps", 10}};
    CHECK_THAT(std::string(ParseWith(doc).message()), Contains("read_gbps"));
    doc["kv_hierarchy"]["ssd"] = "dgx-h100-local-nvme";
    doc["kv_hierarchy"]["prefix_caching"] = false;
    CHECK_THAT(std::string(ParseWith(doc).message()),
               Contains("$.kv_hierarchy.ssd_kv_gb_per_server") && Contains("prefix_caching"));
  }
  // Not simulated yet: refused, not ignored.
  {
    std::ifstream in(std::string(MOESIM_SOURCE_DIR) +
                     "/scenarios/disaggregation/deepseek-v3-h200-afd-2to1-400gbe.json");
    REQUIRE(in.good());
    nlohmann::json afd = nlohmann::json::parse(in);
    afd["kv_hierarchy"] = {{"prefix_caching", true}};
    CHECK_THAT(std::string(ParseWith(afd).message()),
               Contains("$.kv_hierarchy") && Contains("not built yet"));
  }
  CHECK_THAT(with("/model/preset", "Qwen3-Next-80B-A3B"),
             Contains("$.kv_hierarchy.prefix_caching") && Contains("linear-attention"));
  nlohmann::json poisson = base;
  poisson["workload"]["arrival"] = "poisson";
  poisson["workload"].erase("concurrency");
  poisson["workload"]["rate_per_s"] = 4;
  CHECK_THAT(std::string(ParseWith(poisson).message()),
             Contains("$.workload.sessions") && Contains("closed_loop"));
}

TEST_CASE("kv hierarchy: cache-aware routing keeps a session on one instance", "[kv-hierarchy]") {
  // Two TP4 instances, users pausing 20 s between turns: by then least-loaded routing often
  // picks the other instance; cache-aware routing sends the turn where its history is cached.
  nlohmann::json doc = Shipped("qwen3-235b-h200-tp8-chat-think20-hbm-cache");
  doc["deployment"] = {{"tensor_parallel", 4}, {"expert_parallel", 4}, {"instances", 2}};
  doc["simulation"]["duration_s"] = 150;
  nlohmann::json aware = doc;
  aware["deployment"]["router"] = "cache_aware";
  const auto r = testing::RunReports({doc, aware});
  const double scattered = r[0]["kv_hierarchy"]["prefix_cache"]["hit_ratio"]["hbm"].get<double>();
  const double sticky = r[1]["kv_hierarchy"]["prefix_cache"]["hit_ratio"]["hbm"].get<double>();
  INFO("HBM hit ratio: least loaded " << scattered << ", cache aware " << sticky);
  CHECK(sticky > scattered + 0.05);
}

}  // namespace
}  // namespace moesim
