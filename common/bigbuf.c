/* bigbuf: see bigbuf.h. */
#include "common/bigbuf.h"

#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

/* Transparent huge pages are 2 MB on x86-64 and arm64 (4 KB base pages);
 * below that size the advice would buy nothing. */
#define BIGBUF_HUGE ((size_t)2 << 20)

static size_t bigbuf_page(void) {
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

static size_t bigbuf_round(size_t n, size_t to) {
    return (n + to - 1) / to * to;
}

int bigbuf_reserve(bigbuf_t *b, size_t need) {
    if (need <= b->cap) return 0;
    size_t cap = b->cap * 2 > need ? b->cap * 2 : need;
    if (cap < b->cap || cap > SIZE_MAX / 2) {
        errno = ENOMEM;
        return -1;
    }
    cap = bigbuf_round(cap, cap >= BIGBUF_HUGE ? BIGBUF_HUGE : bigbuf_page());
    void *p = b->p ? mremap(b->p, b->cap, cap, MREMAP_MAYMOVE)
                   : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        errno = ENOMEM;
        return -1;
    }
    /* Advice only: a kernel without THP says EINVAL and we go on with small
     * pages. mremap keeps the advice of the part that was there. */
    if (cap >= BIGBUF_HUGE) (void)madvise(p, cap, MADV_HUGEPAGE);
    b->p = p;
    b->cap = cap;
    return 0;
}

void bigbuf_trim(bigbuf_t *b, size_t used) {
    if (!b->p) return;
    size_t page = bigbuf_page();
    size_t keep = bigbuf_round(used ? used : 1, page);
    if (keep >= b->cap) return;
    void *p = mremap(b->p, b->cap, keep, 0);
    if (p == MAP_FAILED) return;
    b->p = p;
    b->cap = keep;
}

void bigbuf_free(bigbuf_t *b) {
    if (b->p) munmap(b->p, b->cap);
    b->p = NULL;
    b->cap = 0;
}
