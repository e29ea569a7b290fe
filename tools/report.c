/* llmsplit report - the A/B comparison of result logs, and its verdict.

       llmsplit report LOG.jsonl... [--html FILE] [--json] [--control ARM] [--fail-on worse]

   Included by tools/llmsplit.c after the llmsplit.h implementation; uses only the public API.
   Every name here but cmd_report starts with rpt_ so nothing collides with the rest of the tool;
   the statistics themselves live in tools/stats.h (st_), one function per method, with its source.

   What the figures mean (also printed in the report's header):
   - An arm is the deployment that answered a primary call: its group, model and deployment
     index. "chosen" counts how often the picker chose the arm: calls it answered without a
     fallback, plus calls that fell back from it (fallback_from names its model).
   - A call with "status":"client_closed" (its caller went away and the call was stopped) has no
     outcome: it is no call of its arm ("calls", share, errors, error rate and its tests, latency,
     tokens, cost and their tests all leave it out) and counted apart per arm and group
     ("client_closed"); the split did assign it, so it is in "chosen", the split_epoch counts and
     the sample ratio check. Events joined to it still count; a mirrored pair with it is a pair,
     but its primary side is no error.
   - Latency and ttft percentiles use the nearest-rank method over successful calls only: the
     values sorted ascending, the p-th percentile is the one at rank ceil(p/100 * n) (1-based).
     It is always a latency that really happened, and a test can recompute it with sort(1).
   - Tokens are summed and averaged over successful calls (failures carry no useful tokens);
     cost is summed over all calls but client_closed ones (a provider may bill a failed call).
   - A mirrored pair is a primary and a silent record with the same pair_id, in either order.
     Texts are compared only when both records carry a "response"; lengths are in characters
     (UTF-8 code points). Exact matches compare a 64-bit hash and the length, not the bytes, so
     memory does not grow with the texts.
   - Judge calls (call records with "role":"judge") are never an arm and never part of a pair:
     per judge model, their calls, errors (status not "ok", a judge answer without a verdict
     included) and cost summed over all of them, so what the judging cost is in the report.
   - Quality per arm: for the judge score ("score" events, their "value", or "score" in logs of
     other writers) and each feedback metric, n, the mean, and Student's t interval of the mean
     (mean +- t(0.975, n-1) s / sqrt(n), s the n-1 standard deviation; none below 2 values).

   The verdict: every arm of a group against the group's control, the first arm in the tables
   (lowest deployment index) that answered a call, or --control ARM ("MODEL #DEPLOYMENT", or a
   model name). Differences are always challenger minus control. Intervals are 95%, p-values
   two-sided.
   - Error rate: errors / calls over the primary calls but client_closed ones, with a Wilson score
     interval (Wilson 1927). The difference has Newcombe's hybrid score interval (Newcombe 1998,
     method 10); p_value is the pooled two-proportion z-test (= the 2x2 chi-square without
     continuity correction).
   - Latency: p50/p95/p99 as above; median_ratio is the challenger's p50 over the control's; p_value
     is the Mann-Whitney U test over the successful calls' latencies, normal approximation with the
     tie correction and a continuity correction of 1/2.
   - Mean metrics: "cost_usd" per call (calls that carry cost_usd), "judge_score" (score events)
     and "feedback.NAME" (feedback events, one metric per name), each the plain mean per arm; the
     difference of means with Welch's interval and Welch's t-test p_value.
     Events join their call by request_id, in any order and across files: a map from request_id
     to arm (16 bytes per primary call) and, for events whose call has not been read yet, the
     events themselves until it is. An event whose call never appears is counted, not used.
   - Judgements ({"event":"judgement","pair_id":P,"winner":"silent"|"primary"|"tie"}) join their
     mirrored pair by pair_id; per pair (primary arm -> silent model) the silent model's wins, ties
     and losses, its win share of the decided pairs with a Wilson interval, and the exact two-sided
     sign test (binomial, p = 1/2) p_value. Every judgement record counts: a pair judged twice
     counts twice. The order-inconsistency rate is the share of judgements with "consistent":
     false (the judge, asked twice with the answers swapped, named different sides or a side and
     a tie; a judgement without the key counts as consistent). The mean lengths of winners and of
     losers are over the decided judgements that give both "primary_chars" and "silent_chars":
     the winning answer's characters and the losing one's, each averaged; a judge that prefers
     long answers shows as a winner mean well above the loser mean.
   - p_always_valid: the mSPRT of Johari, Pekelis & Walsh 2017 with a normal mixing distribution
     N(0, tau^2), in its normal approximation: the difference d with standard error s gives
     Lambda = sqrt(s^2/(s^2+tau^2)) exp(d^2 tau^2 / (2 s^2 (s^2+tau^2))), and the always-valid p is
     the running minimum of 1/Lambda, updated after every observation of either arm in log order
     (files one after the other, in the order given: an order that does not depend on the data, so
     the guarantee holds). s^2 is p(1-p)(1/n1+1/n2) with the pooled rate p for the error rate, and
     v1/n1 + v2/n2 for means. tau^2 = (z(0.975) + z(0.8))^2 * 2 sigma^2 / 1000 (RPT_AV_NREF), where
     2 sigma^2 is 2 p(1-p) or v1 + v2: the mixture favours the effect a fixed test with 1000 calls
     per arm could just detect (its MDE), about 0.125 standard deviations. For latency the mSPRT runs
     on log(latency) (a ratio of geometric means; positive latencies only). Updates start once both
     arms have RPT_AV_MIN_N observations of the metric (the normal approximation needs them); until
     then p_always_valid is 1. An A/A simulation in tests/cli_report_stats.sh checks that it stays
     at or above 0.05 in about 95% of experiments however often it is read.
   - p_holm: Holm's step-down adjustment (Holm 1979) of p_value across the challengers of a group,
     per metric. With one challenger it equals p_value.
   - mde: the minimum detectable difference now, (z(0.975) + z(0.8)) times the difference's
     standard error (pooled for the error rate, Welch's for means): the true difference a two-sided
     5% test would find 80% of the time. Halving it takes 4x the calls: 3x the current n more per arm.
   - srm (sample ratio mismatch): primary records carry "split_epoch": N, and
     {"event":"split","group":G,"epoch":N,"weights":{"MODEL #DEP":w,...}} gives each epoch's
     effective weights. Expected count of an arm = sum over calls with an epoch of that epoch's share
     w / sum(w); observed = the arm's "chosen" count over the same calls. Pearson's chi-square
     goodness of fit, (categories with expected > 0) - 1 degrees of freedom; mismatch when
     p < 0.001 (RPT_SRM_ALPHA). It cannot run without epochs, with an epoch that has no split event,
     or with fewer than two weighted arms; then srm says why. Two split events for one epoch of a
     group: the last one read counts.
   - verdict per challenger, the first rule that applies: "invalid" when the group has a sample
     ratio mismatch; "inconclusive" when either arm has fewer than RPT_MIN_CALLS (100) calls;
     "worse" when a metric differs with always-valid p < 0.05 (Holm-adjusted across the group's
     challengers) in the bad direction, "better" when one does in the good direction and none in
     the bad; good is lower error rate, latency and cost, higher judge score and feedback;
     "inconclusive" when the error rate's MDE is above 5 points (RPT_MAX_MDE); else
     "no difference detected", with the MDE.

   Streaming and memory: each log is read line by line (a line longer than RPT_MAX_LINE counts as
   unreadable), never whole. What stays in memory is one double per successful call for the
   percentiles, one ~64-byte entry per call whose mirror twin has not been seen yet (a primary
   that was never mirrored keeps its entry to the end: the log cannot tell), and the request_id
   join map (a 16-byte slot per primary call, at most half full). */

#ifndef LLMSPLIT_TOOL_REPORT_C /* also included by ui.c, for the dashboard's verdict */
#define LLMSPLIT_TOOL_REPORT_C

#include "tool.h"
#include "stats.h"

#include <math.h>
#include <time.h>

#ifndef RPT_MAX_LINE
#define RPT_MAX_LINE (16u * 1024u * 1024u) /* longest log line read; longer ones are unreadable */
#endif
#define RPT_NAME_COLS 28          /* widest text column in the terminal tables (100 columns) */
#define RPT_ROLLBACKS_KEPT 20     /* rollback events listed per group; the rest are only counted */
#define RPT_SCATTER_POINTS 2000   /* most points in a primary-vs-silent scatter (keeps the page small) */
#define RPT_TIME_BUCKETS 40       /* bars in the traffic-over-time chart */
#define RPT_MAX_COLS 12
#define RPT_MIN_CALLS 100         /* fewer calls in either arm: the verdict is "inconclusive" */
#define RPT_MAX_MDE 0.05          /* an error-rate MDE above 5 points: "inconclusive" too */
#define RPT_SRM_ALPHA 0.001       /* sample ratio mismatch flagged below this p */
#define RPT_AV_ALPHA 0.05         /* a verdict needs an always-valid p below this */
#define RPT_AV_NREF 1000.0        /* tau^2 favours the MDE of a test with this many calls per arm */
#define RPT_AV_MIN_N 30           /* observations per arm before the mSPRT starts */

/* ---- memory and small arrays ----------------------------------------------------------- */

/* Out of memory ends the command: a report missing part of its data would print wrong figures. */
static void rpt_oom(void) {
    exit(tool_fail(LLMSPLIT_ERR_NOMEM, "out of memory while building the report"));
}

static void *rpt_xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) rpt_oom();
    return q;
}

/* Room for `need` elements of `size` bytes at p (capacity *cap), doubling; the new base. */
static void *rpt_grow(void *p, size_t *cap, size_t need, size_t size) {
    size_t c = *cap ? *cap : 8;
    if (need <= *cap) return p;
    while (c < need) {
        if (c > (size_t)-1 / 2 / size) rpt_oom();
        c *= 2;
    }
    *cap = c;
    return rpt_xrealloc(p, c * size);
}

/* rpt_grow, then element `id` zeroed: arrays kept parallel to an interned key table. */
static void *rpt_grow_zero(void *p, size_t *cap, size_t id, size_t size) {
    p = rpt_grow(p, cap, id + 1, size);
    memset((char *)p + id * size, 0, size);
    return p;
}

/* Appends an element to arr (n elements, capacity cap) and yields it, uninitialised. */
#define RPT_PUSH(arr, n, cap) ((arr) = rpt_grow((arr), &(cap), (n) + 1, sizeof *(arr)), &(arr)[(n)++])
#define RPT_NEW(arr, cap, id) ((arr) = rpt_grow_zero((arr), &(cap), (id), sizeof *(arr)))

