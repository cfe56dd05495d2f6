# funclen.awk: functions longer than MAX lines (default 80) in C files written
# in our style (a definition starts at column 0, its body ends at a "}" in
# column 0). A function whose comment above says why it must be one piece
# ("one piece" in the comment) is allowed. Prints FILE:LINE: NAME is N lines.
BEGIN { if (!MAX) MAX = 80 }
FNR == 1 { infn = 0; cmt = "" }
/^\/\*/ { cmt = "" }
/^\/\*/, /\*\/$/ { cmt = cmt " " $0; next }
!infn && /^[A-Za-z_][A-Za-z0-9_ \*]*[ \*]([A-Za-z_][A-Za-z0-9_]*)\(/ && !/;[ \t]*$/ {
    name = $0; sub(/\(.*/, "", name); sub(/.*[ \*]/, "", name)
    start = FNR; infn = 1; allowed = (cmt ~ /one piece/); cmt = ""; next
}
infn && /^}/ {
    n = FNR - start + 1
    if (n > MAX && !allowed) { printf "%s:%d: %s is %d lines\n", FILENAME, start, name, n; bad++ }
    infn = 0; next
}
!infn && !/^[ \t]*$/ && !/^\/\// { cmt = "" }
END { exit bad > 0 }
