#include "tools/html_report.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace moesim {

namespace {

absl::StatusOr<std::string> ReadChartJs(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--html needs Chart.js from Debian's libjs-chart.js (tools/setup.sh installs it): ", path,
        " not found"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// JSON inside a <script> element: "</" would end the element early.
std::string ScriptSafe(const nlohmann::json& j) {
  return absl::StrReplaceAll(j.dump(), {{"</", "<\\/"}});
}

std::string Page(const std::string& title, const std::string& chart_js, const nlohmann::json& data,
                 const std::string& body_js) {
  return absl::StrCat(R"(<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>)",
                      absl::StrReplaceAll(title, {{"<", "&lt;"}, {"&", "&amp;"}}), R"(</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;max-width:1200px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:14px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
.charts{display:grid;grid-template-columns:1fr 1fr;gap:18px}.chart{height:300px}
</style>
<script>)",
                      chart_js, R"(</script>
<script>const DATA = )",
                      ScriptSafe(data), R"(;</script>
</head><body>
<h1 id="title"></h1><div id="content"></div>
<script>
const $ = (tag, parent, html) => { const e = document.createElement(tag); if (html !== undefined) e.innerHTML = html; (parent || document.getElementById('content')).appendChild(e); return e; };
const fmt = (x, d) => (x === null || x === undefined) ? 'n/a' : (typeof x === 'number' ? x.toLocaleString(undefined, {maximumFractionDigits: d === undefined ? 3 : d}) : String(x));
const table = (rows, head) => { const t = $('table'); if (head) { const r = $('tr', t); head.forEach(h => $('th', r, h)); } rows.forEach(row => { const r = $('tr', t); row.forEach(c => $('td', r, fmt(c))); }); return t; };
let grid = null;
// Chart.js 3 draws every dataset in one grey: each gets a colour of its own (Tableau 10).
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const colour = sets => sets.forEach((d, i) => { const c = PALETTE[i % PALETTE.length]; d.backgroundColor = d.backgroundColor || c; d.borderColor = d.borderColor || c; });
const chart = (title, config) => { if (!grid) { grid = $('div'); grid.className = 'charts'; } const box = $('div', grid); $('h2', box, title); const holder = $('div', box); holder.className = 'chart'; const c = $('canvas', holder); colour(config.data.datasets); config.options = Object.assign({responsive: true, maintainAspectRatio: false, animation: false}, config.options || {}); return new Chart(c, config); };
const section = (title) => { grid = null; $('h2', undefined, title); };
)",
                      body_js, R"(
</script>
<script>
addEventListener('load', () => {
  const painted = c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i]) return true; return false; };
  const canvases = [...document.querySelectorAll('canvas')], b = document.body.dataset;
  b.charts = Object.keys(Chart.instances).length; b.canvases = canvases.length; b.canvasesPainted = canvases.filter(painted).length;
});
</script></body></html>
)");
}

