/* stats.h - the statistics of `llmsplit report`, all in one place.

   Included by tools/report.c. Each function names its formula and where it comes from; every
   one is checked against scipy by tests/cli_report_stats.sh (tests/report_oracle.py). Only libm:
   erfc and lgamma, and the two regularized incomplete functions written here (beta and gamma)
   from which the t, chi-square and binomial tails follow. Tails are computed directly, never as
   1 - (something near 1), so a p-value of 1e-40 keeps its digits.

   Undefined results (no data, zero variance) are NaN; the report prints them as "-" and null. */
#ifndef LLMSPLIT_STATS_H
#define LLMSPLIT_STATS_H

#include <math.h>
#include <stddef.h>
#include <stdlib.h>

#if defined(__GNUC__) || defined(__clang__)
#define ST_FN static __attribute__((unused))
#else
#define ST_FN static
#endif

#define ST_Z975 1.959963984540054  /* the standard normal quantile at 0.975: two-sided 95% */
#define ST_Z80 0.8416212335729143  /* ... at 0.80: 80% power */
#define ST_SQRT2 1.4142135623730951
#define ST_TINY 1e-300             /* keeps Lentz's continued fractions away from 0/0 */
#define ST_EPS 1e-16
#define ST_ITER 100000

/* Upper tail of the standard normal, Q(z) = erfc(z / sqrt 2) / 2. */
ST_FN double st_norm_sf(double z) { return 0.5 * erfc(z / ST_SQRT2); }

/* Two-sided normal p-value for a z statistic: 2 Q(|z|) = erfc(|z| / sqrt 2). */
ST_FN double st_norm_p2(double z) { return isnan(z) ? z : erfc(fabs(z) / ST_SQRT2); }

/* Regularized lower incomplete gamma P(a, x) by its power series (Abramowitz & Stegun 6.5.29):
   P = x^a e^-x / Gamma(a+1) * sum_k x^k / ((a+1)(a+2)...(a+k)). Used where x < a + 1. */
static double st__gamma_series(double a, double x) {
    double term = 1.0 / a, sum = term;
    int k;
    for (k = 1; k < ST_ITER; k++) {
        term *= x / (a + k);
        sum += term;
        if (fabs(term) < fabs(sum) * ST_EPS) break;
    }
    return sum * exp(a * log(x) - x - lgamma(a));
}

/* Regularized upper incomplete gamma Q(a, x) by Legendre's continued fraction (A&S 6.5.31),
   Gamma(a, x) = e^-x x^a / (x + 1 - a - 1(1 - a) / (x + 3 - a - 2(2 - a) / (x + 5 - a - ...))),
   evaluated with the modified Lentz method. Used where x >= a + 1. */
static double st__gamma_cf(double a, double x) {
    double b = x + 1 - a, c = 1 / ST_TINY, d = 1 / b, h = d;
    int i;
    for (i = 1; i < ST_ITER; i++) {
        double an = -i * (i - a), del;
        b += 2;
        d = an * d + b;
        if (fabs(d) < ST_TINY) d = ST_TINY;
        c = b + an / c;
        if (fabs(c) < ST_TINY) c = ST_TINY;
        d = 1 / d;
        del = d * c;
        h *= del;
        if (fabs(del - 1) < ST_EPS) break;
    }
    return exp(a * log(x) - x - lgamma(a)) * h;
}

/* Q(a, x) = 1 - P(a, x), each side from the expansion that converges there. */
ST_FN double st_gamma_q(double a, double x) {
    if (isnan(x) || isnan(a) || a <= 0) return NAN;
    if (x <= 0) return 1;
    if (isinf(x)) return 0;
    return x < a + 1 ? 1 - st__gamma_series(a, x) : st__gamma_cf(a, x);
}

/* Upper tail of the chi-square distribution with df degrees of freedom: Q(df/2, x/2). */
ST_FN double st_chi2_sf(double x, double df) { return st_gamma_q(df / 2, x / 2); }

/* The continued fraction of the incomplete beta (A&S 26.5.8), modified Lentz:
   I_x(a,b) = x^a (1-x)^b / (a B(a,b)) * 1/(1 + d1/(1 + d2/(1 + ...))), with
   d(2m+1) = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1)) and d(2m) = m(b-m) x / ((a+2m-1)(a+2m)). */
