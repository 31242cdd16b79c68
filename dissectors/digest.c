/* One-shot digests with pre-fetched algorithms: see digest.h. */
#include "dissectors/digest.h"

#include <openssl/evp.h>
#include <pthread.h>

static EVP_MD *dg_md[DG__COUNT];
static pthread_once_t dg_once = PTHREAD_ONCE_INIT;

static void dg_fetch(void)
{
    static const char *const names[DG__COUNT] = {"MD5", "SHA1", "SHA256"};
    for (int i = 0; i < DG__COUNT; i++)
        dg_md[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

unsigned dg_digest(enum dg_alg alg, const void *data, size_t n, unsigned char *out)
{
    unsigned int len = 0;
    pthread_once(&dg_once, dg_fetch);
    if ((unsigned)alg >= DG__COUNT || dg_md[alg] == NULL ||
        !EVP_Digest(data, n, out, &len, dg_md[alg], NULL))
        return 0;
    return len;
}

int dg_hex(enum dg_alg alg, const void *data, size_t n, char *hex, size_t hexlen)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char d[DG_MAX_SIZE];
    unsigned len = dg_digest(alg, data, n, d);
    if (len == 0 || hexlen > 2 * (size_t)len)
        return -1;
    for (size_t i = 0; i < hexlen; i++)
        hex[i] = digits[(d[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
    hex[hexlen] = '\0';
    return 0;
}
