/* nDPI 4.2 as a second opinion on flows our own dissectors do not
 * recognise: it sees the first packets (IP header onward) and names the
 * protocol and the risks it found. Prefix dpi_ (nDPI owns ndpi_). */
#ifndef VTLS_NDPI_H
#define VTLS_NDPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Packets of one flow offered to nDPI at most; then detection gives up. */
#define DPI_MAX_PACKETS 12
#define DPI_MAX_RISKS   16

struct dpi_engine;
struct dpi_flow;

struct dpi_result {
    char protocol[64]; /* e.g. "TLS", "MySQL", "HTTP", "Unknown" */
    char category[32];
    bool guessed;                     /* by port, after giving up */
    bool encrypted;                   /* an encrypted protocol (SSH, TLS, ...) in nDPI's list */
    uint64_t risk;                    /* nDPI risk bitmask */
    const char *risks[DPI_MAX_RISKS]; /* names of the risks set, static strings */
    unsigned nrisks;
};

/* One detection module with every protocol enabled. NULL when nDPI fails
 * to initialise. Not shared between threads. */
struct dpi_engine *dpi_engine_new(void);
void dpi_engine_free(struct dpi_engine *e);

/* Bytes one tracked flow costs while detection runs, besides what nDPI
 * allocates inside (to charge a memory cap). */
size_t dpi_flow_size(void);

/* Bytes nDPI holds on its heap now, module and flows together, as allocated
 * and freed on the calling thread (counted by allocation hooks installed
 * with the first engine). The difference around a dpi_packet() call is what
 * that packet made the flow cost. */
size_t dpi_heap_bytes(void);

/* Per-flow state; NULL on allocation failure. */
struct dpi_flow *dpi_flow_new(void);
void dpi_flow_free(struct dpi_flow *f);

/* Offer one packet: l3 points at the IP header, len bytes captured, ts_us
 * packet time. Returns true when nDPI is done with the flow (protocol found
 * or DPI_MAX_PACKETS offered); later calls do nothing. */
bool dpi_packet(struct dpi_engine *e, struct dpi_flow *f, const uint8_t *l3, uint32_t len,
                uint64_t ts_us);

/* What nDPI concluded so far; when it has not decided, give up (guessing
 * from ports) first. */
void dpi_result(struct dpi_engine *e, struct dpi_flow *f, struct dpi_result *out);

#endif
