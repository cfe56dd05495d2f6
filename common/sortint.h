/* sortint: ascending sorts of plain unsigned integer arrays (qsort with the
 * one comparator each width needs), for the modules that sort keys, row
 * numbers or node ids. */
#ifndef NC_SORTINT_H
#define NC_SORTINT_H

#include <stddef.h>
#include <stdint.h>

void sort_u32(uint32_t *v, size_t n);
void sort_u64(uint64_t *v, size_t n);

#endif
