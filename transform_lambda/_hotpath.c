/* The transform's common record, compiled: base64 -> JSON -> the stored row -> base64, in one pass.
 *
 * Why: in CPython the Lambda's per-record work cannot come within 2x of a bare base64 + JSON round trip,
 * because the stored row is ~3x the event's bytes (BENCHMARKS.md "Transform"). This module does for the
 * common record exactly what transform_lambda/events.py's inline path does, byte for byte, and answers
 * None for anything it does not fully understand; the Python path then decides (and names any rejection).
 * It never rejects a record itself, so the Python path stays the one definition of what is valid.
 *
 * Handled: a JSON object with the three fields (event_uuid a canonical UUID, not nil; event_name already
 * seen valid, in the `names` dict; created_at a number), any payload of objects (any number of keys),
 * arrays, strings (escapes and UTF-8 checked), numbers in any notation written as orjson writes them,
 * true/false/null. Answered None: integers beyond 64 bits, non-finite numbers, duplicate keys, lone
 * surrogates, invalid UTF-8 or base64, deep nesting, records over 1 MiB, names with escapes or unseen names.
 *
 * first_arrivals runs the handler's loop over a batch in C up to each record it hands back, answering the
 * records it writes as the handler does (one C call per run of records instead of a Python iteration each).
 *
 * Output, as orjson.dumps writes events.row: compact, glue.schema's columns in its order (given to
 * configure(); COLUMNS names those this module can write, and events.py refuses it if they differ),
 * non-ASCII kept, '"' '\\' and control characters escaped as orjson escapes them; the payload is the event
 * without its three fields, in its order, compact, written as a JSON string.
 *
 * Stable ABI only (abi3): one build serves Python 3.11 to 3.14 (infra/native_build.py builds Lambda's).
 */
#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The sanitizer lane's build (tools/sanitize/run, -fsanitize=address): the bytes after the decoded record are
 * poisoned, so reading one past the record's end is reported, not a silent read of the next buffer. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define MAX_RECORD (1 << 20) /* decoded bytes: Kinesis's largest record (1 MiB); larger ones take Python */
#define MAX_DEPTH 64
#define MAX_INT_DIGITS 18
#define MAX_SIG_DIGITS 15   /* a decimal with at most 15 significant digits is its double's shortest text */
#define MAX_LEADING_ZEROS 4 /* orjson writes 0.00001 as such, 0.000001 as 1e-6 */
#define MAX_NUMBER_TEXT 400 /* a longer number (a 400-digit decimal) is handed back */
#define NUMBER_ROOM 32      /* the longest number orjson writes is 24 bytes ("-2.2250738585072014e-308") */
/* Duplicate keys: every key of a record goes into an open-addressing table, tagged with its object's serial
 * number (unique across calls, so a table is never cleared between records), each found in O(1). A record
 * is parsed with a small table, which stays in the CPU's cache (the large one, probed at random, misses it
 * on nearly every key: ~5 % of the handler's time); one with more keys than half of it is parsed again with
 * the large table, and one with more than half of that is handed back. */
#define KEY_SLOTS (1 << 16)
#define SMALL_KEY_SLOTS (1 << 12)

static long long min_created_at = 946684800LL;  /* replaced by configure() from glue.schema */
static long long max_created_at = 4102444800LL;

typedef struct {
    uint32_t object; /* the object's serial; slots of an older record (below Parser.first_object) are free */
    uint32_t hash;
    uint32_t start, length; /* the key as written, in the payload buffer */
} KeySlot;

static KeySlot key_slots[KEY_SLOTS], small_key_slots[SMALL_KEY_SLOTS];
static uint32_t next_object = 1; /* serials handed out; 0 marks a never-used slot */

typedef struct {
    const unsigned char *p, *end; /* the decoded record */
    unsigned char *out;           /* where the payload's compact JSON is written */
    unsigned char *base;          /* start of the payload buffer */
    unsigned char *limit;         /* its end: only numbers can grow (1e9 is written 1000000000.0) */
    uint32_t first_object;        /* this record's first object serial */
    size_t keys;                  /* keys of this record in `slots` */
    KeySlot *slots;               /* key_slots or small_key_slots */
    size_t slot_mask;             /* its size - 1 */
    int too_many_keys;            /* more keys than half of `slots`: handed back */
} Parser;

#define BAIL (-1)

static const char HEX[] = "0123456789abcdef";

static char *put_int(char *out, long long value);

/* Bytes a JSON string can hold as they are (orjson writes them so): not '"', '\\' or a control character.
 * PLAIN also excludes bytes >= 0x80, which parse_string checks as UTF-8. */
static unsigned char VERBATIM[256], PLAIN[256];

/* orjson's escapes: the short forms for \b \t \n \f \r, \u00XX (lowercase) for other control characters. */
static unsigned char *put_escaped(unsigned char *out, const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t run = i;
        while (run < n && VERBATIM[s[run]]) run++;
        memcpy(out, s + i, run - i);
        out += run - i;
        if (run == n) break;
        unsigned char c = s[run];
        i = run + 1;
        *out++ = '\\';
        if (c == '"' || c == '\\') {
            *out++ = c;
            continue;
        }
        switch (c) {
        case '\b': *out++ = 'b'; break;
        case '\t': *out++ = 't'; break;
        case '\n': *out++ = 'n'; break;
        case '\f': *out++ = 'f'; break;
        case '\r': *out++ = 'r'; break;
        default:
            *out++ = 'u';
            *out++ = '0';
            *out++ = '0';
            *out++ = HEX[c >> 4];
            *out++ = HEX[c & 15];
        }
    }
    return out;
}

static inline void skip_ws(Parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t')) ps->p++;
}

static int hex4(const unsigned char *s, unsigned *value) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return BAIL;
    }
    *value = v;
    return 0;
}

/* Length of the valid UTF-8 sequence starting at s (a byte >= 0x80), else 0 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF). */
static size_t utf8_length(const unsigned char *s, const unsigned char *end) {
    unsigned char c = s[0];
    size_t left = (size_t)(end - s);
    if (c >= 0xC2 && c <= 0xDF) return left >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (left < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80) return 0;
        if (c == 0xE0 && s[1] < 0xA0) return 0;
        if (c == 0xED && s[1] > 0x9F) return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (left < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        if (c == 0xF0 && s[1] < 0x90) return 0;
        if (c == 0xF4 && s[1] > 0x8F) return 0;
        return 4;
    }
    return 0;
}

static unsigned char *put_code_point(unsigned char *out, unsigned cp) {
    if (cp < 0x80) {
        unsigned char c = (unsigned char)cp;
        return put_escaped(out, &c, 1);
    }
    if (cp < 0x800) {
        *out++ = (unsigned char)(0xC0 | (cp >> 6));
    } else if (cp < 0x10000) {
        *out++ = (unsigned char)(0xE0 | (cp >> 12));
        *out++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    } else {
        *out++ = (unsigned char)(0xF0 | (cp >> 18));
        *out++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *out++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    }
    *out++ = (unsigned char)(0x80 | (cp & 0x3F));
    return out;
}