static double st__beta_cf(double a, double b, double x) {
    double c = 1, d = 1 - (a + b) * x / (a + 1), h;
    int m;
    if (fabs(d) < ST_TINY) d = ST_TINY;
    d = 1 / d;
    h = d;
    for (m = 1; m < ST_ITER; m++) {
        double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)), del;
        d = 1 + num * d;
        if (fabs(d) < ST_TINY) d = ST_TINY;
        c = 1 + num / c;
        if (fabs(c) < ST_TINY) c = ST_TINY;
        d = 1 / d;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
        d = 1 + num * d;
        if (fabs(d) < ST_TINY) d = ST_TINY;
        c = 1 + num / c;
        if (fabs(c) < ST_TINY) c = ST_TINY;
        d = 1 / d;
        del = d * c;
        h *= del;
        if (fabs(del - 1) < ST_EPS) break;
    }
    return h;
}

/* Regularized incomplete beta I_x(a, b). The fraction converges fast for x < (a+1)/(a+b+2);
   beyond, the symmetry I_x(a,b) = 1 - I_{1-x}(b,a). */
ST_FN double st_beta_i(double a, double b, double x) {
    double front;
    if (isnan(x) || a <= 0 || b <= 0) return NAN;
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * st__beta_cf(a, b, x) / a;
    return 1 - front * st__beta_cf(b, a, 1 - x) / b;
}

/* Upper tail of Student's t with df degrees of freedom, for t >= 0:
   P(T > t) = I_{df/(df+t^2)}(df/2, 1/2) / 2 (A&S 26.7.1 with 26.5.27). */
ST_FN double st_t_sf(double t, double df) {
    if (isnan(t) || isnan(df) || df <= 0) return NAN;
    if (t < 0) return 1 - st_t_sf(-t, df);
    return 0.5 * st_beta_i(df / 2, 0.5, df / (df + t * t));
}

/* The t quantile at 0.975 (the 95% interval's multiplier) by bisection on st_t_sf: 200 halvings
   of [0, 1e4] end far below double precision; it runs once per interval, not per call. */
