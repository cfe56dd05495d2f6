#!/usr/bin/env bash
# bin/primal (the bench's optimality check) against objectives worked out by
# hand on tiny models: binary L2R_LR and L2R_L2LOSS_SVC with the bias weight
# regularized, a 3-class one-vs-rest model whose label order is not sorted,
# and a margin of -800 where a naive log(1 + exp(800)) overflows.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/nc-primal-XXXXXX) || fail "no temp dir"
trap 'rm -rf "$T"' EXIT
P=$NC_BIN/primal
[ -x "$P" ] || fail "$P missing (make SAN=1 all)"

# same VALUE EXPECTED: equal to 9 significant digits
same() {
    awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-9 * (b < 0 ? -b : b) + 1e-12) }'
}

# w = (0.5, -1), bias weight 0.25: 0.5 ||w||^2 = 0.65625; margins y w.x:
# 0.25 (label 1), 0.75 (label -1), -0.25 (label 1).
printf '+1 1:1 2:0.5\n-1 2:1\n+1 1:-1\n' >"$T/bin.svm"
printf 'solver_type L2R_LR\nnr_class 2\nlabel 1 -1\nnr_feature 2\nbias 1\nw\n0.5\n-1\n0.25\n' >"$T/bin.model"
# solver 2, C 2: 0.65625 + 2 (0.75^2 + 0.25^2 + 1.25^2) = 5.03125
got=$("$P" "$T/bin.model" "$T/bin.svm" 2 2) || fail "primal failed"
same "$got" 5.03125 || fail "L2-loss objective $got, want 5.03125"
# solver 0, C 2: 0.65625 + 2 (log(1+e^-0.25) + log(1+e^-0.75) + log(1+e^0.25))
want=$(awk 'BEGIN { printf "%.12g", 0.65625 + 2 * (log(1 + exp(-0.25)) + log(1 + exp(-0.75)) + log(1 + exp(0.25))) }')
got=$("$P" "$T/bin.model" "$T/bin.svm" 2 0) || fail "primal failed"
same "$got" "$want" || fail "logistic objective $got, want $want"

# labels 3 1 2; feature 1 weights (0.5, -1, 0.25), bias weights (1, 0, -0.5):
# 0.5 ||W||^2 = 1.28125; with C 0.5 the squared hinge over the 9 (row, class)
# margins sums to 28.953125, so 1.28125 + 14.4765625 = 15.7578125.
printf '1 1:2\n2 1:-1\n3 1:0.5\n' >"$T/multi.svm"
printf 'solver_type L2R_L2LOSS_SVC\nnr_class 3\nlabel 3 1 2\nnr_feature 1\nbias 1\nw\n0.5 -1 0.25 \n1 0 -0.5 \n' >"$T/multi.model"
got=$("$P" "$T/multi.model" "$T/multi.svm" 0.5 2) || fail "primal failed"
same "$got" 15.7578125 || fail "3-class objective $got, want 15.7578125"

# no bias, w = 1, one row of label -1 at x = 800: 0.5 + log(1 + e^800) = 800.5
printf -- '-1 1:800\n' >"$T/far.svm"
printf 'solver_type L2R_LR\nnr_class 2\nlabel 1 -1\nnr_feature 1\nbias -1\nw\n1\n' >"$T/far.model"
got=$("$P" "$T/far.model" "$T/far.svm" 1 0) || fail "primal failed"
same "$got" 800.5 || fail "objective at margin -800 is $got, want 800.5"

"$P" "$T/bin.model" "$T/bin.svm" 1 4 2>/dev/null && fail "solver 4 accepted"
"$P" "$T/bin.model" "$T/nope.svm" 1 0 2>/dev/null && fail "a missing data file accepted"
echo "ok: primal objectives match the hand-worked values"
