/* test_base64.c - RFC 4648 vectors both ways, whitespace and missing
 * padding accepted, malformed input rejected with its offset, output
 * bounds respected, and a random round trip. */
#include "harness/nt.h"
#include "core/base64.h"
#include "core/buf.h"
#include "core/err.h"

static const struct { const char *plain, *coded; } vectors[] = {
    { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
    { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

static void
test_rfc4648_vectors(void)
{
    for (size_t i = 0; i < NANO_ARRAY_LEN(vectors); i++) {
        struct nano_buf b;
        uint8_t out[16];
        size_t n = 99;

        NT_MSG("vector %zu", i);
        nano_buf_init(&b, 64);
        NT_EQ_INT(nano_base64_encode(vectors[i].plain, strlen(vectors[i].plain),
                                     &b), NANO_OK);
        NT_EQ_STR(b.data ? b.data : "", vectors[i].coded);
        NT_EQ_INT(b.len, nano_base64_encoded_len(strlen(vectors[i].plain)));
        nano_buf_free(&b);
        NT_EQ_INT(nano_base64_decode(vectors[i].coded, strlen(vectors[i].coded),
                                     out, sizeof out, &n), NANO_OK);
        NT_EQ_INT(n, strlen(vectors[i].plain));
        NT_CHECK(memcmp(out, vectors[i].plain, n) == 0);
    }
}

static void
test_lenient_and_strict(void)
{
    uint8_t out[16];
    size_t n;

    NT_EQ_INT(nano_base64_decode("Zm9v\nYmE", 8, out, sizeof out, &n), NANO_OK);
    NT_EQ_INT(n, 5);                          /* wrapped, unpadded */
    NT_CHECK(memcmp(out, "fooba", 5) == 0);

    NT_EQ_INT(nano_base64_decode("Zm9v!mE=", 8, out, sizeof out, &n), -EINVAL);
    NT_EQ_INT(n, 4);                          /* the offending character */
    NT_EQ_INT(nano_base64_decode("Zg==Zg==", 8, out, sizeof out, &n), -EINVAL);
    NT_EQ_INT(n, 4);                          /* data after padding */
    NT_EQ_INT(nano_base64_decode("=Zg", 3, out, sizeof out, &n), -EINVAL);
    NT_EQ_INT(nano_base64_decode("Zg===", 5, out, sizeof out, &n), -EINVAL);
    NT_EQ_INT(nano_base64_decode("Z", 1, out, sizeof out, &n), -EINVAL);
    NT_EQ_INT(nano_base64_decode("Zm9vYmFy", 8, out, 5, &n), -ENOSPC);
    NT_EQ_INT(nano_base64_decode("Zm8=", 4, out, 1, &n), -ENOSPC);
}

static void
test_encode_respects_buffer_limit(void)
{
    struct nano_buf b;
    uint8_t data[300];

    memset(data, 0xab, sizeof data);
    nano_buf_init(&b, 100);
    NT_EQ_INT(nano_buf_puts(&b, "keep"), NANO_OK);
    NT_EQ_INT(nano_base64_encode(data, sizeof data, &b), -ENOSPC);
    NT_EQ_STR(b.data, "keep");                /* left as it was */
    NT_EQ_INT(b.len, 4);
    nano_buf_free(&b);
}

static void
test_random_round_trip(void)
{
    uint32_t x = 12345;

    for (int round = 0; round < 200; round++) {
        uint8_t in[257], out[260];
        size_t len = (size_t)round % sizeof in, n;
        struct nano_buf b;

        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            in[i] = (uint8_t)(x >> 16);
        }
        nano_buf_init(&b, 1024);
        NT_ASSERT(nano_base64_encode(in, len, &b) == NANO_OK);
        NT_ASSERT(nano_base64_decode(b.data ? b.data : "", b.len, out, sizeof out,
                                     &n) == NANO_OK);
        NT_EQ_INT(n, len);
        NT_CHECK(memcmp(in, out, len) == 0);
        NT_CHECK(nano_base64_decoded_max(b.len) >= len);
        nano_buf_free(&b);
    }
}

NT_LIST = {
    { "rfc4648_vectors", test_rfc4648_vectors },
    { "lenient_and_strict", test_lenient_and_strict },
    { "encode_respects_buffer_limit", test_encode_respects_buffer_limit },
    { "random_round_trip", test_random_round_trip },
    { NULL, NULL }
};