/* A JSON string at ps->p (its opening quote), written to *out as orjson writes that string. */
static int parse_string(Parser *ps, unsigned char **out) {
    const unsigned char *p = ps->p + 1, *end = ps->end;
    unsigned char *o = *out;
    *o++ = '"';
    for (;;) {
        if (p >= end) return BAIL;
        unsigned char c = *p;
        if (c == '"') {
            p++;
            break;
        }
        if (c == '\\') {
            if (end - p < 2) return BAIL;
            unsigned char e = p[1];
            p += 2;
            switch (e) {
            case '"': *o++ = '\\'; *o++ = '"'; break;
            case '\\': *o++ = '\\'; *o++ = '\\'; break;
            case '/': *o++ = '/'; break;
            case 'b': *o++ = '\\'; *o++ = 'b'; break;
            case 'f': *o++ = '\\'; *o++ = 'f'; break;
            case 'n': *o++ = '\\'; *o++ = 'n'; break;
            case 'r': *o++ = '\\'; *o++ = 'r'; break;
            case 't': *o++ = '\\'; *o++ = 't'; break;
            case 'u': {
                unsigned cp, low;
                if (end - p < 4 || hex4(p, &cp)) return BAIL;
                p += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) return BAIL; /* a lone low surrogate */
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, &low)) return BAIL;
                    if (low < 0xDC00 || low > 0xDFFF) return BAIL;
                    p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                o = put_code_point(o, cp);
                break;
            }
            default: return BAIL;
            }
        } else if (PLAIN[c]) {
            const unsigned char *run = p + 1;
            while (run < end && PLAIN[*run]) run++;
            memcpy(o, p, (size_t)(run - p));
            o += run - p;
            p = run;
        } else if (c < 0x20) {
            return BAIL; /* not JSON */
        } else {
            size_t n = utf8_length(p, end);
            if (!n) return BAIL;
            memcpy(o, p, n);
            o += n;
            p += n;
        }
    }
    *o++ = '"';
    ps->p = p;
    *out = o;
    return 0;
}

/* A JSON number at ps->p. *canonical: orjson writes its value back as this very text (an integer of up to 18
 * digits but -0, a decimal of up to 15 significant digits as orjson spells it), decided while scanning. */
static int scan_number(Parser *ps, const unsigned char **start, size_t *length, int *is_float, int *canonical) {
    const unsigned char *s = ps->p, *p = s, *end = ps->end;
    int negative = 0;
    if (p < end && *p == '-') {
        negative = 1;
        p++;
    }
    const unsigned char *whole = p;
    if (p >= end || *p < '0' || *p > '9') return BAIL;
    if (*p == '0') p++;
    else
        while (p < end && *p >= '0' && *p <= '9') p++;
    size_t whole_digits = (size_t)(p - whole);
    *is_float = 0;
    *canonical = 1;
    if (p < end && *p == '.') {
        const unsigned char *fraction = ++p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        size_t fraction_digits = (size_t)(p - fraction);
        if (!fraction_digits) return BAIL;
        *is_float = 1;
        int zero_whole = whole_digits == 1 && whole[0] == '0';
        if (fraction_digits == 1 && fraction[0] == '0') { /* 12.0: as written for a whole double */
            if (whole_digits > MAX_SIG_DIGITS) *canonical = 0;
        } else if (fraction[fraction_digits - 1] == '0') { /* 1.50 is written 1.5 */
            *canonical = 0;
        } else {
            size_t significant = fraction_digits + (zero_whole ? 0 : whole_digits);
            if (zero_whole) {
                size_t zeros = 0;
                while (fraction[zeros] == '0') zeros++;
                if (zeros > MAX_LEADING_ZEROS) *canonical = 0;
                significant -= zeros;
            }
            if (significant > MAX_SIG_DIGITS || whole_digits > MAX_SIG_DIGITS) *canonical = 0;
        }
    } else if (whole_digits > MAX_INT_DIGITS || (negative && whole[0] == '0')) { /* -0 is written 0 */
        *canonical = 0;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        const unsigned char *digits = p;
        while (p < end && *p >= '0' && *p <= '9') p++;
        if (p == digits) return BAIL;
        *is_float = 1;
        *canonical = 0;
    }
    *start = s;
    *length = (size_t)(p - s);
    ps->p = p;
    return 0;
}

/* An integer orjson would not write back as sent: -0 as 0; 19 and 20 digits as they are within its 64 bits
 * (-2^63 to 2^64-1). Beyond them the Python paths write the whole payload with the standard library (exact
 * integers, Python's float notation): handed back, decided here. */
static int put_integer(Parser *ps, const unsigned char *s, size_t n) {
    int negative = s[0] == '-';
    const unsigned char *digits = s + negative;
    size_t count = n - (size_t)negative;
    if (count == 1 && digits[0] == '0') { /* -0 */
        *ps->out++ = '0';
        return 0;
    }
    if (count > 20) return BAIL;
    if (count >= 19) {
        const char *bound = negative ? "9223372036854775808" : "18446744073709551615";
        size_t bound_digits = strlen(bound);
        if (count > bound_digits || (count == bound_digits && memcmp(digits, bound, count) > 0)) return BAIL;
    }
    memcpy(ps->out, s, n);
    ps->out += n;
    return 0;
}

/* A float in any notation, written as orjson writes its double: the shortest digits that read back as it
 * (Python's repr, correctly rounded as orjson's), plain from 1e-5 to below 1e16, else d.ddde+N / e-N. Python's
 * repr differs only in spelling: exponents padded to two digits (1e-07) and 1e-05 where orjson writes 0.00001. */
static int put_float(Parser *ps, const unsigned char *s, size_t n) {
    char text[MAX_NUMBER_TEXT + 1];
    /* room for this number and for the rest of the record, which cannot grow but by numbers */
    if (n > MAX_NUMBER_TEXT || ps->limit - ps->out < NUMBER_ROOM + (ps->end - ps->p)) return BAIL;
    memcpy(text, s, n);
    text[n] = 0;
    double value = PyOS_string_to_double(text, NULL, NULL); /* overflow: +-HUGE_VAL, no error */
    if (value == -1.0 && PyErr_Occurred()) return BAIL;
    if (!isfinite(value)) return BAIL; /* 1e400: the Python paths reject it */
    char *shortest = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!shortest) return BAIL;
    char *e = strchr(shortest, 'e');
    unsigned char *o = ps->out;
    size_t length = strlen(shortest);
    if (!e) {
        memcpy(o, shortest, length);
        o += length;
    } else {
        int exponent = atoi(e + 1);
        const char *m = shortest;
        if (exponent == -5) { /* d.ddde-05 -> 0.0000dddd */
            if (*m == '-') *o++ = *m++;
            memcpy(o, "0.0000", 6);
            o += 6;
            for (; m < e; m++)
                if (*m != '.') *o++ = (unsigned char)*m;
        } else {
            memcpy(o, m, (size_t)(e - m));
            o += e - m;
            *o++ = 'e';
            *o++ = exponent < 0 ? '-' : '+';
            o = (unsigned char *)put_int((char *)o, exponent < 0 ? -exponent : exponent);
        }
    }
    PyMem_Free(shortest);
    ps->out = o;
    return 0;
}

