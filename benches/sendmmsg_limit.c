/*
 * sendmmsg_limit.c: how fast can this kernel take crafted Ether/IPv4/TCP SYNs
 * on an interface through one AF_PACKET socket? The ceiling craft's send path
 * is measured against (benches/peers.sh builds and runs it).
 *
 *   gcc -O2 -o sendmmsg_limit benches/sendmmsg_limit.c
 *   ./sendmmsg_limit [N=200000] [DPORT=9] [IFACE=lo]
 *
 * The socket is opened like craft opens its own: protocol 0, then bind with
 * ETH_P_ALL on the interface, PACKET_IGNORE_OUTGOING set. The frame is built
 * once with correct checksums; each frame of a batch of 256 gets its own TCP
 * seq and its TCP checksum is redone from a precomputed partial sum (the
 * pseudo-header and every word but seq), so per-frame CPU work is a few adds.
 *
 * Prints one line:  sent=N seconds=S pps=P   (the send loop only, no setup)
 * Needs CAP_NET_RAW. Sends only to 127.0.0.1 on the given interface.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256
#define FRAME_LEN (14 + 20 + 20)

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

/* One's-complement sum of big-endian 16-bit words (len even). */
static uint32_t sum16(const uint8_t *p, size_t len, uint32_t acc) {
    for (size_t i = 0; i + 1 < len; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    return acc;
}

static uint16_t fold(uint32_t acc) {
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 200000;
    int dport = argc > 2 ? atoi(argv[2]) : 9;
    const char *iface = argc > 3 ? argv[3] : "lo";

    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("socket(AF_PACKET)"); return 4; }
    int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    struct sockaddr_ll sll = {0};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = (int)if_nametoindex(iface);
    if (!sll.sll_ifindex) { perror("if_nametoindex"); return 2; }
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("bind"); return 4; }

    /* Template frame: Ether (all-zero MACs, like craft on lo) / IPv4 / TCP SYN. */
    uint8_t tmpl[FRAME_LEN] = {0};
    uint8_t *eth = tmpl, *ip = tmpl + 14, *tcp = tmpl + 34;
    eth[12] = 0x08; eth[13] = 0x00;
    ip[0] = 0x45; ip[3] = 40;                 /* version/ihl, total length */
    ip[4] = 0x00; ip[5] = 0x01;               /* id 1 */
    ip[6] = 0x40;                             /* DF */
    ip[8] = 64; ip[9] = 6;                    /* ttl, proto TCP */
    ip[12] = 127; ip[15] = 1;                 /* src 127.0.0.1 */
    ip[16] = 127; ip[19] = 1;                 /* dst 127.0.0.1 */
    uint16_t ipck = fold(sum16(ip, 20, 0));
    ip[10] = ipck >> 8; ip[11] = ipck & 0xff;
    tcp[0] = 40000 >> 8; tcp[1] = 40000 & 0xff; /* sport 40000 */
    tcp[2] = dport >> 8; tcp[3] = dport & 0xff;
    tcp[12] = 5 << 4; tcp[13] = 0x02;          /* data offset 5, SYN */
    tcp[14] = 64240 >> 8; tcp[15] = 64240 & 0xff;
    /* Partial sum: pseudo-header + TCP header with seq = 0 and chksum = 0. */
    uint32_t base = sum16(ip + 12, 8, 0) + 6 + 20;
    base = sum16(tcp, 20, base);

    static uint8_t frames[BATCH][FRAME_LEN];
    static struct iovec iov[BATCH];
    static struct mmsghdr msgs[BATCH];
    for (int i = 0; i < BATCH; i++) {
        memcpy(frames[i], tmpl, FRAME_LEN);
        iov[i].iov_base = frames[i];
        iov[i].iov_len = FRAME_LEN;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }

    long sent = 0;
    uint32_t seq = 1000;
    double t0 = now();
    while (sent < n) {
        int k = n - sent < BATCH ? (int)(n - sent) : BATCH;
        for (int i = 0; i < k; i++, seq++) {
            uint8_t *t = frames[i] + 34;
            t[4] = seq >> 24; t[5] = seq >> 16; t[6] = seq >> 8; t[7] = seq;
            uint16_t ck = fold(base + (seq >> 16) + (seq & 0xffff));
            t[16] = ck >> 8; t[17] = ck & 0xff;
        }
        int off = 0;
        while (off < k) {
            int r = sendmmsg(fd, msgs + off, k - off, 0);
            if (r < 0) {
                if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) continue;
                perror("sendmmsg");
                return 1;
            }
            off += r;
        }
        sent += k;
    }
    double dt = now() - t0;
    printf("sent=%ld seconds=%.6f pps=%.0f\n", sent, dt, sent / dt);
    close(fd);
    return 0;
}