ST_FN double st_t975(double df) {
    double lo = 0, hi = 1e4;
    int i;
    if (isnan(df) || df <= 0) return NAN;
    for (i = 0; i < 200 && hi - lo > 1e-15 * hi; i++) {
        double mid = 0.5 * (lo + hi);
        if (st_t_sf(mid, df) > 0.025) lo = mid;
        else hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* ---- the statistics the report prints ------------------------------------------------- */

typedef struct st_interval {
    double value, lo, hi; /* NaN when undefined */
} st_interval;

/* Wilson score interval for k successes in n trials (Wilson 1927), z = 1.96:
   centre (p + z^2/2n) / (1 + z^2/n), half-width z / (1 + z^2/n) * sqrt(p(1-p)/n + z^2/4n^2). */
ST_FN st_interval st_wilson(double k, double n) {
    st_interval r;
    double z = ST_Z975, p, den, c, h;
    if (!(n > 0)) { r.value = r.lo = r.hi = NAN; return r; }
    p = k / n;
    den = 1 + z * z / n;
    c = (p + z * z / (2 * n)) / den;
    h = z / den * sqrt(p * (1 - p) / n + z * z / (4 * n * n));
    r.value = p;
    r.lo = c - h < 0 ? 0 : c - h;
    r.hi = c + h > 1 ? 1 : c + h;
    return r;
}

/* The difference of two proportions p1 - p2 (k1/n1 - k2/n2) with the hybrid score interval of
   Newcombe 1998, method 10, from the two Wilson intervals (l1,u1) and (l2,u2):
   [d - sqrt((p1-l1)^2 + (u2-p2)^2), d + sqrt((u1-p1)^2 + (p2-l2)^2)]. */
ST_FN st_interval st_newcombe(double k1, double n1, double k2, double n2) {
    st_interval a = st_wilson(k1, n1), b = st_wilson(k2, n2), r;
    r.value = a.value - b.value;
    r.lo = r.value - sqrt((a.value - a.lo) * (a.value - a.lo) + (b.hi - b.value) * (b.hi - b.value));
    r.hi = r.value + sqrt((a.hi - a.value) * (a.hi - a.value) + (b.value - b.lo) * (b.value - b.lo));
    return r;
}

/* Two-sided p of the pooled two-proportion z-test, z = (p1 - p2) / sqrt(pbar(1-pbar)(1/n1+1/n2))
   with pbar = (k1+k2)/(n1+n2); z^2 is the Pearson chi-square of the 2x2 table without continuity
   correction, so this equals scipy's chi2_contingency(correction=False). NaN when pbar is 0 or 1. */
ST_FN double st_two_prop_p(double k1, double n1, double k2, double n2) {
    double pbar, se;
    if (!(n1 > 0 && n2 > 0)) return NAN;
    pbar = (k1 + k2) / (n1 + n2);
    se = sqrt(pbar * (1 - pbar) * (1 / n1 + 1 / n2));
    if (!(se > 0)) return NAN;
    return st_norm_p2((k1 / n1 - k2 / n2) / se);
}

/* Student's t interval for a mean (Student 1908): mean +- t(0.975, n-1) sqrt(v/n), v the n-1
   variance; scipy.stats.t.interval(0.95, n-1, mean, sqrt(v/n)). Bounds NaN below 2 observations. */
ST_FN st_interval st_mean_t(double mean, double v, double n) {
    st_interval r;
    double h = n >= 2 ? st_t975(n - 1) * sqrt(v / n) : NAN;
    r.value = n > 0 ? mean : NAN;
    r.lo = mean - h;
    r.hi = mean + h;
    return r;
}

/* Welch's unequal-variance t-test and interval for mean2 - mean1 (Welch 1947): se^2 = v1/n1 +
   v2/n2, Welch-Satterthwaite df = se^4 / ((v1/n1)^2/(n1-1) + (v2/n2)^2/(n2-1)), interval
   diff +- t(0.975, df) se, two-sided p = 2 P(T > |diff|/se). Variances are the n-1 kind. */
typedef struct st_welch_result {
    double diff, lo, hi, p, se, df;
} st_welch_result;

ST_FN st_welch_result st_welch(double m1, double v1, double n1, double m2, double v2, double n2) {
    st_welch_result r;
    double a, b, t;
    r.diff = m2 - m1;
    r.lo = r.hi = r.p = r.se = r.df = NAN;
    if (!(n1 >= 2 && n2 >= 2)) return r;
    a = v1 / n1;
    b = v2 / n2;
    r.se = sqrt(a + b);
    if (!(r.se > 0)) return r;
    r.df = (a + b) * (a + b) / (a * a / (n1 - 1) + b * b / (n2 - 1));
    t = st_t975(r.df);
    r.lo = r.diff - t * r.se;
    r.hi = r.diff + t * r.se;
    r.p = 2 * st_t_sf(fabs(r.diff) / r.se, r.df);
    if (r.p > 1) r.p = 1;
    return r;
}

/* Mann-Whitney U (Mann & Whitney 1947) for two ascending arrays, by the normal approximation with
   the tie correction and a continuity correction of 1/2 (scipy's mannwhitneyu, method="asymptotic",
   use_continuity=True): U = max(U1, n1 n2 - U1), s^2 = n1 n2 / 12 ((n+1) - sum(t^3 - t)/(n(n-1))),
   p = 2 Q((U - n1 n2 / 2 - 1/2) / s), at most 1. Ranks come from one merge of the sorted arrays,
   so no extra memory. *u1 gets U1 (x's rank sum minus n1(n1+1)/2). */
ST_FN double st_mann_whitney(const double *x, size_t n1, const double *y, size_t n2, double *u1) {
    size_t i = 0, j = 0;
    double rank = 1, r1 = 0, ties = 0, n = (double)n1 + (double)n2, mu, s2, u, z, p;
    *u1 = NAN;
    if (!n1 || !n2) return NAN;
    while (i < n1 || j < n2) {
        double v = i < n1 && (j >= n2 || x[i] <= y[j]) ? x[i] : y[j], cx = 0, cy = 0, t;
        while (i < n1 && x[i] == v) { i++; cx++; }
        while (j < n2 && y[j] == v) { j++; cy++; }
        t = cx + cy;
        r1 += cx * (rank + (t - 1) / 2);
        ties += t * t * t - t;
        rank += t;
    }
    *u1 = r1 - (double)n1 * ((double)n1 + 1) / 2;
    mu = (double)n1 * (double)n2 / 2;
    s2 = (double)n1 * (double)n2 / 12 * ((n + 1) - ties / (n * (n - 1)));
    if (!(s2 > 0)) return NAN;
    u = *u1 > (double)n1 * (double)n2 - *u1 ? *u1 : (double)n1 * (double)n2 - *u1;
    z = (u - mu - 0.5) / sqrt(s2);
    p = 2 * st_norm_sf(z);
    return p > 1 ? 1 : p;
}

/* Exact two-sided sign test: wins among w + l decided pairs against Binomial(n, 1/2). By symmetry
   the two-sided p (scipy's binomtest, which sums the outcomes no likelier than the one seen) is
   2 P(X <= min(w, l)), at most 1, with P(X <= k) = I_{1/2}(n - k, k + 1) (A&S 26.5.24). */
ST_FN double st_sign_test(double w, double l) {
    double n = w + l, k = w < l ? w : l, p;
    if (!(n > 0)) return NAN;
    if (2 * k >= n) return 1;
    p = 2 * st_beta_i(n - k, k + 1, 0.5);
    return p > 1 ? 1 : p;
}

/* Pearson's chi-square goodness of fit, sum (o - e)^2 / e over the categories with e > 0, with
   (categories - 1) degrees of freedom (scipy's chisquare). A category with e = 0 and o > 0 makes
   the statistic infinite and p 0. *chi2 gets the statistic; returns p (NaN for < 2 categories). */
ST_FN double st_chisquare(const double *obs, const double *exp_, size_t n, double *chi2) {
    double x = 0;
    size_t i, k = 0;
    for (i = 0; i < n; i++) {
        if (exp_[i] > 0) { x += (obs[i] - exp_[i]) * (obs[i] - exp_[i]) / exp_[i]; k++; }
        else if (obs[i] > 0) x = INFINITY;
    }
    *chi2 = x;
    if (k < 2) return NAN;
    return isinf(x) ? 0 : st_chi2_sf(x, (double)(k - 1));
}

/* Holm's step-down adjustment (Holm 1979) of the m defined p-values in p[0..n): in ascending
   order p(i) becomes max over j <= i of min(1, (m - j + 1) p(j)); NaN stays NaN. In place. */
ST_FN void st_holm(double *p, size_t n) {
    size_t i, j, m = 0, *ord;
    double run = 0;
    if (!n || !(ord = (size_t *)malloc(n * sizeof *ord))) return; /* n is the few arms of a group */
    for (i = 0; i < n; i++)
        if (!isnan(p[i])) ord[m++] = i;
    for (i = 1; i < m; i++) /* insertion sort: m is small */
        for (j = i; j > 0 && p[ord[j - 1]] > p[ord[j]]; j--) { size_t t = ord[j]; ord[j] = ord[j - 1]; ord[j - 1] = t; }
    for (i = 0; i < m; i++) {
        double a = (double)(m - i) * p[ord[i]];
        if (a > 1) a = 1;
        if (a > run) run = a;
        p[ord[i]] = run;
    }
    free(ord);
}

/* Minimum detectable difference of a two-sample comparison whose estimate has standard error se:
   (z(0.975) + z(0.80)) se, the true difference a two-sided 5% test finds 80% of the time. */
ST_FN double st_mde(double se) { return (ST_Z975 + ST_Z80) * se; }

/* The log of the mixture likelihood ratio of the mSPRT (Johari, Pekelis & Walsh 2017, "Always
   valid inference", eq. for the normal mixture), in its normal-approximation form: the estimated
   difference d has standard error s (so d ~ N(theta, s^2)), the mixing distribution on theta is
   N(0, tau^2), and Lambda = N(d; 0, s^2 + tau^2) / N(d; 0, s^2), i.e.
   log Lambda = 1/2 log(s^2 / (s^2 + tau^2)) + d^2 tau^2 / (2 s^2 (s^2 + tau^2)).
   With equal arms of n and per-pair variance V (s^2 = V/n) this is the paper's
   sqrt(V/(V + n tau^2)) exp(n^2 tau^2 d^2 / (2 V (V + n tau^2))). The always-valid p-value is the
   running minimum of 1/Lambda. NaN when s or tau is not positive. */
ST_FN double st_msprt_log_lambda(double d, double s2, double tau2) {
    if (!(s2 > 0) || !(tau2 > 0)) return NAN;
    return 0.5 * log(s2 / (s2 + tau2)) + d * d * tau2 / (2 * s2 * (s2 + tau2));
}

#endif /* LLMSPLIT_STATS_H */
