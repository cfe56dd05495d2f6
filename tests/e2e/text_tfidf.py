#!/usr/bin/env python3
"""Independent reference for tests/e2e/text_*.sh: the bag-of-words features
of docs/DESIGN.md "Free text", written from the contract alone (no NetCompute
code): tokenizer, vocabulary (min_df, max_features, ties by term bytes),
tf-idf with sublinear tf and L2 rows, the standard scaling of a numeric
column, as libsvm files for liblinear-train and liblinear-predict.

usage: text_tfidf.py gen TRAIN.csv TEST.csv SEED
       text_tfidf.py features TRAIN.csv TEST.csv OUTDIR NGRAM MIN_DF MAX_FEATURES [TFIDF]
       text_tfidf.py fortunes DIR TRAIN.csv TEST.csv  (a labelled corpus: category = label)
       text_tfidf.py bow TRAIN.csv TEST.csv OUTDIR  (plain bag of words: counts, every term)
features writes OUTDIR/train.svm, OUTDIR/test.svm, OUTDIR/vocab.txt, OUTDIR/labels.txt
"""
import csv
import math
import os
import random
import re
import sys

MISSING = {"", "NA", "na", "NaN", "nan", "N/A", "?"}
# after folding: ASCII letters and digits, Latin-1 letters but for the
# multiplication and division signs, any code point from U+0100
WCH = "[0-9a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\U0010ffff]"
WORD = re.compile(WCH + "+(?:'" + WCH + "+)*")


def fold(text):
    out = []
    for ch in text:
        o = ord(ch)
        if 0x41 <= o <= 0x5A or (0xC0 <= o <= 0xDE and o != 0xD7):
            ch = chr(o + 0x20)
        out.append(ch)
    return "".join(out)


def terms(text, ngram):
    words = [w for w in WORD.findall(fold(text)) if len(w.encode("utf-8")) <= 64]
    out = list(words)
    if ngram == 2:
        out += [a + " " + b for a, b in zip(words, words[1:])]
    return out


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    head = rows[0]
    return head, rows[1:]


def features(train, test, outdir, ngram, min_df, max_features, tfidf=1):
    head, rows = read(train)
    thead, trows = read(test)
    ti, xi, li = head.index("review"), head.index("x"), head.index("label")
    n = len(rows)
    df = {}
    for r in rows:
        if r[ti] in MISSING:
            continue
        for t in set(terms(r[ti], ngram)):
            df[t] = df.get(t, 0) + 1
    keep = [t for t in df if df[t] >= min_df]
    keep.sort(key=lambda t: (-df[t], t.encode("utf-8")))
    keep = sorted(keep[:max_features], key=lambda t: t.encode("utf-8"))
    index = {t: k for k, t in enumerate(keep)}
    idf = [math.log((1.0 + n) / (1.0 + df[t])) + 1.0 for t in keep]
    xs = [float(r[xi]) for r in rows]
    mean = math.fsum(xs) / n
    var = math.fsum(v * v for v in xs) / n - mean * mean
    std = math.sqrt(var) if var > 0 else 0.0
    labels = []
    for r in rows:
        if r[li] not in labels:
            labels.append(r[li])

    def line(r, lab_i, txt_i, x_i):
        feats = []
        v = (float(r[x_i]) - mean) * (1.0 / std if std else 0.0)
        if v != 0.0:
            feats.append((1, v))
        if r[txt_i] not in MISSING:
            tf = {}
            for t in terms(r[txt_i], ngram):
                if t in index:
                    tf[index[t]] = tf.get(index[t], 0) + 1
            ks = sorted(tf)
            if tfidf:
                w = [(1.0 + math.log(tf[k])) * idf[k] for k in ks]
                sq = 0.0
                for a in w:
                    sq += a * a
                norm = math.sqrt(sq)
                w = [a / norm for a in w]
            else:
                w = [float(tf[k]) for k in ks]
            feats += [(2 + k, a) for k, a in zip(ks, w)]
        lab = labels.index(r[lab_i]) if r[lab_i] in labels else len(labels)
        return str(lab) + "".join(" %d:%.17g" % f for f in feats) + "\n"

    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "train.svm"), "w") as f:
        for r in rows:
            f.write(line(r, li, ti, xi))
    with open(os.path.join(outdir, "test.svm"), "w") as f:
        for r in trows:
            f.write(line(r, thead.index("label"), thead.index("review"), thead.index("x")))
    with open(os.path.join(outdir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in keep))
    with open(os.path.join(outdir, "labels.txt"), "w", encoding="utf-8") as f:
        f.write("".join(l + "\n" for l in labels))