static char *rpt_strndup(const char *s, size_t n) {
    char *d = (char *)rpt_xrealloc(NULL, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static char *rpt_vfmt(const char *fmt, va_list ap) {
    va_list ap2;
    int n;
    char *s;
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) n = 0;
    s = (char *)rpt_xrealloc(NULL, (size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static char *rpt_fmt(const char *fmt, ...) {
    va_list ap;
    char *s;
    va_start(ap, fmt);
    s = rpt_vfmt(fmt, ap);
    va_end(ap);
    return s;
}

/* How an arm is named everywhere: "gpt-4 #0", model and deployment index; just the model when
   there is no index (a direct model, or an arm known only from fallback_from). */
static char *rpt_arm_label(const char *model, int64_t dep) {
    return dep >= 0 ? rpt_fmt("%s #%lld", model, (long long)dep) : rpt_fmt("%s", model);
}

typedef struct rpt_dbl {
    double *v;
    size_t n, cap;
} rpt_dbl;

static void rpt_dbl_push(rpt_dbl *a, double x) { *RPT_PUSH(a->v, a->n, a->cap) = x; }

static int rpt_cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void rpt_dbl_sort(rpt_dbl *a) { if (a->n > 1) qsort(a->v, a->n, sizeof *a->v, rpt_cmp_dbl); }

/* Nearest rank on a sorted array: rank ceil(p*n/100), in integers so that 95% of 20 is exactly
   rank 19 (0.95*20 in floating point need not be). */
static double rpt_pct(const rpt_dbl *sorted, unsigned p) {
    uint64_t rank = ((uint64_t)p * sorted->n + 99) / 100;
    if (rank < 1) rank = 1;
    if (rank > sorted->n) rank = sorted->n;
    return sorted->v[rank - 1];
}

/* 64-bit FNV-1a with a final avalanche, so the low bits can index a power-of-two table. */
static uint64_t rpt_hash(const void *data, size_t len) {
    const unsigned char *p = (const unsigned char *)data;
    uint64_t h = 1469598103934665603u;
    size_t i;
    for (i = 0; i < len; i++) h = (h ^ p[i]) * 1099511628211u;
    h ^= h >> 33; h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53u;
    return h ^ (h >> 33);
}

/* Characters (UTF-8 code points) in n bytes: every byte that is not a continuation byte. */
static size_t rpt_chars(const char *s, size_t n) {
    size_t i, c = 0;
    for (i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xc0) != 0x80;
    return c;
}

/* ---- interned keys: byte strings to dense ids ------------------------------------------ */

typedef struct rpt_key_ent {
    char *s;              /* the key bytes, NUL-terminated copy */
    size_t len;
    uint64_t hash;
} rpt_key_ent;

typedef struct rpt_keys {
    rpt_key_ent *key;     /* by id, in first-seen order */
    size_t n, cap;
    uint32_t *slot;       /* open addressing: id + 1, 0 empty; never more than half full */
    size_t nslots;
} rpt_keys;

static void rpt_keys_rehash(rpt_keys *t) {
    size_t i, mask;
    t->nslots = t->nslots ? t->nslots * 2 : 64;
    mask = t->nslots - 1;
    free(t->slot);
    t->slot = (uint32_t *)rpt_xrealloc(NULL, t->nslots * sizeof *t->slot);
    memset(t->slot, 0, t->nslots * sizeof *t->slot);
    for (i = 0; i < t->n; i++) {
        size_t j = (size_t)t->key[i].hash & mask;
        while (t->slot[j]) j = (j + 1) & mask;
        t->slot[j] = (uint32_t)(i + 1);
    }
}

#define RPT_NONE ((size_t)-1)

/* The slot where key k is, or the empty slot where it would go. */
static size_t rpt_probe(const rpt_keys *t, const void *k, size_t len, uint64_t h) {
    size_t mask = t->nslots - 1, j;
    for (j = (size_t)h & mask; t->slot[j]; j = (j + 1) & mask) {
        const rpt_key_ent *e = &t->key[t->slot[j] - 1];
        if (e->hash == h && e->len == len && memcmp(e->s, k, len) == 0) break;
    }
    return j;
}

/* The id of key k, or RPT_NONE. */
static size_t rpt_find(const rpt_keys *t, const void *k, size_t len) {
    size_t j;
    if (!t->nslots) return RPT_NONE;
    j = rpt_probe(t, k, len, rpt_hash(k, len));
    return t->slot[j] ? t->slot[j] - 1 : RPT_NONE;
}

/* The id of key k, adding it (the next dense id) when absent; *added tells which happened. */
static size_t rpt_intern(rpt_keys *t, const void *k, size_t len, int *added) {
    uint64_t h = rpt_hash(k, len);
    size_t j, id;
    rpt_key_ent *e;
    if ((t->n + 1) * 2 > t->nslots) rpt_keys_rehash(t);
    j = rpt_probe(t, k, len, h);
    if (added) *added = !t->slot[j];
    if (t->slot[j]) return t->slot[j] - 1;
    if (t->n >= UINT32_MAX - 1) rpt_oom();
    id = t->n;
    e = RPT_PUSH(t->key, t->n, t->cap);
    e->s = rpt_strndup((const char *)k, len);
    e->len = len;
    e->hash = h;
    t->slot[j] = (uint32_t)(id + 1);
    return id;
}

static void rpt_keys_free(rpt_keys *t) {
    size_t i;
    for (i = 0; i < t->n; i++) free(t->key[i].s);
    free(t->key);
    free(t->slot);
}

/* ---- what the report collects ---------------------------------------------------------- */

typedef struct rpt_arm {
    size_t group;
    char *model;          /* as logged */
    int64_t deployment;   /* -1: none (a direct model) or the log did not say */
    uint64_t calls, errors; /* calls: ok or error (client_closed ones are not calls of the arm) */
    uint64_t closed;      /* status "client_closed": the caller went away, the call has no outcome */
    uint64_t direct;      /* answered without a fallback, so also the chosen arm (client_closed too) */
    uint64_t chosen;      /* direct + fallbacks away from it; filled in at the end */
    uint64_t tok_n;       /* successful calls that reported tokens */
    double prompt, completion, cost;
    rpt_dbl lat, ttft;    /* successful calls */
    uint64_t direct_ep;   /* direct calls that carry a split_epoch (the SRM's observed count) */
    uint64_t chosen_ep;   /* direct_ep + fallbacks away from it with an epoch; at the end */
    struct rpt_mom *mom;  /* running moments by metric slot (RPT_M_*), grown on demand */
    size_t nmom;
} rpt_arm;

/* Metric slots: per arm, the running moments of each; the always-valid state is kept by slot too.
   Feedback metrics get slots from RPT_M_FEEDBACK on, in first-seen order. */
enum { RPT_M_ERROR, RPT_M_LATENCY, RPT_M_COST, RPT_M_SCORE, RPT_M_FEEDBACK };

typedef struct rpt_mom {  /* Welford's running mean and sum of squared deviations */
    double n, mean, m2;
} rpt_mom;

typedef struct rpt_rollback {
    char *ts, *arm, *reason;
    double cooldown;      /* < 0: not given */
} rpt_rollback;

typedef struct rpt_group {
    uint64_t calls, closed, fallbacks, rollbacks, rollback_ends; /* calls and closed: as per arm */
    size_t *arms;         /* its arms in first-seen order: the ones an observation is compared with */
    size_t narms, arms_cap;
    rpt_rollback kept[RPT_ROLLBACKS_KEPT];
    size_t nkept;
} rpt_group;

typedef struct rpt_edge {  /* a fallback route: group, model first chosen, arm that answered */
    size_t group, to;
    char *from;
    uint64_t count, count_ep; /* count_ep: those with a split_epoch */
} rpt_edge;

/* One side of a mirrored pair, waiting in the pending table for its twin. */
typedef struct rpt_side {
    uint64_t id;          /* hash of pair_id; 0 marks an empty slot, so a real 0 becomes 1 */
    uint64_t text_hash;
    double latency, cost, prompt, completion;
    uint32_t who;         /* primary: its arm; silent: its silent model */
    uint32_t text_len;    /* characters of the response */
    unsigned char silent, ok, closed, has_text, has_latency, has_tokens; /* closed: client_closed */
} rpt_side;

typedef struct rpt_pending {  /* linear probing, at most 3/4 full, backward-shift deletion */
    rpt_side *slot;
    size_t cap, n;
} rpt_pending;

typedef struct rpt_pair {  /* primary arm -> silent model */
    size_t arm, silent;
    uint64_t pairs, silent_errors, primary_errors;
    rpt_dbl plat, slat;   /* successful latencies of each side */
    rpt_dbl points;       /* (primary, silent) latency, both successful; --html only */
    uint64_t p_tok_n, s_tok_n;
    double p_prompt, p_completion, s_prompt, s_completion, p_cost, s_cost;
    uint64_t compared, matches;
    int64_t len_diff;     /* sum of silent - primary characters over compared pairs */
    uint64_t wins, ties, losses; /* judgements, from the silent model's side */
    uint64_t inconsistent;       /* judgements whose two orders disagreed */
    uint64_t sized;              /* decided judgements with both lengths */
    double win_chars, lose_chars; /* their winners' and losers' lengths, summed */
} rpt_pair;

/* Judge calls (role "judge") of one judge model: never an arm, counted for their cost. */
typedef struct rpt_judge_calls {
    uint64_t calls, errors;
    double cost;
} rpt_judge_calls;

/* A request_id or pair_id (its hash) and who it belongs to, for joining events to calls. */
typedef struct rpt_join {
    uint64_t key;         /* 0: an empty slot */
    uint32_t who;         /* arm (request) or pair id + 1; 0: its call is not read yet */
    uint32_t wait;        /* first event waiting for it + 1 (an index into rpt_report.waits) */
} rpt_join;

typedef struct rpt_jtab {  /* linear probing, at most half full, never deleted from */
    rpt_join *slot;
    size_t cap, n;
} rpt_jtab;

typedef struct rpt_wait {  /* an event read before its call */
    double value;
    uint32_t slot;        /* metric slot; for judgements the winner (0 silent, 1 tie, 2 primary),
                             plus RPT_CONSISTENT when both orders agreed */
    uint32_t next;        /* the next one for the same key + 1 */
    int32_t chars[2];     /* judgements: primary and silent answer lengths; -1 when not given */
} rpt_wait;

#define RPT_CONSISTENT 4u

typedef struct rpt_av {    /* the best evidence so far for one pair of arms and one metric */
    uint64_t key;         /* arm a, arm b > a and slot, packed; 0: empty */
    double log_max;       /* max over time of log Lambda */
} rpt_av;

typedef struct rpt_epoch {  /* (group, split_epoch): its calls and the weights its split event gave */
    size_t group;
    int64_t epoch;
    uint64_t calls;
    char **arm;
    double *w;
    size_t nw;
    int has_split;
} rpt_epoch;

/* ---- what the report concludes, per group (filled in by rpt_analyse) ---- */

typedef struct rpt_cmp {   /* one metric, a challenger against the control */
    size_t slot;
    double n_ctrl, n_chal;
    double ctrl, chal;    /* rate, median or mean of each arm */
    double diff, lo, hi;  /* challenger - control (latency: median ratio, no interval) */
    double p, p_holm, p_av, p_av_holm, mde, se;
} rpt_cmp;

typedef struct rpt_chal {
    size_t arm;
    rpt_cmp *cmp;
    size_t ncmp;
    const char *verdict;
    char *reason;
} rpt_chal;

typedef struct rpt_srm_cat {
    char *label;
    double expected;
    uint64_t observed;
} rpt_srm_cat;

typedef struct rpt_analysis {
    size_t control;       /* RPT_NONE: no arm answered a call */
    int srm_ran, srm_mismatch;
    char *srm_reason;     /* why it could not run */
    double srm_chi2, srm_p;
    uint64_t srm_calls;
    rpt_srm_cat *cats;
    size_t ncats, cats_cap;
    rpt_chal *chal;
    size_t nchal, chal_cap;
} rpt_analysis;

typedef struct rpt_time {  /* when a primary call was logged, and the arm that answered */
    int64_t ms;
    size_t group, arm;
} rpt_time;

typedef struct rpt_report {
    const char *path;     /* the logs' names, for the title */
    const char *file;     /* the log being read; named in the first bad line when several */
    int nfiles;
    const char *control;  /* --control ARM or NULL */
    int keep_points;      /* --html: keep scatter points and call times for the charts */
    uint64_t records, primary, silent, events, configs, other_events;
    uint64_t closed;      /* primary calls with status client_closed */
    uint64_t bad, bad_line, orphans;
    char bad_first[160];
    int has_time;
    int64_t t_min, t_max;
    char ts_min[40], ts_max[40];
    rpt_keys group_keys, arm_keys, model_keys, silent_keys, pair_keys, edge_keys;
    rpt_group *groups;
    size_t groups_cap;
    rpt_arm *arms;
    size_t arms_cap;
    size_t *model_arm;    /* (group, model) -> the arm fallback_from names; see rpt_arm_id */
    size_t model_arm_cap;
    rpt_pair *pairs;
    size_t pairs_cap;
    rpt_edge *edges;      /* sorted by group at the end (edge_keys ids no longer index it then) */
    size_t edges_cap;
    rpt_pending pend;
    rpt_time *times;      /* sorted by group and time at the end */
    size_t ntimes, times_cap;
    size_t *arm_order;    /* arm ids by group, deployment index, model: one run per group */
    size_t *pos;          /* arm id -> its row in its group's tables (for chart colours) */
    char *scratch;        /* composite keys are built here */
    size_t scratch_cap;
    void *jbuf;           /* reused parse buffer for ordinary lines */
    size_t jbuf_cap;
    rpt_keys metric_keys; /* metric names by slot */
    rpt_jtab req, pjoin;  /* request_id -> arm, pair_id -> pair */
    rpt_wait *waits;
    size_t nwaits, waits_cap;
    uint32_t wait_free;   /* reusable waits + 1, linked by next */
    uint64_t events_waiting, events_unknown;
    rpt_av *av;
    size_t av_cap, av_n;
    rpt_keys epoch_keys;
    rpt_epoch *epochs;
    size_t epochs_cap;
    uint64_t feedback, scores, judgements, splits;
    rpt_analysis *an;     /* by group */
    rpt_keys judge_keys;  /* judge models */
    rpt_judge_calls *judges;
    size_t judges_cap;
    uint64_t judge_calls;
} rpt_report;

/* ---- reading a record's fields --------------------------------------------------------- */

#define RPT_GET(obj, key) llmsplit_json_get((obj), (key))

/* 1 when v is the string lit exactly (length-aware: "ok\u0000x" is not "ok"). */
static int rpt_is(const llmsplit_json_val *v, const char *lit) {
    size_t n;
    const char *s = llmsplit_json_str(v, &n);
    return s && n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static int rpt_num(const llmsplit_json_val *v, double *out) {
    if (llmsplit_json_type_of(v) != LLMSPLIT_JSON_NUMBER) return 0;
    *out = llmsplit_json_double(v);
    return 1;
}

/* A deployment index, or -1 when absent or not one (a direct model is logged with -1). */
static int64_t rpt_deployment(const llmsplit_json_val *v) {
    int64_t d = llmsplit_json_type_of(v) == LLMSPLIT_JSON_NUMBER ? llmsplit_json_int(v) : -1;
    return d < 0 ? -1 : d;
}

/* A call succeeded when its status is "ok"; without a status, when it has no error. */
static int rpt_is_ok(const llmsplit_json_val *rec) {
    const llmsplit_json_val *status = RPT_GET(rec, "status");
    llmsplit_json_type e = llmsplit_json_type_of(RPT_GET(rec, "error"));
    if (llmsplit_json_type_of(status) == LLMSPLIT_JSON_STRING) return rpt_is(status, "ok");
    return e == LLMSPLIT_JSON_NONE || e == LLMSPLIT_JSON_NULL;
}

/* A call whose own caller went away ("status":"client_closed"): neither a success nor an error
   of its arm; it has no answer, so it is left out of every figure but the assignment counts. */
static int rpt_is_closed(const llmsplit_json_val *rec) {
    return rpt_is(RPT_GET(rec, "status"), "client_closed");
}

static int64_t rpt_days_from_civil(int64_t y, int m, int d) {  /* H. Hinnant's algorithm */
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int rpt_digits(const char *s, size_t n, size_t *pos, int count, int *val) {
    int v = 0;
    for (; count > 0; count--, (*pos)++) {
        if (*pos >= n || s[*pos] < '0' || s[*pos] > '9') return 0;
        v = v * 10 + (s[*pos] - '0');
    }
    *val = v;
    return 1;
}

/* 1 when s[*pos] is c (one of the characters in c), stepping past it. */
static int rpt_sep(const char *s, size_t n, size_t *pos, const char *c) {
    if (*pos >= n || !s[*pos] || !strchr(c, s[*pos])) return 0;
    (*pos)++;
    return 1;
}

/* RFC 3339 time, "2026-11-21T10:00:00.123Z" or with an offset, to milliseconds since 1970. */
static int rpt_parse_ts(const char *s, size_t n, int64_t *ms) {
    size_t p = 0;
    int Y, M, D, h, m, sec, frac = 0, scale = 1000, oh = 0, om = 0, sign = 0;
    if (!s || !rpt_digits(s, n, &p, 4, &Y) || !rpt_sep(s, n, &p, "-") || !rpt_digits(s, n, &p, 2, &M) ||
        !rpt_sep(s, n, &p, "-") || !rpt_digits(s, n, &p, 2, &D) || !rpt_sep(s, n, &p, "Tt ") ||
        !rpt_digits(s, n, &p, 2, &h) || !rpt_sep(s, n, &p, ":") || !rpt_digits(s, n, &p, 2, &m) ||
        !rpt_sep(s, n, &p, ":") || !rpt_digits(s, n, &p, 2, &sec))
        return 0;
    if (p < n && s[p] == '.') {
        for (p++; p < n && s[p] >= '0' && s[p] <= '9'; p++)
            if (scale > 1) { scale /= 10; frac += (s[p] - '0') * scale; }
    }
    if (p < n && (s[p] == 'Z' || s[p] == 'z')) p++;
    else if (p < n && (s[p] == '+' || s[p] == '-')) {
        sign = s[p++] == '-' ? -1 : 1;
        if (!rpt_digits(s, n, &p, 2, &oh) || !rpt_sep(s, n, &p, ":") || !rpt_digits(s, n, &p, 2, &om)) return 0;
    } else return 0;
    if (p != n || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60) return 0;
    *ms = (((rpt_days_from_civil(Y, M, D) * 24 + h) * 60 + m) * 60 + sec) * 1000 + frac -
          (int64_t)sign * (oh * 60 + om) * 60000;
    return 1;
}

/* ---- ids for groups, arms, silent models, pairs ---------------------------------------- */

/* Composite keys are length-prefixed parts, so ("ab","c") and ("a","bc") differ. */
static size_t rpt_key(rpt_report *r, const void *a, size_t alen, const void *b, size_t blen) {
    size_t n = sizeof alen + alen + blen;
    r->scratch = (char *)rpt_grow(r->scratch, &r->scratch_cap, n, 1);
    memcpy(r->scratch, &alen, sizeof alen);
    memcpy(r->scratch + sizeof alen, a, alen);
    if (blen) memcpy(r->scratch + sizeof alen + alen, b, blen);
    return n;
}

static size_t rpt_group_id(rpt_report *r, const char *name, size_t len) {
    int added;
    size_t id = rpt_intern(&r->group_keys, name, len, &added);
    if (added) RPT_NEW(r->groups, r->groups_cap, id);
    return id;
}

static size_t rpt_arm_id(rpt_report *r, size_t group, const char *model, size_t mlen, int64_t dep) {
    struct { size_t group; int64_t dep; } head;
    size_t id, n, mid;
    rpt_arm *a;
    int added;
    memset(&head, 0, sizeof head);
    head.group = group;
    head.dep = dep;
    n = rpt_key(r, &head, sizeof head, model, mlen);
    id = rpt_intern(&r->arm_keys, r->scratch, n, &added);
    if (!added) return id;
    RPT_NEW(r->arms, r->arms_cap, id);
    a = &r->arms[id];
    a->group = group;
    *RPT_PUSH(r->groups[group].arms, r->groups[group].narms, r->groups[group].arms_cap) = id;
    a->model = rpt_strndup(model, mlen);
    a->deployment = dep;
    /* fallback_from names only a model: it means that model's arm with the lowest known
       deployment index in the group */
    n = rpt_key(r, &group, sizeof group, model, mlen);
    mid = rpt_intern(&r->model_keys, r->scratch, n, &added);
    if (added) {
        RPT_NEW(r->model_arm, r->model_arm_cap, mid);
        r->model_arm[mid] = id;
    }
    else {
        const rpt_arm *cur = &r->arms[r->model_arm[mid]];
        if (cur->deployment < 0 || (dep >= 0 && dep < cur->deployment)) r->model_arm[mid] = id;
    }
    return id;
}

static void rpt_fallback(rpt_report *r, size_t group, const char *from, size_t flen, size_t to, int ep) {
    struct { size_t group, to; } head;
    size_t n, id;
    int added;
    memset(&head, 0, sizeof head);
    head.group = group;
    head.to = to;
    n = rpt_key(r, &head, sizeof head, from, flen);
    id = rpt_intern(&r->edge_keys, r->scratch, n, &added);
    if (added) {
        RPT_NEW(r->edges, r->edges_cap, id);
        r->edges[id].group = group;
        r->edges[id].to = to;
        r->edges[id].from = rpt_strndup(from, flen);
    }
    r->edges[id].count++;
    r->edges[id].count_ep += ep != 0;
    r->groups[group].fallbacks++;
}

static rpt_pair *rpt_pair_of(rpt_report *r, size_t arm, size_t silent) {
    size_t k[2], id;
    int added;
    k[0] = arm;
    k[1] = silent;
    id = rpt_intern(&r->pair_keys, k, sizeof k, &added);
    if (added) {
        RPT_NEW(r->pairs, r->pairs_cap, id);
        r->pairs[id].arm = arm;
        r->pairs[id].silent = silent;
    }
    return &r->pairs[id];
}

/* ---- joining events to calls ----------------------------------------------------------- */

static void rpt_jtab_grow(rpt_jtab *t) {
    rpt_join *old = t->slot;
    size_t i, oldcap = t->cap;
    t->cap = t->cap ? t->cap * 2 : 1024;
    t->slot = (rpt_join *)rpt_xrealloc(NULL, t->cap * sizeof *t->slot);
    memset(t->slot, 0, t->cap * sizeof *t->slot);
    for (i = 0; i < oldcap; i++) {
        size_t j;
        if (!old[i].key) continue;
        for (j = (size_t)old[i].key & (t->cap - 1); t->slot[j].key; j = (j + 1) & (t->cap - 1)) {}
        t->slot[j] = old[i];
    }
    free(old);
}

/* The entry for key (a hash, never 0), added empty when absent. */
static rpt_join *rpt_jtab_get(rpt_jtab *t, uint64_t key) {
    size_t j;
    if ((t->n + 1) * 2 > t->cap) rpt_jtab_grow(t);
    for (j = (size_t)key & (t->cap - 1); t->slot[j].key; j = (j + 1) & (t->cap - 1))
        if (t->slot[j].key == key) return &t->slot[j];
    t->slot[j].key = key;
    t->n++;
    return &t->slot[j];
}

/* A join key from an id's bytes: the hash, with 0 (the empty mark) moved to 1. */
static uint64_t rpt_join_key(const char *s, size_t n) {
    uint64_t h = rpt_hash(s, n);
    return h ? h : 1;
}

static rpt_wait *rpt_wait_push(rpt_report *r, rpt_join *e, uint32_t slot, double value) {
    uint32_t id;
    rpt_wait *w;
    if (r->wait_free) {
        id = r->wait_free - 1;
        r->wait_free = r->waits[id].next;
    } else {
        if (r->nwaits >= UINT32_MAX - 1) rpt_oom();
        id = (uint32_t)r->nwaits;
        RPT_PUSH(r->waits, r->nwaits, r->waits_cap);
    }
    w = &r->waits[id];
    w->value = value;
    w->slot = slot;
    w->next = e->wait;
    w->chars[0] = w->chars[1] = -1;
    e->wait = id + 1;
    r->events_waiting++;
    return w;
}

/* Moments of metric `slot` of an arm, zeroed slots added as needed. */
static rpt_mom *rpt_mom_of(rpt_arm *a, size_t slot) {
    if (slot >= a->nmom) {
        size_t n = slot + 4;
        a->mom = (rpt_mom *)rpt_xrealloc(a->mom, n * sizeof *a->mom);
        memset(a->mom + a->nmom, 0, (n - a->nmom) * sizeof *a->mom);
        a->nmom = n;
    }
    return &a->mom[slot];
}

static const rpt_mom *rpt_mom_get(const rpt_arm *a, size_t slot) {
    return slot < a->nmom && a->mom[slot].n > 0 ? &a->mom[slot] : NULL;
}

/* The variance with n - 1 (NaN below 2 observations). */
static double rpt_var(const rpt_mom *m) { return m && m->n >= 2 ? m->m2 / (m->n - 1) : NAN; }

/* log Lambda of the mSPRT for arm x against arm y on one metric, as defined in the top comment;
   the sign of the difference does not matter to Lambda. */
static double rpt_log_lambda(const rpt_mom *x, const rpt_mom *y, size_t slot) {
    const double c = (ST_Z975 + ST_Z80) * (ST_Z975 + ST_Z80) / RPT_AV_NREF;
    double s2, tau2;
    if (slot == RPT_M_ERROR) {
        double p = (x->mean * x->n + y->mean * y->n) / (x->n + y->n), v = p * (1 - p);
        s2 = v * (1 / x->n + 1 / y->n);
        tau2 = 2 * v * c;
    } else {
        double vx = rpt_var(x), vy = rpt_var(y);
        s2 = vx / x->n + vy / y->n;
        tau2 = (vx + vy) * c;
    }
    return st_msprt_log_lambda(x->mean - y->mean, s2, tau2);
}

/* The slot holding the evidence for arms a and b on a metric, added at log Lambda 0 (p 1). */
static rpt_av *rpt_av_get(rpt_report *r, size_t a, size_t b, size_t slot, int add) {
    uint64_t key;
    size_t j;
    if (a > b) { size_t t = a; a = b; b = t; }
    if (b >= ((size_t)1 << 24) || slot >= ((size_t)1 << 16)) return NULL; /* beyond any real split */
    key = (uint64_t)a << 40 | (uint64_t)b << 16 | (uint64_t)slot; /* b > a, so never 0 */
    if (add && (r->av_n + 1) * 2 > r->av_cap) {
        rpt_av *old = r->av;
        size_t i, oldcap = r->av_cap;
        r->av_cap = r->av_cap ? r->av_cap * 2 : 64;
        r->av = (rpt_av *)rpt_xrealloc(NULL, r->av_cap * sizeof *r->av);
        memset(r->av, 0, r->av_cap * sizeof *r->av);
        for (i = 0; i < oldcap; i++) {
            if (!old[i].key) continue;
            for (j = (size_t)rpt_hash(&old[i].key, 8) & (r->av_cap - 1); r->av[j].key; j = (j + 1) & (r->av_cap - 1)) {}
            r->av[j] = old[i];
        }
        free(old);
    }
    if (!r->av_cap) return NULL;
    for (j = (size_t)rpt_hash(&key, 8) & (r->av_cap - 1); r->av[j].key; j = (j + 1) & (r->av_cap - 1))
        if (r->av[j].key == key) return &r->av[j];
    if (!add) return NULL;
    r->av[j].key = key;
    r->av[j].log_max = 0;
    r->av_n++;
    return &r->av[j];
}

/* One observation x of metric `slot` for an arm: its moments, then the running mSPRT against
   every other arm of the group that has enough observations (the control is known only at the
   end, so each pair of arms keeps its own). */
static void rpt_observe(rpt_report *r, size_t arm, size_t slot, double x) {
    rpt_arm *a = &r->arms[arm];
    const rpt_group *g = &r->groups[a->group];
    rpt_mom *m = rpt_mom_of(a, slot);
    double d = x - m->mean;
    size_t i;
    m->n++;
    m->mean += d / m->n;
    m->m2 += d * (x - m->mean);
    if (m->n < RPT_AV_MIN_N) return;
    for (i = 0; i < g->narms; i++) {
        size_t b = g->arms[i];
        const rpt_mom *mb;
        double ll;
        rpt_av *av;
        if (b == arm || !(mb = rpt_mom_get(&r->arms[b], slot)) || mb->n < RPT_AV_MIN_N) continue;
        ll = rpt_log_lambda(m, mb, slot);
        if (isnan(ll) || !(av = rpt_av_get(r, arm, b, slot, 1))) continue;
        if (ll > av->log_max) av->log_max = ll;
    }
}

/* A judgement for a pair: j->slot as in rpt_wait. */
static void rpt_judge(rpt_report *r, size_t pair, const rpt_wait *j) {
    rpt_pair *p = &r->pairs[pair];
    uint32_t winner = j->slot & 3u;
    if (winner == 0) p->wins++;
    else if (winner == 1) p->ties++;
    else p->losses++;
    p->inconsistent += !(j->slot & RPT_CONSISTENT);
    if (winner != 1 && j->chars[0] >= 0 && j->chars[1] >= 0) {
        p->sized++;
        p->win_chars += j->chars[winner == 0];
        p->lose_chars += j->chars[winner != 0];
    }
}

/* The join entry e has just learnt its call (arm or pair): the events that waited for it count. */
static void rpt_drain(rpt_report *r, rpt_join *e, int pair) {
    while (e->wait) {
        uint32_t id = e->wait - 1;
        rpt_wait w = r->waits[id];
        e->wait = w.next;
        r->waits[id].next = r->wait_free;
        r->wait_free = id + 1;
        r->events_waiting--;
        if (pair) rpt_judge(r, e->who - 1, &w);
        else rpt_observe(r, e->who - 1, w.slot, w.value);
    }
}

/* ---- mirrored pairs -------------------------------------------------------------------- */

static rpt_side *rpt_pend_find(rpt_pending *p, uint64_t id) {
    size_t mask, j;
    if (!p->cap) return NULL;
    mask = p->cap - 1;
    for (j = (size_t)id & mask; p->slot[j].id; j = (j + 1) & mask)
        if (p->slot[j].id == id) return &p->slot[j];
    return NULL;
}

static void rpt_pend_grow(rpt_pending *p) {
    rpt_side *old = p->slot;
    size_t i, oldcap = p->cap;
    p->cap = p->cap ? p->cap * 2 : 1024;
    p->slot = (rpt_side *)rpt_xrealloc(NULL, p->cap * sizeof *p->slot);
    memset(p->slot, 0, p->cap * sizeof *p->slot);
    for (i = 0; i < oldcap; i++) {
        size_t j;
        if (!old[i].id) continue;
        for (j = (size_t)old[i].id & (p->cap - 1); p->slot[j].id; j = (j + 1) & (p->cap - 1)) {}
        p->slot[j] = old[i];
    }
    free(old);
}

static void rpt_pend_put(rpt_pending *p, const rpt_side *s) {
    size_t j;
    if ((p->n + 1) * 4 > p->cap * 3) rpt_pend_grow(p);
    for (j = (size_t)s->id & (p->cap - 1); p->slot[j].id; j = (j + 1) & (p->cap - 1)) {}
    p->slot[j] = *s;
    p->n++;
}

/* Removes a slot and shifts later members of its probe run back, so lookups need no tombstones. */
static void rpt_pend_remove(rpt_pending *p, rpt_side *at) {
    size_t mask = p->cap - 1, i = (size_t)(at - p->slot), j = i;
    for (;;) {
        size_t home;
        j = (j + 1) & mask;
        if (!p->slot[j].id) break;
        home = (size_t)p->slot[j].id & mask;
        /* slot j may move to i unless its home lies cyclically in (i, j] */
        if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
            p->slot[i] = p->slot[j];
            i = j;
        }
    }
    p->slot[i].id = 0;
    p->n--;
}

static void rpt_pair_done(rpt_report *r, const rpt_side *ps, const rpt_side *ss) {
    rpt_pair *p = rpt_pair_of(r, ps->who, ss->who);
    rpt_join *e = rpt_jtab_get(&r->pjoin, ps->id);
    e->who = (uint32_t)(p - r->pairs) + 1;
    rpt_drain(r, e, 1);
    p->pairs++;
    p->primary_errors += !ps->ok && !ps->closed;
    p->silent_errors += !ss->ok && !ss->closed;
    if (!ps->closed) p->p_cost += ps->cost;
    if (!ss->closed) p->s_cost += ss->cost;
    if (ps->ok && ps->has_latency) rpt_dbl_push(&p->plat, ps->latency);
    if (ss->ok && ss->has_latency) rpt_dbl_push(&p->slat, ss->latency);
    if (ps->ok && ps->has_tokens) { p->p_tok_n++; p->p_prompt += ps->prompt; p->p_completion += ps->completion; }
    if (ss->ok && ss->has_tokens) { p->s_tok_n++; p->s_prompt += ss->prompt; p->s_completion += ss->completion; }
    if (r->keep_points && ps->ok && ss->ok && ps->has_latency && ss->has_latency) {
        rpt_dbl_push(&p->points, ps->latency);
        rpt_dbl_push(&p->points, ss->latency);
    }
    if (ps->has_text && ss->has_text) {
        p->compared++;
        p->matches += ps->text_len == ss->text_len && ps->text_hash == ss->text_hash;
        p->len_diff += (int64_t)ss->text_len - (int64_t)ps->text_len;
    }
}

/* Pairs s with its waiting twin, or leaves it waiting. A second record of the same side and
   pair_id replaces the first (a silent one replaced that way never had a primary: an orphan). */
static void rpt_mirror(rpt_report *r, const rpt_side *s) {
    rpt_side *twin = rpt_pend_find(&r->pend, s->id);
    if (twin && twin->silent != s->silent) {
        rpt_side t = *twin;
        rpt_pend_remove(&r->pend, twin);
        if (s->silent) rpt_pair_done(r, &t, s);
        else rpt_pair_done(r, s, &t);
    } else if (twin) {
        r->orphans += twin->silent;
        *twin = *s;
    } else {
        rpt_pend_put(&r->pend, s);
    }
}

/* ---- records --------------------------------------------------------------------------- */

/* Counts an unreadable line; the first one is kept to be quoted in the report. */
static void rpt_bad(rpt_report *r, uint64_t line, const char *fmt, ...) {
    va_list ap;
    size_t at = 0;
    if (r->bad++) return;
    r->bad_line = line;
    if (r->nfiles > 1) { /* several logs: "line 3: in b.jsonl: ..." */
        int n = snprintf(r->bad_first, sizeof r->bad_first, "in %s: ", r->file);
        if (n < 0 || (size_t)n >= sizeof r->bad_first) n = (int)sizeof r->bad_first - 1;
        at = (size_t)n;
    }
    va_start(ap, fmt);
    vsnprintf(r->bad_first + at, sizeof r->bad_first - at, fmt, ap);
    va_end(ap);
}

static void rpt_note_time(rpt_report *r, const llmsplit_json_val *rec, int64_t *ms, int *has) {
    size_t n;
    const char *ts = llmsplit_json_str(RPT_GET(rec, "ts"), &n);
    *has = rpt_parse_ts(ts, n, ms);
    if (!*has) return;
    if (n >= sizeof r->ts_min) n = sizeof r->ts_min - 1;
    if (!r->has_time || *ms < r->t_min) { r->t_min = *ms; memcpy(r->ts_min, ts, n); r->ts_min[n] = 0; }
    if (!r->has_time || *ms > r->t_max) { r->t_max = *ms; memcpy(r->ts_max, ts, n); r->ts_max[n] = 0; }
    r->has_time = 1;
}

/* The fields both sides of a pair share. */
static void rpt_side_of(const llmsplit_json_val *rec, rpt_side *s) {
    size_t n;
    const char *text;
    double p = 0, c = 0;
    memset(s, 0, sizeof *s);
    s->ok = (unsigned char)rpt_is_ok(rec);
    s->closed = (unsigned char)rpt_is_closed(rec);
    s->has_latency = (unsigned char)rpt_num(RPT_GET(rec, "latency_ms"), &s->latency);
    rpt_num(RPT_GET(rec, "cost_usd"), &s->cost);
    s->has_tokens = (unsigned char)(rpt_num(RPT_GET(rec, "prompt_tokens"), &p) |
                                    rpt_num(RPT_GET(rec, "completion_tokens"), &c));
    s->prompt = p;
    s->completion = c;
    if ((text = llmsplit_json_str(RPT_GET(rec, "response"), &n)) != NULL) {
        s->has_text = 1;
        s->text_hash = rpt_hash(text, n);
        s->text_len = (uint32_t)rpt_chars(text, n);
    }
    if ((text = llmsplit_json_str(RPT_GET(rec, "pair_id"), &n)) != NULL && n > 0) { /* "" pairs nothing */
        s->id = rpt_hash(text, n);
        if (!s->id) s->id = 1;
    }
}

/* The (group, epoch) entry, added when new. */
static rpt_epoch *rpt_epoch_of(rpt_report *r, size_t group, int64_t epoch) {
    struct { size_t group; int64_t epoch; } k;
    size_t id;
    int added;
    memset(&k, 0, sizeof k);
    k.group = group;
    k.epoch = epoch;
    id = rpt_intern(&r->epoch_keys, &k, sizeof k, &added);
    if (added) {
        RPT_NEW(r->epochs, r->epochs_cap, id);
        r->epochs[id].group = group;
        r->epochs[id].epoch = epoch;
    }
    return &r->epochs[id];
}

static void rpt_primary(rpt_report *r, const llmsplit_json_val *rec, const char *model, size_t mlen,
                        rpt_side *s, int64_t ms, int has_time) {
    size_t glen, flen, gid, aid;
    const char *gname = llmsplit_json_str(RPT_GET(rec, "group"), &glen);
    const char *from = llmsplit_json_str(RPT_GET(rec, "fallback_from"), &flen);
    const llmsplit_json_val *dep = RPT_GET(rec, "deployment"), *epv = RPT_GET(rec, "split_epoch");
    const char *rid;
    size_t rlen;
    double ttft, cost;
    int ep = llmsplit_json_type_of(epv) == LLMSPLIT_JSON_NUMBER;
    rpt_arm *a;
    if (!gname) { gname = "(none)"; glen = 6; }
    gid = rpt_group_id(r, gname, glen);
    aid = rpt_arm_id(r, gid, model, mlen, rpt_deployment(dep));
    if (ep) rpt_epoch_of(r, gid, llmsplit_json_int(epv))->calls++;
    a = &r->arms[aid];
    r->primary++;
    /* the split assigned a client_closed call too (chosen, the sample ratio check), but it has
       no outcome: not a call of the arm's error rate, latency, tokens or cost */
    if (from && flen) rpt_fallback(r, gid, from, flen, aid, ep);
    else { a->direct++; a->direct_ep += ep != 0; }
    if (s->closed) {
        r->closed++;
        r->groups[gid].closed++;
        a->closed++;
    } else {
        r->groups[gid].calls++;
        a->calls++;
        a->cost += s->cost;
        if (!s->ok) a->errors++;
        if (s->ok && s->has_latency) rpt_dbl_push(&a->lat, s->latency);
        if (s->ok && rpt_num(RPT_GET(rec, "ttft_ms"), &ttft)) rpt_dbl_push(&a->ttft, ttft);
        if (s->ok && s->has_tokens) { a->tok_n++; a->prompt += s->prompt; a->completion += s->completion; }
        rpt_observe(r, aid, RPT_M_ERROR, s->ok ? 0.0 : 1.0);
        if (s->ok && s->has_latency && s->latency > 0) rpt_observe(r, aid, RPT_M_LATENCY, log(s->latency));
        if (rpt_num(RPT_GET(rec, "cost_usd"), &cost)) rpt_observe(r, aid, RPT_M_COST, cost);
    }
    if ((rid = llmsplit_json_str(RPT_GET(rec, "request_id"), &rlen)) != NULL && rlen) {
        rpt_join *e = rpt_jtab_get(&r->req, rpt_join_key(rid, rlen));
        e->who = (uint32_t)aid + 1;
        rpt_drain(r, e, 0);
    }
    if (r->keep_points && has_time && !s->closed) { /* the share chart: as the share column */
        rpt_time *t = RPT_PUSH(r->times, r->ntimes, r->times_cap);
        t->ms = ms;
        t->group = gid;
        t->arm = aid;
    }
    s->who = (uint32_t)aid;
    if (s->id) rpt_mirror(r, s);
}

static void rpt_silent(rpt_report *r, const char *model, size_t mlen, rpt_side *s) {
    r->silent++;
    s->silent = 1;
    s->who = (uint32_t)rpt_intern(&r->silent_keys, model, mlen, NULL);
    if (s->id) rpt_mirror(r, s);
    else r->orphans++;
}

/* A judge call: its model's calls, errors and cost. */
static void rpt_judge_call(rpt_report *r, const llmsplit_json_val *rec, const char *model, size_t mlen) {
    int added;
    size_t id = rpt_intern(&r->judge_keys, model, mlen, &added);
    double cost;
    if (added) RPT_NEW(r->judges, r->judges_cap, id);
    r->judge_calls++;
    r->judges[id].calls++;
    r->judges[id].errors += !rpt_is_ok(rec);
    if (rpt_num(RPT_GET(rec, "cost_usd"), &cost)) r->judges[id].cost += cost;
}

static void rpt_call(rpt_report *r, const llmsplit_json_val *rec, uint64_t line) {
    size_t mlen;
    const char *model = llmsplit_json_str(RPT_GET(rec, "model"), &mlen);
    const llmsplit_json_val *role = RPT_GET(rec, "role");
    rpt_side s;
    int64_t ms = 0;
    int has_time, silent;
    if (!model) { rpt_bad(r, line, "call record without a \"model\""); return; }
    r->records++;
    rpt_note_time(r, rec, &ms, &has_time);
    if (rpt_is(role, "judge")) { rpt_judge_call(r, rec, model, mlen); return; }
    silent = role ? rpt_is(role, "silent") : llmsplit_json_is_true(RPT_GET(rec, "is_silent_experiment"));
    rpt_side_of(rec, &s);
    if (silent) rpt_silent(r, model, mlen, &s);
    else rpt_primary(r, rec, model, mlen, &s, ms, has_time);
}

static void rpt_rollback_event(rpt_report *r, const llmsplit_json_val *rec) {
    size_t glen, n, id;
    const char *gname = llmsplit_json_str(RPT_GET(rec, "group"), &glen);
    const char *s;
    const llmsplit_json_val *dep = RPT_GET(rec, "deployment");
    rpt_group *g;
    rpt_rollback *k;
    if (!gname) { gname = "(none)"; glen = 6; }
    id = rpt_group_id(r, gname, glen); /* first: it may move r->groups */
    g = &r->groups[id];
    if (g->rollbacks++ >= RPT_ROLLBACKS_KEPT) return;
    k = &g->kept[g->nkept++];
    s = llmsplit_json_str(RPT_GET(rec, "ts"), &n);
    k->ts = rpt_strndup(s ? s : "", s ? n : 0);
    s = llmsplit_json_str(RPT_GET(rec, "model"), &n);
    k->arm = rpt_arm_label(s ? s : "?", rpt_deployment(dep));
    s = llmsplit_json_str(RPT_GET(rec, "reason"), &n);
    k->reason = rpt_strndup(s ? s : "", s ? n : 0);
    if (!rpt_num(RPT_GET(rec, "cooldown_s"), &k->cooldown)) k->cooldown = -1;
}

/* {"event":"split","group":G,"epoch":N,"weights":{ARM:w,...}}: the weights of epoch N (the
   last event for an epoch wins). Negative or non-numeric weights are left out. */
static void rpt_split_event(rpt_report *r, const llmsplit_json_val *rec) {
    size_t glen, i;
    const char *gname = llmsplit_json_str(RPT_GET(rec, "group"), &glen);
    const llmsplit_json_val *epv = RPT_GET(rec, "epoch"), *ws = RPT_GET(rec, "weights"), *k, *v;
    llmsplit_json_iter it;
    rpt_epoch *e;
    size_t cap = 0;
    r->splits++;
    if (llmsplit_json_type_of(epv) != LLMSPLIT_JSON_NUMBER || llmsplit_json_type_of(ws) != LLMSPLIT_JSON_OBJECT) return;
    if (!gname) { gname = "(none)"; glen = 6; }
    e = rpt_epoch_of(r, rpt_group_id(r, gname, glen), llmsplit_json_int(epv));
    for (i = 0; i < e->nw; i++) free(e->arm[i]);
    free(e->arm);
    free(e->w);
    e->arm = NULL;
    e->w = NULL;
    e->nw = 0;
    e->has_split = 1;
    it = llmsplit_json_iterate(ws);
    while (llmsplit_json_next(&it, &k, &v)) {
        size_t n;
        const char *name = llmsplit_json_str(k, &n);
        double w;
        if (!name || !rpt_num(v, &w) || !(w >= 0)) continue;
        if (e->nw == cap) {
            cap = cap ? cap * 2 : 4;
            e->arm = (char **)rpt_xrealloc(e->arm, cap * sizeof *e->arm);
            e->w = (double *)rpt_xrealloc(e->w, cap * sizeof *e->w);
        }
        e->arm[e->nw] = rpt_strndup(name, n);
        e->w[e->nw++] = w;
    }
}

/* {"event":"score","request_id":R,"value":x} ("score":x in logs of other writers) and
   {"event":"feedback","request_id":R,"metric":M,"value":x}: an observation of the metric for R's
   arm, now or when R's call is read. */
static void rpt_metric_event(rpt_report *r, const llmsplit_json_val *rec, int score) {
    size_t rlen, mlen, slot;
    const char *rid = llmsplit_json_str(RPT_GET(rec, "request_id"), &rlen), *metric;
    double x;
    rpt_join *e;
    if (score) {
        r->scores++;
        if (!rpt_num(RPT_GET(rec, "value"), &x) && !rpt_num(RPT_GET(rec, "score"), &x)) return;
        slot = RPT_M_SCORE;
    } else {
        r->feedback++;
        metric = llmsplit_json_str(RPT_GET(rec, "metric"), &mlen);
        if (!metric || !mlen || !rpt_num(RPT_GET(rec, "value"), &x)) return;
        r->scratch = (char *)rpt_grow(r->scratch, &r->scratch_cap, mlen + 9, 1);
        memcpy(r->scratch, "feedback.", 9);
        memcpy(r->scratch + 9, metric, mlen);
        slot = rpt_intern(&r->metric_keys, r->scratch, mlen + 9, NULL);
    }
    if (!rid || !rlen) { r->events_unknown++; return; }
    e = rpt_jtab_get(&r->req, rpt_join_key(rid, rlen));
    if (e->who) rpt_observe(r, e->who - 1, slot, x);
    else rpt_wait_push(r, e, (uint32_t)slot, x);
}

/* A length in characters from a judgement, or -1. */
static int32_t rpt_chars_of(const llmsplit_json_val *v) {
    double x;
    return rpt_num(v, &x) && x >= 0 && x < 2147483647.0 ? (int32_t)x : -1;
}

/* {"event":"judgement","pair_id":P,"winner":"silent"|"primary"|"tie","consistent":B,
   "primary_chars":N,"silent_chars":M}: for P's pair. Without "consistent" the orders count as
   agreeing (a one-order judge cannot disagree with itself). */
static void rpt_judgement_event(rpt_report *r, const llmsplit_json_val *rec) {
    size_t n;
    const char *pid = llmsplit_json_str(RPT_GET(rec, "pair_id"), &n);
    const llmsplit_json_val *w = RPT_GET(rec, "winner"), *c = RPT_GET(rec, "consistent");
    rpt_wait j;
    rpt_join *e;
    r->judgements++;
    if (rpt_is(w, "silent")) j.slot = 0;
    else if (rpt_is(w, "tie")) j.slot = 1;
    else if (rpt_is(w, "primary")) j.slot = 2;
    else return;
    if (!c || llmsplit_json_is_true(c)) j.slot |= RPT_CONSISTENT;
    j.chars[0] = rpt_chars_of(RPT_GET(rec, "primary_chars"));
    j.chars[1] = rpt_chars_of(RPT_GET(rec, "silent_chars"));
    if (!pid || !n) { r->events_unknown++; return; }
    e = rpt_jtab_get(&r->pjoin, rpt_join_key(pid, n));
    if (e->who) rpt_judge(r, e->who - 1, &j);
    else {
        rpt_wait *q = rpt_wait_push(r, e, j.slot, 0);
        q->chars[0] = j.chars[0];
        q->chars[1] = j.chars[1];
    }
}

static void rpt_event(rpt_report *r, const llmsplit_json_val *rec, const llmsplit_json_val *ev) {
    int64_t ms;
    int has;
    r->records++;
    r->events++;
    rpt_note_time(r, rec, &ms, &has);
    if (rpt_is(ev, "rollback")) rpt_rollback_event(r, rec);
    else if (rpt_is(ev, "rollback_end")) {
        size_t glen;
        const char *gname = llmsplit_json_str(RPT_GET(rec, "group"), &glen);
        size_t id;
        if (!gname) { gname = "(none)"; glen = 6; }
        id = rpt_group_id(r, gname, glen); /* first: it may move r->groups */
        r->groups[id].rollback_ends++;
    } else if (rpt_is(ev, "config")) r->configs++;
    else if (rpt_is(ev, "split")) rpt_split_event(r, rec);
    else if (rpt_is(ev, "feedback") || rpt_is(ev, "score")) rpt_metric_event(r, rec, rpt_is(ev, "score"));
    else if (rpt_is(ev, "judgement")) rpt_judgement_event(r, rec);
    else r->other_events++;
}

/* Parses one line: big lines get their own block, ordinary ones reuse one buffer. */
static llmsplit_json_doc *rpt_parse(rpt_report *r, const char *line, size_t len, llmsplit_error *err) {
    llmsplit_json_desc desc;
    size_t need = llmsplit_json_buffer_size(len);
    memset(&desc, 0, sizeof desc);
    if (need <= (1u << 20)) {
        if (need > r->jbuf_cap) {
            free(r->jbuf);
            r->jbuf = rpt_xrealloc(NULL, need);
            r->jbuf_cap = need;
        }
        desc.buffer = r->jbuf;
        desc.buffer_size = r->jbuf_cap;
    }
    {
        llmsplit_json_doc *doc = NULL;
        llmsplit_json_parse(line, len, &desc, &doc, err);
        return doc;
    }
}

static void rpt_line(rpt_report *r, const char *line, size_t len, uint64_t lineno) {
    llmsplit_error err;
    llmsplit_json_doc *doc;
    const llmsplit_json_val *root, *ev;
    size_t i;
    for (i = 0; i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'); i++) {}
    if (i == len) return; /* blank lines are not records */
    if (!(doc = rpt_parse(r, line, len, &err))) {
        /* not fatal even for LLMSPLIT_ERR_NOMEM: an unclosed "[[[[..." can exhaust the parser's
           value slots, and that is a bad line, not a full machine */
        rpt_bad(r, lineno, "column %d: %s", err.col, err.message);
        return;
    }
    root = llmsplit_json_root(doc);
    ev = RPT_GET(root, "event");
    if (llmsplit_json_type_of(root) != LLMSPLIT_JSON_OBJECT) rpt_bad(r, lineno, "not a JSON object");
    else if (ev && !rpt_is(ev, "call")) rpt_event(r, root, ev);
    else rpt_call(r, root, lineno);
    llmsplit_json_free(doc);
}

/* ---- reading the log line by line ------------------------------------------------------ */

typedef struct rpt_reader {
    FILE *f;
    char block[1 << 16];
    size_t pos, end;
    char *line;           /* the current line, at most RPT_MAX_LINE bytes */
    size_t len, cap;
    int too_long;         /* the current line went past RPT_MAX_LINE; the rest was skipped */
} rpt_reader;

/* Next line into r->line (without its newline). 1: a line, 0: end of input or a read error. */
static int rpt_next_line(rpt_reader *rd) {
    int any = 0;
    rd->len = 0;
    rd->too_long = 0;
    for (;;) {
        const char *nl;
        size_t take;
        if (rd->pos == rd->end) {
            rd->pos = 0;
            rd->end = fread(rd->block, 1, sizeof rd->block, rd->f);
            if (!rd->end) return any;
        }
        any = 1;
        nl = (const char *)memchr(rd->block + rd->pos, '\n', rd->end - rd->pos);
        take = (nl ? (size_t)(nl - rd->block) : rd->end) - rd->pos;
        if (rd->len + take > RPT_MAX_LINE) rd->too_long = 1;
        if (!rd->too_long) {
            rd->line = (char *)rpt_grow(rd->line, &rd->cap, rd->len + take + 1, 1);
            memcpy(rd->line + rd->len, rd->block + rd->pos, take);
            rd->len += take;
        }
        rd->pos += take + (nl != NULL);
        if (nl) return 1;
    }
}

static void rpt_read(rpt_report *r, rpt_reader *rd) {
    uint64_t lineno = 0;
    while (rpt_next_line(rd)) {
        lineno++;
        if (rd->too_long) rpt_bad(r, lineno, "longer than %u bytes", (unsigned)RPT_MAX_LINE);
        else rpt_line(r, rd->line, rd->len, lineno);
    }
}

/* ---- output: plain text or HTML from the same calls ------------------------------------ */

typedef struct rpt_out {
    FILE *f;
    int html;
    int indent;           /* text: spaces before a paragraph (sections indent theirs) */
} rpt_out;

/* Log text is untrusted. On a terminal, control characters (C0, DEL and C1, which is UTF-8
   C2 80..C2 9F) become '?' so a model name cannot move the cursor or recolour the screen; in
   HTML, markup characters become entities. */
static void rpt_put(const rpt_out *o, const char *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xc2 && i + 1 < n && ((unsigned char)s[i + 1] & 0xe0) == 0x80) { fputc('?', o->f); i++; }
        else if (c < 0x20 || c == 0x7f) fputc(c == '\t' ? ' ' : '?', o->f);
        else if (!o->html) fputc(c, o->f);
        else if (c == '&') fputs("&amp;", o->f);
        else if (c == '<') fputs("&lt;", o->f);
        else if (c == '>') fputs("&gt;", o->f);
        else if (c == '"') fputs("&quot;", o->f);
        else if (c == '\'') fputs("&#39;", o->f);
        else fputc(c, o->f);
    }
}

static void rpt_puts(const rpt_out *o, const char *s) { rpt_put(o, s, strlen(s)); }

static void rpt_pad(FILE *f, size_t n) { while (n--) fputc(' ', f); }

/* A line of prose: tag "h2", "h3" or "p" in HTML; in text a line, headings after a blank line.
   Everything formatted in, log text included, goes through rpt_put. */
static void rpt_say(const rpt_out *o, const char *tag, const char *fmt, ...) {
    va_list ap;
    char *s;
    va_start(ap, fmt);
    s = rpt_vfmt(fmt, ap);
    va_end(ap);
    if (o->html) fprintf(o->f, "<%s>", tag);
    else if (strcmp(tag, "p") != 0) fputc('\n', o->f);
    else rpt_pad(o->f, (size_t)o->indent);
    rpt_put(o, s, strlen(s));
    if (o->html) fprintf(o->f, "</%s>\n", tag);
    else fputc('\n', o->f);
    free(s);
}

/* ---- tables ---------------------------------------------------------------------------- */

typedef struct rpt_table {
    int ncols;
    unsigned left;        /* bit c: column c is text (left-aligned); the rest are numbers */
    char **cell;          /* row-major, the header row first */
    size_t n, cap;
} rpt_table;

static void rpt_cell(rpt_table *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    *RPT_PUSH(t->cell, t->n, t->cap) = rpt_vfmt(fmt, ap);
    va_end(ap);
}

static void rpt_cells(rpt_table *t, const char *const *texts) {
    for (; *texts; texts++) rpt_cell(t, "%s", *texts);
}

/* Byte offset of the k-th character of s. */
static size_t rpt_char_at(const char *s, size_t k) {
    size_t i = 0;
    for (; s[i]; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80 && k-- == 0) break;
    return i;
}

/* A text cell, cut in the middle past `width` characters so both ends (and " #N") stay. */
static void rpt_put_clipped(const rpt_out *o, const char *s, size_t width) {
    size_t n = rpt_chars(s, strlen(s)), head, tail;
    if (n <= width) { rpt_puts(o, s); return; }
    head = (width - 2) / 2;
    tail = width - 2 - head;
    rpt_put(o, s, rpt_char_at(s, head));
    fputs("..", o->f);
    rpt_puts(o, s + rpt_char_at(s, n - tail));
}

static void rpt_table_text(const rpt_out *o, const rpt_table *t) {
    size_t w[RPT_MAX_COLS] = {0}, i, c, nc = (size_t)t->ncols;
    for (i = 0; i < t->n; i++) {
        size_t len = rpt_chars(t->cell[i], strlen(t->cell[i]));
        c = i % nc;
        if ((t->left >> c & 1u) && c + 1 < nc && len > RPT_NAME_COLS) len = RPT_NAME_COLS;
        if (len > w[c]) w[c] = len;
    }
    for (i = 0; i < t->n; i++) {
        size_t len = rpt_chars(t->cell[i], strlen(t->cell[i]));
        c = i % nc;
        fputs("  ", o->f);
        if (t->left >> c & 1u) {
            rpt_put_clipped(o, t->cell[i], w[c]);
            if (c + 1 < nc && len < w[c]) rpt_pad(o->f, w[c] - len);
        } else {
            if (len < w[c]) rpt_pad(o->f, w[c] - len);
            rpt_puts(o, t->cell[i]);
        }
        if (c + 1 == nc) fputc('\n', o->f);
    }
}

static void rpt_table_html(const rpt_out *o, const rpt_table *t) {
    size_t i, nc = (size_t)t->ncols;
    fputs("<table>\n", o->f);
    for (i = 0; i < t->n; i++) {
        size_t c = i % nc;
        const char *tag = i < nc ? "th" : "td";
        if (c == 0) fputs("<tr>", o->f);
        fprintf(o->f, "<%s%s>", tag, (t->left >> c & 1u) ? "" : " class=\"n\"");
        rpt_puts(o, t->cell[i]);
        fprintf(o->f, "</%s>", tag);
        if (c + 1 == nc) fputs("</tr>\n", o->f);
    }
    fputs("</table>\n", o->f);
}

/* Writes the table and frees it. */
static void rpt_table_out(const rpt_out *o, rpt_table *t) {
    size_t i;
    if (o->html) rpt_table_html(o, t);
    else rpt_table_text(o, t);
    for (i = 0; i < t->n; i++) free(t->cell[i]);
    free(t->cell);
    memset(t, 0, sizeof *t);
}

static void rpt_table_init(rpt_table *t, int ncols, unsigned left) {
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->left = left;
}

/* A figure with `decimals` places; magnitudes no real log has (1e308 ms) in %g, so that a
   hostile line cannot stretch a column to 300 digits. */
static void rpt_cell_num(rpt_table *t, int decimals, double v) {
    if (fabs(v) < 1e15) rpt_cell(t, "%.*f", decimals, v);
    else rpt_cell(t, "%.6g", v);
}

/* "-" when there is nothing to take a figure from. */
static void rpt_cell_pct(rpt_table *t, const rpt_dbl *sorted, unsigned p) {
    if (sorted->n) rpt_cell_num(t, 1, rpt_pct(sorted, p));
    else rpt_cell(t, "-");
}

static void rpt_cell_mean(rpt_table *t, double sum, uint64_t n) {
    if (n) rpt_cell_num(t, 1, sum / (double)n);
    else rpt_cell(t, "-");
}

/* One group's share of the sorted arrays: its arms in table order, fallbacks, call times. */
typedef struct rpt_slice {
    const size_t *arms;
    size_t narms;
    const rpt_edge *edges;
    size_t nedges;
    const rpt_time *times;
    size_t ntimes;
} rpt_slice;

/* ---- SVG charts (HTML only) ------------------------------------------------------------ */

static const char *const rpt_colors[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                         "#76b7b2", "#edc948", "#ff9da7", "#9c755f", "#bab0ac"};
#define RPT_COLOR(i) rpt_colors[(i) % (sizeof rpt_colors / sizeof rpt_colors[0])]

/* A round tick step that gives about `ticks` ticks up to max. */
static double rpt_tick_step(double max, int ticks) {
    double raw = (max > 0 ? max : 1) / ticks, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/* Vertical grid lines and labels for a linear axis 0..max drawn from x0 to x1. */
static void rpt_svg_xaxis(FILE *f, double x0, double x1, double ytop, double ybot, double max) {
    double step = rpt_tick_step(max, 6), v;
    for (v = 0; v <= max * 1.0001; v += step) {
        double x = x0 + v / max * (x1 - x0);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                x, ytop, x, ybot, x, ybot + 14, v);
    }
}

/* Horizontal grid lines and labels for a linear axis 0..max drawn from y0 (bottom) up to y1. */
static void rpt_svg_yaxis(FILE *f, double y0, double y1, double xleft, double xright, double max) {
    double step = rpt_tick_step(max, 6), v;
    for (v = step; v <= max * 1.0001; v += step) {
        double y = y0 - v / max * (y0 - y1);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
                xleft, y, xright, y, xleft - 4, y + 4, v);
    }
}

static void rpt_svg_label(const rpt_out *o, double x, double y, const char *anchor, const char *s) {
    fprintf(o->f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">", x, y, anchor);
    rpt_put_clipped(o, s, 30);
    fputs("</text>", o->f);
}

/* An axis end a little past max, on a tick. */
static double rpt_axis_max(double max) {
    double step;
    if (max <= 0) max = 1;
    step = rpt_tick_step(max * 1.05, 6);
    return step * ceil(max * 1.05 / step);
}

/* One arm's box: whiskers p1..p99, box p25..p75, a bar at the median; numbers in the tooltip. */
static void rpt_svg_box(const rpt_out *o, const rpt_arm *a, double y, double x0, double scale, const char *color) {
    const rpt_dbl *l = &a->lat;
    double p1 = rpt_pct(l, 1), p25 = rpt_pct(l, 25), p50 = rpt_pct(l, 50), p75 = rpt_pct(l, 75), p99 = rpt_pct(l, 99);
    char *label = rpt_arm_label(a->model, a->deployment);
    rpt_svg_label(o, x0 - 8, y + 13, "end", label);
    fputs("<g><title>", o->f);
    rpt_puts(o, label);
    fprintf(o->f, ": n=%zu p1=%.6g p25=%.6g p50=%.6g p75=%.6g p99=%.6g ms</title>"
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#555\"/>"
                  "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" fill=\"%s\" stroke=\"#333\"/>"
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#000\" stroke-width=\"2\"/></g>\n",
            l->n, p1, p25, p50, p75, p99, x0 + p1 * scale, y + 8, x0 + p99 * scale, y + 8,
            x0 + p25 * scale, y, (p75 - p25) * scale, color, x0 + p50 * scale, y - 2, x0 + p50 * scale, y + 18);
    free(label);
}

/* Latency distribution of the group's arms, one box per arm with successful calls. */
static void rpt_svg_latency(rpt_report *r, const rpt_out *o, const size_t *ids, size_t n) {
    const double W = 760, L = 200, R = 20, row = 26, top = 24;
    double max = 0, H;
    size_t i, rows = 0;
    for (i = 0; i < n; i++) {
        const rpt_dbl *l = &r->arms[ids[i]].lat;
        if (!l->n) continue;
        rows++;
        if (rpt_pct(l, 99) > max) max = rpt_pct(l, 99);
    }
    if (!rows) return;
    max = rpt_axis_max(max);
    H = top + row * (double)rows + 36;
    fprintf(o->f, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">\n"
                  "<text x=\"0\" y=\"14\" class=\"t\">latency per arm, ms (whiskers p1-p99, box p25-p75, line p50;"
                  " successful calls)</text>\n", W, H, W, H);
    rpt_svg_xaxis(o->f, L, W - R, top, H - 30, max);
    for (i = 0, rows = 0; i < n; i++)
        if (r->arms[ids[i]].lat.n)
            rpt_svg_box(o, &r->arms[ids[i]], top + row * (double)rows++ + 4, L, (W - R - L) / max, RPT_COLOR(i));
    fputs("</svg>\n", o->f);
}

static void rpt_format_time(int64_t ms, char *buf, size_t cap) {
    time_t t = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S", &tm)) snprintf(buf, cap, "?");
}

static char *rpt_duration(double ms) {
    if (ms < 1000) return rpt_fmt("%.0f ms", ms);
    if (ms < 120000) return rpt_fmt("%.3g s", ms / 1000);
    if (ms < 7200000) return rpt_fmt("%.3g min", ms / 60000);
    return rpt_fmt("%.3g h", ms / 3600000);
}

/* Arm colours, four to a row from (x0, y0). */
static void rpt_svg_legend(rpt_report *r, const rpt_out *o, const size_t *ids, size_t n, double x0, double y0) {
    size_t i;
    for (i = 0; i < n; i++) {
        double x = x0 + 180 * (double)(i % 4), y = y0 + 18 * (double)(i / 4);
        char *label = rpt_arm_label(r->arms[ids[i]].model, r->arms[ids[i]].deployment);
        fprintf(o->f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"12\" height=\"12\" fill=\"%s\"/>", x, y - 10, RPT_COLOR(i));
        rpt_svg_label(o, x + 16, y, "start", label);
        fputc('\n', o->f);
        free(label);
    }
}

/* The arms' shares of each time bucket, as 100% stacked bars (r->pos gives each arm's row). */
static void rpt_svg_traffic(rpt_report *r, const rpt_out *o, const rpt_slice *sl) {
    const double W = 760, L = 40, R = 10, top = 24, ph = 160;
    const size_t *ids = sl->arms, n = sl->narms;
    int64_t lo, hi, width;
    size_t i, b, nb, *count;
    char t0[40], t1[40], *dur;
    if (!sl->ntimes) return;
    lo = sl->times[0].ms;
    hi = sl->times[sl->ntimes - 1].ms;
    width = (hi - lo) / RPT_TIME_BUCKETS + 1;
    nb = (size_t)((hi - lo) / width) + 1;
    count = (size_t *)rpt_xrealloc(NULL, nb * (n + 1) * sizeof *count); /* column n: bucket total */
    memset(count, 0, nb * (n + 1) * sizeof *count);
    for (i = 0; i < sl->ntimes; i++) {
        b = (size_t)((sl->times[i].ms - lo) / width);
        count[b * (n + 1) + r->pos[sl->times[i].arm]]++;
        count[b * (n + 1) + n]++;
    }
    dur = rpt_duration((double)width);
    fprintf(o->f, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">\n"
                  "<text x=\"0\" y=\"14\" class=\"t\">share of primary calls over time (%zu buckets of %s, UTC)</text>\n",
            W, top + ph + 50 + 18 * (double)((n + 3) / 4), W, top + ph + 50 + 18 * (double)((n + 3) / 4), nb, dur);
    free(dur);
    for (b = 0; b < nb; b++) {
        double bw = (W - L - R) / (double)nb, x = L + bw * (double)b, y = top + ph;
        size_t total = count[b * (n + 1) + n];
        for (i = 0; i < n && total; i++) {
            size_t k = count[b * (n + 1) + i];
            double h = ph * (double)k / (double)total;
            char *label;
            if (!k) continue;
            y -= h;
            label = rpt_arm_label(r->arms[ids[i]].model, r->arms[ids[i]].deployment);
            fprintf(o->f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"><title>",
                    x + 0.5, y, bw > 2 ? bw - 1 : bw, h, RPT_COLOR(i));
            rpt_puts(o, label);
            fprintf(o->f, ": %zu of %zu (%.1f%%)</title></rect>\n", k, total, 100.0 * (double)k / (double)total);
            free(label);
        }
    }
    fprintf(o->f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">100%%</text>"
                  "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">0%%</text>\n",
            L - 4, top + 10, L - 4, top + ph);
    rpt_format_time(lo, t0, sizeof t0);
    rpt_format_time(hi, t1, sizeof t1);
    fprintf(o->f, "<text x=\"%.0f\" y=\"%.0f\">%s</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>\n",
            L, top + ph + 16, t0, W - R, top + ph + 16, t1);
    rpt_svg_legend(r, o, ids, n, L, top + ph + 40);
    fputs("</svg>\n", o->f);
    free(count);
}

/* Each pair's primary latency against its silent latency; points above the diagonal are pairs
   where the silent model was slower. Axes end past both p99s; points beyond sit on the edge. */
static void rpt_svg_scatter(const rpt_out *o, rpt_pair *p) {
    const double S = 340, L = 64, B = 40, T = 24;
    double max;
    size_t i, npts = p->points.n / 2, stride = npts / RPT_SCATTER_POINTS + 1;
    if (!npts) return;
    max = p->plat.n ? rpt_pct(&p->plat, 99) : 1;
    if (p->slat.n && rpt_pct(&p->slat, 99) > max) max = rpt_pct(&p->slat, 99);
    max = rpt_axis_max(max);
    fprintf(o->f, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">\n"
                  "<text x=\"0\" y=\"14\" class=\"t\">latency per pair, ms: primary (x) vs silent (y)%s</text>\n",
            L + S + 20, T + S + B, L + S + 20, T + S + B, stride > 1 ? ", sampled" : "");
    rpt_svg_xaxis(o->f, L, L + S, T, T + S, max);
    rpt_svg_yaxis(o->f, T + S, T, L, L + S, max);
    fprintf(o->f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n",
            L, T + S, L + S, T);
    for (i = 0; i < npts; i += stride) {
        double x = p->points.v[2 * i] / max, y = p->points.v[2 * i + 1] / max;
        if (x > 1) x = 1;
        if (y > 1) y = 1;
        fprintf(o->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\" fill=\"#4e79a7\" fill-opacity=\".5\"/>",
                L + x * S, T + S - y * S);
        if (i % 16 == 15) fputc('\n', o->f);
    }
    fprintf(o->f, "\n<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">primary ms</text>"
                  "<text x=\"12\" y=\"%.0f\" transform=\"rotate(-90 12 %.0f)\" text-anchor=\"middle\">silent ms</text>\n"
                  "</svg>\n",
            L + S / 2, T + S + 32, T + S / 2, T + S / 2);
}

/* ---- the report, section by section ---------------------------------------------------- */

/* Sort keys for the arms: group, then deployment index (unknown last), then model. */
typedef struct rpt_arm_key {
    size_t group;
    uint64_t dep;         /* -1 becomes the largest */
    const char *model;
    size_t id;
} rpt_arm_key;

static int rpt_cmp_arm_keys(const void *a, const void *b) {
    const rpt_arm_key *x = (const rpt_arm_key *)a, *y = (const rpt_arm_key *)b;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    if (x->dep != y->dep) return x->dep < y->dep ? -1 : 1;
    return strcmp(x->model, y->model);
}

static int rpt_cmp_edges(const void *a, const void *b) {
    const rpt_edge *x = (const rpt_edge *)a, *y = (const rpt_edge *)b;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    return strcmp(x->from, y->from);
}

static int rpt_cmp_times(const void *a, const void *b) {
    const rpt_time *x = (const rpt_time *)a, *y = (const rpt_time *)b;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    return x->ms < y->ms ? -1 : x->ms > y->ms;
}

/* Sorting once puts each group's arms, fallbacks and call times in one run, so the report walks
   the groups in a single pass, however many there are. */
static void rpt_sort_by_group(rpt_report *r) {
    size_t i, n = r->arm_keys.n;
    rpt_arm_key *k = (rpt_arm_key *)rpt_xrealloc(NULL, n * sizeof *k);
    for (i = 0; i < n; i++) {
        k[i].group = r->arms[i].group;
        k[i].dep = (uint64_t)r->arms[i].deployment;
        k[i].model = r->arms[i].model;
        k[i].id = i;
    }
    if (n > 1) qsort(k, n, sizeof *k, rpt_cmp_arm_keys); /* qsort(NULL, 0) is undefined */
    r->arm_order = (size_t *)rpt_xrealloc(NULL, n * sizeof *r->arm_order);
    for (i = 0; i < n; i++) r->arm_order[i] = k[i].id;
    free(k);
    r->pos = (size_t *)rpt_xrealloc(NULL, n * sizeof *r->pos);
    if (r->edge_keys.n > 1) qsort(r->edges, r->edge_keys.n, sizeof *r->edges, rpt_cmp_edges);
    if (r->ntimes > 1) qsort(r->times, r->ntimes, sizeof *r->times, rpt_cmp_times);
}

/* The arm a fallback route started from. A model that never answered gets an arm of its own
   (0 calls, no deployment index): it is the arm that is down, and its row should show that. */
static size_t rpt_chosen_arm(rpt_report *r, const rpt_edge *e) {
    size_t flen = strlen(e->from), mid = rpt_find(&r->model_keys, r->scratch,
                                                   rpt_key(r, &e->group, sizeof e->group, e->from, flen));
    if (mid != RPT_NONE) return r->model_arm[mid];
    return rpt_arm_id(r, e->group, e->from, flen, -1);
}

/* Everything the tables need sorted, and each arm's "chosen" count. Runs once, after reading. */
static void rpt_finish(rpt_report *r) {
    size_t i;
    for (i = 0; i < r->arm_keys.n; i++) {
        rpt_dbl_sort(&r->arms[i].lat);
        rpt_dbl_sort(&r->arms[i].ttft);
        r->arms[i].chosen = r->arms[i].direct;
        r->arms[i].chosen_ep = r->arms[i].direct_ep;
    }
    for (i = 0; i < r->pair_keys.n; i++) {
        rpt_dbl_sort(&r->pairs[i].plat);
        rpt_dbl_sort(&r->pairs[i].slat);
    }
    for (i = 0; i < r->edge_keys.n; i++) {
        size_t arm = rpt_chosen_arm(r, &r->edges[i]); /* first: it may add an arm and move r->arms */
        r->arms[arm].chosen += r->edges[i].count;
        r->arms[arm].chosen_ep += r->edges[i].count_ep;
    }
    for (i = 0; i < r->pend.cap; i++) r->orphans += r->pend.slot[i].id && r->pend.slot[i].silent;
    rpt_sort_by_group(r);
}

/* ---- the verdict: each arm against its group's control --------------------------------- */

/* How a metric reads in a sentence, and which way is good. */
static char *rpt_metric_words(const rpt_report *r, size_t slot) {
    switch (slot) {
    case RPT_M_ERROR: return rpt_fmt("error rate");
    case RPT_M_LATENCY: return rpt_fmt("latency");
    case RPT_M_COST: return rpt_fmt("cost per call");
    case RPT_M_SCORE: return rpt_fmt("judge score");
    default: return rpt_fmt("feedback %s", r->metric_keys.key[slot].s + 9);
    }
}

static int rpt_lower_is_better(size_t slot) { return slot <= RPT_M_COST; }

static rpt_srm_cat *rpt_srm_cat_of(rpt_analysis *an, const char *label) {
    size_t i;
    rpt_srm_cat *c;
    for (i = 0; i < an->ncats; i++)
        if (strcmp(an->cats[i].label, label) == 0) return &an->cats[i];
    c = RPT_PUSH(an->cats, an->ncats, an->cats_cap);
    c->label = rpt_fmt("%s", label);
    c->expected = 0;
    c->observed = 0;
    return c;
}

/* The sample ratio check of a group (its arms in table order), as the top comment defines it. */
static void rpt_srm(rpt_report *r, size_t g, const size_t *ids, size_t n, rpt_analysis *an) {
    size_t i, k, m = 0;
    double *obs, *expv;
    for (i = 0; i < r->epoch_keys.n; i++) {
        const rpt_epoch *e = &r->epochs[i];
        double total = 0;
        if (e->group != g || !e->calls) continue;
        an->srm_calls += e->calls;
        if (!e->has_split) {
            if (!an->srm_reason) an->srm_reason = rpt_fmt("split_epoch %lld has no split event in the log", (long long)e->epoch);
            continue;
        }
        for (k = 0; k < e->nw; k++) total += e->w[k];
        if (!(total > 0)) {
            if (!an->srm_reason) an->srm_reason = rpt_fmt("split_epoch %lld gives every arm weight 0", (long long)e->epoch);
            continue;
        }
    }
    if (!an->srm_calls && !an->srm_reason) an->srm_reason = rpt_fmt("no primary call carries a split_epoch");
    if (an->srm_reason) return;
    for (i = 0; i < n; i++) {
        const rpt_arm *a = &r->arms[ids[i]];
        char *label = rpt_arm_label(a->model, a->deployment);
        if (a->chosen_ep) rpt_srm_cat_of(an, label)->observed = a->chosen_ep;
        free(label);
    }
    for (i = 0; i < r->epoch_keys.n; i++) {
        const rpt_epoch *e = &r->epochs[i];
        double total = 0;
        if (e->group != g || !e->calls) continue;
        for (k = 0; k < e->nw; k++) total += e->w[k];
        for (k = 0; k < e->nw; k++) rpt_srm_cat_of(an, e->arm[k])->expected += (double)e->calls * e->w[k] / total;
    }
    obs = (double *)rpt_xrealloc(NULL, (an->ncats + 1) * sizeof *obs);
    expv = (double *)rpt_xrealloc(NULL, (an->ncats + 1) * sizeof *expv);
    for (i = 0; i < an->ncats; i++) {
        obs[m] = (double)an->cats[i].observed;
        expv[m++] = an->cats[i].expected;
    }
    an->srm_p = st_chisquare(obs, expv, m, &an->srm_chi2);
    free(obs);
    free(expv);
    if (isnan(an->srm_p)) { an->srm_reason = rpt_fmt("fewer than two arms have weight in the split events"); return; }
    an->srm_ran = 1;
    an->srm_mismatch = an->srm_p < RPT_SRM_ALPHA;
}

/* The always-valid p of arms a and b on a metric: 1/max Lambda so far, 1 before any evidence. */
static double rpt_p_av(rpt_report *r, size_t a, size_t b, size_t slot) {
    rpt_av *av = rpt_av_get(r, a, b, slot, 0);
    double p = av ? exp(-av->log_max) : 1;
    return p > 1 ? 1 : p;
}

static void rpt_compare(rpt_report *r, size_t ctrl, rpt_chal *ch) {
    const rpt_arm *c = &r->arms[ctrl], *t = &r->arms[ch->arm];
    size_t slot;
    for (slot = 0; slot < r->metric_keys.n; slot++) {
        const rpt_mom *mc = rpt_mom_get(c, slot), *mt = rpt_mom_get(t, slot);
        rpt_cmp *x;
        if (slot > RPT_M_LATENCY && !mc && !mt) continue;
        x = &ch->cmp[ch->ncmp++]; /* room for one entry per slot was made */
        x->slot = slot;
        x->diff = x->lo = x->hi = x->p = x->p_holm = x->p_av = x->p_av_holm = x->mde = x->se = NAN;
        x->p_av = mc && mt ? rpt_p_av(r, ctrl, ch->arm, slot) : NAN;
        if (slot == RPT_M_ERROR) {
            double kc = (double)c->errors, nc = (double)c->calls, kt = (double)t->errors, nt = (double)t->calls;
            double pbar = (kc + kt) / (nc + nt);
            st_interval d = st_newcombe(kt, nt, kc, nc);
            x->n_ctrl = nc;
            x->n_chal = nt;
            x->ctrl = kc / nc;
            x->chal = kt / nt;
            x->diff = d.value;
            x->lo = d.lo;
            x->hi = d.hi;
            x->p = st_two_prop_p(kt, nt, kc, nc);
            x->se = sqrt(pbar * (1 - pbar) * (1 / nc + 1 / nt));
            if (x->se > 0) x->mde = st_mde(x->se);
        } else if (slot == RPT_M_LATENCY) {
            double u1;
            x->n_ctrl = (double)c->lat.n;
            x->n_chal = (double)t->lat.n;
            x->ctrl = c->lat.n ? rpt_pct(&c->lat, 50) : NAN;
            x->chal = t->lat.n ? rpt_pct(&t->lat, 50) : NAN;
            if (x->ctrl > 0) x->diff = x->chal / x->ctrl;
            x->p = st_mann_whitney(c->lat.v, c->lat.n, t->lat.v, t->lat.n, &u1);
        } else {
            st_welch_result w;
            x->n_ctrl = mc ? mc->n : 0;
            x->n_chal = mt ? mt->n : 0;
            x->ctrl = mc ? mc->mean : NAN;
            x->chal = mt ? mt->mean : NAN;
            if (!mc || !mt) continue;
            w = st_welch(mc->mean, rpt_var(mc), mc->n, mt->mean, rpt_var(mt), mt->n);
            x->diff = w.diff;
            x->lo = w.lo;
            x->hi = w.hi;
            x->p = w.p;
            x->se = w.se;
            if (w.se > 0) x->mde = st_mde(w.se);
        }
    }
}

/* Which way a metric moved: +1 higher for the challenger, -1 lower. Latency by the mean of
   log(latency), which is what its mSPRT tests. */
static int rpt_direction(const rpt_report *r, const rpt_chal *ch, size_t ctrl, const rpt_cmp *x) {
    if (x->slot == RPT_M_LATENCY) {
        const rpt_mom *mc = rpt_mom_get(&r->arms[ctrl], x->slot), *mt = rpt_mom_get(&r->arms[ch->arm], x->slot);
        return mc && mt && mt->mean > mc->mean ? 1 : -1;
    }
    return x->diff > 0 ? 1 : -1;
}

/* "error rate higher: 12.0% vs 5.00% (+7.00 points, 95% CI +3.10 to +10.9), always-valid p 0.0001" */
static char *rpt_finding(const rpt_report *r, const rpt_cmp *x, int dir, int holm) {
    char *w = rpt_metric_words(r, x->slot), *s;
    const char *way = dir > 0 ? "higher" : "lower", *av = holm ? "always-valid p (Holm)" : "always-valid p";
    if (x->slot == RPT_M_ERROR)
        s = rpt_fmt("%s %s: %.3g%% vs %.3g%% (%+.3g points, 95%% CI %+.3g to %+.3g), %s %.2g", w, way,
                    100 * x->chal, 100 * x->ctrl, 100 * x->diff, 100 * x->lo, 100 * x->hi, av, x->p_av_holm);
    else if (x->slot == RPT_M_LATENCY)
        s = rpt_fmt("%s %s: median %.4g vs %.4g ms (x%.3g), %s %.2g", w, way, x->chal, x->ctrl, x->diff, av,
                    x->p_av_holm);
    else
        s = rpt_fmt("%s %s: %.4g vs %.4g (%+.3g, 95%% CI %+.3g to %+.3g), %s %.2g", w, way, x->chal,
                    x->ctrl, x->diff, x->lo, x->hi, av, x->p_av_holm);
    free(w);
    return s;
}

static char *rpt_append(char *list, const char *sep, char *item) {
    char *s = list ? rpt_fmt("%s%s%s", list, sep, item) : item;
    if (list) { free(list); free(item); }
    return s;
}

static void rpt_verdict(rpt_report *r, const rpt_analysis *an, rpt_chal *ch) {
    const rpt_arm *c = &r->arms[an->control], *t = &r->arms[ch->arm];
    const rpt_cmp *err = &ch->cmp[0];
    char *worse = NULL, *better = NULL;
    size_t i;
    if (an->srm_mismatch) {
        ch->verdict = "invalid";
        ch->reason = rpt_fmt("sample ratio mismatch (chi-square %.4g, p %.2g): the arms did not get the traffic the "
                             "split asked for, so the comparison is not trustworthy", an->srm_chi2, an->srm_p);
        return;
    }
    if (c->calls < RPT_MIN_CALLS || t->calls < RPT_MIN_CALLS) {
        ch->verdict = "inconclusive";
        ch->reason = rpt_fmt("too few calls: %llu and %llu (control), at least %d each needed", (unsigned long long)t->calls,
                             (unsigned long long)c->calls, RPT_MIN_CALLS);
        if (!isnan(err->mde))
            ch->reason = rpt_append(ch->reason, "; ", rpt_fmt("an error-rate difference of %.3g points could be detected now",
                                                             100 * err->mde));
        return;
    }
    for (i = 0; i < ch->ncmp; i++) {
        const rpt_cmp *x = &ch->cmp[i];
        int dir, bad;
        if (!(x->p_av_holm < RPT_AV_ALPHA)) continue;
        dir = rpt_direction(r, ch, an->control, x);
        bad = rpt_lower_is_better(x->slot) ? dir > 0 : dir < 0;
        if (bad) worse = rpt_append(worse, "; ", rpt_finding(r, x, dir, an->nchal > 1));
        else better = rpt_append(better, "; ", rpt_finding(r, x, dir, an->nchal > 1));
    }
    if (worse) {
        ch->verdict = "worse";
        ch->reason = better ? rpt_fmt("%s (though better: %s)", worse, better) : rpt_fmt("%s", worse);
    } else if (better) {
        ch->verdict = "better";
        ch->reason = rpt_fmt("%s", better);
    } else if (err->mde > RPT_MAX_MDE) {
        ch->verdict = "inconclusive";
        ch->reason = rpt_fmt("no metric differs yet, and only an error-rate difference of %.3g points or more could be "
                             "detected now (%.0f and %.0f more calls would halve that)", 100 * err->mde,
                             3 * err->n_chal, 3 * err->n_ctrl);
    } else {
        ch->verdict = "no difference detected";
        if (isnan(err->mde))
            ch->reason = rpt_fmt("no metric differs with always-valid p < %.2g (no errors in either arm)", RPT_AV_ALPHA);
        else
            ch->reason = rpt_fmt("no metric differs with always-valid p < %.2g; an error-rate difference of %.3g points "
                                 "would have been detected (%.0f and %.0f more calls would halve that)", RPT_AV_ALPHA,
                                 100 * err->mde, 3 * err->n_chal, 3 * err->n_ctrl);
    }
    free(worse);
    free(better);
}

/* Holm across the challengers of a group, metric by metric, for p and for the always-valid p. */
static void rpt_holm(rpt_report *r, rpt_analysis *an) {
    size_t slot, i, k;
    double *p = (double *)rpt_xrealloc(NULL, (an->nchal + 1) * sizeof *p);
    double *q = (double *)rpt_xrealloc(NULL, (an->nchal + 1) * sizeof *q);
    for (slot = 0; slot < r->metric_keys.n; slot++) {
        for (i = 0; i < an->nchal; i++) {
            p[i] = q[i] = NAN;
            for (k = 0; k < an->chal[i].ncmp; k++)
                if (an->chal[i].cmp[k].slot == slot) { p[i] = an->chal[i].cmp[k].p; q[i] = an->chal[i].cmp[k].p_av; }
        }
        st_holm(p, an->nchal);
        st_holm(q, an->nchal);
        for (i = 0; i < an->nchal; i++)
            for (k = 0; k < an->chal[i].ncmp; k++)
                if (an->chal[i].cmp[k].slot == slot) { an->chal[i].cmp[k].p_holm = p[i]; an->chal[i].cmp[k].p_av_holm = q[i]; }
    }
    free(p);
    free(q);
}

/* 1 when the arm is the one --control names: "MODEL #DEP" exactly, or its model. */
static int rpt_is_control(const rpt_report *r, const rpt_arm *a) {
    char *label;
    int yes;
    if (!r->control) return 0;
    label = rpt_arm_label(a->model, a->deployment);
    yes = strcmp(label, r->control) == 0 || strcmp(a->model, r->control) == 0;
    free(label);
    return yes;
}

/* Every group's control, sample ratio check, comparisons and verdicts. Returns 0 when --control
   named an arm that no group has. */
static int rpt_analyse(rpt_report *r) {
    size_t g, at = 0, i;
    int found = 0;
    r->an = (rpt_analysis *)rpt_xrealloc(NULL, (r->group_keys.n + 1) * sizeof *r->an);
    memset(r->an, 0, (r->group_keys.n + 1) * sizeof *r->an);
    for (g = 0; g < r->group_keys.n; g++) {
        rpt_analysis *an = &r->an[g];
        const size_t *ids = r->arm_order ? r->arm_order + at : NULL;
        size_t n = 0;
        while (at < r->arm_keys.n && r->arms[r->arm_order[at]].group == g) { at++; n++; }
        an->control = RPT_NONE;
        for (i = 0; i < n && an->control == RPT_NONE; i++)
            if (rpt_is_control(r, &r->arms[ids[i]])) an->control = ids[i];
        found |= an->control != RPT_NONE;
        for (i = 0; i < n && an->control == RPT_NONE; i++)
            if (r->arms[ids[i]].calls) an->control = ids[i];
        rpt_srm(r, g, ids, n, an);
        if (an->control == RPT_NONE) continue;
        for (i = 0; i < n; i++) {
            rpt_chal *ch;
            if (ids[i] == an->control || !r->arms[ids[i]].calls || !r->arms[an->control].calls) continue;
            ch = RPT_PUSH(an->chal, an->nchal, an->chal_cap);
            memset(ch, 0, sizeof *ch);
            ch->arm = ids[i];
            ch->cmp = (rpt_cmp *)rpt_xrealloc(NULL, (r->metric_keys.n + 1) * sizeof *ch->cmp);
            rpt_compare(r, an->control, ch);
        }
        rpt_holm(r, an);
        for (i = 0; i < an->nchal; i++) rpt_verdict(r, an, &an->chal[i]);
    }
    return found || !r->control;
}

static void rpt_emit_header(rpt_report *r, const rpt_out *o) {
    if (o->html) {
        fputs("<h1>llmsplit report: ", o->f);
        rpt_puts(o, r->path);
        fputs("</h1>\n", o->f);
    } else {
        fputs("llmsplit report: ", o->f);
        rpt_puts(o, r->path);
        fputc('\n', o->f);
    }
    rpt_say(o, "p", "%llu records: %llu primary calls, %llu silent calls, %llu events (%llu config)",
            (unsigned long long)r->records, (unsigned long long)r->primary, (unsigned long long)r->silent,
            (unsigned long long)r->events, (unsigned long long)r->configs);
    if (r->judge_calls)
        rpt_say(o, "p", "%llu judge calls (role judge: priced, never an arm; see \"judge calls\" below)",
                (unsigned long long)r->judge_calls);
    if (r->has_time) rpt_say(o, "p", "from %s to %s", r->ts_min, r->ts_max);
    if (r->bad)
        rpt_say(o, "p", "%llu line%s could not be read (first: line %llu: %s)", (unsigned long long)r->bad,
                r->bad == 1 ? "" : "s", (unsigned long long)r->bad_line, r->bad_first);
    rpt_say(o, "p", "latency in ms, percentiles by nearest rank (rank ceil(p/100*n)) over successful calls;");
    rpt_say(o, "p", "tokens: sum and mean over successful calls; cost: sum over all calls");
    if (r->closed)
        rpt_say(o, "p", "client_closed (the caller went away): %llu primary calls, chosen by their arm but not its calls:",
                (unsigned long long)r->closed);
    if (r->closed) rpt_say(o, "p", "no error, latency, tokens or cost; the sample ratio check counts them");
    if (r->feedback || r->scores || r->judgements)
        rpt_say(o, "p", "%llu feedback, %llu score and %llu judgement events; %llu without their call in the log",
                (unsigned long long)r->feedback, (unsigned long long)r->scores, (unsigned long long)r->judgements,
                (unsigned long long)(r->events_waiting + r->events_unknown));
    if (!r->primary && !r->silent) rpt_say(o, "p", "no call records in the log");
}

/* Per arm, the judge score and each feedback metric: n, mean and its t interval. */
static void rpt_emit_quality(rpt_report *r, const rpt_out *o, const size_t *ids, size_t n) {
    static const char *const head[] = {"arm", "quality", "n", "mean", "95% CI", NULL};
    rpt_table t;
    size_t i, slot, rows = 0;
    rpt_table_init(&t, 5, 1u | 2u);
    rpt_cells(&t, head);
    for (i = 0; i < n; i++)
        for (slot = RPT_M_SCORE; slot < r->metric_keys.n; slot++) {
            const rpt_mom *m = rpt_mom_get(&r->arms[ids[i]], slot);
            st_interval ci;
            char *label;
            if (!m) continue;
            ci = st_mean_t(m->mean, rpt_var(m), m->n);
            label = rpt_arm_label(r->arms[ids[i]].model, r->arms[ids[i]].deployment);
            rpt_cell(&t, "%s", label);
            rpt_cell(&t, "%s", r->metric_keys.key[slot].s);
            rpt_cell(&t, "%.0f", m->n);
            rpt_cell(&t, "%.4g", m->mean);
            if (isnan(ci.lo)) rpt_cell(&t, "-");
            else rpt_cell(&t, "%.4g..%.4g", ci.lo, ci.hi);
            free(label);
            rows++;
        }
    if (rows) {
        if (!o->html) fputc('\n', o->f);
        rpt_table_out(o, &t);
    } else {
        for (i = 0; i < t.n; i++) free(t.cell[i]);
        free(t.cell);
    }
}

/* The client_closed column is there only when the group has such calls. */
static void rpt_emit_arms(rpt_report *r, const rpt_out *o, const rpt_group *g, const size_t *ids, size_t n) {
    static const char *const head1[] = {"arm", "calls", "share", "chosen", "client_closed", "errors", "err%",
                                        "p50", "p95", "p99", "ttft p50", NULL};
    static const char *const head2[] = {"arm", "prompt tok", "mean", "completion tok", "mean", "cost $", NULL};
    rpt_table t1, t2;
    size_t i;
    int closed = g->closed > 0;
    rpt_table_init(&t1, 10 + closed, 1u);
    rpt_table_init(&t2, 6, 1u);
    for (i = 0; head1[i]; i++)
        if (closed || i != 4) rpt_cell(&t1, "%s", head1[i]);
    rpt_cells(&t2, head2);
    for (i = 0; i < n; i++) {
        const rpt_arm *a = &r->arms[ids[i]];
        char *label = rpt_arm_label(a->model, a->deployment);
        rpt_cell(&t1, "%s", label);
        rpt_cell(&t1, "%llu", (unsigned long long)a->calls);
        rpt_cell(&t1, "%.1f%%", g->calls ? 100.0 * (double)a->calls / (double)g->calls : 0.0);
        rpt_cell(&t1, "%llu", (unsigned long long)a->chosen);
        if (closed) rpt_cell(&t1, "%llu", (unsigned long long)a->closed);
        rpt_cell(&t1, "%llu", (unsigned long long)a->errors);
        if (a->calls) rpt_cell(&t1, "%.1f%%", 100.0 * (double)a->errors / (double)a->calls);
        else rpt_cell(&t1, "-");
        rpt_cell_pct(&t1, &a->lat, 50);
        rpt_cell_pct(&t1, &a->lat, 95);
        rpt_cell_pct(&t1, &a->lat, 99);
        rpt_cell_pct(&t1, &a->ttft, 50);
        rpt_cell(&t2, "%s", label);
        rpt_cell_num(&t2, 0, a->prompt);
        rpt_cell_mean(&t2, a->prompt, a->tok_n);
        rpt_cell_num(&t2, 0, a->completion);
        rpt_cell_mean(&t2, a->completion, a->tok_n);
        rpt_cell_num(&t2, 6, a->cost);
        free(label);
    }
    rpt_table_out(o, &t1);
    if (!o->html) fputc('\n', o->f);
    rpt_table_out(o, &t2);
    rpt_emit_quality(r, o, ids, n);
}

static void rpt_emit_fallbacks(rpt_report *r, const rpt_out *o, const rpt_group *g, const rpt_slice *sl) {
    rpt_table t;
    size_t i;
    if (!g->fallbacks) { rpt_say(o, "p", "fallbacks: none"); return; }
    rpt_say(o, "p", "fallbacks: %llu (chosen model -> arm that answered)", (unsigned long long)g->fallbacks);
    rpt_table_init(&t, 3, 3u);
    rpt_cell(&t, "chosen");
    rpt_cell(&t, "answered by");
    rpt_cell(&t, "calls");
    for (i = 0; i < sl->nedges; i++) {
        const rpt_edge *e = &sl->edges[i];
        char *label = rpt_arm_label(r->arms[e->to].model, r->arms[e->to].deployment);
        rpt_cell(&t, "%s", e->from);
        rpt_cell(&t, "%s", label);
        rpt_cell(&t, "%llu", (unsigned long long)e->count);
        free(label);
    }
    rpt_table_out(o, &t);
    if (!o->html) fputc('\n', o->f);
}

static void rpt_emit_rollbacks(const rpt_out *o, const rpt_group *g) {
    rpt_table t;
    size_t i;
    if (!g->rollbacks) { rpt_say(o, "p", "rollbacks: none"); return; }
    if (g->rollback_ends)
        rpt_say(o, "p", "rollbacks: %llu (%llu ended)%s", (unsigned long long)g->rollbacks,
                (unsigned long long)g->rollback_ends, g->rollbacks > g->nkept ? "; the first ones:" : "");
    else
        rpt_say(o, "p", "rollbacks: %llu%s", (unsigned long long)g->rollbacks,
                g->rollbacks > g->nkept ? "; the first ones:" : "");
    rpt_table_init(&t, 4, 1u | 2u | 8u);
    rpt_cell(&t, "time");
    rpt_cell(&t, "arm");
    rpt_cell(&t, "cooldown s");
    rpt_cell(&t, "reason");
    for (i = 0; i < g->nkept; i++) {
        rpt_cell(&t, "%s", g->kept[i].ts);
        rpt_cell(&t, "%s", g->kept[i].arm);
        if (g->kept[i].cooldown >= 0) rpt_cell(&t, "%g", g->kept[i].cooldown);
        else rpt_cell(&t, "-");
        rpt_cell(&t, "%s", g->kept[i].reason);
    }
    rpt_table_out(o, &t);
}

static void rpt_emit_group(rpt_report *r, const rpt_out *o, size_t group, const rpt_slice *sl) {
    const rpt_group *g = &r->groups[group];
    size_t i;
    if (g->closed)
        rpt_say(o, "h2", "group %s: %llu primary calls and %llu client_closed", r->group_keys.key[group].s,
                (unsigned long long)g->calls, (unsigned long long)g->closed);
    else
        rpt_say(o, "h2", "group %s: %llu primary calls", r->group_keys.key[group].s, (unsigned long long)g->calls);
    if (sl->narms) rpt_emit_arms(r, o, g, sl->arms, sl->narms);
    if (o->html && sl->narms) {
        for (i = 0; i < sl->narms; i++) r->pos[sl->arms[i]] = i;
        rpt_svg_latency(r, o, sl->arms, sl->narms);
        rpt_svg_traffic(r, o, sl);
    }
    if (!o->html) fputc('\n', o->f);
    rpt_emit_fallbacks(r, o, g, sl);
    rpt_emit_rollbacks(o, g);
}

/* A pair's judgements, when it has any: the silent model's side. */
static void rpt_emit_judgements(const rpt_out *o, const rpt_pair *p) {
    st_interval ws = st_wilson((double)p->wins, (double)(p->wins + p->losses));
    if (!p->wins && !p->ties && !p->losses) return;
    if (p->wins + p->losses)
        rpt_say(o, "p", "judgements, silent model's side: %llu wins, %llu ties, %llu losses; win share of decided pairs "
                "%.1f%% (95%% CI %.1f%% to %.1f%%), sign test p %.2g", (unsigned long long)p->wins,
                (unsigned long long)p->ties, (unsigned long long)p->losses, 100 * ws.value, 100 * ws.lo, 100 * ws.hi,
                st_sign_test((double)p->wins, (double)p->losses));
    else
        rpt_say(o, "p", "judgements: %llu ties, no decided pair", (unsigned long long)p->ties);
    rpt_say(o, "p", "judged in both orders: the orders disagreed in %llu of %llu (%.1f%%)",
            (unsigned long long)p->inconsistent, (unsigned long long)(p->wins + p->ties + p->losses),
            100.0 * (double)p->inconsistent / (double)(p->wins + p->ties + p->losses));
    if (p->sized)
        rpt_say(o, "p", "mean length of the winner %.1f chars, of the loser %.1f chars (%llu decided pairs)",
                p->win_chars / (double)p->sized, p->lose_chars / (double)p->sized, (unsigned long long)p->sized);
}

static void rpt_emit_pair(rpt_report *r, const rpt_out *o, rpt_pair *p) {
    const rpt_arm *a = &r->arms[p->arm];
    char *label = rpt_arm_label(a->model, a->deployment);
    rpt_table t;
    rpt_say(o, "h3", "%s: %s -> %s: %llu pairs, %llu silent errors (%.1f%%), %llu primary errors",
            r->group_keys.key[a->group].s, label, r->silent_keys.key[p->silent].s, (unsigned long long)p->pairs,
            (unsigned long long)p->silent_errors, 100.0 * (double)p->silent_errors / (double)p->pairs,
            (unsigned long long)p->primary_errors);
    free(label);
    rpt_table_init(&t, 3, 1u);
    rpt_cell(&t, " ");
    rpt_cell(&t, "primary");
    rpt_cell(&t, "silent");
    rpt_cell(&t, "latency p50 ms");
    rpt_cell_pct(&t, &p->plat, 50);
    rpt_cell_pct(&t, &p->slat, 50);
    rpt_cell(&t, "latency p95 ms");
    rpt_cell_pct(&t, &p->plat, 95);
    rpt_cell_pct(&t, &p->slat, 95);
    rpt_cell(&t, "prompt tokens mean");
    rpt_cell_mean(&t, p->p_prompt, p->p_tok_n);
    rpt_cell_mean(&t, p->s_prompt, p->s_tok_n);
    rpt_cell(&t, "completion tokens mean");
    rpt_cell_mean(&t, p->p_completion, p->p_tok_n);
    rpt_cell_mean(&t, p->s_completion, p->s_tok_n);
    rpt_cell(&t, "cost sum $");
    rpt_cell_num(&t, 6, p->p_cost);
    rpt_cell_num(&t, 6, p->s_cost);
    rpt_table_out(o, &t);
    if (p->compared) {
        rpt_say(o, "p", "exact text match: %llu of %llu pairs with both texts (%.1f%%)",
                (unsigned long long)p->matches, (unsigned long long)p->compared,
                100.0 * (double)p->matches / (double)p->compared);
        rpt_say(o, "p", "length difference, silent - primary: %+.1f chars on average",
                (double)p->len_diff / (double)p->compared);
    } else
        rpt_say(o, "p", "texts: not in the log (records keep \"response\" only when asked to)");
    rpt_emit_judgements(o, p);
    if (o->html) rpt_svg_scatter(o, p);
}

/* Judge calls per judge model: what the judging cost. */
static void rpt_emit_judges(rpt_report *r, const rpt_out *o) {
    rpt_table t;
    size_t i;
    if (!r->judge_calls) return;
    rpt_say(o, "h2", "judge calls: %llu (scoring answers and judging pairs; not an arm)", (unsigned long long)r->judge_calls);
    rpt_table_init(&t, 4, 1u);
    rpt_cell(&t, "judge model");
    rpt_cell(&t, "calls");
    rpt_cell(&t, "errors");
    rpt_cell(&t, "cost $");
    for (i = 0; i < r->judge_keys.n; i++) {
        rpt_cell(&t, "%s", r->judge_keys.key[i].s);
        rpt_cell(&t, "%llu", (unsigned long long)r->judges[i].calls);
        rpt_cell(&t, "%llu", (unsigned long long)r->judges[i].errors);
        rpt_cell_num(&t, 6, r->judges[i].cost);
    }
    rpt_table_out(o, &t);
}

static void rpt_emit_pairs(rpt_report *r, const rpt_out *o) {
    uint64_t total = 0;
    size_t i;
    for (i = 0; i < r->pair_keys.n; i++) total += r->pairs[i].pairs;
    if (!r->silent) return;
    rpt_say(o, "h2", "mirrored pairs: %llu (primary and silent record with the same pair_id)",
            (unsigned long long)total);
    rpt_say(o, "p", "silent calls without a primary in the log (orphans): %llu", (unsigned long long)r->orphans);
    for (i = 0; i < r->pair_keys.n; i++) rpt_emit_pair(r, o, &r->pairs[i]);
}

/* The next group's runs of the sorted arrays; the cursors move past them. */
static rpt_slice rpt_next_slice(const rpt_report *r, size_t g, size_t *arm, size_t *edge, size_t *time) {
    rpt_slice sl;
    /* (an empty array may be NULL, and NULL + 0 is undefined in C) */
    sl.arms = r->arm_order ? r->arm_order + *arm : NULL;
    sl.edges = r->edges ? r->edges + *edge : NULL;
    sl.times = r->times ? r->times + *time : NULL;
    for (sl.narms = 0; *arm < r->arm_keys.n && r->arms[r->arm_order[*arm]].group == g; (*arm)++) sl.narms++;
    for (sl.nedges = 0; *edge < r->edge_keys.n && r->edges[*edge].group == g; (*edge)++) sl.nedges++;
    for (sl.ntimes = 0; *time < r->ntimes && r->times[*time].group == g; (*time)++) sl.ntimes++;
    return sl;
}

/* ---- the verdict section ------------------------------------------------------------- */

static char *rpt_label_of(const rpt_report *r, size_t arm) {
    return rpt_arm_label(r->arms[arm].model, r->arms[arm].deployment);
}

/* One plain sentence per challenger; a group whose split did not deliver says so first. */
static void rpt_emit_sentences(rpt_report *r, const rpt_out *o) {
    size_t g, i;
    for (g = 0; g < r->group_keys.n; g++) {
        const rpt_analysis *an = &r->an[g];
        const char *gname = r->group_keys.key[g].s;
        char *cl;
        if (an->srm_mismatch)
            rpt_say(o, "p", "%s: the comparison is not trustworthy: sample ratio mismatch (chi-square %.4g, p %.2g over %llu "
                    "calls): the arms did not get the traffic the split asked for", gname, an->srm_chi2, an->srm_p,
                    (unsigned long long)an->srm_calls);
        if (an->control == RPT_NONE || !an->nchal) continue;
        cl = rpt_label_of(r, an->control);
        for (i = 0; i < an->nchal; i++) {
            const rpt_chal *ch = &an->chal[i];
            char *al = rpt_label_of(r, ch->arm);
            if (strcmp(ch->verdict, "better") == 0 || strcmp(ch->verdict, "worse") == 0)
                rpt_say(o, "p", "%s: %s is %s than %s: %s.", gname, al, ch->verdict, cl, ch->reason);
            else if (strcmp(ch->verdict, "invalid") == 0)
                rpt_say(o, "p", "%s: %s against %s: invalid, the split did not deliver its shares.", gname, al, cl);
            else
                rpt_say(o, "p", "%s: %s against %s: %s: %s.", gname, al, cl, ch->verdict, ch->reason);
            free(al);
        }
        free(cl);
    }
}

/* A figure of a comparison row: error rates in percent, latency in ms, the rest as they are. */
static void rpt_cell_fig(rpt_table *t, size_t slot, double v, int signed_) {
    if (isnan(v)) rpt_cell(t, "-");
    else if (slot == RPT_M_ERROR) rpt_cell(t, signed_ ? "%+.2f%%" : "%.2f%%", 100 * v);
    else if (slot == RPT_M_LATENCY) rpt_cell(t, "%.1f", v);
    else rpt_cell(t, signed_ ? "%+.4g" : "%.4g", v);
}

static void rpt_cell_p(rpt_table *t, double p) {
    if (isnan(p)) rpt_cell(t, "-");
    else rpt_cell(t, "%.2g", p);
}

static void rpt_emit_comparisons(rpt_report *r, const rpt_out *o) {
    static const char *const head[] = {"group", "arm", "metric", "control", "arm", "diff", "95% CI", "p", "p Holm",
                                       "p always-valid", "MDE", NULL};
    rpt_table t;
    size_t g, i, k, rows = 0;
    rpt_table_init(&t, 11, 1u | 2u | 4u);
    rpt_cells(&t, head);
    for (g = 0; g < r->group_keys.n; g++)
        for (i = 0; i < r->an[g].nchal; i++) {
            const rpt_chal *ch = &r->an[g].chal[i];
            char *al = rpt_label_of(r, ch->arm);
            for (k = 0; k < ch->ncmp; k++) {
                const rpt_cmp *x = &ch->cmp[k];
                rpt_cell(&t, "%s", r->group_keys.key[g].s);
                rpt_cell(&t, "%s", al);
                rpt_cell(&t, "%s", r->metric_keys.key[x->slot].s);
                rpt_cell_fig(&t, x->slot, x->ctrl, 0);
                rpt_cell_fig(&t, x->slot, x->chal, 0);
                if (x->slot == RPT_M_LATENCY) {
                    if (isnan(x->diff)) rpt_cell(&t, "-");
                    else rpt_cell(&t, "x%.3g", x->diff);
                    rpt_cell(&t, "-");
                } else {
                    rpt_cell_fig(&t, x->slot, x->diff, 1);
                    if (isnan(x->lo)) rpt_cell(&t, "-");
                    else if (x->slot == RPT_M_ERROR) rpt_cell(&t, "%+.2f..%+.2f", 100 * x->lo, 100 * x->hi);
                    else rpt_cell(&t, "%+.3g..%+.3g", x->lo, x->hi);
                }
                rpt_cell_p(&t, x->p);
                rpt_cell_p(&t, x->p_holm);
                rpt_cell_p(&t, x->p_av);
                rpt_cell_fig(&t, x->slot == RPT_M_LATENCY ? RPT_M_COST : x->slot, x->mde, 0);
                rows++;
            }
            free(al);
        }
    if (rows) {
        rpt_say(o, "p", "against the control (diff: arm - control, latency: ratio of medians; error rates in %%, latency in ms):");
        rpt_table_out(o, &t);
    } else {
        for (i = 0; i < t.n; i++) free(t.cell[i]);
        free(t.cell);
    }
}

/* One interval per row: a dot at the value, a bar from lo to hi. Shared axis from 0 (rates), or
   each row on its own axis centred on zero with a line at zero (differences, in their own units). */
typedef struct rpt_bar {
    char *label, *text;
    double v, lo, hi;
} rpt_bar;

static void rpt_svg_intervals(const rpt_out *o, const char *title, rpt_bar *b, size_t n, int centred) {
    const double W = 760, L = 220, R = 220, row = 24, top = 28;
    double max = 0, H = top + row * (double)n + 16, x0 = L, x1 = W - R;
    size_t i;
    if (!n) return;
    for (i = 0; i < n; i++) if (!isnan(b[i].hi) && b[i].hi > max) max = b[i].hi;
    max = rpt_axis_max(max);
    fprintf(o->f, "<svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">\n"
                  "<text x=\"0\" y=\"14\" class=\"t\">", W, H, W, H);
    rpt_puts(o, title);
    fputs("</text>\n", o->f);
    for (i = 0; i < n; i++) {
        double y = top + row * (double)i + 10, m, mid, scale;
        rpt_svg_label(o, x0 - 8, y + 4, "end", b[i].label);
        if (centred) {
            m = 0;
            if (!isnan(b[i].lo) && fabs(b[i].lo) > m) m = fabs(b[i].lo);
            if (!isnan(b[i].hi) && fabs(b[i].hi) > m) m = fabs(b[i].hi);
            if (!isnan(b[i].v) && fabs(b[i].v) > m) m = fabs(b[i].v);
            if (!(m > 0)) m = 1;
            m *= 1.1;
            mid = (x0 + x1) / 2;
            scale = (x1 - x0) / 2 / m;
            fprintf(o->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" stroke-dasharray=\"3 2\"/>",
                    mid, y - 9, mid, y + 9);
        } else {
            mid = x0;
            scale = (x1 - x0) / max;
        }
        if (!isnan(b[i].lo) && !isnan(b[i].hi))
            fprintf(o->f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\" stroke-width=\"2\"/>"
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>"
                          "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>",
                    mid + b[i].lo * scale, y, mid + b[i].hi * scale, y, mid + b[i].lo * scale, y - 5,
                    mid + b[i].lo * scale, y + 5, mid + b[i].hi * scale, y - 5, mid + b[i].hi * scale, y + 5);
        if (!isnan(b[i].v))
            fprintf(o->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>", mid + b[i].v * scale, y, RPT_COLOR(i));
        fprintf(o->f, "<text x=\"%.1f\" y=\"%.1f\">", x1 + 10, y + 4);
        rpt_puts(o, b[i].text);
        fputs("</text>\n", o->f);
    }
    fputs("</svg>\n", o->f);
}

/* HTML: per group, each arm's error rate with its Wilson interval, and each difference against
   the control with its interval, as error bars. */
static void rpt_svg_verdict(rpt_report *r, const rpt_out *o) {
    size_t g, i, k, at = 0;
    for (g = 0; g < r->group_keys.n; g++) {
        const rpt_analysis *an = &r->an[g];
        rpt_bar *b;
        size_t nb = 0, cap = 0;
        char *title;
        const size_t *ids = r->arm_order ? r->arm_order + at : NULL;
        size_t n = 0;
        while (at < r->arm_keys.n && r->arms[r->arm_order[at]].group == g) { at++; n++; }
        if (an->control == RPT_NONE) continue;
        b = NULL;
        for (i = 0; i < n; i++) {
            const rpt_arm *a = &r->arms[ids[i]];
            st_interval w = st_wilson((double)a->errors, (double)a->calls);
            rpt_bar *x;
            if (!a->calls) continue;
            x = RPT_PUSH(b, nb, cap);
            x->label = rpt_label_of(r, ids[i]);
            x->v = w.value;
            x->lo = w.lo;
            x->hi = w.hi;
            x->text = rpt_fmt("%.2f%% (%.2f to %.2f)", 100 * w.value, 100 * w.lo, 100 * w.hi);
        }
        title = rpt_fmt("%s: error rate per arm, 95%% Wilson intervals", r->group_keys.key[g].s);
        rpt_svg_intervals(o, title, b, nb, 0);
        free(title);
        for (i = 0; i < nb; i++) { free(b[i].label); free(b[i].text); }
        nb = 0;
        for (i = 0; i < an->nchal; i++) {
            const rpt_chal *ch = &an->chal[i];
            char *al = rpt_label_of(r, ch->arm);
            for (k = 0; k < ch->ncmp; k++) {
                const rpt_cmp *c = &ch->cmp[k];
                rpt_bar *x;
                if (c->slot == RPT_M_LATENCY || isnan(c->lo)) continue;
                x = RPT_PUSH(b, nb, cap);
                x->label = rpt_fmt("%s %s", al, r->metric_keys.key[c->slot].s);
                x->v = c->diff;
                x->lo = c->lo;
                x->hi = c->hi;
                x->text = c->slot == RPT_M_ERROR ? rpt_fmt("%+.2f pts (%+.2f to %+.2f)", 100 * c->diff, 100 * c->lo, 100 * c->hi)
                                                  : rpt_fmt("%+.4g (%+.3g to %+.3g)", c->diff, c->lo, c->hi);
            }
            free(al);
        }
        title = rpt_fmt("%s: arm - control, 95%% intervals (each row on its own scale; dashed: no difference)",
                        r->group_keys.key[g].s);
        rpt_svg_intervals(o, title, b, nb, 1);
        free(title);
        for (i = 0; i < nb; i++) { free(b[i].label); free(b[i].text); }
        free(b);
    }
}

static void rpt_emit_verdicts(rpt_report *r, const rpt_out *o) {
    size_t g;
    int any = 0;
    for (g = 0; g < r->group_keys.n; g++) any |= r->an[g].nchal || r->an[g].srm_mismatch || r->an[g].srm_ran;
    if (!any) return;
    rpt_say(o, "h2", "verdict: each arm against its group's control (always-valid p < %.2g; see report --help)", RPT_AV_ALPHA);
    rpt_emit_sentences(r, o);
    if (!o->html) fputc('\n', o->f);
    rpt_emit_comparisons(r, o);
    for (g = 0; g < r->group_keys.n; g++) {
        const rpt_analysis *an = &r->an[g];
        if (!r->groups[g].calls && !r->groups[g].closed) continue;
        if (an->srm_ran)
            rpt_say(o, "p", "%s: sample ratio check: chi-square %.4g, p %.2g over %llu calls with a split_epoch (%s)",
                    r->group_keys.key[g].s, an->srm_chi2, an->srm_p, (unsigned long long)an->srm_calls,
                    an->srm_mismatch ? "MISMATCH" : "as the split asked");
        else
            rpt_say(o, "p", "%s: sample ratio check not run: %s", r->group_keys.key[g].s, an->srm_reason);
    }
    if (o->html) rpt_svg_verdict(r, o);
}

static void rpt_emit(rpt_report *r, rpt_out *o) {
    size_t g, arm = 0, edge = 0, time = 0;
    rpt_emit_header(r, o);
    o->indent = 2;
    rpt_emit_verdicts(r, o);
    for (g = 0; g < r->group_keys.n; g++) {
        rpt_slice sl = rpt_next_slice(r, g, &arm, &edge, &time);
        if (r->groups[g].calls || r->groups[g].closed || r->groups[g].rollbacks) rpt_emit_group(r, o, g, &sl);
    }
    rpt_emit_pairs(r, o);
    rpt_emit_judges(r, o);
}

static const char rpt_css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#222;"
    "max-width:1000px;margin:2em auto;padding:0 1em}\n"
    "h1{font-size:1.5em}h2{margin-top:2em;border-bottom:2px solid #333}h3{margin-top:1.5em}\n"
    "table{border-collapse:collapse;margin:.5em 0 1em}\n"
    "th,td{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}\n"
    "th{background:#f4f4f4}.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "svg{display:block;margin:.5em 0 1.5em;max-width:100%;height:auto}\n"
    "svg text{font:11px sans-serif;fill:#333}svg text.t{font-weight:bold}\n";

static void rpt_emit_html(rpt_report *r, FILE *f) {
    rpt_out o;
    memset(&o, 0, sizeof o);
    o.f = f;
    o.html = 1;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>llmsplit report: ", f);
    rpt_puts(&o, r->path);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n", rpt_css);
    rpt_emit(r, &o);
    fputs("</body>\n</html>\n", f);
}

/* ---- --json ---------------------------------------------------------------------------- */

/* A number, or null when it is undefined (NaN) or infinite: JSON has neither. */
static void rpt_jnum(llmsplit_json_writer *w, double x) {
    if (isnan(x) || isinf(x)) llmsplit_json_write_null(w);
    else llmsplit_json_write_double(w, x);
}

static void rpt_jstr(llmsplit_json_writer *w, const char *s) { llmsplit_json_write_string(w, s, strlen(s)); }

static void rpt_jkey(llmsplit_json_writer *w, const char *s) { llmsplit_json_write_key(w, s, strlen(s)); }

static void rpt_jci(llmsplit_json_writer *w, double lo, double hi) {
    LLMSPLIT_JSON_KEY(w, "ci95");
    llmsplit_json_write_begin_array(w);
    rpt_jnum(w, lo);
    rpt_jnum(w, hi);
    llmsplit_json_write_end_array(w);
}

static void rpt_json_srm(llmsplit_json_writer *w, const rpt_analysis *an) {
    size_t i;
    LLMSPLIT_JSON_KEY(w, "srm");
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "expected");
    llmsplit_json_write_begin_object(w);
    for (i = 0; i < an->ncats; i++) { rpt_jkey(w, an->cats[i].label); rpt_jnum(w, an->cats[i].expected); }
    llmsplit_json_write_end_object(w);
    LLMSPLIT_JSON_KEY(w, "observed");
    llmsplit_json_write_begin_object(w);
    for (i = 0; i < an->ncats; i++) { rpt_jkey(w, an->cats[i].label); llmsplit_json_write_int(w, (int64_t)an->cats[i].observed); }
    llmsplit_json_write_end_object(w);
    LLMSPLIT_JSON_KEY(w, "chi2");
    rpt_jnum(w, an->srm_ran ? an->srm_chi2 : NAN);
    LLMSPLIT_JSON_KEY(w, "p_value");
    rpt_jnum(w, an->srm_ran ? an->srm_p : NAN);
    LLMSPLIT_JSON_KEY(w, "mismatch");
    llmsplit_json_write_bool(w, an->srm_mismatch);
    if (!an->srm_ran) { LLMSPLIT_JSON_KEY(w, "reason"); rpt_jstr(w, an->srm_reason); }
    llmsplit_json_write_end_object(w);
}

static void rpt_json_cmp(rpt_report *r, llmsplit_json_writer *w, const rpt_cmp *x) {
    rpt_jkey(w, r->metric_keys.key[x->slot].s);
    llmsplit_json_write_begin_object(w);
    if (x->slot == RPT_M_LATENCY) {
        LLMSPLIT_JSON_KEY(w, "median_ratio");
        rpt_jnum(w, x->diff);
    } else {
        LLMSPLIT_JSON_KEY(w, "diff");
        rpt_jnum(w, x->diff);
        rpt_jci(w, x->lo, x->hi);
    }
    LLMSPLIT_JSON_KEY(w, "p_value");
    rpt_jnum(w, x->p);
    LLMSPLIT_JSON_KEY(w, "p_always_valid");
    rpt_jnum(w, x->p_av);
    LLMSPLIT_JSON_KEY(w, "p_holm");
    rpt_jnum(w, x->p_holm);
    if (x->slot != RPT_M_LATENCY) { LLMSPLIT_JSON_KEY(w, "mde"); rpt_jnum(w, x->mde); }
    llmsplit_json_write_end_object(w);
}

static void rpt_json_arm(rpt_report *r, llmsplit_json_writer *w, size_t id, const rpt_chal *ch) {
    const rpt_arm *a = &r->arms[id];
    st_interval er = st_wilson((double)a->errors, (double)a->calls);
    char *label = rpt_label_of(r, id);
    size_t slot, k;
    rpt_jkey(w, label);
    free(label);
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "calls");
    llmsplit_json_write_int(w, (int64_t)a->calls);
    LLMSPLIT_JSON_KEY(w, "errors");
    llmsplit_json_write_int(w, (int64_t)a->errors);
    LLMSPLIT_JSON_KEY(w, "chosen");
    llmsplit_json_write_int(w, (int64_t)a->chosen);
    LLMSPLIT_JSON_KEY(w, "client_closed");
    llmsplit_json_write_int(w, (int64_t)a->closed);
    LLMSPLIT_JSON_KEY(w, "error_rate");
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "value");
    rpt_jnum(w, er.value);
    rpt_jci(w, er.lo, er.hi);
    llmsplit_json_write_end_object(w);
    LLMSPLIT_JSON_KEY(w, "latency_ms");
    llmsplit_json_write_begin_object(w);
    LLMSPLIT_JSON_KEY(w, "p50");
    rpt_jnum(w, a->lat.n ? rpt_pct(&a->lat, 50) : NAN);
    LLMSPLIT_JSON_KEY(w, "p95");
    rpt_jnum(w, a->lat.n ? rpt_pct(&a->lat, 95) : NAN);
    LLMSPLIT_JSON_KEY(w, "p99");
    rpt_jnum(w, a->lat.n ? rpt_pct(&a->lat, 99) : NAN);
    llmsplit_json_write_end_object(w);
    LLMSPLIT_JSON_KEY(w, "metrics");
    llmsplit_json_write_begin_object(w);
    for (slot = RPT_M_COST; slot < r->metric_keys.n; slot++) {
        const rpt_mom *m = rpt_mom_get(a, slot);
        if (!m) continue;
        rpt_jkey(w, r->metric_keys.key[slot].s);
        llmsplit_json_write_begin_object(w);
        st_interval ci = st_mean_t(m->mean, rpt_var(m), m->n);
        LLMSPLIT_JSON_KEY(w, "n");
        llmsplit_json_write_int(w, (int64_t)m->n);
        LLMSPLIT_JSON_KEY(w, "mean");
        rpt_jnum(w, m->mean);
        rpt_jci(w, ci.lo, ci.hi);
        llmsplit_json_write_end_object(w);
    }
    llmsplit_json_write_end_object(w);
    if (ch) {
        LLMSPLIT_JSON_KEY(w, "vs_control");
        llmsplit_json_write_begin_object(w);
        for (k = 0; k < ch->ncmp; k++) rpt_json_cmp(r, w, &ch->cmp[k]);
        llmsplit_json_write_end_object(w);
        LLMSPLIT_JSON_KEY(w, "verdict");
        rpt_jstr(w, ch->verdict);
        LLMSPLIT_JSON_KEY(w, "reason");
        rpt_jstr(w, ch->reason);
    }
    llmsplit_json_write_end_object(w);
}

static void rpt_json_pairs(rpt_report *r, llmsplit_json_writer *w, size_t g) {
    size_t i;
    LLMSPLIT_JSON_KEY(w, "pairs");
    llmsplit_json_write_begin_object(w);
    for (i = 0; i < r->pair_keys.n; i++) {
        const rpt_pair *p = &r->pairs[i];
        st_interval ws = st_wilson((double)p->wins, (double)(p->wins + p->losses));
        char *label, *key;
        if (r->arms[p->arm].group != g) continue;
        label = rpt_label_of(r, p->arm);
        key = rpt_fmt("%s -> %s", label, r->silent_keys.key[p->silent].s);
        rpt_jkey(w, key);
        free(label);
        free(key);
        llmsplit_json_write_begin_object(w);
        LLMSPLIT_JSON_KEY(w, "pairs");
        llmsplit_json_write_int(w, (int64_t)p->pairs);
        LLMSPLIT_JSON_KEY(w, "wins");
        llmsplit_json_write_int(w, (int64_t)p->wins);
        LLMSPLIT_JSON_KEY(w, "ties");
        llmsplit_json_write_int(w, (int64_t)p->ties);
        LLMSPLIT_JSON_KEY(w, "losses");
        llmsplit_json_write_int(w, (int64_t)p->losses);
        LLMSPLIT_JSON_KEY(w, "win_share");
        llmsplit_json_write_begin_object(w);
        LLMSPLIT_JSON_KEY(w, "value");
        rpt_jnum(w, ws.value);
        rpt_jci(w, ws.lo, ws.hi);
        llmsplit_json_write_end_object(w);
        LLMSPLIT_JSON_KEY(w, "p_value");
        rpt_jnum(w, st_sign_test((double)p->wins, (double)p->losses));
        LLMSPLIT_JSON_KEY(w, "inconsistent");
        llmsplit_json_write_int(w, (int64_t)p->inconsistent);
        LLMSPLIT_JSON_KEY(w, "inconsistency_rate");
        rpt_jnum(w, (double)p->inconsistent / (double)(p->wins + p->ties + p->losses));
        LLMSPLIT_JSON_KEY(w, "winner_chars_mean");
        rpt_jnum(w, p->win_chars / (double)p->sized);
        LLMSPLIT_JSON_KEY(w, "loser_chars_mean");
        rpt_jnum(w, p->lose_chars / (double)p->sized);
        llmsplit_json_write_end_object(w);
    }
    llmsplit_json_write_end_object(w);
}

/* The whole report as one JSON document on stdout (key names in the README). */
static int rpt_emit_json(rpt_report *r, FILE *f) {
    llmsplit_json_writer w;
    llmsplit_error err;
    const char *text;
    size_t g, i, len, at = 0;
    int rc = EXIT_OK;
    llmsplit_json_writer_init(&w, NULL);
    llmsplit_json_write_begin_object(&w);
    LLMSPLIT_JSON_KEY(&w, "groups");
    llmsplit_json_write_begin_object(&w);
    for (g = 0; g < r->group_keys.n; g++) {
        const rpt_analysis *an = &r->an[g];
        const size_t *ids = r->arm_order ? r->arm_order + at : NULL;
        size_t n = 0;
        while (at < r->arm_keys.n && r->arms[r->arm_order[at]].group == g) { at++; n++; }
        if (!r->groups[g].calls && !r->groups[g].closed) continue;
        rpt_jkey(&w, r->group_keys.key[g].s);
        llmsplit_json_write_begin_object(&w);
        LLMSPLIT_JSON_KEY(&w, "calls");
        llmsplit_json_write_int(&w, (int64_t)r->groups[g].calls);
        LLMSPLIT_JSON_KEY(&w, "client_closed");
        llmsplit_json_write_int(&w, (int64_t)r->groups[g].closed);
        LLMSPLIT_JSON_KEY(&w, "control");
        if (an->control == RPT_NONE) llmsplit_json_write_null(&w);
        else { char *cl = rpt_label_of(r, an->control); rpt_jstr(&w, cl); free(cl); }
        rpt_json_srm(&w, an);
        LLMSPLIT_JSON_KEY(&w, "arms");
        llmsplit_json_write_begin_object(&w);
        for (i = 0; i < n; i++) {
            const rpt_chal *ch = NULL;
            size_t k;
            for (k = 0; k < an->nchal; k++) if (an->chal[k].arm == ids[i]) ch = &an->chal[k];
            rpt_json_arm(r, &w, ids[i], ch);
        }
        llmsplit_json_write_end_object(&w);
        rpt_json_pairs(r, &w, g);
        llmsplit_json_write_end_object(&w);
    }
    llmsplit_json_write_end_object(&w);
    LLMSPLIT_JSON_KEY(&w, "judge_calls");
    llmsplit_json_write_begin_object(&w);
    for (i = 0; i < r->judge_keys.n; i++) {
        rpt_jkey(&w, r->judge_keys.key[i].s);
        llmsplit_json_write_begin_object(&w);
        LLMSPLIT_JSON_KEY(&w, "calls");
        llmsplit_json_write_int(&w, (int64_t)r->judges[i].calls);
        LLMSPLIT_JSON_KEY(&w, "errors");
        llmsplit_json_write_int(&w, (int64_t)r->judges[i].errors);
        LLMSPLIT_JSON_KEY(&w, "cost_usd");
        rpt_jnum(&w, r->judges[i].cost);
        llmsplit_json_write_end_object(&w);
    }
    llmsplit_json_write_end_object(&w);
    LLMSPLIT_JSON_KEY(&w, "events_without_call");
    llmsplit_json_write_int(&w, (int64_t)(r->events_waiting + r->events_unknown));
    LLMSPLIT_JSON_KEY(&w, "unreadable_lines");
    llmsplit_json_write_int(&w, (int64_t)r->bad);
    llmsplit_json_write_end_object(&w);
    if (llmsplit_json_writer_result(&w, &text, &len, &err) != LLMSPLIT_OK) rc = tool_fail_error(&err);
    else {
        fwrite(text, 1, len, f);
        fputc('\n', f);
    }
    llmsplit_json_writer_free(&w);
    return rc;
}

/* ---- the command ----------------------------------------------------------------------- */

static void rpt_free(rpt_report *r) {
    size_t i, k;
    for (i = 0; i < r->arm_keys.n; i++) {
        free(r->arms[i].model); free(r->arms[i].lat.v); free(r->arms[i].ttft.v); free(r->arms[i].mom);
    }
    for (i = 0; i < r->group_keys.n; i++) {
        free(r->groups[i].arms);
        if (!r->an) continue;
        for (k = 0; k < r->an[i].ncats; k++) free(r->an[i].cats[k].label);
        for (k = 0; k < r->an[i].nchal; k++) { free(r->an[i].chal[k].cmp); free(r->an[i].chal[k].reason); }
        free(r->an[i].cats); free(r->an[i].chal); free(r->an[i].srm_reason);
    }
    for (i = 0; i < r->epoch_keys.n; i++) {
        for (k = 0; k < r->epochs[i].nw; k++) free(r->epochs[i].arm[k]);
        free(r->epochs[i].arm); free(r->epochs[i].w);
    }
    rpt_keys_free(&r->metric_keys); rpt_keys_free(&r->epoch_keys); rpt_keys_free(&r->judge_keys); free(r->judges);
    free(r->epochs); free(r->an); free(r->req.slot); free(r->pjoin.slot); free(r->waits); free(r->av);
    for (i = 0; i < r->group_keys.n; i++)
        for (k = 0; k < r->groups[i].nkept; k++) {
            free(r->groups[i].kept[k].ts); free(r->groups[i].kept[k].arm); free(r->groups[i].kept[k].reason);
        }
    for (i = 0; i < r->pair_keys.n; i++) {
        free(r->pairs[i].plat.v); free(r->pairs[i].slat.v); free(r->pairs[i].points.v);
    }
    for (i = 0; i < r->edge_keys.n; i++) free(r->edges[i].from);
    rpt_keys_free(&r->group_keys); rpt_keys_free(&r->arm_keys); rpt_keys_free(&r->model_keys);
    rpt_keys_free(&r->silent_keys); rpt_keys_free(&r->pair_keys); rpt_keys_free(&r->edge_keys);
    free(r->groups); free(r->arms); free(r->model_arm); free(r->pairs); free(r->edges);
    free(r->pend.slot); free(r->times); free(r->scratch); free(r->jbuf); free(r->arm_order); free(r->pos);
}

static const char rpt_usage_text[] =
    "usage: llmsplit report LOG.jsonl... [--html FILE] [--json] [--control ARM] [--fail-on worse]\n"
    "  compares the arms of result logs (several logs are read as one, in the order given; '-' is\n"
    "  stdin): per group a verdict for each arm against the control, then per arm the calls, share\n"
    "  of traffic, errors, latency p50/p95/p99, ttft, tokens and cost; fallbacks and rollbacks; and\n"
    "  for mirrored calls, primary against silent side by side (latency, tokens, cost, texts, judgements\n"
    "  with the share judged inconsistently across the two orders and the winners' and losers' lengths);\n"
    "  per arm the judge score and feedback means with t intervals; judge calls and their cost.\n"
    "  A call whose caller went away (status client_closed) is counted on its own per arm: chosen\n"
    "  (and in the sample ratio check), but not a call, an error, a latency, tokens or cost.\n"
    "  The verdict: error rate (Wilson and Newcombe intervals, two-proportion z-test), latency\n"
    "  (Mann-Whitney U, ratio of medians), mean cost, judge score and feedback (Welch), each with an\n"
    "  always-valid p-value (mSPRT, normal mixture) that may be read at any time; Holm across a\n"
    "  group's arms; a sample ratio check from the split events. \"better\"/\"worse\" need an\n"
    "  always-valid p < 0.05; fewer than 100 calls in an arm is \"inconclusive\".\n"
    "  --html FILE       also write one self-contained HTML page with the tables and SVG charts\n"
    "  --json            print the report as one JSON document instead of the text\n"
    "  --control ARM     the arm the others are compared with (\"MODEL #DEPLOYMENT\" or a model);\n"
    "                    default: each group's first arm (lowest deployment index)\n"
    "  --fail-on worse   exit 6 when any arm's verdict is \"worse\"\n";

typedef struct rpt_opts {
    const char **logs;
    int nlogs;
    const char *html, *control;
    int json, fail_on_worse;
} rpt_opts;

static int rpt_args(int argc, char **argv, rpt_opts *op) {
    int i;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (tool_is_help(a)) { tool_usage(1, "%s", rpt_usage_text); return -1; }
        if (strcmp(a, "--html") == 0) {
            if (++i == argc) return tool_fail(LLMSPLIT_ERR_USAGE, "--html needs a FILE");
            op->html = argv[i];
        } else if (strncmp(a, "--html=", 7) == 0) op->html = a + 7;
        else if (strcmp(a, "--json") == 0) op->json = 1;
        else if (strcmp(a, "--control") == 0 || strncmp(a, "--control=", 10) == 0) {
            if (a[9] != '=' && ++i == argc) return tool_fail(LLMSPLIT_ERR_USAGE, "--control needs an ARM");
            op->control = a[9] == '=' ? a + 10 : argv[i];
            if (!*op->control) return tool_fail(LLMSPLIT_ERR_USAGE, "--control needs an ARM");
        } else if (strcmp(a, "--fail-on") == 0 || strncmp(a, "--fail-on=", 10) == 0) {
            const char *v = a[9] == '=' ? a + 10 : (++i < argc ? argv[i] : NULL);
            if (!v || strcmp(v, "worse") != 0)
                return tool_fail(LLMSPLIT_ERR_USAGE, "--fail-on takes \"worse\" (got %s)", v ? v : "nothing");
            op->fail_on_worse = 1;
        } else if (a[0] == '-' && a[1]) {
            return tool_fail(LLMSPLIT_ERR_USAGE, "unknown option %s for report", a);
        } else op->logs[op->nlogs++] = a;
    }
    if (!op->nlogs) return tool_usage(0, "%s", rpt_usage_text);
    if (op->html && !*op->html) return tool_fail(LLMSPLIT_ERR_USAGE, "--html needs a FILE");
    return 0;
}