static int parse_value(Parser *ps, int depth);

/* At an opening bracket: writes it; 1 (and writes the closing one) if the container is empty. */
static int open_container(Parser *ps, unsigned char open, unsigned char close) {
    *ps->out++ = open;
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == close) {
        ps->p++;
        *ps->out++ = close;
        return 1;
    }
    return 0;
}

/* After a member: 0 at a ',' (written if `comma`), 1 at `close` (written), else BAIL. */
static int after_member(Parser *ps, unsigned char close, int comma) {
    skip_ws(ps);
    if (ps->p >= ps->end) return BAIL;
    if (*ps->p == ',') {
        ps->p++;
        if (comma) *ps->out++ = ',';
        skip_ws(ps);
        return 0;
    }
    if (*ps->p != close) return BAIL;
    ps->p++;
    *ps->out++ = close;
    return 1;
}

/* A key just written at `key` in object `object`: BAIL if that object already has it. Keys are compared as
 * written, which is one text per string whatever escapes spelled it. */
static int add_key(Parser *ps, uint32_t object, const unsigned char *key, size_t length) {
    if (++ps->keys > ps->slot_mask / 2) {
        ps->too_many_keys = 1;
        return BAIL;
    }
    uint32_t hash = 2166136261u ^ (uint32_t)length; /* FNV-1a */
    for (size_t i = 0; i < length; i++) hash = (hash ^ key[i]) * 16777619u;
    size_t slot = (hash ^ object * 2654435761u) & ps->slot_mask;
    for (;;) {
        KeySlot *k = &ps->slots[slot];
        if (k->object < ps->first_object) break; /* free: an older record's, or never used */
        if (k->object == object && k->hash == hash && k->length == length &&
            !memcmp(ps->base + k->start, key, length))
            return BAIL;
        slot = (slot + 1) & ps->slot_mask;
    }
    KeySlot *k = &ps->slots[slot];
    k->object = object;
    k->hash = hash;
    k->start = (uint32_t)(key - ps->base);
    k->length = (uint32_t)length;
    return 0;
}

static int parse_object(Parser *ps, int depth) {
    if (depth > MAX_DEPTH) return BAIL;
    uint32_t object = next_object++;
    if (open_container(ps, '{', '}')) return 0;
    for (;;) {
        if (ps->p >= ps->end || *ps->p != '"') return BAIL;
        unsigned char *key = ps->out;
        if (parse_string(ps, &ps->out) || add_key(ps, object, key, (size_t)(ps->out - key))) return BAIL;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') return BAIL;
        ps->p++;
        *ps->out++ = ':';
        skip_ws(ps);
        if (parse_value(ps, depth + 1)) return BAIL;
        int done = after_member(ps, '}', 1);
        if (done < 0) return BAIL;
        if (done) return 0;
    }
}

static int parse_array(Parser *ps, int depth) {
    if (depth > MAX_DEPTH) return BAIL;
    if (open_container(ps, '[', ']')) return 0;
    for (;;) {
        if (parse_value(ps, depth + 1)) return BAIL;
        int done = after_member(ps, ']', 1);
        if (done) return done < 0 ? BAIL : 0;
    }
}

static int literal(Parser *ps, const char *word, size_t n) {
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n)) return BAIL;
    memcpy(ps->out, word, n);
    ps->out += n;
    ps->p += n;
    return 0;
}

static int parse_value(Parser *ps, int depth) {
    if (ps->p >= ps->end) return BAIL;
    switch (*ps->p) {
    case '{': return parse_object(ps, depth);
    case '[': return parse_array(ps, depth);
    case '"': return parse_string(ps, &ps->out);
    case 't': return literal(ps, "true", 4);
    case 'f': return literal(ps, "false", 5);
    case 'n': return literal(ps, "null", 4);
    default: {
        const unsigned char *start;
        size_t length;
        int is_float, canonical;
        if (scan_number(ps, &start, &length, &is_float, &canonical)) return BAIL;
        if (!canonical) return is_float ? put_float(ps, start, length) : put_integer(ps, start, length);
        memcpy(ps->out, start, length);
        ps->out += length;
        return 0;
    }
    }
}

/* ---- base64, standard alphabet, padded (what binascii writes and strict_mode reads) ---- */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static signed char B64_VALUE[256];

static Py_ssize_t b64_decode(const unsigned char *s, Py_ssize_t n, unsigned char *out) {
    if (n == 0 || n % 4) return BAIL;
    Py_ssize_t padding = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    Py_ssize_t full = n - padding;
    unsigned char *o = out;
    Py_ssize_t i = 0;
    for (; i + 4 <= full; i += 4) {
        int a = B64_VALUE[s[i]], b = B64_VALUE[s[i + 1]], c = B64_VALUE[s[i + 2]], d = B64_VALUE[s[i + 3]];
        if ((a | b | c | d) < 0) return BAIL;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        *o++ = (unsigned char)(v >> 16);
        *o++ = (unsigned char)(v >> 8);
        *o++ = (unsigned char)v;
    }
    if (padding) {
        int a = B64_VALUE[s[i]], b = B64_VALUE[s[i + 1]];
        int c = padding == 1 ? B64_VALUE[s[i + 2]] : 0;
        if ((a | b | c) < 0) return BAIL;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6;
        *o++ = (unsigned char)(v >> 16);
        if (padding == 1) *o++ = (unsigned char)(v >> 8);
    }
    return o - out;
}

static uint16_t B64_PAIR[4096]; /* two base64 characters for each 12 bits, as laid out in memory */

static size_t b64_encode(const unsigned char *s, size_t n, char *out) {
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        memcpy(o, &B64_PAIR[v >> 12], 2);
        memcpy(o + 2, &B64_PAIR[v & 4095], 2);
        o += 4;
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = B64[v >> 18];
        *o++ = B64[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = B64[v >> 18];
        *o++ = B64[(v >> 12) & 63];
        *o++ = B64[(v >> 6) & 63];
        *o++ = '=';
    }
    return (size_t)(o - out);
}

/* ---- times: glue.schema.iso_utc_at, for 1970 onwards ---- */

