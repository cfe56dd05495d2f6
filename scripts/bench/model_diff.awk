# Relative L2 distance between the weights of two liblinear model files,
# classes aligned by label:  awk -f model_diff.awk OURS.model REF.model
# prints "0.00123" (||w_ours - w_ref|| / ||w_ref||), or "?" with a reason on
# stderr when the models do not have the same shape.
FNR == 1 { f++; inw = 0; row = 0 }
!inw && $1 == "nr_feature" { nf[f] = $2 }
!inw && $1 == "bias" { bias[f] = $2 }
!inw && $1 == "label" { nl[f] = NF - 1; for (i = 2; i <= NF; i++) lab[f, i - 1] = $i }
!inw && $1 == "w" { inw = 1; next }
inw { row++; for (i = 1; i <= NF; i++) w[f, row, i] = $i; rows[f] = row; cols[f] = NF }
END {
    if (f != 2 || nf[1] != nf[2] || cols[1] != cols[2] || rows[1] != rows[2]) {
        print "?"
        print "model_diff: the two models differ in shape" > "/dev/stderr"
        exit 1
    }
    # nr_w = 1 for two classes: one column, the first label's score
    for (k = 1; k <= cols[1]; k++) {
        map[k] = k
        if (cols[1] > 1)
            for (j = 1; j <= nl[2]; j++) if (lab[2, j] == lab[1, k]) map[k] = j
    }
    sign = 1
    if (cols[1] == 1 && lab[1, 1] != lab[2, 1]) sign = -1
    d = 0; n = 0
    for (r = 1; r <= rows[1]; r++)
        for (k = 1; k <= cols[1]; k++) {
            a = sign * w[1, r, k]; b = w[2, r, map[k]]
            d += (a - b) ^ 2; n += b ^ 2
        }
    printf "%.2g\n", (n > 0 ? sqrt(d / n) : 0)
}
