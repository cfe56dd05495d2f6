/* heap: malloc thresholds for processes that reuse large blocks (see heap.h). */
#include "common/heap.h"

#include <malloc.h>

int heap_keep_freed(void) {
#ifdef M_MMAP_THRESHOLD
    /* A trim threshold above any round's peak: free() never gives the top
     * of a heap back between rounds. Setting either threshold also turns
     * off glibc's own adjustment of them. */
    if (mallopt(M_MMAP_THRESHOLD, (int)HEAP_KEEP_BYTES) != 1) return -1;
    if (mallopt(M_TRIM_THRESHOLD, (int)(8 * HEAP_KEEP_BYTES)) != 1) return -1;
    return 0;
#else
    return -1;
#endif
}

void heap_give_back(void) {
    malloc_trim(0);
}