static char *put_digits(char *out, long long value, int width) {
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

/* yyyy-MM-ddTHH:mm:ss[.SSS]Z; days to a civil date by H. Hinnant's algorithm (proleptic Gregorian). */
static char *put_iso(char *out, long long seconds, int millis) {
    long long days = seconds / 86400, rest = seconds % 86400;
    long long z = days + 719468, era = z / 146097;
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    long long day = doy - (153 * mp + 2) / 5 + 1, month = mp < 10 ? mp + 3 : mp - 9;
    long long year = yoe + era * 400 + (month <= 2);
    out = put_digits(out, year, 4);
    *out++ = '-';
    out = put_digits(out, month, 2);
    *out++ = '-';
    out = put_digits(out, day, 2);
    *out++ = 'T';
    out = put_digits(out, rest / 3600, 2);
    *out++ = ':';
    out = put_digits(out, rest / 60 % 60, 2);
    *out++ = ':';
    out = put_digits(out, rest % 60, 2);
    if (millis) {
        *out++ = '.';
        out = put_digits(out, millis, 3);
    }
    *out++ = 'Z';
    return out;
}

static char *put_int(char *out, long long value) {
    char digits[24];
    int n = 0;
    unsigned long long v = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (value < 0) *out++ = '-';
    while (n) *out++ = digits[--n];
    return out;
}

static int is_uuid(const unsigned char *s, size_t n) {
    if (n != 36) return 0;
    for (size_t i = 0; i < 36; i++) {
        unsigned char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return memcmp(s, "00000000-0000-0000-0000-000000000000", 36) != 0;
}

#define FLAG_FIELDS 1
#define FLAG_UNMARKED 2
#define FLAG_REPEAT_FIELDS 4 /* first_arrivals: the fields of repeats only */
#define PUT(text) (memcpy(o, text, sizeof(text) - 1), o += sizeof(text) - 1)

typedef struct {
    const unsigned char *uuid; /* event_uuid and event_name as orjson writes them, with their quotes */
    size_t uuid_length;
    const unsigned char *name;
    size_t name_length;
    long long whole, seconds; /* created_at floored (the column) and the instant's second: always equal */
    int millis;
    int is_float; /* created_at as sent: the integer `whole`, or the double `value` */
    double value;
} Fields;

/* created_at: an integer, or a decimal (as glue.schema.split_seconds and math.floor treat the double). */
static int read_created_at(Parser *ps, Fields *fields) {
    const unsigned char *start;
    size_t length;
    int is_float, canonical;
    /* any notation: only its value is stored */
    if (scan_number(ps, &start, &length, &is_float, &canonical)) return BAIL;
    if (!is_float) {
        if (length > MAX_INT_DIGITS) return BAIL; /* beyond the range anyway */
        long long value = 0;
        int negative = *start == '-';
        for (size_t i = negative; i < length; i++) value = value * 10 + (start[i] - '0');
        if (negative) value = -value;
        if (value < min_created_at || value >= max_created_at) return BAIL;
        fields->whole = fields->seconds = value;
        fields->millis = 0;
        fields->is_float = 0;
        return 0;
    }
    char text[64];
    if (length >= sizeof text) return BAIL;
    memcpy(text, start, length);
    text[length] = 0;
    /* Python's own reader: correctly rounded (as orjson's), whatever the C locale's decimal point */
    double value = PyOS_string_to_double(text, NULL, NULL);
    if (value == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return BAIL;
    }
    if (!(value >= (double)min_created_at && value < (double)max_created_at)) return BAIL;
    /* glue.schema.split_seconds, exactly: the millisecond truncated toward the past, or the next one when the
     * double is that millisecond's own decimal (what it reads back as); never the next second. floor() of the
     * rounded product is one too high only when the product rounded up onto an integer: fma() gives the exact
     * product's residue's sign. Both doubles are below 2^53 (configure() caps the range at year 10000). */
    double scaled = floor(value * 1000.0);
    if (fma(value, 1000.0, -scaled) < 0) scaled -= 1.0;
    long long total = (long long)scaled;
    if ((double)(total + 1) / 1000.0 == value) total += 1; /* one correctly rounded division, as Python's */
    fields->whole = (long long)floor(value);
    fields->is_float = 1;
    fields->value = value;
    fields->seconds = total / 1000; /* value >= min_created_at >= 0: C's division is the floor here */
    fields->millis = (int)(total % 1000);
    return 0;
}

/* The event's object: its payload (the other members, in order, compact) written at ps->out; event_uuid
 * and event_name written at *side; created_at read. */
static int parse_event(Parser *ps, unsigned char **side, Fields *fields) {
    int seen_uuid = 0, seen_name = 0, seen_created = 0, members = 0;
    uint32_t object = next_object++;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '{') return BAIL;
    ps->p++;
    *ps->out++ = '{';
    skip_ws(ps);
    for (;;) {
        if (ps->p >= ps->end || *ps->p != '"') return BAIL;
        unsigned char *mark = ps->out;
        if (members) *ps->out++ = ',';
        unsigned char *key = ps->out;
        if (parse_string(ps, &ps->out)) return BAIL;
        size_t length = (size_t)(ps->out - key);
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') return BAIL;
        ps->p++;
        skip_ws(ps);
        if (ps->p >= ps->end) return BAIL;
        int which = 0;
        if (length == 12) {
            if (!memcmp(key, "\"event_uuid\"", 12)) which = 1;
            else if (!memcmp(key, "\"event_name\"", 12)) which = 2;
            else if (!memcmp(key, "\"created_at\"", 12)) which = 3;
        }
        if (which) {
            ps->out = mark; /* not part of the payload */
            if (which == 3) {
                if (seen_created++ || read_created_at(ps, fields)) return BAIL;
            } else {
                if (*ps->p != '"' || (which == 1 ? seen_uuid++ : seen_name++)) return BAIL;
                unsigned char *text = *side;
                if (parse_string(ps, side)) return BAIL;
                if (which == 1) {
                    fields->uuid = text;
                    fields->uuid_length = (size_t)(*side - text);
                } else {
                    fields->name = text;
                    fields->name_length = (size_t)(*side - text);
                }
            }
        } else {
            if (add_key(ps, object, key, length)) return BAIL;
            *ps->out++ = ':';
            if (parse_value(ps, 1)) return BAIL;
            members = 1;
        }
        int done = after_member(ps, '}', 0); /* commas are written before the next kept member */
        if (done < 0) return BAIL;
        if (done) break;
    }
    skip_ws(ps);
    if (ps->p != ps->end) return BAIL; /* anything after the object */
    if (!seen_uuid || !seen_name || !seen_created) return BAIL;
    return 0;
}

/* ---- the stored row's columns: names and order from glue.schema.COLUMN_NAMES, given to configure() ---- */

enum {
    COL_EVENT_UUID,
    COL_EVENT_NAME,
    COL_EVENT_SUBTYPE,
    COL_CREATED_AT,
    COL_CREATED_DATETIME,
    COL_IS_DUPLICATE,
    COL_UUID_REUSED,
    COL_PAYLOAD,
    COL_SHARD,
    COL_SEQUENCE,
    COL_SUBSEQUENCE,
    COL_ARRIVAL,
    N_COLUMNS
};
/* The columns this module can write, by name (its COLUMNS attribute). Their order in the row is only what
 * configure() is given: a schema that names a column not here, or leaves one out, is refused there. */
static const char *const COLUMN_NAMES[N_COLUMNS] = {
    [COL_EVENT_UUID] = "event_uuid",
    [COL_EVENT_NAME] = "event_name",
    [COL_EVENT_SUBTYPE] = "event_subtype",
    [COL_CREATED_AT] = "created_at",
    [COL_CREATED_DATETIME] = "created_datetime",
    [COL_IS_DUPLICATE] = "is_duplicate",
    [COL_UUID_REUSED] = "uuid_reused",
    [COL_PAYLOAD] = "payload",
    [COL_SHARD] = "source_shard_id",
    [COL_SEQUENCE] = "source_sequence_number",
    [COL_SUBSEQUENCE] = "source_subsequence_number",
    [COL_ARRIVAL] = "source_arrival_datetime",
};
#define MAX_COLUMN_KEY 32 /* `,"source_subsequence_number":` is 29 bytes */
static int column_order[N_COLUMNS];
static char column_keys[N_COLUMNS][MAX_COLUMN_KEY]; /* `{"name":` for the first column, `,"name":` after */
static size_t column_key_lengths[N_COLUMNS];
static int configured = 0; /* first_arrival refuses to write a row before configure() */

/* configure(min_created_at, max_created_at, columns): the accepted event times and the row's column names in
 * their order (glue.schema's, events.py passes them), each one of COLUMNS exactly once. */
static PyObject *configure(PyObject *self, PyObject *args) {
    long long low, high;
    PyObject *columns;
    if (!PyArg_ParseTuple(args, "LLO", &low, &high, &columns)) return NULL;
    /* put_iso, the hour and floor() are written for instants from 1970 to year 9999 */
    if (low < 0 || high <= low || high > 253402300800LL) {
        PyErr_SetString(PyExc_ValueError,
                        "configure() takes 0 <= min_created_at < max_created_at <= year 10000");
        return NULL;
    }
    if (!PyTuple_Check(columns) || PyTuple_Size(columns) != N_COLUMNS) {
        PyErr_Format(PyExc_ValueError, "configure() takes the row's %d column names as a tuple", N_COLUMNS);
        return NULL;
    }
    int order[N_COLUMNS], taken[N_COLUMNS] = {0};
    for (Py_ssize_t c = 0; c < N_COLUMNS; c++) {
        PyObject *name = PyTuple_GetItem(columns, c);
        const char *text = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, NULL) : NULL;
        if (!text) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "configure(): a column name is not a str");
            return NULL;
        }
        int known = -1;
        for (int k = 0; k < N_COLUMNS; k++)
            if (!strcmp(text, COLUMN_NAMES[k])) known = k;
        if (known < 0 || taken[known]++) {
            PyErr_Format(PyExc_ValueError, "configure(): column %R is %s", name,
                         known < 0 ? "not one this module writes" : "named twice");
            return NULL;
        }
        order[c] = known;
    }
    for (int c = 0; c < N_COLUMNS; c++) {
        column_order[c] = order[c];
        column_key_lengths[c] = (size_t)snprintf(column_keys[c], MAX_COLUMN_KEY, "%c\"%s\":", c ? ',' : '{',
                                                 COLUMN_NAMES[order[c]]);
    }
    min_created_at = low;
    max_created_at = high;
    configured = 1;
    Py_RETURN_NONE;
}