/* Opens the log; a directory or a missing file is the caller's mistake (usage). */
static FILE *rpt_open_log(const char *path) {
    struct stat st;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        if (f != stdin) fclose(f);
        errno = EISDIR;
        return NULL;
    }
    return f;
}

static int rpt_write_html(rpt_report *r, const char *path, int quiet) {
    FILE *f = fopen(path, "w");
    if (!f) return tool_fail(LLMSPLIT_ERR_USAGE, "cannot write %s: %s", path, strerror(errno));
    rpt_emit_html(r, f);
    if (ferror(f) | fclose(f)) {
        tool_say("report", "cannot write %s: %s", path, strerror(errno));
        return EXIT_OTHER;
    }
    if (!quiet) printf("wrote %s\n", path);
    return EXIT_OK;
}

/* Reads one log into r; 0, or the exit code when it cannot be opened or read. */
static int rpt_read_log(rpt_report *r, const char *log) {
    rpt_reader *rd = (rpt_reader *)rpt_xrealloc(NULL, sizeof *rd);
    int read_error;
    memset(rd, 0, sizeof *rd);
    if (!(rd->f = rpt_open_log(log))) {
        free(rd);
        return tool_fail(LLMSPLIT_ERR_USAGE, "cannot read %s: %s", log, strerror(errno));
    }
    r->file = log;
    rpt_read(r, rd);
    read_error = ferror(rd->f);
    if (rd->f != stdin) fclose(rd->f);
    free(rd->line);
    free(rd);
    if (read_error) {
        tool_say("report", "cannot read %s: %s", log, strerror(EIO));
        return EXIT_OTHER;
    }
    return 0;
}

