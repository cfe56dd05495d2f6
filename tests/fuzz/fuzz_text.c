/* libFuzzer target: the tokenizer on any bytes. Every term it hands out is
 * non-empty, at most TEXT_TERM_MAX bytes, valid UTF-8, has no uppercase
 * ASCII, the scan with bigrams sees the same words as without, and the
 * terms are the reference tokenizer's (tests/oracle/text_ref.h). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/text.h"
#include "common/utf8.h"
#include "tests/oracle/text_ref.h"

static int check_term(void *arg, const char *term, size_t len) {
    (void)arg;
    if (len == 0 || len > TEXT_TERM_MAX || !utf8_check(term, len, NULL)) abort();
    for (size_t i = 0; i < len; i++)
        if (term[i] >= 'A' && term[i] <= 'Z') abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    long w1 = text_terms((const char *)data, size, 1, check_term, NULL);
    long w2 = text_terms((const char *)data, size, 2, check_term, NULL);
    if (w1 < 0 || w1 != w2 || text_terms((const char *)data, size, 1, NULL, NULL) != w1) abort();
    char why[256];
    if (textref_compare((const char *)data, size, why, sizeof why) != 0) {
        fprintf(stderr, "the tokenizer differs from the reference: %s\n", why);
        abort();
    }
    return 0;
}