static PyObject *KEY_DATA, *KEY_METADATA, *KEY_SHARD, *KEY_SEQUENCE, *KEY_SUBSEQUENCE, *KEY_ARRIVAL;
static PyObject *KEY_UUID, *KEY_NAME, *KEY_CREATED;
static PyObject *KEY_RECORD_ID, *KEY_RESULT, *KEY_ROW_METADATA; /* and KEY_DATA: a response entry's keys */

/* record[key] if it is exactly a str (borrowed), else NULL with no error set. */
static PyObject *item(PyObject *record, PyObject *key, int want_str) {
    PyObject *value = PyDict_GetItemWithError(record, key);
    if (!value) return NULL;
    if (want_str ? !PyUnicode_CheckExact(value) : !PyDict_CheckExact(value)) return NULL;
    return value;
}

/* A record's working memory: one buffer kept between calls (a malloc and free per record were ~4 % of the
 * handler's time), or, for a large record or a call made while it is in use (a finalizer run by a collection
 * during this call's allocations could call in again), its own. The sanitizer lane's build allocates every
 * time, so AddressSanitizer bounds each record's memory exactly. */
#if defined(__SANITIZE_ADDRESS__)
#define SPARE_BYTES 0
#else
#define SPARE_BYTES (64 * 1024)
#endif
static char *spare;
static int spare_in_use;

static char *working_memory(size_t total) {
    if (total > SPARE_BYTES || spare_in_use) return PyMem_Malloc(total);
    if (!spare && !(spare = PyMem_Malloc(SPARE_BYTES))) return NULL;
    spare_in_use = 1;
    return spare;
}

static void release_working_memory(char *memory) {
    if (memory == spare) spare_in_use = 0;
    else PyMem_Free(memory);
}

/* One record's answer: new references; `fields` NULL unless asked for. */
typedef struct {
    PyObject *data, *metadata, *key, *fields;
} Answer;

#define ANSWERED 1
#define HANDED_BACK 0 /* for Python to judge, no error set */
#define FAILED (-1)   /* an error of its own (memory), set */

/* The first arrival's row of `record` (see first_arrival). With `first` (the batch's dict of dedupe keys),
 * *repeat says whether the record's key is in it, and FLAG_REPEAT_FIELDS asks for the fields of repeats. */
