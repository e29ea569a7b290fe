#!/usr/bin/env python3
"""The oracle for `llmsplit report --json`: every statistic recomputed from the log with scipy.

usage:
  report_oracle.py gen SEED OUT.jsonl [--srm]    a synthetic log (fixed seed): two groups, epochs,
                                                 fallbacks, scores and feedback before and after
                                                 their calls, mirrored pairs with judgements, and
                                                 client_closed calls (no events of their own)
  report_oracle.py check LOG REPORT.json         compares the report with scipy; prints one
                                                 "ok NAME (max abs diff X over N values)" or
                                                 "FAIL NAME: ..." line per statistic
  report_oracle.py aa TOOL [EXPERIMENTS]         A/A simulation: how often the fixed-horizon p and
                                                 the always-valid p fall under 0.05 when the
                                                 report is read at 10 points of each experiment

The oracle reads the log with Python's json module and joins events by itself; only the formulas
that scipy does not have (Wilson, Newcombe, Holm, the mSPRT) are written out here from their
papers. Tolerance: 1e-6 relative (1e-12 absolute near zero).
"""
import json
import math
import random
import subprocess
import sys

from scipy import stats

Z975 = stats.norm.ppf(0.975)
Z80 = stats.norm.ppf(0.80)
REL, ABS = 1e-6, 1e-12
AV_NREF, AV_MIN_N = 1000.0, 30  # as in tools/report.c: RPT_AV_NREF, RPT_AV_MIN_N


# ---- the synthetic log ---------------------------------------------------------------------