// The body of a run report (serving, plan of several pools, or RLVR).
constexpr const char* kRunJs = R"(
const r = DATA;
document.getElementById('title').textContent = 'moesim report: ' + r.scenario;
if (r.meta) $('p', undefined, 'moesim ' + r.meta.moesim_version + ', ' + r.meta.scenario_file + ', seed ' + r.meta.seed + ', resolved scenario ' + r.meta.resolved_scenario_fnv1a64);
if (r.kind === 'rlvr') {
  const x = r.rlvr;
  section('RLVR step (' + r.plan.schedule + ', ' + r.plan.gpus + ' GPUs)');
  table([['step time (s)', x.step_time_s], ['steps per day', x.steps_per_day], ['steps per quarter', x.steps_per_quarter], ['$ per step', x.usd_per_step], ['rollout $ per million tokens', x.rollout_usd_per_million_tokens], ['limit', x.limits.step]]);
  const sp = x.split_s;
  chart('Step split (s)', {type: 'bar', data: {labels: ['mean step'], datasets: [
    {label: 'rollout (fastest 90 %)', data: [sp.rollout - sp.rollout_slowest_10pct]}, {label: 'slowest 10 % of samples', data: [sp.rollout_slowest_10pct]},
    {label: 'training', data: [sp.training]}, {label: 'weight sync', data: [sp.weight_sync]}, {label: 'switch', data: [sp.switch]}]},
    options: {indexAxis: 'y', scales: {x: {stacked: true}, y: {stacked: true}}}});
  chart('Per step (s)', {type: 'bar', data: {labels: x.steps.map(s => 'step ' + s.step), datasets: [
    {label: 'rollout', data: x.steps.map(s => s.rollout_s)}, {label: 'training', data: x.steps.map(s => s.train_s)}, {label: 'sync', data: x.steps.map(s => s.sync_s)}]},
    options: {scales: {x: {stacked: true}, y: {stacked: true}}}});
} else {
  const t = r.throughput;
  section('Headline');
  table([['GPUs', r.plan.gpus], ['output tok/s', t.output_tok_per_s], ['output tok/s per GPU', t.output_tok_per_s_per_gpu], ['tok/s per user', t.per_user_output_tok_per_s], ['limit', r.limit.subsystem + (r.limit.pool ? ' (' + r.limit.pool + ')' : '')], ['$ per million output tokens', r.cost.usd_per_million_output_tokens]]);
  (r.warnings || []).forEach(w => $('p', undefined, 'warning: ' + w));
  section('Latency (ms)');
  table(['ttft', 'tpot', 'e2e'].map(k => [k].concat(['p50', 'p90', 'p99'].map(p => r.latency_s[k][p] === null ? null : r.latency_s[k][p] * 1e3)).concat([r.latency_s[k].count])), ['', 'p50', 'p90', 'p99', 'requests']);
  section('Where the time goes');
  if (r.time_share) {
    const ts = r.time_share;
    chart('GPU time split', {type: 'bar', data: {labels: ['GPU time'], datasets: Object.keys(ts).map(k => ({label: k, data: [ts[k] * 100]}))},
      options: {indexAxis: 'y', scales: {x: {stacked: true, max: 100, title: {display: true, text: '%'}}, y: {stacked: true}}}});
  }
  if (r.bounds_tok_per_s_per_gpu) {
    const b = r.bounds_tok_per_s_per_gpu, keys = ['compute', 'hbm', 'launch_and_host', 'communication', 'kv_capacity'].filter(k => typeof b[k] === 'number' && b[k] > 0);
    chart('Bounds per subsystem vs achieved (tok/s per GPU)', {type: 'bar', data: {labels: keys.concat(['achieved']), datasets: [{label: 'tok/s per GPU', data: keys.map(k => b[k]).concat([t.output_tok_per_s_per_gpu])}]},
      options: {scales: {y: {type: 'logarithmic'}}}});
  }
  if (r.fabric && r.fabric.tiers) {
    const tiers = Object.keys(r.fabric.tiers);
    chart('Fabric load per tier (GB/s)', {type: 'bar', data: {labels: tiers, datasets: [{label: 'GB/s', data: tiers.map(k => r.fabric.tiers[k].gb_per_s)}, {label: 'capacity GB/s', data: tiers.map(k => r.fabric.tiers[k].capacity_gb_per_s)}]}});
  }
  if (r.pools) {
    const names = Object.keys(r.pools);
    chart('Pools: GPU busy', {type: 'bar', data: {labels: names, datasets: [{label: 'GPU busy %', data: names.map(n => r.pools[n].utilisation.gpu_busy * 100)}]}});
  }
  // The KV hierarchy of the run's pool, or of each pool of a plan that has one.
  const kv = r.pools ? Object.keys(r.pools).filter(n => r.pools[n].kv_hierarchy).map(n => [' (pool ' + n + ')', r.pools[n].kv_hierarchy]) : (r.kv_hierarchy ? [['', r.kv_hierarchy]] : []);
  kv.forEach(([pool, k]) => {
    section('KV hierarchy' + pool);
    const link = k.host_link, hit = k.prefix_cache.hit_ratio;
    table([['prefix caching', k.prefix_caching ? 'on' : 'off'], ['preemption', k.preemption], ['capacity offload', k.capacity_offload ? 'on' : 'off'],
      ['host tier GB per GPU (peak use %)', fmt(k.host_tier.gb_per_gpu, 1) + ' (' + fmt(k.host_tier.peak_utilisation * 100, 1) + ')'],
      ['host link GB/s to / from host', fmt(link.to_host_gb_per_s, 2) + ' / ' + fmt(link.from_host_gb_per_s, 2)],
      ['step time waiting for KV copies %', k.io_wait_share_of_step_time * 100], ['preemptions swap / recompute', k.preemptions.swap + ' / ' + k.preemptions.recompute],
      ['limit', k.limit.subsystem + ': ' + k.limit.evidence]].concat(k.ssd_tier ? [
      ['SSD tier GB per GPU (peak use %)', fmt(k.ssd_tier.gb_per_gpu, 1) + ' (' + fmt(k.ssd_tier.peak_utilisation * 100, 1) + ')'],
      ['SSD GB/s read / written', fmt(k.ssd_tier.read_gb_per_s, 2) + ' / ' + fmt(k.ssd_tier.write_gb_per_s, 2)]] : []));
    const tiers = k.ssd_tier ? [['HBM', hit.hbm], ['host DRAM', hit.host], ['SSD', hit.ssd], ['total', hit.total]] : [['HBM', hit.hbm], ['host DRAM', hit.host], ['total', hit.total]];
    chart('Prompt tokens hit in the prefix cache' + pool + ' (%)', {type: 'bar', data: {labels: tiers.map(t => t[0]), datasets: [{label: '% of prompt tokens', data: tiers.map(t => t[1] * 100)}]}});
  });
}
if (r.timeseries) {
  const s = r.timeseries, labels = s.t_s.map(x => fmt(x, 1));
  section('Over time (interval ' + fmt(s.interval_s, 3) + ' s, warm-up included)');
  const line = (title, sets) => chart(title, {type: 'line', data: {labels, datasets: sets.map(([label, data]) => ({label, data, pointRadius: 0, spanGaps: true}))}});
  line('Output tok/s', [['output tok/s', s.output_tok_per_s]]);
  line('Sequences', [['running', s.running], ['queued', s.queued]]);
  line('KV cache use', [['fraction', s.kv_utilisation]]);
  line('Latency of requests finished (median, s)', [['TTFT', s.ttft_p50_s], ['TPOT', s.tpot_p50_s]]);
  line('Fabric load per tier (GB/s)', Object.keys(s.tier_gb_per_s).map(k => [k, s.tier_gb_per_s[k]]));
}
)";