static int answer_record(PyObject *record, PyObject *names, PyObject *metadatas, long flags, PyObject *first,
                         int *repeat, Answer *answer) {
    int want_fields = (flags & FLAG_FIELDS) != 0, unmarked = (flags & FLAG_UNMARKED) != 0;
    if (!PyDict_CheckExact(record)) return HANDED_BACK;
    PyObject *data_object = item(record, KEY_DATA, 1);
    PyObject *meta = item(record, KEY_METADATA, 0);
    if (!data_object || !meta) goto none;
    PyObject *shard_object = item(meta, KEY_SHARD, 1);
    PyObject *sequence_object = item(meta, KEY_SEQUENCE, 1);
    PyObject *arrival_object = PyDict_GetItemWithError(meta, KEY_ARRIVAL);
    if (!shard_object || !sequence_object || !arrival_object || !PyLong_CheckExact(arrival_object)) goto none;
    /* The user record's place in its KPL aggregate: absent is null, an int is written, anything else (a digit
     * string, a number past 64 bits) is Python's to judge, as lineage_of reads it. */
    PyObject *subsequence_object = PyDict_GetItemWithError(meta, KEY_SUBSEQUENCE);
    if (!subsequence_object && PyErr_Occurred()) goto none;
    long long subsequence = 0;
    if (subsequence_object && subsequence_object != Py_None) {
        if (!PyLong_CheckExact(subsequence_object)) goto none;
        subsequence = PyLong_AsLongLong(subsequence_object);
        if (subsequence == -1 && PyErr_Occurred()) goto none;
    }
    int subsequence_null = !subsequence_object || subsequence_object == Py_None;

    Py_ssize_t data_length, shard_length, sequence_length;
    const char *data = PyUnicode_AsUTF8AndSize(data_object, &data_length);
    if (!data || data_length > (MAX_RECORD / 3) * 4) goto none;
    const char *shard = PyUnicode_AsUTF8AndSize(shard_object, &shard_length);
    if (!shard || shard_length == 0 || shard_length > 256) goto none;
    const char *sequence = PyUnicode_AsUTF8AndSize(sequence_object, &sequence_length);
    if (!sequence || sequence_length == 0 || sequence_length > 256) goto none;
    long long arrival_ms = PyLong_AsLongLong(arrival_object);
    if (arrival_ms == -1 && PyErr_Occurred()) goto none;
    if (arrival_ms < 0 || arrival_ms >= 253402300800000LL) goto none; /* years 1970-9999 */

    size_t decoded_room = ((size_t)data_length / 4 * 3 + 4 + 15) & ~(size_t)7; /* 8-aligned, 8 spare bytes */
    size_t payload_room = 2 * decoded_room + 2 * NUMBER_ROOM; /* numbers may grow: ps->limit */
    size_t lineage_room = 6 * (size_t)(shard_length + sequence_length); /* each byte at most \u00XX */
    /* 1024: the column keys (~200 bytes), two timestamps, created_at, the marks and quotes */
    size_t row_room = 2 * payload_room + 2 * decoded_room + lineage_room + 1024;
    size_t total = sizeof(Parser) + decoded_room + 2 * payload_room + row_room + (row_room / 3 + 1) * 4;
    char *memory = working_memory(total);
    if (!memory) {
        PyErr_NoMemory();
        return FAILED;
    }
    Parser *ps = (Parser *)memory;
    unsigned char *decoded = (unsigned char *)memory + sizeof(Parser);
    unsigned char *payload = decoded + decoded_room;
    unsigned char *side = payload + payload_room;
    unsigned char *line = side + payload_room;
    char *encoded = (char *)line + row_room;
    int outcome = HANDED_BACK;
    PyObject *parts = NULL, *metadata = NULL; /* held while this call allocates (a collection may run) */
    PyObject *text = NULL, *key_object = NULL, *sent = NULL;

    Py_ssize_t n = b64_decode((const unsigned char *)data, data_length, decoded);
    if (n < 0) goto done;
    POISON(decoded + n, decoded_room - (size_t)n);
    Fields fields;
    for (int large = 0;; large = 1) { /* the small key table first (see KEY_SLOTS) */
        ps->p = decoded;
        ps->end = decoded + n;
        ps->base = ps->out = payload;
        ps->limit = payload + payload_room;
        if (next_object > 0xF0000000u) { /* serials run out after ~4 billion objects: clear tables */
            memset(key_slots, 0, sizeof key_slots);
            memset(small_key_slots, 0, sizeof small_key_slots);
            next_object = 1;
        }
        ps->first_object = next_object;
        ps->keys = 0;
        ps->slots = large ? key_slots : small_key_slots;
        ps->slot_mask = (large ? KEY_SLOTS : SMALL_KEY_SLOTS) - 1;
        ps->too_many_keys = 0;
        memset(&fields, 0, sizeof fields);
        unsigned char *side_out = side;
        if (!parse_event(ps, &side_out, &fields)) break;
        if (large || !ps->too_many_keys) goto done;
    }
    if (!is_uuid(fields.uuid + 1, fields.uuid_length - 2)) goto done;
    const unsigned char *name = fields.name + 1;
    size_t name_length = fields.name_length - 2;
    if (memchr(name, '\\', name_length)) goto done; /* as written, so also as sent: the subtype is a slice */

    PyObject *name_object = PyUnicode_FromStringAndSize((const char *)name, (Py_ssize_t)name_length);
    if (!name_object) goto done;
    parts = PyDict_GetItemWithError(names, name_object);
    Py_XINCREF(parts);
    Py_DECREF(name_object);
    if (!parts || !PyTuple_Check(parts) || PyTuple_Size(parts) < 1) goto done;
    PyObject *hour = PyLong_FromLongLong(fields.seconds / 3600);
    if (!hour) goto done;
    PyObject *partition = PyTuple_Pack(2, PyTuple_GetItem(parts, 0), hour);
    Py_DECREF(hour);
    if (!partition) goto done;
    metadata = PyDict_GetItemWithError(metadatas, partition);
    Py_XINCREF(metadata);
    Py_DECREF(partition);
    if (!metadata) goto done;

    unsigned char *o = line;
    for (int c = 0; c < N_COLUMNS; c++) {
        memcpy(o, column_keys[c], column_key_lengths[c]);
        o += column_key_lengths[c];
        switch (column_order[c]) {
        case COL_EVENT_UUID:
            memcpy(o, fields.uuid, fields.uuid_length);
            o += fields.uuid_length;
            break;
        case COL_EVENT_NAME:
            memcpy(o, fields.name, fields.name_length);
            o += fields.name_length;
            break;
        case COL_EVENT_SUBTYPE: {
            const unsigned char *colon = memchr(name, ':', name_length);
            if (!colon) {
                PUT("null");
                break;
            }
            const unsigned char *subtype = colon + 1, *name_end = name + name_length;
            const unsigned char *next = memchr(subtype, ':', (size_t)(name_end - subtype));
            size_t sub_length = (size_t)((next ? next : name_end) - subtype);
            *o++ = '"';
            memcpy(o, subtype, sub_length);
            o += sub_length;
            *o++ = '"';
            break;
        }
        case COL_CREATED_AT: o = (unsigned char *)put_int((char *)o, fields.whole); break;
        case COL_CREATED_DATETIME:
            *o++ = '"';
            o = (unsigned char *)put_iso((char *)o, fields.seconds, fields.millis);
            *o++ = '"';
            break;
        case COL_IS_DUPLICATE:
        case COL_UUID_REUSED:
            if (unmarked) PUT("null");
            else PUT("false");
            break;
        case COL_PAYLOAD:
            *o++ = '"';
            o = put_escaped(o, payload, (size_t)(ps->out - payload));
            *o++ = '"';
            break;
        case COL_SHARD:
            *o++ = '"';
            o = put_escaped(o, (const unsigned char *)shard, (size_t)shard_length);
            *o++ = '"';
            break;
        case COL_SEQUENCE:
            *o++ = '"';
            o = put_escaped(o, (const unsigned char *)sequence, (size_t)sequence_length);
            *o++ = '"';
            break;
        case COL_SUBSEQUENCE:
            if (subsequence_null) PUT("null");
            else o = (unsigned char *)put_int((char *)o, subsequence);
            break;
        case COL_ARRIVAL:
            *o++ = '"';
            o = (unsigned char *)put_iso((char *)o, arrival_ms / 1000, (int)(arrival_ms % 1000));
            *o++ = '"';
            break;
        }
    }
    PUT("}\n");

    outcome = FAILED; /* from here on, only memory can fail */
    char key[36];
    for (int i = 0; i < 36; i++) {
        unsigned char c = fields.uuid[1 + i];
        key[i] = (char)(c >= 'A' && c <= 'F' ? c + 32 : c);
    }
    key_object = PyUnicode_FromStringAndSize(key, 36);
    if (!key_object) goto done;
    if (first) {
        *repeat = PyDict_GetItemWithError(first, key_object) != NULL;
        if (!*repeat && PyErr_Occurred()) goto done;
        want_fields |= *repeat && (flags & FLAG_REPEAT_FIELDS);
    }
    if (want_fields) { /* as orjson parsed them: the same types (1 and 1.0 fingerprint differently) */
        PyObject *uuid = PyUnicode_FromStringAndSize((const char *)fields.uuid + 1, 36);
        PyObject *name_text = PyUnicode_FromStringAndSize((const char *)name, (Py_ssize_t)name_length);
        PyObject *created =
            fields.is_float ? PyFloat_FromDouble(fields.value) : PyLong_FromLongLong(fields.whole);
        sent = uuid && name_text && created ? PyDict_New() : NULL;
        if (sent && (PyDict_SetItem(sent, KEY_UUID, uuid) || PyDict_SetItem(sent, KEY_NAME, name_text) ||
                     PyDict_SetItem(sent, KEY_CREATED, created)))
            Py_CLEAR(sent);
        Py_XDECREF(uuid);
        Py_XDECREF(name_text);
        Py_XDECREF(created);
        if (!sent) goto done;
    }
    size_t encoded_length = b64_encode(line, (size_t)(o - line), encoded);
    text = PyUnicode_DecodeASCII(encoded, (Py_ssize_t)encoded_length, NULL);
    if (!text) goto done;
    answer->data = text;
    answer->metadata = metadata;
    answer->key = key_object;
    answer->fields = sent;
    text = key_object = sent = metadata = NULL; /* handed over */
    outcome = ANSWERED;
done:
    Py_XDECREF(text);
    Py_XDECREF(key_object);
    Py_XDECREF(sent);
    Py_XDECREF(parts);
    Py_XDECREF(metadata);
    UNPOISON(memory, total);
    release_working_memory(memory);
    if (outcome == FAILED && !PyErr_Occurred()) outcome = HANDED_BACK;
    if (outcome != HANDED_BACK) return outcome;
none: /* for Python to judge: a str UTF-8 cannot carry (lone surrogates), an arrival beyond 64 bits */
    PyErr_Clear();
    return HANDED_BACK;
}

