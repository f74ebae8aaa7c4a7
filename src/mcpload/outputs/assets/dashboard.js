(function () {
  "use strict";
  var boot = JSON.parse(document.getElementById("boot").textContent);
  var config = {responsive: true, displaylogo: false};
  var ivs = [], drawn = {}, pending = false;
  function num(v) { return (typeof v === "number" && isFinite(v)) ? v : null; }
  function times() { return ivs.map(function (iv) { return num(iv.t); }); }
  function series(get, how) {
    var prev = 0;
    return ivs.map(function (iv) {
      var t = num(iv.t) || 0, v = get(iv), out;
      if (how === "per_s") { out = (t > prev) ? Math.round(((num(v) || 0) / (t - prev)) * 1000) / 1000 : null; }
      else if (how === "count" || how === "bars") { out = num(v) || 0; }
      else { out = num(v); }
      prev = t; return out;
    });
  }
  function names(group) {
    var seen = {};
    ivs.forEach(function (iv) { var g = iv[group]; if (g && typeof g === "object") { Object.keys(g).forEach(function (k) { seen[k] = 1; }); } });
    return Object.keys(seen).sort();
  }
  function spans() {
    var prev = 0, mids = [], widths = [];
    ivs.forEach(function (iv) { var t = Math.max(num(iv.t) || prev, prev); mids.push((prev + t) / 2); widths.push(0.9 * (t - prev)); prev = t; });
    return [mids, widths];
  }
  function traces(spec) {
    var t = times();
    if (!spec.dynamic) {
      return spec.traces.map(function (tr) {
        var out = Object.assign({}, tr); delete out.key; delete out.read;
        out.x = t; out.y = series(function (iv) { return iv[tr.key]; }, tr.read); return out;
      });
    }
    var sp = spans();
    return names(spec.group).map(function (name) {
      var out = Object.assign({}, spec.proto); out.name = name;
      var get = function (iv) { var g = iv[spec.group]; var v = g && g[name]; return spec.field ? (v && v[spec.field]) : v; };
      if (spec.read === "bars") { out.x = sp[0]; out.width = sp[1]; } else { out.x = t; }
      out.y = series(get, spec.read); return out;
    });
  }
  function draw() {
    pending = false;
    boot.charts.forEach(function (spec) {
      var el = document.getElementById(spec.id), data = traces(spec);
      if (!data.length) { return; }
      el.parentNode.hidden = false;
      var layout = Object.assign({}, spec.layout, {template: boot.template, uirevision: "live"});
      Plotly.react(el, data, layout, config);
      drawn[spec.id] = true;
    });
  }
  function later() { if (!pending) { pending = true; window.setTimeout(draw, 30); } }
  function text(id, value) { document.getElementById(id).textContent = value; }
  function pct(v) { return v === null || v === undefined ? "–" : (v * 100).toFixed(2) + " %"; }
  function ms(v) { return v === null || v === undefined ? "–" : v.toFixed(1) + " ms"; }
  function totals(t) {
    text("calls", t.calls === null || t.calls === undefined ? "–" : String(t.calls));
    text("rate", t.calls_per_s === null || t.calls_per_s === undefined ? "–" : t.calls_per_s.toFixed(1) + " /s");
    text("success", pct(t.success_rate)); text("p95", ms(t.p95_ms)); text("p99", ms(t.p99_ms));
  }
  function findings(list) {
    var ul = document.getElementById("findings"); ul.textContent = "";
    if (!list.length) { var none = document.createElement("li"); none.className = "empty"; none.textContent = "None so far."; ul.appendChild(none); return; }
    list.forEach(function (f) {
      var li = document.createElement("li"); li.className = "sev-" + String(f.severity);
      var b = document.createElement("b"); b.textContent = String(f.severity) + " " + String(f.id) + ": ";
      li.appendChild(b); li.appendChild(document.createTextNode(String(f.title)));
      if (f.advice) { var p = document.createElement("div"); p.className = "advice"; p.textContent = "→ " + String(f.advice); li.appendChild(p); }
      ul.appendChild(li);
    });
  }
  var es = new EventSource("/events");
  es.addEventListener("backlog", function (e) { ivs = JSON.parse(e.data); if (ivs.length) { text("elapsed", ivs[ivs.length - 1].t.toFixed(0) + " s"); } later(); });
  es.addEventListener("interval", function (e) {
    var iv = JSON.parse(e.data); ivs.push(iv); text("elapsed", num(iv.t) === null ? "–" : iv.t.toFixed(0) + " s");
    text("agents", String(num(iv.active_agents) === null ? "–" : iv.active_agents)); later();
  });
  es.addEventListener("totals", function (e) { totals(JSON.parse(e.data)); });
  es.addEventListener("findings", function (e) { findings(JSON.parse(e.data)); });
  es.addEventListener("done", function (e) {
    var d = JSON.parse(e.data); totals(d.totals); findings(d.findings); es.close();
    text("status", d.stopped_by_user ? "Run stopped." : (d.passed ? "Run finished: thresholds passed." : "Run finished: a threshold failed."));
    document.getElementById("stop").disabled = true; document.body.className = "ended";
  });
  es.onerror = function () { if (document.body.className !== "ended") { text("status", "Connection lost: the run may have ended."); } };
  document.getElementById("stop").addEventListener("click", function () {
    var button = this; button.disabled = true; text("status", "Stopping: in-flight calls get the grace period…");
    fetch("/stop", {method: "POST", headers: {"X-Mcpload-Token": boot.token}}).then(function (r) {
      if (!r.ok) { button.disabled = false; text("status", "The run refused to stop (HTTP " + r.status + ")."); }
    }, function () { text("status", "The run is already gone."); });
  });
  findings([]);
})();