constexpr const char* kSweepJs = R"(
const w = DATA;
document.getElementById('title').textContent = 'moesim sweep';
const c = w.counts;
$('p', undefined, w.plans.length + (w.kind === 'rlvr' ? ' RLVR' : '') + ' plans: ' + c.simulated + ' simulated, ' + c.screened_out + ' screened out, ' + c.skipped + ' skipped, ' + c.failed + ' failed');
const label = p => '#' + p.index + ' ' + Object.keys(p.axes).map(k => k + '=' + JSON.stringify(p.axes[k])).join(', ');
const sim = w.plans.filter(p => p.state === 'simulated');
const rlvr = w.kind === 'rlvr';
const ax = rlvr ? {x: 'step_time_s', y: 'usd_per_step', xt: 'mean step (s)', yt: '$ per step', xu: ' s', yu: ' $/step'}
                : {x: 'output_tok_per_s_per_gpu', y: 'tok_per_s_per_user', xt: 'output tok/s per GPU', yt: 'tok/s per user', xu: ' tok/s/GPU', yu: ' tok/s/user'};
const pts = ps => ps.map(p => ({x: p.simulated[ax.x], y: p.simulated[ax.y], plan: label(p)}));
const frontier = w.frontier.map(i => w.plans[i]);
section('Pareto frontier');
chart(ax.xt + ' against ' + ax.yt, {type: 'scatter', data: {datasets: [
  {label: 'simulated plans', data: pts(sim.filter(p => !p.on_frontier))},
  {label: 'Pareto frontier', data: pts(frontier), showLine: true, pointRadius: 5}]},
  options: {plugins: {tooltip: {callbacks: {label: ctx => ctx.raw.plan + ': ' + fmt(ctx.raw.x, 1) + ax.xu + ', ' + fmt(ctx.raw.y, 1) + ax.yu}}},
            scales: {x: {title: {display: true, text: ax.xt}}, y: {title: {display: true, text: ax.yt}}}}});
section('Best plan by ' + w.objective);
table(w.best.map(b => [b.slo === null ? '(no SLO)' : b.slo, b.reason]), ['SLO', 'plan']);
)";

constexpr const char* kCompareJs = R"(
const cmp = DATA;
document.getElementById('title').textContent = 'moesim compare';
const names = cmp.scenarios;
$('p', undefined, 'base: ' + names[0]);
section('Ratio to the base');
chart('each metric / the base scenario', {type: 'bar', data: {labels: cmp.metrics.map(m => m.metric), datasets: names.slice(1).map((n, i) => ({label: n, data: cmp.metrics.map(m => m.ratios[i + 1])}))},
  options: {indexAxis: 'y'}});
section('Values');
table(cmp.metrics.map(m => [m.metric].concat(m.values)), ['metric'].concat(names));
section('Limit');
table(names.map((n, i) => [n, cmp.limits[i]]), ['scenario', 'limit']);
)";

}  // namespace

absl::StatusOr<std::string> ComparisonToHtml(const nlohmann::json& comparison,
                                             const std::string& chart_js_path) {
  auto js = ReadChartJs(chart_js_path);
  if (!js.ok()) return js.status();
  return Page("moesim compare", *js, comparison, kCompareJs);
}

absl::StatusOr<std::string> ReportToHtml(const nlohmann::json& report,
                                         const std::string& chart_js_path) {
  auto js = ReadChartJs(chart_js_path);
  if (!js.ok()) return js.status();
  return Page("moesim report: " + report.value("scenario", std::string()), *js, report, kRunJs);
}

absl::StatusOr<std::string> SweepToHtml(const nlohmann::json& sweep,
                                        const std::string& chart_js_path) {
  auto js = ReadChartJs(chart_js_path);
  if (!js.ok()) return js.status();
  return Page("moesim sweep", *js, sweep, kSweepJs);
}

}  // namespace moesim