static int refuse_unconfigured(void) {
    if (configured) return 0;
    PyErr_SetString(PyExc_RuntimeError, "configure() first: the row's columns come from glue.schema");
    return -1;
}

/* first_arrival(record, names, metadatas, flags) -> (row_base64, metadata, key, fields) or None.
 *
 * `record` is one of Firehose's records; `names` maps each event_name found valid to its (event_type,
 * event_subtype); `metadatas` maps (event_type, hour since the epoch) to the partition's shared response
 * metadata. None when the record, its name or its partition is new to them: the Python path decides.
 * `fields` is None unless `flags` has FLAG_FIELDS: then a dict of the event's event_uuid, event_name and
 * created_at as sent (what the dedupe fingerprint reads by default), as orjson would have parsed them. */
static PyObject *first_arrival(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4 || !PyDict_Check(args[1]) || !PyDict_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError,
                        "first_arrival(record, names, metadatas, flags): names and metadatas are dicts");
        return NULL;
    }
    if (refuse_unconfigured()) return NULL;
    /* args[3]: flags, a bool or an int: FLAG_FIELDS hands over the common fields; FLAG_UNMARKED writes both
     * marks null (the dedupe modes whose first arrivals wait for compaction, glue/marks.py) */
    long flags = PyLong_AsLong(args[3]);
    if (flags == -1 && PyErr_Occurred()) return NULL;
    Answer answer;
    int outcome = answer_record(args[0], args[1], args[2], flags & ~FLAG_REPEAT_FIELDS, NULL, NULL, &answer);
    if (outcome == FAILED) return NULL;
    if (outcome == HANDED_BACK) Py_RETURN_NONE;
    PyObject *result = PyTuple_Pack(4, answer.data, answer.metadata, answer.key,
                                    answer.fields ? answer.fields : Py_None);
    Py_DECREF(answer.data);
    Py_DECREF(answer.metadata);
    Py_DECREF(answer.key);
    Py_XDECREF(answer.fields);
    return result;
}

/* first_arrivals(records, start, names, metadatas, flags, ok, out, first, repeats, sents) -> stop
 *
 * The handler's loop over a batch, compiled: first_arrival for records[start], records[start + 1]..., in
 * order, until one it hands back; that one's index is returned (len(records) at the end), the Python paths
 * decide it, and the handler calls again from the next, so each record is tried here first, as one by one.
 * A record written is answered in out[index] as the handler answers it: {"recordId", "result": ok, "data",
 * "metadata"}; one without a recordId is handed back (the handler says why). `first` (a dict, or None when
 * the batch marks no repeats) maps each dedupe key to the index of its first stored record; a key already in
 * it makes the record a repeat, (index, key) appended to `repeats`. `sents` (a dict) gets index -> the common
 * fields (first_arrival's `fields`) of every record with FLAG_FIELDS, of repeats with FLAG_REPEAT_FIELDS.
 * A failure of its own (memory) stops the batch at that record, cleared: the Python paths then write it. */