def gen(seed, path, srm=False):
    rng = random.Random(seed)
    out, later = [], []  # later: (line index to emit at, text)
    t = 0
    rid = 0

    def ts():
        s = t // 1000
        return "2026-11-21T%02d:%02d:%02d.%03dZ" % (10 + s // 3600, s // 60 % 60, s % 60, t % 1000)

    def flush():
        keep = []
        for at, text in later:
            if at <= len(out):
                out.append(text)
            else:
                keep.append((at, text))
        later[:] = keep

    def event(obj, before):
        obj = dict(obj, ts=ts())
        text = json.dumps(obj)
        if before:
            out.append(text)
        else:
            later.append((len(out) + rng.randint(1, 40), text))

    arms = {"chat": [("gpt-4", 0, 0.05, 400.0, 0.0100, 7.0, 0.70),
                     ("tgi", 1, 0.09, 520.0, 0.0020, 6.6, 0.62),
                     ("claude", 2, 0.05, 410.0, 0.0080, 7.0, 0.70)],
            "edge": [("small", 0, 0.10, 200.0, 0.0010, 5.0, 0.5),
                     ("tiny", 1, 0.12, 150.0, 0.0005, 4.8, 0.5)]}
    epochs = {1: [0.5, 0.3, 0.2], 2: [0.6, 0.2, 0.2]}
    for e, w in epochs.items():
        event({"event": "split", "epoch": e, "group": "chat",
               "weights": {"%s #%d" % (m, d): x for (m, d, *_), x in zip(arms["chat"], w)}}, True)
    n = 3000
    for i in range(n):
        t += rng.randint(1, 400)
        group = "chat" if rng.random() < 0.85 else "edge"
        epoch = 1 if i < n // 2 else 2
        if group == "chat":
            w = epochs[epoch]
            if srm:
                w = [w[0] + 0.06, w[1] - 0.06, w[2]]
            k = rng.choices(range(3), weights=w)[0]
        else:
            k = rng.randrange(2)
        model, dep, err, lat, cost, score, thumbs = arms[group][k]
        fallback = None
        if group == "chat" and model == "tgi" and rng.random() < 0.03:
            fallback, (model, dep, err, lat, cost, score, thumbs) = "tgi", arms["chat"][0]
        ok = rng.random() >= err
        latency = round(rng.lognormvariate(math.log(lat), 0.5), 1 if rng.random() < 0.7 else 0)
        rid += 1
        pair = "p%d" % rid if (group == "chat" and model == "tgi" and fallback is None) else None
        rec = {"ts": ts(), "event": "call", "request_id": "r%d" % rid, "pair_id": pair, "role": "primary",
               "is_silent_experiment": False, "group": group, "model": model, "provider": "openai",
               "deployment": dep, "sticky": False, "fallback_from": fallback,
               "status": "ok" if ok else "error", "http_status": 200 if ok else 503,
               "error": None if ok else "provider: 503 overloaded", "latency_ms": latency,
               "ttft_ms": None, "prompt_tokens": 20, "completion_tokens": 40 if ok else 0,
               "cost_usd": round(rng.expovariate(1 / cost), 8), "finish_reason": "stop"}
        if group == "chat":
            rec["split_epoch"] = epoch
        before = rng.random() < 0.3
        if ok and rng.random() < 0.6:
            x = min(10.0, max(1.0, round(rng.gauss(score, 1.5), 1)))
            # the library's form, and a few in the form other writers use ("score")
            event({"event": "score", "request_id": "r%d" % rid, "score": x} if rng.random() < 0.1 else
                  {"event": "score", "request_id": "r%d" % rid, "metric": "judge_score", "value": x,
                   "judge_model": "judge", "group": group, "deployment": dep, "model": model}, before)
            out.append(json.dumps({"ts": ts(), "event": "call", "request_id": "j%d" % rid, "pair_id": "r%d" % rid,
                                   "role": "judge", "is_silent_experiment": False, "group": "referee",
                                   "model": "judge" if rng.random() < 0.8 else "judge-2", "deployment": 5,
                                   "status": "ok" if rng.random() < 0.95 else "error", "latency_ms": 100.0,
                                   "cost_usd": round(rng.uniform(0, 0.001), 8)}))
        if rng.random() < 0.4:
            event({"event": "feedback", "request_id": "r%d" % rid, "metric": "thumbs_up",
                   "value": 1 if rng.random() < thumbs else 0}, before)
        if rng.random() < 0.1:
            event({"event": "feedback", "request_id": "r%d" % rid, "metric": "rating",
                   "value": rng.randint(1, 5)}, rng.random() < 0.5)
        if i % 29 == 7:
            # one more call to the same arm whose caller went away: the split chose the arm, the
            # call has no answer (its latency, tokens and cost must not count), and it draws
            # nothing from rng, so the other calls and their figures stay as they are
            closed = dict(rec, request_id="c%d" % rid, status="client_closed", http_status=200,
                          error="network: aborted by the caller (abort_flag)", completion_tokens=None,
                          pair_id=pair and "c" + pair)
            out.append(json.dumps(closed))
            if pair:
                out.append(json.dumps({"ts": ts(), "event": "call", "request_id": "cs%d" % rid, "pair_id": "c" + pair,
                                       "role": "silent", "is_silent_experiment": True, "group": "eval",
                                       "model": "gpt-4o", "deployment": 0, "status": "ok",
                                       "latency_ms": round(latency * 0.8, 1), "cost_usd": 0.004}))
        out.append(json.dumps(rec))
        if pair:
            out.append(json.dumps({"ts": ts(), "event": "call", "request_id": "s%d" % rid, "pair_id": pair,
                                   "role": "silent", "is_silent_experiment": True, "group": "eval",
                                   "model": "gpt-4o", "deployment": 0, "status": "ok",
                                   "latency_ms": round(latency * 0.8, 1), "cost_usd": 0.004}))
            if rng.random() < 0.8:
                u = rng.random()
                j = {"event": "judgement", "pair_id": pair, "winner": "silent" if u < 0.5 else "tie" if u < 0.7 else "primary",
                     "consistent": rng.random() < 0.8, "primary_chars": rng.randint(0, 900),
                     "silent_chars": rng.randint(0, 1200)}
                if rng.random() < 0.05:
                    del j["silent_chars"]  # a writer that gave no lengths
                event(j, rng.random() < 0.2)
        flush()
    out.extend(text for _, text in later)
    out.append(json.dumps({"event": "feedback", "request_id": "nobody", "metric": "thumbs_up", "value": 1}))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ---- the oracle ----------------------------------------------------------------------------

def wilson(k, n):
    if n == 0:
        return (None, None, None)
    p, z = k / n, Z975
    den = 1 + z * z / n
    c = (p + z * z / (2 * n)) / den
    h = z / den * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (p, max(0.0, c - h), min(1.0, c + h))


def newcombe(k1, n1, k2, n2):  # Newcombe 1998 method 10, p1 - p2
    p1, l1, u1 = wilson(k1, n1)
    p2, l2, u2 = wilson(k2, n2)
    d = p1 - p2
    return (d, d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def holm(ps):
    idx = sorted((i for i, p in enumerate(ps) if p is not None), key=lambda i: ps[i])
    out, run, m = list(ps), 0.0, len(idx)
    for j, i in enumerate(idx):
        run = max(run, min(1.0, (m - j) * ps[i]))
        out[i] = run
    return out


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    r = (p * len(sorted_vals) + 99) // 100
    return sorted_vals[min(max(r, 1), len(sorted_vals)) - 1]


class Mom:  # running mean and variance, to replay the mSPRT in log order
    def __init__(self):
        self.n, self.s, self.ss, self.mean, self.m2 = 0, 0.0, 0.0, 0.0, 0.0

    def add(self, x):
        self.n += 1
        d = x - self.mean
        self.mean += d / self.n
        self.m2 += d * (x - self.mean)

    def var(self):
        return self.m2 / (self.n - 1) if self.n >= 2 else float("nan")


def log_lambda(a, b, binary):
    """Johari, Pekelis & Walsh 2017, normal mixture N(0, tau^2) on the difference."""
    c = (Z975 + Z80) ** 2 / AV_NREF
    if binary:
        p = (a.mean * a.n + b.mean * b.n) / (a.n + b.n)
        v = p * (1 - p)
        s2, tau2 = v * (1 / a.n + 1 / b.n), 2 * v * c
    else:
        va, vb = a.var(), b.var()
        s2, tau2 = va / a.n + vb / b.n, (va + vb) * c
    if not (s2 > 0 and tau2 > 0):
        return None
    d = a.mean - b.mean
    return 0.5 * math.log(s2 / (s2 + tau2)) + d * d * tau2 / (2 * s2 * (s2 + tau2))


def oracle(lines):
    calls = {}          # request_id -> arm
    arms = {}           # (group, label) -> data
    pair_of = {}        # pair_id -> [primary arm, silent model]
    waiting = {}        # request_id -> [(metric, value)]
    jwait = {}          # pair_id -> [winner]
    judged = {}         # (arm, silent) -> [w, t, l]
    epochs, split_w = {}, {}
    mom = {}            # (arm, metric) -> Mom
    best = {}           # (armA, armB, metric) -> max log Lambda
    order = {}          # group -> arms in first-seen order
    judge_calls = {}    # judge model -> calls, errors, cost
    group_closed = {}   # group -> its client_closed calls

    def new_arm():
        return {"calls": 0, "errors": 0, "client_closed": 0, "lat": [], "chosen_ep": 0}

    def observe(arm, metric, x):
        m = mom.setdefault((arm, metric), Mom())
        m.add(x)
        if m.n < AV_MIN_N:
            return
        for other in order[arm[0]]:
            if other == arm or (other, metric) not in mom or mom[(other, metric)].n < AV_MIN_N:
                continue
            ll = log_lambda(m, mom[(other, metric)], metric == "error_rate")
            if ll is None:
                continue
            key = (min(arm, other), max(arm, other), metric)
            best[key] = max(best.get(key, 0.0), ll)

    def judge(pid, rec):
        a, s = pair_of[pid]
        j = judged.setdefault((a, s), [0, 0, 0, 0, 0, 0.0, 0.0])  # w t l, inconsistent, sized, win/lose chars
        w = {"silent": 0, "tie": 1, "primary": 2}[rec["winner"]]
        j[w] += 1
        j[3] += not rec.get("consistent", True)
        if w != 1 and "primary_chars" in rec and "silent_chars" in rec:
            chars = {"primary": rec["primary_chars"], "silent": rec["silent_chars"]}
            j[4] += 1
            j[5] += chars[rec["winner"]]
            j[6] += chars["primary" if rec["winner"] == "silent" else "silent"]

    for line in lines:
        rec = json.loads(line)
        ev = rec.get("event")
        if ev == "split":
            split_w[(rec["group"], rec["epoch"])] = rec["weights"]
        elif ev in ("score", "feedback"):
            metric = "judge_score" if ev == "score" else "feedback." + rec["metric"]
            x = rec["value"] if "value" in rec else rec["score"]
            r = rec["request_id"]
            if r in calls:
                observe(calls[r], metric, x)
            else:
                waiting.setdefault(r, []).append((metric, x))
        elif ev == "judgement":
            if len(pair_of.get(rec["pair_id"], [])) == 2 and pair_of[rec["pair_id"]][0] is not None:
                judge(rec["pair_id"], rec)
            else:
                jwait.setdefault(rec["pair_id"], []).append(rec)
        elif ev == "call" and rec["role"] == "judge":
            jc = judge_calls.setdefault(rec["model"], {"calls": 0, "errors": 0, "cost_usd": 0.0})
            jc["calls"] += 1
            jc["errors"] += rec["status"] != "ok"
            jc["cost_usd"] += rec["cost_usd"]
        elif ev == "call" and rec["role"] == "silent":
            p = pair_of.setdefault(rec["pair_id"], [None])
            p.append(rec["model"])
            if p[0] is not None:
                for w in jwait.pop(rec["pair_id"], []):
                    judge(rec["pair_id"], w)
        elif ev == "call":
            g = rec["group"]
            arm = (g, "%s #%d" % (rec["model"], rec["deployment"]))
            a = arms.setdefault(arm, new_arm())
            order.setdefault(g, [])
            if arm not in order[g]:
                order[g].append(arm)
            ok = rec["status"] == "ok"
            # client_closed: assigned by the split (chosen, epochs) but no call of the arm
            closed = rec["status"] == "client_closed"
            if "split_epoch" in rec:
                epochs[(g, rec["split_epoch"])] = epochs.get((g, rec["split_epoch"]), 0) + 1
                chosen = arm
                if rec.get("fallback_from"):
                    chosen = (g, [l for (gg, l) in arms if gg == g and l.startswith(rec["fallback_from"] + " #")][0])
                arms.setdefault(chosen, new_arm())["chosen_ep"] += 1
            if closed:
                a["client_closed"] += 1
                group_closed[g] = group_closed.get(g, 0) + 1
            else:
                a["calls"] += 1
                a["errors"] += not ok
                if ok:
                    a["lat"].append(rec["latency_ms"])
                observe(arm, "error_rate", 0.0 if ok else 1.0)
                if ok and rec["latency_ms"] > 0:
                    observe(arm, "latency_ms", math.log(rec["latency_ms"]))
                observe(arm, "cost_usd", rec["cost_usd"])
            calls[rec["request_id"]] = arm
            for metric, x in waiting.pop(rec["request_id"], []):
                observe(arm, metric, x)
            if rec.get("pair_id"):
                p = pair_of.setdefault(rec["pair_id"], [None])
                p[0] = arm
                if len(p) == 2:
                    for w in jwait.pop(rec["pair_id"], []):
                        judge(rec["pair_id"], w)

    res = {}
    for g in sorted({g for g, _ in arms}):
        labels = sorted((l for gg, l in arms if gg == g), key=lambda l: int(l.rsplit("#", 1)[1]))
        ctrl = (g, labels[0])
        chals = [(g, l) for l in labels[1:]]
        out = {"control": labels[0], "arms": {}, "pairs": {},
               "calls": sum(a["calls"] for (gg, _), a in arms.items() if gg == g), "client_closed": group_closed.get(g, 0)}
        # sample ratio
        eps = {e: c for (gg, e), c in epochs.items() if gg == g}
        if eps:
            exp = {}
            for e, c in eps.items():
                w = split_w[(g, e)]
                tot = sum(w.values())
                for l, x in w.items():
                    exp[l] = exp.get(l, 0.0) + c * x / tot
            ls = sorted(exp)
            chi = stats.chisquare([arms[(g, l)]["chosen_ep"] for l in ls], [exp[l] for l in ls])
            out["srm"] = {"expected": exp, "chi2": chi.statistic, "p_value": chi.pvalue}
        else:
            out["srm"] = {"p_value": None}
        for arm in [ctrl] + chals:
            a = arms[arm]
            a["lat"].sort()
            v, lo, hi = wilson(a["errors"], a["calls"])
            o = {"calls": a["calls"], "errors": a["errors"], "client_closed": a["client_closed"], "error_rate": {"value": v, "ci95": [lo, hi]},
                 "latency_ms": {q: pct(a["lat"], int(q[1:])) for q in ("p50", "p95", "p99")}, "metrics": {}}
            for (aa, metric), m in mom.items():
                if aa == arm and metric not in ("error_rate", "latency_ms"):
                    xs = raw_values(lines, calls, metric, arm)
                    ci = list(stats.t.interval(0.95, len(xs) - 1, loc=stats.tmean(xs), scale=stats.sem(xs))) \
                        if len(xs) >= 2 else [None, None]
                    o["metrics"][metric] = {"n": m.n, "mean": m.mean, "ci95": ci}
            out["arms"][arm[1]] = o
        # comparisons
        metrics = sorted({m for (aa, m) in mom if aa[0] == g and m not in ("error_rate", "latency_ms")})
        for arm in chals:
            c, t = arms[ctrl], arms[arm]
            vs = {}
            d, lo, hi = newcombe(t["errors"], t["calls"], c["errors"], c["calls"])
            table = [[t["errors"], t["calls"] - t["errors"]], [c["errors"], c["calls"] - c["errors"]]]
            pbar = (t["errors"] + c["errors"]) / (t["calls"] + c["calls"])
            se = math.sqrt(pbar * (1 - pbar) * (1 / t["calls"] + 1 / c["calls"]))
            vs["error_rate"] = {"diff": d, "ci95": [lo, hi], "mde": (Z975 + Z80) * se,
                                "p_value": stats.chi2_contingency(table, correction=False)[1]}
            mw = stats.mannwhitneyu(c["lat"], t["lat"], method="asymptotic", use_continuity=True)
            vs["latency_ms"] = {"median_ratio": pct(t["lat"], 50) / pct(c["lat"], 50), "p_value": mw.pvalue}
            for metric in metrics:
                xs = [x for x in raw_values(lines, calls, metric, ctrl)]
                ys = [x for x in raw_values(lines, calls, metric, arm)]
                tt = stats.ttest_ind(ys, xs, equal_var=False)
                vx, vy = stats.tvar(xs) / len(xs), stats.tvar(ys) / len(ys)
                se = math.sqrt(vx + vy)
                df = (vx + vy) ** 2 / (vx ** 2 / (len(xs) - 1) + vy ** 2 / (len(ys) - 1))
                diff = sum(ys) / len(ys) - sum(xs) / len(xs)
                q = stats.t.ppf(0.975, df)
                vs[metric] = {"diff": diff, "ci95": [diff - q * se, diff + q * se], "p_value": tt.pvalue,
                              "mde": (Z975 + Z80) * se}
            for metric in vs:
                key = (min(ctrl, arm), max(ctrl, arm), metric)
                vs[metric]["p_always_valid"] = min(1.0, math.exp(-best.get(key, 0.0)))
            out["arms"][arm[1]]["vs_control"] = vs
        for metric in ["error_rate", "latency_ms"] + metrics:
            ps = holm([out["arms"][a[1]]["vs_control"][metric]["p_value"] for a in chals])
            for a, p in zip(chals, ps):
                out["arms"][a[1]]["vs_control"][metric]["p_holm"] = p
        for (arm, silent), (w, t, l, inc, sized, wc, lc) in judged.items():
            if arm[0] != g:
                continue
            v, lo, hi = wilson(w, w + l)
            out["pairs"]["%s -> %s" % (arm[1], silent)] = {
                "wins": w, "ties": t, "losses": l, "win_share": {"value": v, "ci95": [lo, hi]},
                "p_value": stats.binomtest(w, w + l, 0.5).pvalue, "inconsistent": inc,
                "inconsistency_rate": inc / (w + t + l), "winner_chars_mean": wc / sized if sized else None,
                "loser_chars_mean": lc / sized if sized else None}
        res[g] = out
    res[None] = judge_calls
    return res


_raw = {}


def raw_values(lines, calls, metric, arm):
    """All values of a metric for an arm, straight from the log (not from the running moments)."""
    if not _raw:
        for line in lines:
            rec = json.loads(line)
            ev = rec.get("event")
            if ev == "call" and rec["role"] == "primary" and rec["status"] != "client_closed":
                _raw.setdefault(("cost_usd", calls[rec["request_id"]]), []).append(rec["cost_usd"])
            elif ev == "score" and rec["request_id"] in calls:
                _raw.setdefault(("judge_score", calls[rec["request_id"]]), []).append(
                    rec["value"] if "value" in rec else rec["score"])
            elif ev == "feedback" and rec["request_id"] in calls:
                _raw.setdefault(("feedback." + rec["metric"], calls[rec["request_id"]]), []).append(rec["value"])
    return _raw.get((metric, arm), [])


# ---- comparing -----------------------------------------------------------------------------

class Checker:
    def __init__(self):
        self.families = {}

    def num(self, family, where, want, got):
        f = self.families.setdefault(family, {"n": 0, "max": 0.0, "bad": []})
        f["n"] += 1
        if want is None or got is None:
            if want is not None or got is not None:
                f["bad"].append("%s: want %r, got %r" % (where, want, got))
            return
        diff = abs(want - got)
        f["max"] = max(f["max"], diff)
        if diff > max(ABS, REL * abs(want)):
            f["bad"].append("%s: want %.17g, got %.17g" % (where, want, got))

    def report(self):
        bad = 0
        for name, f in sorted(self.families.items()):
            if f["bad"]:
                bad += 1
                print("FAIL report_stats_%s: %s" % (name, "; ".join(f["bad"][:3])))
            else:
                print("ok   report_stats_%s (max abs diff %.3g over %d values)" % (name, f["max"], f["n"]))
        return bad


def check(log, report_path):
    lines = [l for l in open(log) if l.strip()]
    want = oracle(lines)
    report = json.load(open(report_path))
    got = report["groups"]
    c = Checker()
    for model, wj in want.pop(None).items():
        gj = report["judge_calls"][model]
        c.num("judge_calls", model + " calls", wj["calls"], gj["calls"])
        c.num("judge_calls", model + " errors", wj["errors"], gj["errors"])
        c.num("judge_calls", model + " cost", wj["cost_usd"], gj["cost_usd"])
    for g, wg in want.items():
        gg = got[g]
        c.num("counts", g + " calls", wg["calls"], gg["calls"])
        c.num("counts", g + " client_closed", wg["client_closed"], gg.get("client_closed"))
        if gg["control"] != wg["control"]:
            print("FAIL report_stats_control: %s: want %s, got %s" % (g, wg["control"], gg["control"]))
        if wg["srm"]["p_value"] is None:
            c.num("srm_chisquare", g + " p", None, gg["srm"]["p_value"])
        else:
            c.num("srm_chisquare", g + " chi2", wg["srm"]["chi2"], gg["srm"]["chi2"])
            c.num("srm_chisquare", g + " p", wg["srm"]["p_value"], gg["srm"]["p_value"])
            for l, e in wg["srm"]["expected"].items():
                c.num("srm_expected", g + " " + l, e, gg["srm"]["expected"][l])
        for arm, wa in wg["arms"].items():
            ga = gg["arms"][arm]
            w = "%s/%s" % (g, arm)
            c.num("counts", w + " calls", wa["calls"], ga["calls"])
            c.num("counts", w + " errors", wa["errors"], ga["errors"])
            c.num("counts", w + " client_closed", wa["client_closed"], ga.get("client_closed"))
            c.num("wilson", w, wa["error_rate"]["value"], ga["error_rate"]["value"])
            for i in (0, 1):
                c.num("wilson", w, wa["error_rate"]["ci95"][i], ga["error_rate"]["ci95"][i])
            for q in ("p50", "p95", "p99"):
                c.num("percentiles", w + " " + q, wa["latency_ms"][q], ga["latency_ms"][q])
            for m, wm in wa["metrics"].items():
                c.num("means", w + " " + m + " n", wm["n"], ga["metrics"][m]["n"])
                c.num("means", w + " " + m, wm["mean"], ga["metrics"][m]["mean"])
                for i in (0, 1):
                    c.num("t_interval", w + " " + m, wm["ci95"][i], ga["metrics"][m]["ci95"][i])
            if "vs_control" not in wa:
                if "vs_control" in ga:
                    print("FAIL report_stats_control_has_no_vs_control: %s" % w)
                continue
            for m, wv in wa["vs_control"].items():
                gv = ga["vs_control"][m]
                fam = {"error_rate": "newcombe_chi2_contingency", "latency_ms": "mannwhitneyu"}.get(m, "welch_ttest_ind")
                for k in ("diff", "median_ratio", "mde"):
                    if k in wv:
                        c.num(fam, "%s %s %s" % (w, m, k), wv[k], gv[k])
                if "ci95" in wv:
                    for i in (0, 1):
                        c.num(fam, "%s %s ci95" % (w, m), wv["ci95"][i], gv["ci95"][i])
                c.num(fam, "%s %s p" % (w, m), wv["p_value"], gv["p_value"])
                c.num("holm", "%s %s" % (w, m), wv["p_holm"], gv["p_holm"])
                c.num("msprt", "%s %s" % (w, m), wv["p_always_valid"], gv["p_always_valid"])
        for key, wp in wg["pairs"].items():
            gp = gg["pairs"][key]
            for k in ("wins", "ties", "losses"):
                c.num("counts", key + " " + k, wp[k], gp[k])
            c.num("pairs_wilson", key, wp["win_share"]["value"], gp["win_share"]["value"])
            for i in (0, 1):
                c.num("pairs_wilson", key, wp["win_share"]["ci95"][i], gp["win_share"]["ci95"][i])
            c.num("binomtest", key, wp["p_value"], gp["p_value"])
            c.num("counts", key + " inconsistent", wp["inconsistent"], gp["inconsistent"])
            for k in ("inconsistency_rate", "winner_chars_mean", "loser_chars_mean"):
                c.num("judgements", key + " " + k, wp[k], gp[k])
    return c.report()


# ---- A/A -----------------------------------------------------------------------------------

def aa(tool, experiments=200, n=2000, looks=10, seed=7):
    rng = random.Random(seed)
    crossed = {"fixed": {}, "av": {}}
    metrics = ("error_rate", "cost_usd", "latency_ms")
    for m in metrics:
        crossed["fixed"][m] = crossed["av"][m] = 0
        crossed["av"][m] = 0
    for _ in range(experiments):
        lines = []
        for i in range(n):
            arm = rng.randrange(2)
            ok = rng.random() >= 0.1
            lines.append(json.dumps({"event": "call", "request_id": "r%d" % i, "role": "primary", "group": "g",
                                     "model": "m%d" % arm, "deployment": arm, "status": "ok" if ok else "error",
                                     "latency_ms": round(rng.lognormvariate(6, 0.5), 1),
                                     "cost_usd": rng.expovariate(1000)}))
        seen = {"fixed": set(), "av": set()}
        for k in range(1, looks + 1):
            text = "\n".join(lines[: n * k // looks]) + "\n"
            out = subprocess.run([tool, "report", "--json", "-"], input=text.encode(), stdout=subprocess.PIPE,
                                 check=True).stdout
            vs = json.loads(out)["groups"]["g"]["arms"]["m1 #1"]["vs_control"]
            for m in metrics:
                if vs[m]["p_value"] is not None and vs[m]["p_value"] < 0.05:
                    seen["fixed"].add(m)
                if vs[m]["p_always_valid"] is not None and vs[m]["p_always_valid"] < 0.05:
                    seen["av"].add(m)
        for kind in seen:
            for m in seen[kind]:
                crossed[kind][m] += 1
    worst = 0.0
    for m in metrics:
        f, a = crossed["fixed"][m] / experiments, crossed["av"][m] / experiments
        worst = max(worst, a)
        print("A/A %s: %d experiments, %d looks each: fixed-horizon p < 0.05 at some look in %.1f%%, "
              "always-valid p in %.1f%%" % (m, experiments, looks, 100 * f, 100 * a))
    return worst


def main():
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(int(sys.argv[2]), sys.argv[3], "--srm" in sys.argv)
    elif cmd == "check":
        sys.exit(1 if check(sys.argv[2], sys.argv[3]) else 0)
    elif cmd == "aa":
        worst = aa(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 200)
        print("worst always-valid crossing rate: %.3f" % worst)


if __name__ == "__main__":
    main()