static void rpt_init(rpt_report *r) {
    static const char *const fixed[] = {"error_rate", "latency_ms", "cost_usd", "judge_score"};
    size_t i;
    memset(r, 0, sizeof *r);
    for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++) rpt_intern(&r->metric_keys, fixed[i], strlen(fixed[i]), NULL);
}

int cmd_report(int argc, char **argv) {
    rpt_opts op;
    rpt_report r;
    rpt_out out;
    char *title = NULL;
    int rc, i, worse = 0;
    size_t g, k;
    memset(&op, 0, sizeof op);
    op.logs = (const char **)rpt_xrealloc(NULL, (size_t)(argc + 1) * sizeof *op.logs);
    rc = rpt_args(argc, argv, &op);
    if (rc) { free(op.logs); return rc < 0 ? EXIT_OK : rc; }
    rpt_init(&r);
    r.control = op.control;
    r.keep_points = op.html != NULL;
    r.nfiles = op.nlogs;
    for (i = 0; i < op.nlogs; i++) {
        title = title ? rpt_append(title, ", ", rpt_fmt("%s", op.logs[i])) : rpt_fmt("%s", op.logs[i]);
        if ((rc = rpt_read_log(&r, op.logs[i])) != 0) {
            rpt_free(&r);
            free(title);
            free(op.logs);
            return rc;
        }
    }
    r.path = title;
    rpt_finish(&r);
    if (!rpt_analyse(&r)) {
        rc = tool_fail(LLMSPLIT_ERR_USAGE, "--control %s: no arm of that name in the log", op.control);
        rpt_free(&r);
        free(title);
        free(op.logs);
        return rc;
    }
    for (g = 0; g < r.group_keys.n; g++)
        for (k = 0; k < r.an[g].nchal; k++) worse |= strcmp(r.an[g].chal[k].verdict, "worse") == 0;
    memset(&out, 0, sizeof out);
    out.f = stdout;
    if (op.json) rc = rpt_emit_json(&r, stdout);
    else rpt_emit(&r, &out);
    if (!rc && op.html) rc = rpt_write_html(&r, op.html, op.json);
    rpt_free(&r);
    free(title);
    free(op.logs);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        return tool_fail_output();
    }
    if (!rc && op.fail_on_worse && worse) rc = EXIT_WORSE;
    return rc;
}

#endif /* LLMSPLIT_TOOL_REPORT_C */