def bow(train, test, outdir):
    """The plain bag of words a user would build: every word of the
    training texts, its count in the row, nothing else."""
    head, rows = read(train)
    thead, trows = read(test)
    vocab, labels = {}, []
    for r in rows:
        for t in terms(r[head.index("review")], 1):
            vocab.setdefault(t, len(vocab) + 1)
        if r[head.index("label")] not in labels:
            labels.append(r[head.index("label")])
    os.makedirs(outdir, exist_ok=True)
    for name, hd, rs in (("train.svm", head, rows), ("test.svm", thead, trows)):
        with open(os.path.join(outdir, name), "w") as f:
            for r in rs:
                tf = {}
                for t in terms(r[hd.index("review")], 1):
                    if t in vocab:
                        tf[vocab[t]] = tf.get(vocab[t], 0) + 1
                lab = r[hd.index("label")]
                k = labels.index(lab) if lab in labels else len(labels)
                f.write(str(k) + "".join(" %d:%d" % (i, tf[i]) for i in sorted(tf)) + "\n")
    with open(os.path.join(outdir, "labels.txt"), "w", encoding="utf-8") as f:
        f.write("".join(l + "\n" for l in labels))


def gen(train, test, seed):
    rnd = random.Random(seed)
    pos = "good great excellent love wonderful best fine nice happy superb".split()
    neg = "bad awful terrible hate worst poor boring sad ugly dull".split()
    mid = ("the a movie film plot actor story it was is and of this very really quite "
           "don't isn't rock'n'roll Été café NAÏVE Ærø ÉCOLE señor".split())
    junk = ["'quoted'", "x" * 70, "e-mail", "3.14", "100%", "«hi»", "2×3", "日本語"]

    def row(i):
        lab = rnd.choice(["pos", "neg", "meh"])
        src = {"pos": pos, "neg": neg, "meh": mid}[lab]
        w = [rnd.choice(mid) for _ in range(rnd.randint(2, 9))]
        w += [rnd.choice(src) for _ in range(rnd.randint(1, 3))]
        if rnd.random() < 0.3:
            w.append(rnd.choice(junk))
        if rnd.random() < 0.2:
            w.append(rnd.choice(pos + neg))
        rnd.shuffle(w)
        sep = rnd.choice([" ", ", ", "; ", " - ", "! "])
        t = sep.join(w)
        if rnd.random() < 0.3:
            t = t.upper()
        if rnd.random() < 0.03:
            t = rnd.choice(["NA", ""])
        x = rnd.random() * 10 + (2 if lab == "pos" else 0)
        return [str(i), "%.3f" % x, t, lab]

    for path, n in ((train, 1500), (test, 500)):
        with open(path, "w", newline="", encoding="utf-8") as f:
            wr = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            wr.writerow(["id", "x", "review", "label"])
            for i in range(1, n + 1):
                wr.writerow(row(i))


def fortunes(folder, train, test):
    """Each fortune file is a category: its entries (separated by a line
    holding %) are the texts, the file name the label; shuffled, one row in
    five goes to the test file."""
    rnd = random.Random(5)
    rows = []
    for name in sorted(os.listdir(folder)):
        p = os.path.join(folder, name)
        if "." in name or not os.path.isfile(p):
            continue
        with open(p, encoding="utf-8", errors="replace") as f:
            for e in f.read().split("\n%\n"):
                e = " ".join(e.split())
                if e:
                    rows.append([e, name])
    rnd.shuffle(rows)
    with open(train, "w", newline="", encoding="utf-8") as f, \
            open(test, "w", newline="", encoding="utf-8") as g:
        wf, wg = csv.writer(f, lineterminator="\n"), csv.writer(g, lineterminator="\n")
        for w in (wf, wg):
            w.writerow(["id", "x", "review", "label"])
        for i, (t, lab) in enumerate(rows, 1):
            (wg if i % 5 == 0 else wf).writerow([i, "%.3f" % (len(t) / 100.0), t, lab])


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "features":
        a = sys.argv
        features(a[2], a[3], a[4], int(a[5]), int(a[6]), int(a[7]), int(a[8]) if len(a) > 8 else 1)
    elif cmd == "bow":
        bow(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "fortunes":
        fortunes(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("unknown command " + cmd)
