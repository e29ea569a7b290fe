"use strict";
/* The dashboard of llmsplit serve: log in, watch the arms of every group live (/stats/stream),
   change weights, switch arms off and on, set the mirror sample rate, revert to an old version.
   Every change is sent with If-Match: the ETag of the config the page showed when the edit began,
   so a change made meanwhile by someone else is never overwritten (412, and the page says so).
   No framework, nothing from elsewhere: the server's Content-Security-Policy allows only this
   file and app.css. Text from the server always goes into the page as text, never as HTML. */
(() => {
  const COLORS = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"];
  const SVGNS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);

  let csrf = "";
  let stream = null;
  let last = null;            // the last /stats document
  let historyVersion = 0;     // the version the history list was loaded for
  let mirrorBase = null;      // {etag, dirty} of the mirror form
  const cards = new Map();    // group name -> its card

  /* ---- building the page ---- */

  function el(tag, props, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k in e && typeof v !== "string") e[k] = v;
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  }

  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS(SVGNS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    for (const kid of kids) if (kid !== null && kid !== undefined) e.append(kid);
    return e;
  }

  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

  /* ---- numbers ---- */

  const isNum = (x) => typeof x === "number" && isFinite(x);
  const fmtInt = (n) => isNum(n) ? Math.round(n).toLocaleString("en-US") : "–";
  const fmtPct = (x, d = 1) => isNum(x) ? (100 * x).toFixed(d) + "%" : "–";
  function fmtMs(x) {
    if (!isNum(x)) return "–";
    if (x < 1000) return Math.round(x) + " ms";
    return (x / 1000).toFixed(x < 10000 ? 2 : 1) + " s";
  }
  function fmtUsd(x) {
    if (!isNum(x)) return "–";
    if (x === 0) return "$0";
    if (x < 0.01) return "$" + x.toPrecision(2);
    return "$" + x.toFixed(x < 1 ? 4 : 2);
  }
  function fmtNum(x, d = 2) { return isNum(x) ? x.toFixed(d) : "–"; }
  function fmtWeight(x) { return isNum(x) ? String(Math.round(x * 10000) / 10000) : ""; }
  function fmtTime(iso) {
    const t = new Date(iso);
    const today = new Date().toDateString() === t.toDateString();
    const hms = t.toLocaleTimeString("en-GB", { hour12: false });
    return today ? hms : t.toLocaleDateString("en-CA") + " " + hms.slice(0, 5);
  }

  /* ---- talking to the server ---- */

  async function api(method, path, body, etag) {
    const headers = { "X-CSRF-Token": csrf };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (etag) headers["If-Match"] = etag;
    let r;
    try {
      r = await fetch(path, { method, headers, credentials: "same-origin", cache: "no-store",
                              body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      return { status: 0, data: { error: { message: "the gateway cannot be reached" } } };
    }
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (r.status === 401) showLogin("Your session has ended; log in again.");
    return { status: r.status, data };
  }

  const errorText = (r) => (r.data && r.data.error && r.data.error.message) || ("HTTP " + r.status);

  function say(node, text, kind) {
    node.textContent = text;
    node.className = "msg" + (kind ? " " + kind : "");
  }

  /* ---- logging in ---- */

  function showLogin(message) {
    if (stream) { stream.close(); stream = null; }
    $("dash").hidden = true;
    $("logout").hidden = true;
    $("live").hidden = true;
    $("version").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    $("key").focus();
  }

  async function boot() {
    const r = await fetch("/ui/session", { credentials: "same-origin", cache: "no-store" }).catch(() => null);
    if (r && r.ok) { csrf = (await r.json()).csrf; startDash(); return; }
    /* a gateway without a master key hands out a session for nothing */
    const t = await fetch("/ui/login", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
                                         body: "{}" }).catch(() => null);
    if (t && t.ok) { csrf = (await t.json()).csrf; startDash(); return; }
    showLogin(r ? "" : "The gateway cannot be reached.");
  }

  $("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const key = $("key").value;
    const button = ev.target.querySelector("button");
    button.disabled = true;
    const r = await fetch("/ui/login", { method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
                                         body: JSON.stringify({ key }) }).catch(() => null);
    button.disabled = false;
    if (r && r.ok) {
      csrf = (await r.json()).csrf;
      $("key").value = "";
      startDash();
      return;
    }
    let msg = "The gateway cannot be reached.";
    if (r) {
      try { msg = (await r.json()).error.message; } catch (e) { msg = "HTTP " + r.status; }
      if (r.status === 401) msg = "That is not the master key.";
    }
    $("login-error").textContent = msg;
  });

  $("logout").addEventListener("click", async () => {
    await api("POST", "/ui/logout");
    csrf = "";
    showLogin("");
  });

  function startDash() {
    $("login").hidden = true;
    $("dash").hidden = false;
    $("logout").hidden = false;
    $("live").hidden = false;
    connect();
  }

  /* ---- live figures ---- */

  function setLive(on, text) {
    $("live").className = "live " + (on ? "on" : "off");
    setText($("live-text"), text);
  }

  function connect() {
    if (stream) stream.close();
    setLive(false, "connecting");
    stream = new EventSource("/stats/stream");
    stream.addEventListener("stats", (e) => {
      let s;
      try { s = JSON.parse(e.data); } catch (err) { return; }
      setLive(true, "live");
      render(s);
    });
    stream.onerror = async () => {
      setLive(false, "reconnecting");
      const r = await fetch("/ui/session", { credentials: "same-origin", cache: "no-store" }).catch(() => null);
      if (r && r.status === 401) showLogin("Your session has ended; log in again.");
    };
  }

  function render(s) {
    last = s;
    $("version").hidden = false;
    setText($("version"), s.follows ? "follows a control plane" : "config v" + s.version);
    /* a gateway that follows another control plane shows its arms; changes are made there */
    document.body.classList.toggle("following", !!s.follows);
    if (s.follows) {
      $("banner").hidden = false;
      setText($("banner"), `This gateway takes its config from ${s.follows}: change the split on that gateway's dashboard.`);
    } else if (s.groups.length) {
      $("banner").hidden = true;
    }
    const seen = new Set();
    const holder = $("groups");
    s.groups.forEach((g) => {
      seen.add(g.name);
      let card = cards.get(g.name);
      if (!card) {
        card = makeCard(g.name);
        cards.set(g.name, card);
        holder.append(card.root);
      }
      updateCard(card, g, s);
    });
    for (const [name, card] of cards) if (!seen.has(name)) { card.root.remove(); cards.delete(name); }
    if (!s.groups.length) {
      $("banner").hidden = false;
      $("banner").textContent = "The config has no groups yet.";
    }
    const rate = $("mirror-rate");
    if (!mirrorBase || (!mirrorBase.dirty && mirrorBase.etag !== s.etag)) {
      mirrorBase = { etag: s.etag, dirty: false };
      rate.value = isNum(s.mirror_sample_rate) ? String(s.mirror_sample_rate) : "";
    }
    const v = s.verdict || {};
    setText($("verdict-note"), v.note ? "Verdicts: " + v.note + "." :
      v.time ? `Live figures: the last ${s.window_s} s. Verdicts: llmsplit report over ${v.log} (${fmtInt(v.records)} records, ${fmtTime(v.time)}).`
             : `Live figures: the last ${s.window_s} s. Verdicts: waiting for the first reading of ${v.log}.`);
    if (!s.follows && s.version !== historyVersion) loadHistory();
    $("mirror-rate").disabled = !!s.follows;
  }

  /* ---- a group's card ---- */

  function makeCard(name) {
    const c = { name, rows: new Map(), armKeys: "", dirty: false, base: null, version: -1 };  // version -1: the inputs take the next config they see
    c.title = el("small");
    c.counters = el("div", { class: "counters" });
    c.tbody = el("tbody");
    c.msg = el("span", { class: "msg", role: "status" });
    c.apply = el("button", { class: "primary", type: "button", text: "Apply weights", disabled: true, onclick: () => applyWeights(c) });
    c.reset = el("button", { type: "button", text: "Undo edits", disabled: true, onclick: () => { c.dirty = false; c.version = -1; updateCard(c, c.g, last); } });
    c.reasons = el("ul", { class: "reasons" });
    c.traffic = el("div", { class: "chart" });
    c.latency = el("div", { class: "chart" });
    /* [heading, cell class]: judge and feedback columns show only when some arm has figures */
    const head = [["Arm", ""], ["On", ""], ["Weight", ""], ["Share live / set", ""], ["Calls", "n"], ["Errors", "n"],
                  ["p50 / p95", "n"], ["Cost / call", "n"], ["Judge", "n c-judge"], ["Feedback", "c-feedback"], ["Verdict", ""]];
    c.table = el("table", { class: "arms no-judge no-feedback" },
      el("thead", {}, el("tr", {}, ...head.map(([h, cls]) => el("th", { class: cls || null, text: h })))),
      c.tbody);
    c.silentFor = el("p", { class: "hint", hidden: true });
    c.charts = el("div", { class: "charts" }, c.traffic, c.latency);
    c.root = el("section", { class: "card group" },
      el("div", { class: "group-head" }, el("h2", {}, el("span", { text: name }), c.title), c.counters),
      c.silentFor,
      el("div", { class: "table-wrap" }, c.table),
      el("div", { class: "actions" }, c.apply, c.reset, c.msg),
      c.reasons,
      c.charts);
    return c;
  }

  function cell(label, cls, ...kids) { return el("td", { "data-label": label, class: cls }, ...kids); }

  function makeRow(c, arm, i) {
    const r = { arm: arm.arm };
    const color = COLORS[i % COLORS.length];
    r.color = color;
    r.sub = el("span", { class: "sub" });
    r.on = el("input", { type: "checkbox", "aria-label": "serve " + arm.arm,
                         onchange: () => toggleArm(c, r) });
    r.weight = el("input", { type: "number", min: "0", step: "any", inputmode: "decimal", "aria-label": "weight of " + arm.arm,
                             oninput: () => { r.range.value = r.weight.value; edited(c); } });
    r.range = el("input", { type: "range", min: "0", max: "1", step: "0.01", "aria-label": "weight of " + arm.arm,
                            oninput: () => { r.weight.value = r.range.value; edited(c); } });
    r.shareText = el("span");
    r.bar = el("span", { class: "live" });
    r.mark = el("span", { class: "set" });
    r.bar.style.background = color;
    r.calls = cell("Calls", "n");
    r.errors = cell("Errors", "n");
    r.latency = cell("p50 / p95", "n");
    r.cost = cell("Cost / call", "n");
    r.judge = cell("Judge", "n c-judge");
    r.feedback = cell("Feedback", "c-feedback");
    r.verdict = cell("Verdict", "verdict");
    const sw = el("span", { class: "swatch" });
    sw.style.background = color;
    r.tr = el("tr", {},
      cell("Arm", "first", el("span", { class: "arm-name" }, sw, el("span", {}, arm.arm, r.sub))),
      cell("On", "on", el("label", { class: "switch" }, r.on, el("span"))),
      cell("Weight", "wcell", el("div", { class: "weight" }, r.weight, r.range)),
      cell("Share live / set", "share", el("div", {}, r.shareText, el("div", { class: "sharebar" }, r.bar, r.mark))),
      r.calls, r.errors, r.latency, r.cost, r.judge, r.feedback, r.verdict);
    return r;
  }

  function edited(c) {
    c.dirty = true;
    c.apply.disabled = false;
    c.reset.disabled = false;
    say(c.msg, "Edited: Apply sends the new weights.", "");
    previewShares(c);
  }

  /* While editing, the share each arm would get. */
  function previewShares(c) {
    let sum = 0;
    for (const r of c.rows.values()) if (r.inConfig) sum += Math.max(0, Number(r.weight.value) || 0);
    for (const r of c.rows.values()) {
      if (!r.inConfig) continue;
      const w = Math.max(0, Number(r.weight.value) || 0);
      r.weight.classList.toggle("dirty", c.dirty);
      r.preview = sum > 0 ? w / sum : 0;
    }
  }

  function updateCard(c, g, s) {
    c.g = g;
    const keys = g.arms.map((a) => a.arm).join("\n");
    if (keys !== c.armKeys) { /* arms came or went: the rows again */
      c.armKeys = keys;
      c.rows.clear();
      c.tbody.textContent = "";
      g.arms.forEach((a, i) => { const r = makeRow(c, a, i); c.rows.set(a.arm, r); c.tbody.append(r.tr); });
      c.dirty = false;
      c.version = -1;
    }
    const fresh = (!c.dirty && c.version !== s.version) || !!s.follows; /* a follower cannot edit: always the config */
    if (fresh) {
      c.version = s.version;
      c.base = s.etag;
      c.apply.disabled = true;
      c.reset.disabled = true;
    }
    const rate = g.calls / Math.max(1, s.window_s);
    setText(c.title, `${fmtInt(g.calls)} calls in the last ${s.window_s} s · ${rate < 10 ? rate.toFixed(1) : fmtInt(rate)}/s`);
    const parts = [];
    if (g.fallbacks) parts.push(`fallbacks ${fmtInt(g.fallbacks)}`);
    parts.push(`mirrored ${fmtInt(g.mirror.calls)}` + (g.mirror.errors ? ` (${fmtInt(g.mirror.errors)} failed)` : ""));
    if (g.judge.total) parts.push(`judge calls ${fmtInt(g.judge.calls)}` + (g.judge.errors ? ` (${fmtInt(g.judge.errors)} failed)` : ""));
    parts.push(`rollbacks since start ${fmtInt(g.rollbacks_total)}`);
    if (g.srm && g.srm.mismatch) parts.push("sample ratio mismatch: the split did not deliver its shares");
    setText(c.counters, parts.join(" · "));
    const maxW = Math.max(1, ...g.arms.filter((a) => a.in_config).map((a) => a.weight * 2));
    const reasons = [];
    g.arms.forEach((a) => {
      const r = c.rows.get(a.arm);
      r.inConfig = a.in_config;
      r.tr.className = !a.in_config ? "gone" : a.enabled ? "" : "off";
      const sub = [];
      if (a.model && a.model !== a.arm.replace(/ #\d+$/, "")) sub.push(a.model);
      if (a.silent_model) sub.push("mirrored to " + a.silent_model);
      if (!a.in_config) sub.push("no longer in the config");
      setText(r.sub, sub.join(" · "));
      r.on.disabled = !a.in_config || !!s.follows;
      r.weight.disabled = r.range.disabled = !a.in_config || !!s.follows;
      if (fresh || !a.in_config) {
        r.on.checked = !!a.enabled;
        r.weight.value = a.in_config ? fmtWeight(a.weight) : "";
        r.range.max = String(maxW);
        r.range.step = String(maxW / 100);
        r.range.value = r.weight.value || "0";
        r.weight.classList.remove("dirty");
      }
      const set = a.in_config ? a.share_configured : null;
      let text = fmtPct(a.share) + (isNum(set) ? " / " + fmtPct(set, 0) : "");
      if (c.dirty && isNum(r.preview)) text = fmtPct(a.share) + " → " + fmtPct(r.preview, 0);
      setText(r.shareText, text);
      r.bar.style.width = (isNum(a.share) ? 100 * a.share : 0) + "%";
      r.mark.hidden = !isNum(set);
      r.mark.style.left = "calc(" + (isNum(set) ? 100 * set : 0) + "% - 1px)";
      setText(r.calls, fmtInt(a.calls));
      /* calls whose caller went away (client_closed) are neither calls of the arm nor errors: said apart */
      setText(r.errors, (a.calls ? `${fmtInt(a.errors)} (${fmtPct(a.error_rate)})` : "–") +
                        (a.client_closed ? ` · ${fmtInt(a.client_closed)} closed` : ""));
      r.errors.title = a.client_closed ? `${fmtInt(a.client_closed)} closed by the caller (client_closed): neither calls nor errors` : "";
      setText(r.latency, isNum(a.p50_ms) ? `${fmtMs(a.p50_ms)} / ${fmtMs(a.p95_ms)}` : "–");
      setText(r.cost, fmtUsd(a.cost_per_call_usd));
      setText(r.judge, a.judge_n ? `${fmtNum(a.judge_score)} (${fmtInt(a.judge_n)})` : "–");
      const fb = Object.entries(a.feedback || {}).map(([k, v]) => `${k} ${fmtNum(v.mean)} (${fmtInt(v.n)})`);
      setText(r.feedback, fb.length ? fb.join(", ") : "–");
      /* the verdict: the control, a rollback in effect, or the report's word */
      r.verdict.textContent = "";
      const log = a.log || {};
      if (a.rolled_back) {
        r.verdict.append(el("span", { class: "badge out", title: a.rolled_back.reason, text: `rolled back ${a.rolled_back.seconds_left} s` }));
        reasons.push([a.arm, "rolled back: " + a.rolled_back.reason]);
      } else if (g.control && g.control === a.arm) {
        r.verdict.append(el("span", { class: "badge control", text: "control" }));
      } else if (log.verdict) {
        const cls = { better: "better", worse: "worse", invalid: "invalid" }[log.verdict] || "";
        r.verdict.append(el("span", { class: "badge " + cls, title: log.reason || "", text: log.verdict }));
        if (log.reason) reasons.push([a.arm, `${log.verdict} against ${g.control}: ${log.reason}`]);
      } else {
        r.verdict.append(el("span", { class: "badge", text: "–" }));
      }
    });
    c.table.classList.toggle("no-judge", !g.arms.some((a) => a.judge_n));
    c.table.classList.toggle("no-feedback", !g.arms.some((a) => Object.keys(a.feedback || {}).length));
    c.silentFor.hidden = !(g.silent_for && g.silent_for.length);
    if (!c.silentFor.hidden) setText(c.silentFor, "The silent model of " + g.silent_for.join(", ") + ": its calls are mirrored copies, counted there.");
    c.charts.hidden = !g.calls;
    c.reasons.textContent = "";
    reasons.forEach(([arm, text]) => c.reasons.append(el("li", {}, el("b", { text: arm + ": " }), text)));
    drawTraffic(c, g, s);
    drawLatency(c, g);
  }

  /* ---- changes ---- */

  async function applyWeights(c) {
    const weights = {};
    let sum = 0;
    for (const r of c.rows.values()) {
      if (!r.inConfig) continue;
      const w = Number(r.weight.value);
      if (r.weight.value.trim() === "" || !isFinite(w) || w < 0) {
        say(c.msg, `The weight of ${r.arm} must be a number of 0 or more.`, "error");
        r.weight.focus();
        return;
      }
      weights[r.arm] = w;
      sum += w;
    }
    if (sum <= 0) { say(c.msg, "At least one arm needs a weight above 0.", "error"); return; }
    c.apply.disabled = true;
    say(c.msg, "Applying…", "");
    const res = await api("PATCH", "/config/groups/" + encodeURIComponent(c.name), { weights }, c.base);
    changed(c, res, "weights");
  }

  async function toggleArm(c, r) {
    const on = r.on.checked;
    r.on.disabled = true;
    say(c.msg, (on ? "Putting " : "Taking ") + r.arm + (on ? " back…" : " out…"), "");
    const res = await api("PATCH", "/config/groups/" + encodeURIComponent(c.name), { enabled: { [r.arm]: on } },
                          c.dirty ? c.base : (last && last.etag));
    r.on.disabled = false;
    if (res.status !== 200) r.on.checked = !on;
    changed(c, res, on ? r.arm + " is back" : r.arm + " is out");
  }

  /* The answer to a change, in the card's message line. */
  function changed(c, res, what) {
    if (res.status === 200) {
      const d = res.data;
      c.dirty = false;
      c.version = -1; /* the inputs follow the new version at the next event */
      c.base = d.etag;
      c.apply.disabled = true;
      c.reset.disabled = true;
      say(c.msg, d.changed ? `Applied: version ${d.version}. ${d.summary}` : "Nothing to apply: that is the config in use.", "ok");
      historyVersion = 0;
    } else if (res.status === 412) {
      c.dirty = false;
      c.version = -1;
      c.apply.disabled = true;
      c.reset.disabled = true;
      say(c.msg, "Conflict: someone changed the config since you started (" + errorText(res).replace(/^the config changed since you read it \(/, "").replace(/\); load it again and redo your change$/, "") +
                 "). Your change was not applied; the table now shows the config in use — make your change again.", "error");
      if (last) updateCard(c, c.g, last);
    } else if (res.status !== 401) {
      c.apply.disabled = !c.dirty;
      say(c.msg, `Not applied (${what}): ${errorText(res)}`, "error");
    }
  }

  $("mirror-rate").addEventListener("input", () => { if (mirrorBase) mirrorBase.dirty = true; });
  $("mirror-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("mirror-rate"), msg = $("mirror-msg");
    const x = Number(input.value);
    if (input.value.trim() === "" || !isFinite(x) || x < 0 || x > 1) { say(msg, "A share from 0 to 1.", "error"); return; }
    say(msg, "Applying…", "");
    const res = await api("PATCH", "/config/router_settings", { mirror_sample_rate: x }, mirrorBase && mirrorBase.etag);
    if (res.status === 200) {
      mirrorBase = { etag: res.data.etag, dirty: false };
      say(msg, res.data.changed ? `Applied: version ${res.data.version}.` : "Nothing to apply.", "ok");
      historyVersion = 0;
    } else if (res.status === 412) {
      mirrorBase = null;
      say(msg, "Conflict: someone changed the config meanwhile; the field shows the current value — set it again.", "error");
      if (last) render(last);
    } else if (res.status !== 401) {
      say(msg, "Not applied: " + errorText(res), "error");
    }
  });

  /* ---- history ---- */

  async function loadHistory() {
    const want = last ? last.version : 0;
    historyVersion = want;
    const res = await api("GET", "/config/history");
    if (res.status !== 200) return;
    const list = $("history");
    list.textContent = "";
    res.data.versions.forEach((v) => {
      const current = v.version === res.data.version;
      const action = current ? el("span", { class: "cur", text: "in use" })
        : el("button", { type: "button", text: "Revert", "aria-label": "revert to version " + v.version, onclick: () => revert(v.version) });
      list.append(el("li", {},
        el("span", { class: "v", text: "v" + v.version }),
        el("span", { class: "t", text: fmtTime(v.time) }),
        el("span", { class: "sum" }, v.summary, el("span", { class: "src", text: v.source })),
        action));
    });
  }

  async function revert(n) {
    const msg = $("history-msg");
    say(msg, `Reverting to version ${n}…`, "");
    const res = await api("POST", "/config/revert", { version: n }, last && last.etag);
    if (res.status === 200) {
      say(msg, res.data.changed ? `Version ${n} is in use again, as version ${res.data.version}. ${res.data.summary}` : "That is the config in use.", "ok");
      historyVersion = 0;
      for (const c of cards.values()) { c.dirty = false; c.version = -1; say(c.msg, "", ""); }
      say($("mirror-msg"), "", "");
    } else if (res.status !== 401) {
      say(msg, "Not reverted: " + errorText(res), "error");
    }
  }

  /* ---- charts, drawn like the HTML report's ---- */

  function tickStep(max, ticks) {
    const raw = (max > 0 ? max : 1) / ticks, mag = Math.pow(10, Math.floor(Math.log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
  }

  function axisMax(max) {
    if (max <= 0) max = 1;
    const step = tickStep(max * 1.05, 5);
    return step * Math.ceil(max * 1.05 / step);
  }

  /* The arms' shares of each second of the window, as 100% stacked bars. */
  function drawTraffic(c, g, s) {
    const W = 520, L = 40, R = 8, top = 24, ph = 120, n = s.window_s;
    const root = svg("svg", { viewBox: `0 0 ${W} ${top + ph + 26}`, role: "img", "aria-label": "share of calls per second" },
      svg("text", { x: 0, y: 14, class: "t" }, `share of calls, one bar a second (last ${n} s)`));
    const bw = (W - L - R) / n;
    let any = false;
    for (let k = 0; k < n; k++) {
      let total = 0;
      g.arms.forEach((a) => { total += (a.per_second || [])[k] || 0; });
      if (!total) continue;
      any = true;
      let y = top + ph;
      g.arms.forEach((a, i) => {
        const v = (a.per_second || [])[k] || 0;
        if (!v) return;
        const h = ph * v / total;
        y -= h;
        root.append(svg("rect", { x: (L + bw * k + 0.5).toFixed(2), y: y.toFixed(2), width: Math.max(bw - 1, 0.5).toFixed(2),
                                  height: h.toFixed(2), fill: COLORS[i % COLORS.length] },
          svg("title", {}, `${a.arm}: ${v} of ${total} (${(100 * v / total).toFixed(1)}%)`)));
      });
    }
    if (!any) root.append(svg("text", { x: L + (W - L - R) / 2, y: top + ph / 2, "text-anchor": "middle" }, "no calls in the window"));
    root.append(svg("text", { x: L - 4, y: top + 10, "text-anchor": "end" }, "100%"),
                svg("text", { x: L - 4, y: top + ph, "text-anchor": "end" }, "0%"),
                svg("text", { x: L, y: top + ph + 16 }, `−${n} s`),
                svg("text", { x: W - R, y: top + ph + 16, "text-anchor": "end" }, "now"));
    c.traffic.replaceChildren(root);
  }

  /* p50 and p95 per arm: a bar to p50, a lighter one on to p95. */
  function drawLatency(c, g) {
    const arms = g.arms.map((a, i) => [a, i]).filter(([a]) => isNum(a.p50_ms));
    const W = 520, L = 150, R = 70, top = 24, row = 24;
    const H = top + row * Math.max(arms.length, 1) + 26;
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "latency per arm" },
      svg("text", { x: 0, y: 14, class: "t" }, "latency of successful calls, ms (bar p50, lighter to p95)"));
    if (!arms.length) {
      root.append(svg("text", { x: W / 2, y: top + 16, "text-anchor": "middle" }, "no successful calls in the window"));
      c.latency.replaceChildren(root);
      return;
    }
    const max = axisMax(Math.max(...arms.map(([a]) => isNum(a.p95_ms) ? a.p95_ms : a.p50_ms)));
    const scale = (W - L - R) / max, step = tickStep(max, 5);
    for (let v = 0; v <= max * 1.0001; v += step) {
      const x = L + v * scale;
      root.append(svg("line", { x1: x.toFixed(1), y1: top, x2: x.toFixed(1), y2: H - 22, stroke: "#e3e6eb" }),
                  svg("text", { x: x.toFixed(1), y: H - 8, "text-anchor": "middle" }, String(Math.round(v * 100) / 100)));
    }
    arms.forEach(([a, i], k) => {
      const y = top + row * k + 4, color = COLORS[i % COLORS.length];
      const label = a.arm.length > 24 ? a.arm.slice(0, 23) + "…" : a.arm;
      root.append(svg("text", { x: L - 8, y: y + 12, "text-anchor": "end" }, label));
      const group = svg("g", {}, svg("title", {}, `${a.arm}: p50 ${fmtMs(a.p50_ms)}, p95 ${fmtMs(a.p95_ms)}`));
      if (isNum(a.p95_ms))
        group.append(svg("rect", { x: L, y, width: Math.max(a.p95_ms * scale, 1).toFixed(1), height: 16, fill: color, "fill-opacity": 0.35 }));
      group.append(svg("rect", { x: L, y, width: Math.max(a.p50_ms * scale, 1).toFixed(1), height: 16, fill: color }));
      group.append(svg("text", { x: (L + (isNum(a.p95_ms) ? a.p95_ms : a.p50_ms) * scale + 6).toFixed(1), y: y + 12 }, fmtMs(a.p50_ms)));
      root.append(group);
    });
    c.latency.replaceChildren(root);
  }

  boot();
})();
