/* heap: how the master and the worker ask malloc to keep what they free.
 *
 * Exact training moves vectors of a few MB every round (task bodies,
 * answers, the decoders' copies). glibc serves a block that large with a
 * fresh mmap and unmaps it on free, and trims the top of the heap beyond
 * 128 KB; the next round then faults every page back in, and the kernel
 * zeroes each one (a 2 MB huge page at a time where transparent huge pages
 * are on): about a tenth of a worker's CPU on a 100,000 x 1,000,000 job.
 * Keeping blocks up to HEAP_KEEP_BYTES in the heap, and freed memory in the
 * process, lets the next round reuse the same pages. The price is that a
 * process keeps what it freed: a worker, which stays up on someone's PC
 * between jobs, gives it back with heap_give_back() once it has been idle
 * for a while, and `master serve` after each job.
 */
#ifndef NC_HEAP_H
#define NC_HEAP_H

/* The largest block served from the heap (glibc's ceiling for the mmap
 * threshold on 64-bit hosts); larger ones are still mapped apart. */
#define HEAP_KEEP_BYTES (32u << 20)

/* Call once at the start of main(), before threads start: sets glibc's mmap
 * and trim thresholds. Returns 0, or -1 when the C library refused (the
 * process then runs with its defaults; nothing else changes). */
int heap_keep_freed(void);

/* Returns the freed memory the heap kept to the system (malloc_trim). */
void heap_give_back(void);

#endif
