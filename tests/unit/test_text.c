/* Tests for common/text: the tokenizer's rules (case, letters, apostrophes,
 * long words, bigrams, invalid bytes) and the hashing trick's bucket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/text.h"
#include "tests/oracle/text_ref.h"

/* The terms joined by '|'. */
typedef struct {
    char out[4096];
    size_t len;
} join_t;

static int join_term(void *arg, const char *term, size_t len) {
    join_t *j = arg;
    if (j->len) j->out[j->len++] = '|';
    memcpy(j->out + j->len, term, len);
    j->len += len;
    j->out[j->len] = 0;
    return 0;
}

static const char *terms(const char *text, int ngram, long *words) {
    static join_t j;
    memset(&j, 0, sizeof j);
    long n = text_terms(text, strlen(text), ngram, join_term, &j);
    if (words) *words = n;
    return j.out;
}

static void test_words(void **state) {
    (void)state;
    long n;
    assert_string_equal(terms("Hello, World! 42x", 1, &n), "hello|world|42x");
    assert_int_equal(n, 3);
    assert_string_equal(terms("", 1, &n), "");
    assert_int_equal(n, 0);
    assert_string_equal(terms("  ...  ", 1, NULL), "");
    assert_string_equal(terms("foo_bar-baz", 1, NULL), "foo|bar|baz");
    assert_string_equal(terms("e-mail 3.14", 1, NULL), "e|mail|3|14");
}

static void test_apostrophes(void **state) {
    (void)state;
    assert_string_equal(terms("Don't 'quoted' rock'n'roll", 1, NULL), "don't|quoted|rock'n'roll");
    assert_string_equal(terms("a''b x' 'y '", 1, NULL), "a|b|x|y");
    assert_string_equal(terms("it's", 2, NULL), "it's");
}

static void test_latin1(void **state) {
    (void)state;
    /* É -> é, Ñ -> ñ, Þ -> þ; ß and ÿ stay; × and ÷ separate; « » separate */
    assert_string_equal(terms("\xc3\x89t\xc3\xa9 \xc3\x91O \xc3\x9e\xc3\x9f\xc3\xbf", 1, NULL),
                        "\xc3\xa9t\xc3\xa9|\xc3\xb1o|\xc3\xbe\xc3\x9f\xc3\xbf");
    assert_string_equal(terms("2\xc3\x97"
                              "3\xc3\xb7x \xc2\xabhi\xc2\xbb",
                              1, NULL),
                        "2|3|x|hi");
    /* other scripts are letters and are not case-folded */
    assert_string_equal(terms("\xce\x91\xce\xb2 \xe4\xb8\xad\xe6\x96\x87!", 1, NULL),
                        "\xce\x91\xce\xb2|\xe4\xb8\xad\xe6\x96\x87");
}

static void test_invalid_bytes_separate(void **state) {
    (void)state;
    assert_string_equal(terms("ab\xff"
                              "cd\xc3",
                              1, NULL),
                        "ab|cd");
    assert_string_equal(terms("x\xed\xa0\x80y", 1, NULL), "x|y"); /* surrogate */
    assert_string_equal(terms("\xc0\xafz", 1, NULL), "z");        /* overlong */
}

static void test_long_words_dropped(void **state) {
    (void)state;
    char text[400];
    char word[TEXT_WORD_MAX + 2];
    memset(word, 'w', TEXT_WORD_MAX + 1);
    word[TEXT_WORD_MAX + 1] = 0;
    snprintf(text, sizeof text, "one %s two", word);
    long n;
    assert_string_equal(terms(text, 2, &n), "one|two|one two");
    assert_int_equal(n, 2);
    word[TEXT_WORD_MAX] = 0; /* exactly TEXT_WORD_MAX bytes: kept */
    snprintf(text, sizeof text, "%s", word);
    assert_string_equal(terms(text, 1, &n), word);
    assert_int_equal(n, 1);
}

static void test_bigrams(void **state) {
    (void)state;
    long n;
    assert_string_equal(terms("The cat, the HAT", 2, &n),
                        "the|cat|the cat|the|cat the|hat|the hat");
    assert_int_equal(n, 4);
    assert_string_equal(terms("solo", 2, NULL), "solo");
}

static int stop_at_second(void *arg, const char *term, size_t len) {
    (void)term;
    (void)len;
    return ++*(int *)arg == 2;
}

static void test_stop_and_count(void **state) {
    (void)state;
    int calls = 0;
    assert_int_equal(text_terms("a b c", 5, 1, stop_at_second, &calls), -1);
    assert_int_equal(calls, 2);
    assert_int_equal(text_terms("a b c d", 7, 2, NULL, NULL), 4);
}

static void test_hash(void **state) {
    (void)state;
    /* FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector) */
    uint64_t h = 0xaf63dc4c8601ec8cull;
    h ^= h >> 32;
    assert_int_equal(text_hash("a", 1, 24), (uint32_t)(h & 0xffffff));
    assert_int_equal(text_hash("a", 1, 1), (uint32_t)(h & 1));
    for (int bits = 1; bits <= TEXT_HASH_BITS_MAX; bits++)
        assert_true(text_hash("hello", 5, bits) < (1u << bits));
}

/* Texts of pieces (ASCII runs that straddle 8-byte steps, capitals,
 * apostrophes, Latin-1 and other letters, separators from U+0080..U+00BF,
 * invalid, overlong and truncated sequences, words near TEXT_WORD_MAX
 * bytes): the tokenizer gives the reference's terms (tests/oracle/text_ref.h). */
static void test_same_as_reference(void **state) {
    (void)state;
    static const char *const PIECES[] = {
        "a",
        "Z",
        "q",
        "9",
        " ",
        " ",
        "'",
        "''",
        ",",
        ".",
        "-",
        "\n",
        "\t",
        "x'",
        "'y",
        "Don't",
        "HELLO",
        "Word",
        "0123456789",
        "abcdefgh",
        "ABCDEFGHIJKLMNOP",
        "tz",
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk", /* 63 */
        "\xc3\x89",
        "\xc3\xa9",
        "\xc3\x97",
        "\xc3\xb7",
        "\xc3\x9e",
        "\xc3\x9f",
        "\xc2\xa0",
        "\xc2\xbf",
        "\xc4\x80",
        "\xe6\x97\xa5",
        "\xf0\x9f\x98\x80",
        "\xff",
        "\x80",
        "\xc0\x80",
        "\xc2",
        "\xe0\x80",
        "\xed\xa0\x80",
        "\xf4\x90\x80\x80",
        "\xe2\x82",
        "@",
        "[",
        "`",
        "{"};
    srand(1616);
    char buf[4096], why[256];
    for (int iter = 0; iter < 60000; iter++) {
        size_t len = 0;
        int n = rand() % 40;
        for (int i = 0; i < n; i++) {
            const char *p = PIECES[(size_t)rand() % (sizeof PIECES / sizeof PIECES[0])];
            size_t l = strlen(p);
            memcpy(buf + len, p, l);
            len += l;
        }
        /* the same text at every alignment of its start */
        for (size_t off = 0; off < 3 && off <= len; off++)
            if (textref_compare(buf + off, len - off, why, sizeof why) != 0)
                fail_msg("text \"%.*s\": %s", (int)(len - off), buf + off, why);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_apostrophes),
        cmocka_unit_test(test_latin1),
        cmocka_unit_test(test_invalid_bytes_separate),
        cmocka_unit_test(test_long_words_dropped),
        cmocka_unit_test(test_bigrams),
        cmocka_unit_test(test_stop_and_count),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_same_as_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