static PyObject *first_arrivals(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 10 || !PyList_CheckExact(args[0]) || !PyDict_Check(args[2]) || !PyDict_Check(args[3]) ||
        !PyList_CheckExact(args[6]) || !(args[7] == Py_None || PyDict_CheckExact(args[7])) ||
        !PyList_CheckExact(args[8]) || !PyDict_CheckExact(args[9])) {
        PyErr_SetString(PyExc_TypeError,
                        "first_arrivals(records: list, start, names: dict, metadatas: dict, flags, ok, "
                        "out: list, first: dict | None, repeats: list, sents: dict)");
        return NULL;
    }
    if (refuse_unconfigured()) return NULL;
    PyObject *records = args[0], *names = args[2], *metadatas = args[3], *ok = args[5], *out = args[6];
    PyObject *first = args[7] == Py_None ? NULL : args[7], *repeats = args[8], *sents = args[9];
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    long flags = PyLong_AsLong(args[4]);
    if (PyErr_Occurred()) return NULL;
    Py_ssize_t count = PyList_Size(records);
    if (start < 0 || start > count || PyList_Size(out) != count) {
        PyErr_SetString(PyExc_ValueError, "first_arrivals(): 0 <= start <= len(records) == len(out)");
        return NULL;
    }
    Py_ssize_t index = start;
    for (; index < count; index++) {
        PyObject *record = PyList_GetItem(records, index);
        if (!PyDict_CheckExact(record)) break;
        PyObject *record_id = PyDict_GetItemWithError(record, KEY_RECORD_ID);
        if (!record_id || record_id == Py_None) break;
        Py_INCREF(record); /* held: a collection during the allocations below runs finalizers */
        Py_INCREF(record_id);
        int repeat = 0;
        Answer answer;
        int outcome = answer_record(record, names, metadatas, flags, first, &repeat, &answer);
        Py_DECREF(record);
        if (outcome != ANSWERED) {
            Py_DECREF(record_id);
            break;
        }
        /* each step that can fail comes before what the handler reads (first, repeats, out) */
        PyObject *entry = PyDict_New(), *at = PyLong_FromSsize_t(index);
        int failed = !entry || !at || PyDict_SetItem(entry, KEY_RECORD_ID, record_id) ||
                     PyDict_SetItem(entry, KEY_RESULT, ok) || PyDict_SetItem(entry, KEY_DATA, answer.data) ||
                     PyDict_SetItem(entry, KEY_ROW_METADATA, answer.metadata) ||
                     (answer.fields && PyDict_SetItem(sents, at, answer.fields));
        if (!failed && first) {
            if (repeat) {
                PyObject *pair = PyTuple_Pack(2, at, answer.key);
                failed = !pair || PyList_Append(repeats, pair);
                Py_XDECREF(pair);
            } else {
                failed = PyDict_SetItem(first, answer.key, at);
            }
        }
        Py_DECREF(record_id);
        Py_XDECREF(at);
        Py_DECREF(answer.data);
        Py_DECREF(answer.metadata);
        Py_DECREF(answer.key);
        Py_XDECREF(answer.fields);
        if (failed) {
            Py_XDECREF(entry);
            break;
        }
        PyList_SetItem(out, index, entry); /* steals entry; the None there goes */
    }
    PyErr_Clear(); /* a failure of its own: the Python paths decide that record */
    return PyLong_FromSsize_t(index);
}

#ifdef HOTPATH_FUZZ_COVERAGE
/* The lane's fuzz build (gcc -fsanitize-coverage=trace-pc): each instrumented edge bumps a counter hashed from
 * its address, counters libFuzzer (atheris) reads as coverage once fuzz_coverage() registers them with it. */
#define COUNTERS 8192
static unsigned char counters[COUNTERS];
static uintptr_t pc_table[2 * COUNTERS];

__attribute__((visibility("hidden"), no_sanitize_coverage, no_sanitize_address, no_sanitize_undefined)) void
__sanitizer_cov_trace_pc(void) {
    uintptr_t pc = (uintptr_t)__builtin_return_address(0);
    counters[(pc ^ (pc >> 13)) & (COUNTERS - 1)]++;
}

/* fuzz_coverage(counters_init, pcs_init): the addresses of libFuzzer's __sanitizer_cov_8bit_counters_init and
 * __sanitizer_cov_pcs_init (ctypes finds them in atheris's module). */
static PyObject *fuzz_coverage(PyObject *self, PyObject *args) {
    unsigned long long counters_init, pcs_init;
    if (!PyArg_ParseTuple(args, "KK", &counters_init, &pcs_init)) return NULL;
    for (size_t i = 0; i < COUNTERS; i++) pc_table[2 * i] = i + 1;
    ((void (*)(unsigned char *, unsigned char *))(uintptr_t)counters_init)(counters, counters + COUNTERS);
    ((void (*)(const uintptr_t *, const uintptr_t *))(uintptr_t)pcs_init)(pc_table, pc_table + 2 * COUNTERS);
    Py_RETURN_NONE;
}
#endif

static PyMethodDef methods[] = {
#ifdef HOTPATH_FUZZ_COVERAGE
    {"fuzz_coverage", fuzz_coverage, METH_VARARGS, "fuzz_coverage(counters_init, pcs_init): the lane's fuzz build"},
#endif
    {"first_arrival", (PyCFunction)(void (*)(void))first_arrival, METH_FASTCALL,
     "first_arrival(record, names, metadatas, flags) -> (row_base64, metadata, key, fields or None) or None"},
    {"first_arrivals", (PyCFunction)(void (*)(void))first_arrivals, METH_FASTCALL,
     "first_arrivals(records, start, names, metadatas, flags, ok, out, first, repeats, sents) -> stop"},
    {"configure", configure, METH_VARARGS, "configure(min_created_at, max_created_at, columns)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_hotpath",
    .m_doc = "The transform's common record, compiled (see events.py).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__hotpath(void) {
    memset(B64_VALUE, -1, sizeof B64_VALUE);
    for (int i = 0; i < 64; i++) B64_VALUE[(unsigned char)B64[i]] = (signed char)i;
    for (int i = 0; i < 4096; i++) {
        char pair[2] = {B64[i >> 6], B64[i & 63]};
        memcpy(&B64_PAIR[i], pair, 2);
    }
    for (int c = 0; c < 256; c++) {
        VERBATIM[c] = c >= 0x20 && c != '"' && c != '\\';
        PLAIN[c] = VERBATIM[c] && c < 0x80;
    }
    KEY_DATA = PyUnicode_InternFromString("data");
    KEY_METADATA = PyUnicode_InternFromString("kinesisRecordMetadata");
    KEY_SHARD = PyUnicode_InternFromString("shardId");
    KEY_SEQUENCE = PyUnicode_InternFromString("sequenceNumber");
    KEY_SUBSEQUENCE = PyUnicode_InternFromString("subsequenceNumber");
    KEY_ARRIVAL = PyUnicode_InternFromString("approximateArrivalTimestamp");
    KEY_UUID = PyUnicode_InternFromString("event_uuid");
    KEY_NAME = PyUnicode_InternFromString("event_name");
    KEY_CREATED = PyUnicode_InternFromString("created_at");
    if (!KEY_DATA || !KEY_METADATA || !KEY_SHARD || !KEY_SEQUENCE || !KEY_SUBSEQUENCE || !KEY_ARRIVAL) return NULL;
    KEY_RECORD_ID = PyUnicode_InternFromString("recordId");
    KEY_RESULT = PyUnicode_InternFromString("result");
    KEY_ROW_METADATA = PyUnicode_InternFromString("metadata");
    if (!KEY_UUID || !KEY_NAME || !KEY_CREATED) return NULL;
    if (!KEY_RECORD_ID || !KEY_RESULT || !KEY_ROW_METADATA) return NULL;
    PyObject *self = PyModule_Create(&module);
    PyObject *columns = self ? PyTuple_New(N_COLUMNS) : NULL;
    for (int c = 0; columns && c < N_COLUMNS; c++) {
        PyObject *name = PyUnicode_FromString(COLUMN_NAMES[c]);
        if (!name) Py_CLEAR(columns);
        else PyTuple_SetItem(columns, c, name);
    }
    if (!columns || PyModule_AddObject(self, "COLUMNS", columns)) { /* AddObject steals only on success */
        Py_XDECREF(columns);
        Py_XDECREF(self);
        return NULL;
    }
    return self;
}
