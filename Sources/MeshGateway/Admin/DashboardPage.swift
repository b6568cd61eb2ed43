/// The admin dashboard (`GET /`): one self-contained HTML page, no external assets.
///
/// Every 2 s it fetches `/upstreams`, `/config` and `/metrics` and shows the routes of each listener with their
/// request and 5xx rates, the endpoints with breaker state, health and pool counts, and process totals. Rates
/// are computed in the browser from counter deltas between two polls (Prometheus `rate()` over one interval).
/// Text from the server is inserted with `textContent` only, never as HTML.
enum DashboardPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>meshgate admin</title>
        <style>
          :root { --bg:#0f1419; --panel:#182028; --text:#dde3ea; --muted:#8a98a8; --ok:#3fb950; --warn:#d29922;
                  --bad:#f85149; --line:#2a3440; }
          * { box-sizing: border-box; }
          body { margin:0; font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif; background:var(--bg); color:var(--text); }
          header { display:flex; align-items:baseline; gap:16px; padding:14px 20px; border-bottom:1px solid var(--line); }
          header h1 { margin:0; font-size:18px; }
          header .status { color:var(--muted); font-size:12px; }
          main { padding:16px 20px; display:grid; gap:16px; grid-template-columns:repeat(auto-fit,minmax(460px,1fr)); }
          section { background:var(--panel); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
          section h2 { margin:0 0 10px; font-size:14px; color:var(--muted); text-transform:uppercase; letter-spacing:.05em; }
          table { width:100%; border-collapse:collapse; font-variant-numeric:tabular-nums; }
          th, td { text-align:left; padding:5px 6px; border-bottom:1px solid var(--line); white-space:nowrap; }
          th { color:var(--muted); font-weight:500; font-size:12px; }
          td.num, th.num { text-align:right; }
          .badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
          .ok { background:rgba(63,185,80,.18); color:var(--ok); }
          .warn { background:rgba(210,153,34,.18); color:var(--warn); }
          .bad { background:rgba(248,81,73,.18); color:var(--bad); }
          .muted { color:var(--muted); }
          .tiles { display:grid; grid-template-columns:repeat(auto-fit,minmax(130px,1fr)); gap:10px; }
          .tile { background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:8px 10px; }
          .tile .v { font-size:22px; font-weight:600; }
          .tile .k { color:var(--muted); font-size:12px; }
          code { font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:12px; }
        </style>
        </head>
        <body>
        <header><h1>meshgate</h1><span class="status" id="status">loading…</span></header>
        <main>
          <section style="grid-column:1/-1"><h2>Overview</h2><div class="tiles" id="tiles"></div></section>
          <section><h2>Routes</h2><table id="routes"><thead><tr><th>listener</th><th>route</th><th>match</th>
            <th>upstream</th><th class="num">req/s</th><th class="num">4xx/s</th><th class="num">5xx/s</th>
            <th class="num">fallbacks/s</th><th class="num">total</th></tr></thead>
            <tbody></tbody></table></section>
          <section><h2>Endpoints</h2><table id="endpoints"><thead><tr><th>upstream</th><th>address</th><th>breaker</th>
            <th>health</th><th class="num">active</th><th class="num">idle</th><th class="num">attempts/s</th></tr></thead>
            <tbody></tbody></table></section>
        </main>
        <script>
        "use strict";
        const POLL_MS = 2000;
        let previous = null;

        // Prometheus text format 0.0.4 → [{name, labels, value}].
        function parseMetrics(text) {
          const samples = [];
          const lineRe = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
          const labelRe = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
          for (const line of text.split("\n")) {
            if (!line || line[0] === "#") continue;
            const m = lineRe.exec(line);
            if (!m) continue;
            const labels = {};
            if (m[2]) for (const l of m[2].matchAll(labelRe)) {
              labels[l[1]] = l[2].replace(/\\n/g, "\n").replace(/\\"/g, "\"").replace(/\\\\/g, "\\");
            }
            samples.push({ name: m[1], labels, value: parseFloat(m[3]) });
          }
          return samples;
        }

        function sum(samples, name, filter) {
          let total = 0;
          for (const s of samples) if (s.name === name && (!filter || filter(s.labels))) total += s.value;
          return total;
        }

        function rate(now, name, filter) {
          const current = sum(now.samples, name, filter);
          if (!previous) return null;
          const dt = (now.at - previous.at) / 1000;
          const delta = current - sum(previous.samples, name, filter);
          return dt > 0 && delta >= 0 ? delta / dt : 0;
        }

        function el(tag, text, cls) {
          const e = document.createElement(tag);
          if (text !== undefined && text !== null) e.textContent = String(text);
          if (cls) e.className = cls;
          return e;
        }

        function row(tbody, cells) {
          const tr = document.createElement("tr");
          for (const c of cells) tr.appendChild(c instanceof Node ? wrap(c) : el("td", c));
          tbody.appendChild(tr);
        }
        function wrap(node) { if (node.tagName === "TD") return node; const td = el("td"); td.appendChild(node); return td; }
        function num(v, digits) { return el("td", v === null ? "–" : v.toFixed(digits), "num"); }

        function badge(value) {
          const cls = { closed: "ok", healthy: "ok", open: "bad", unhealthy: "bad", half_open: "warn" }[value] || "muted";
          return el("span", value, "badge " + cls);
        }

        function matchText(match) {
          if (!match) return "";
          const path = match.path ?? match.path_prefix ?? match.path_template ?? "";
          const kind = match.path !== undefined ? "=" : match.path_prefix !== undefined ? "prefix " : "template ";
          const methods = match.methods ? " " + match.methods.join(",") : "";
          return kind + path + methods + (match.host ? " host " + match.host : "");
        }

        function renderTiles(now) {
          const tiles = document.getElementById("tiles");
          tiles.replaceChildren();
          const all = rate(now, "http_requests_total");
          const errors = rate(now, "http_requests_total", l => l.code >= "500");
          const items = [
            ["requests/s", all === null ? "–" : all.toFixed(1)],
            ["5xx/s", errors === null ? "–" : errors.toFixed(2)],
            ["error rate", all ? (100 * errors / all).toFixed(2) + " %" : "–"],
            ["connections", sum(now.samples, "meshgate_connections_active").toFixed(0)],
            ["retries", sum(now.samples, "meshgate_retries_total").toFixed(0)],
            ["config gen", sum(now.samples, "meshgate_config_generation").toFixed(0)],
            ["rss MiB", (sum(now.samples, "process_resident_memory_bytes") / 1048576).toFixed(1)],
          ];
          for (const [k, v] of items) {
            const t = el("div", null, "tile");
            t.appendChild(el("div", v, "v"));
            t.appendChild(el("div", k, "k"));
            tiles.appendChild(t);
          }
        }

        function renderRoutes(now, config) {
          const tbody = document.querySelector("#routes tbody");
          tbody.replaceChildren();
          // /config is the rendered config, possibly wrapped with the last reload errors: {"config": {...}, ...}.
          const effective = config.listeners ? config : (config.config || {});
          const cells = (match, fallbacks) => [
            num(rate(now, "http_requests_total", match), 1),
            num(rate(now, "http_requests_total", l => match(l) && l.code >= "400" && l.code < "500"), 2),
            num(rate(now, "http_requests_total", l => match(l) && l.code >= "500"), 2),
            fallbacks === null ? "" : num(rate(now, "meshgate_fallbacks_total", fallbacks), 2),
            num(sum(now.samples, "http_requests_total", match), 0)];
          for (const listener of effective.listeners || []) {
            for (const route of listener.routes || []) {
              const mine = l => l.listener === listener.name && l.route === route.name;
              row(tbody, [listener.name, route.name, el("code", matchText(route.match)), route.upstream,
                ...cells(mine, l => l.route === route.name)]);
            }
            // Requests that matched no route (404s, scanners) are counted with route="": shown, not hidden.
            const unrouted = l => l.listener === listener.name && l.route === "";
            row(tbody, [listener.name, el("em", "no route"), "", "", ...cells(unrouted, null)]);
          }
        }

        function renderEndpoints(now, upstreams) {
          const tbody = document.querySelector("#endpoints tbody");
          tbody.replaceChildren();
          for (const upstream of upstreams.upstreams || []) {
            for (const ep of upstream.endpoints || []) {
              const mine = l => l.upstream === upstream.name && l.endpoint === ep.address;
              row(tbody, [upstream.name, el("code", ep.address), badge(ep.breaker), badge(ep.health),
                num(ep.active, 0), num(ep.idle, 0), num(rate(now, "meshgate_upstream_requests_total", mine), 1)]);
            }
          }
        }

        async function poll() {
          const status = document.getElementById("status");
          try {
            const [u, c, m] = await Promise.all(["/upstreams", "/config", "/metrics"].map(p => fetch(p, { cache: "no-store" })));
            const upstreams = await u.json();
            const config = await c.json();
            const now = { at: Date.now(), samples: parseMetrics(await m.text()) };
            renderTiles(now);
            renderRoutes(now, config);
            renderEndpoints(now, upstreams);
            previous = now;
            status.textContent = "updated " + new Date(now.at).toLocaleTimeString() + " · every " + POLL_MS / 1000 + " s";
          } catch (e) {
            status.textContent = "admin API unreachable: " + e;
          }
        }

        poll();
        setInterval(poll, POLL_MS);
        </script>
        </body>
        </html>
        """#
}
