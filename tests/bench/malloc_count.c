/* LD_PRELOAD shim that counts heap allocation calls, for `make bench`.
 *
 * Counts calls to malloc, calloc, realloc, posix_memalign, aligned_alloc,
 * memalign, valloc, pvalloc and free, forwarding each to glibc's own
 * implementation (__libc_*), so no dlsym bootstrap is needed. At exit the
 * counts are written as one line of "name=count" pairs to the file named by
 * MALLOC_COUNT_FILE (appended), or to stderr when it is unset.
 *
 * Build: cc -O2 -shared -fPIC -o malloc_count.so malloc_count.c
 * Use:   MALLOC_COUNT_FILE=out.txt LD_PRELOAD=./malloc_count.so prog ...
 *
 * Limitation: allocations made with mmap directly, or by statically linked
 * allocators, are not seen. Counts are relaxed atomics (exact, not ordered). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);
extern void __libc_free(void *ptr);

enum { MC_MALLOC, MC_CALLOC, MC_REALLOC, MC_ALIGNED, MC_FREE, MC__COUNT };

static const char *const mc_names[MC__COUNT] = {"malloc", "calloc", "realloc", "aligned", "free"};
static atomic_ullong mc_count[MC__COUNT];

static void mc_add(int which)
{
    atomic_fetch_add_explicit(&mc_count[which], 1, memory_order_relaxed);
}

void *malloc(size_t size)
{
    mc_add(MC_MALLOC);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    mc_add(MC_CALLOC);
    return __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
    mc_add(MC_REALLOC);
    return __libc_realloc(ptr, size);
}

void free(void *ptr)
{
    if (ptr != NULL)
        mc_add(MC_FREE);
    __libc_free(ptr);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    mc_add(MC_ALIGNED);
    if (align < sizeof(void *) || (align & (align - 1)) != 0)
        return EINVAL;
    void *p = __libc_memalign(align, size);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void *aligned_alloc(size_t align, size_t size)
{
    mc_add(MC_ALIGNED);
    return __libc_memalign(align, size);
}

void *memalign(size_t align, size_t size)
{
    mc_add(MC_ALIGNED);
    return __libc_memalign(align, size);
}

void *valloc(size_t size)
{
    mc_add(MC_ALIGNED);
    return __libc_valloc(size);
}

void *pvalloc(size_t size)
{
    mc_add(MC_ALIGNED);
    return __libc_pvalloc(size);
}

/* Formats the counts without allocating (stdio may allocate). */
static size_t mc_format(char *buf, size_t cap)
{
    size_t len = 0;
    for (int i = 0; i < MC__COUNT && len < cap; i++) {
        unsigned long long v = atomic_load_explicit(&mc_count[i], memory_order_relaxed);
        int n = snprintf(buf + len, cap - len, "%s%s=%llu", i ? " " : "", mc_names[i], v);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    if (len >= cap)
        len = cap - 1;
    buf[len++] = '\n';
    return len;
}

__attribute__((destructor)) static void mc_report(void)
{
    char buf[256];
    size_t len = mc_format(buf, sizeof buf - 1);
    const char *path = getenv("MALLOC_COUNT_FILE");
    int fd = STDERR_FILENO;
    if (path != NULL && path[0] != '\0')
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    ssize_t w = write(fd, buf, len);
    (void)w;
    if (fd != STDERR_FILENO)
        close(fd);
}
