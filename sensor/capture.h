/* Packet capture with libpcap: replay of a pcap/pcapng file (or stdin) and
 * live capture on an interface.
 *
 * Errors are returned as messages that name the file or interface; for a
 * replay that breaks off (truncated record, garbage) the message also names
 * the number of the packet that could not be read, and every good packet
 * before it has already been delivered.
 */
#ifndef VTLS_CAPTURE_H
#define VTLS_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAP_ERRLEN 512
#define CAP_VEC    64 /* most packets in one cap_batch_fn call */

struct cap_live_opts {
    int snaplen;    /* bytes per packet; default 262144 */
    bool promisc;   /* promiscuous mode; default true */
    int buffer_mb;  /* kernel buffer size in MiB; 0 keeps libpcap's default */
    bool immediate; /* deliver packets as they arrive; default true */
    int timeout_ms; /* read timeout when not immediate; default 100 */
};

struct cap_stats {
    uint64_t received;        /* packets delivered to the callback */
    uint64_t bytes;           /* captured bytes delivered */
    uint64_t kernel_drops;    /* live: ps_drop (no buffer space in the kernel) */
    uint64_t if_drops;        /* live: ps_ifdrop (dropped by the interface or driver) */
    uint64_t kernel_received; /* live: ps_recv */
    uint64_t noted;           /* packets delivered with a note from the reader (cap_set_prep) */
    bool threaded;            /* packets came through the reader thread */
};

#define CAP_NOTE_MAX 256 /* most bytes of a packet's note (cap_set_prep) */

/* One packet: ts_us is packet time in microseconds since the epoch. */
struct cap_pkt {
    uint64_t ts_us;
    const uint8_t *data;
    uint32_t caplen;
    uint32_t wire_len;
    void *note; /* what the prep function wrote for this packet, or NULL */
};

/* Packets p[0..n), n >= 1, in capture order. They and their data are valid
 * during the call only. A batch lets the callee look ahead (prefetch) while
 * it works through the packets one by one. */
typedef void (*cap_batch_fn)(void *ctx, const struct cap_pkt *p, size_t n);

struct cap;

void cap_live_opts_default(struct cap_live_opts *o);

/* Open a capture file (pcap or pcapng); "-" reads stdin. Returns NULL and
 * writes a message naming the file into err (CAP_ERRLEN bytes). */
struct cap *cap_open_file(const char *path, char *err);

/* Open and activate a live capture on iface. Returns NULL with a message
 * naming the interface in err. Warnings (e.g. promiscuous mode not
 * supported) are written to err with a non-NULL return. */
struct cap *cap_open_live(const char *iface, const struct cap_live_opts *o, char *err);

/* Compile and install a BPF filter. Returns false with a message in err. */
bool cap_set_filter(struct cap *c, const char *filter, char *err);

/* The link type (DLT_*) of the capture. */
int cap_datalink(const struct cap *c);

/* Called between batches of packets: after each buffer of a live capture,
 * at least every read timeout (100 ms by default) when the link is idle,
 * and every 4096 packets of a file. For housekeeping (signals, reloads,
 * metrics, progress), never per packet. */
typedef void (*cap_tick_fn)(void *ctx);
void cap_set_tick(struct cap *c, cap_tick_fn fn, void *ctx);

/* With on, cap_run() reads with libpcap on a thread of its own, which copies
 * packets into a queue of batches (8 of 256 KiB, or of one packet at the
 * snap length if that is larger); the caller's thread takes them from there,
 * in order, and makes every callback, so fn and the tick function run on the
 * caller's thread only, as without it. When the queue is full the reader
 * waits, so a live capture that falls behind drops in the kernel, where
 * pcap_stats() counts it. Signals are blocked on the reader thread. A file
 * that is not a regular file (a pipe, stdin) is always read on the caller's
 * thread: the reader would hold a part-filled batch while it waits for more
 * input, and its packets must not wait with it. Likewise when the thread
 * cannot be started. Off by default. */
void cap_set_threaded(struct cap *c, bool on);

/* Work on a packet that needs nothing but the packet (decoding, hashing),
 * which the reader thread may do when it has time to spare: when it finds
 * the callbacks behind (two batches waiting for them) as it starts a batch,
 * or always with `always`, it calls fn for each packet of that batch as the
 * packet is copied in. fn writes up to note_size bytes (at most CAP_NOTE_MAX, 16-byte
 * aligned) at note, and the batch function gets them as cap_pkt.note. For
 * packets of other batches, and without the reader thread, note is NULL and
 * the batch function does that work itself. fn runs on the reader thread
 * (p->note is NULL during the call), so it may read only what nothing else
 * writes while cap_run() runs. The packets of one batch function call are
 * either all noted or none. Call it before cap_run(). */
typedef void (*cap_prep_fn)(const void *ctx, const struct cap_pkt *p, void *note);
void cap_set_prep(struct cap *c, cap_prep_fn fn, const void *ctx, size_t note_size, bool always);

/* Deliver packets to fn until the end of the file, an error or cap_stop().
 * Call it once per capture.
 * Returns 0 at the end of a file or after cap_stop(), -1 on an error with a
 * message in err naming the source and, for files, the packet number. */
int cap_run(struct cap *c, cap_batch_fn fn, void *ctx, char *err);

/* Ask cap_run() to return. Async-signal-safe: call it from a signal handler. */
void cap_stop(struct cap *c);

/* Ask cap_run() to call the tick function soon (after the packet being
 * delivered) and go on. Async-signal-safe, e.g. for SIGHUP. */
void cap_interrupt(struct cap *c);

/* Counters so far; for live captures the kernel's counters are refreshed. */
void cap_get_stats(struct cap *c, struct cap_stats *st);

bool cap_is_live(const struct cap *c);
const char *cap_source(const struct cap *c);

void cap_close(struct cap *c);

/* libpcap's version number ("1.10.3") into buf; returns buf. */
const char *cap_lib_version(char *buf, size_t len);

#endif
