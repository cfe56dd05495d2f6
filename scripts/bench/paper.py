#!/usr/bin/env python3
"""Master traffic and communication time per CG step, on paper.

    python3 scripts/bench/paper.py

A model, not a measurement (make bench measures 2 local workers): rows are
split evenly over W workers; a worker's vectors hold the columns its rows
touch, whose expected count under the Zipf(1) column law of bin/gensparse is
sum_j 1 - (1 - p_j)^(rows * nnz); one CG step sends each worker s and takes
back H*s for every class (K vectors). Star: the master's 1 Gbit/s link
carries every worker's vectors (full duplex: the larger direction counts).
Tree: workers add their children's vectors pairwise, so the master takes two
answers; the critical path is log2(W) levels up and as many down, each
level moving the union of its subtree's columns. 100 us per hop.
Tree as built (cluster.reduce tree): up only. Each hop carries the union of
its subtree's columns (answers name their columns), but the master still
sends every worker its own request, so a step is the star's outbound time,
then log2(W) hops up, one after the other, and the master takes one answer
over every column the data touches. Beside it, the star with the same
assumption (requests out, then answers in, not overlapped), which is the
fair comparison for it.
"""
import math

LINK = 125e6  # bytes/s: 1 Gbit/s
HOP = 100e-6  # s

SHAPES = [
    ("rcv1-shaped: 100,000 rows x 1,000,000 features, 30 non-zeros a row, 2 classes (1 vector)",
     100000, 1000000, 30, 1, 1.0),
    ("20 classes: 50,000 rows x 200,000 features, 27 non-zeros a row (20 vectors)",
     50000, 200000, 27, 20, 1.0),
    ("dense: Fashion-MNIST, 60,000 rows x 785 columns (784 + bias), 10 classes (10 vectors)",
     60000, 785, 785, 10, None),
]


def zipf(features, skew):
    w = [(r + 1) ** -skew for r in range(features)]
    total = sum(w)
    return [x / total for x in w]


def touched(p, draws):
    return sum(1 - math.exp(draws * math.log1p(-q)) for q in p)


def main():
    for name, rows, features, nnz, vectors, skew in SHAPES:
        p = zipf(features, skew) if skew is not None else None

        def cols(nrows):
            return features if p is None else touched(p, nrows * nnz)

        print(f"{name}\n")
        print("| workers | star: master MB a step | star: ms a step | tree: master MB a step | tree: ms a step "
              "| star, out then in: ms a step | tree as built: master MB a step | tree as built: ms a step |")
        print("|---|---|---|---|---|---|---|---|")
        for w in (2, 8, 32, 128):
            per = rows / w
            star = w * cols(per) * vectors * 8  # each direction
            star_ms = (star / LINK + 2 * HOP) * 1e3
            levels = max(1, math.ceil(math.log2(w)))
            tree_ms = sum(2 * (cols(per * min(w, 2 ** l)) * vectors * 8 / LINK + HOP)
                          for l in range(levels)) * 1e3
            root = 2 * cols(per * w / 2) * vectors * 8
            built = star + cols(rows) * vectors * 8
            built_ms = (star / LINK + HOP + sum(cols(per * min(w, 2 ** l)) * vectors * 8 / LINK + HOP
                                                for l in range(levels + 1))) * 1e3
            seq_ms = (2 * star / LINK + 2 * HOP) * 1e3
            print(f"| {w} | {2 * star / 1e6:.1f} | {star_ms:.0f} | {2 * root / 1e6:.1f} | {tree_ms:.0f} "
                  f"| {seq_ms:.0f} | {built / 1e6:.1f} | {built_ms:.0f} |")
        print()


if __name__ == "__main__":
    main()
