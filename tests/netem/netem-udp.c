/* netem-udp.c — the measuring ends of the impaired-link test: a paced UDP sender and a receiver
 * that prints one line per datagram, so the test can compute loss, bursts, one-way delay, order
 * and throughput. Both ends run on the same machine (in two network namespaces), so the sender's
 * CLOCK_MONOTONIC time stamp in the datagram is comparable with the receiver's clock.
 *
 *   netem-udp send ADDR PORT COUNT INTERVAL_US SIZE
 *       COUNT datagrams of SIZE bytes, one every INTERVAL_US (late ones go at once);
 *       prints "sent N errors E".
 *   netem-udp recv ADDR PORT IDLE_MS TIMEOUT_MS
 *       prints "ready", then "SEQ DELAY_US ARRIVAL_US BYTES" per datagram; exits IDLE_MS after
 *       the last one, or TIMEOUT_MS after starting, whichever comes first.
 *
 * Datagram: "NTEM", sequence number (32 bits) and send time in ns (64 bits), big-endian, then
 * zeros up to SIZE. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEADER 16
#define MAX_SIZE 65507
#define MAX_COUNT 10000000L

static int64_t
now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
put_be(uint8_t *p, uint64_t v, int bytes)
{
  for (int i = bytes - 1; i >= 0; i--, v >>= 8)
    p[i] = (uint8_t) v;
}

static uint64_t
get_be(const uint8_t *p, int bytes)
{
  uint64_t v = 0;
  for (int i = 0; i < bytes; i++)
    v = (v << 8) | p[i];
  return v;
}

static long
number(const char *text, long min, long max)
{
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < min || v > max) {
    fprintf(stderr, "netem-udp: bad number '%s' (%ld to %ld)\n", text, min, max);
    exit(2);
  }
  return v;
}

static int
udp_socket(const char *addr, const char *port, struct sockaddr_in *sa)
{
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons((uint16_t) number(port, 1, 65535));
  if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
    fprintf(stderr, "netem-udp: bad IPv4 address '%s'\n", addr);
    exit(2);
  }
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    perror("netem-udp: socket");
    exit(1);
  }
  return fd;
}

static int
do_send(char **argv)
{
  struct sockaddr_in to;
  int fd = udp_socket(argv[0], argv[1], &to);
  long count = number(argv[2], 1, MAX_COUNT);
  long interval_us = number(argv[3], 0, 10000000);
  size_t size = (size_t) number(argv[4], HEADER, MAX_SIZE);
  static uint8_t buf[MAX_SIZE];
  memcpy(buf, "NTEM", 4);
  long errors = 0;
  int64_t start = now_ns();
  for (long seq = 0; seq < count; seq++) {
    int64_t due = start + seq * interval_us * 1000;
    struct timespec ts = { .tv_sec = due / 1000000000, .tv_nsec = due % 1000000000 };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
      ;
    put_be(buf + 4, (uint64_t) seq, 4);
    put_be(buf + 8, (uint64_t) now_ns(), 8);
    if (sendto(fd, buf, size, 0, (struct sockaddr *) &to, sizeof to) != (ssize_t) size)
      errors++;
  }
  printf("sent %ld errors %ld\n", count, errors);
  close(fd);
  return 0;
}

static int
do_recv(char **argv)
{
  struct sockaddr_in at;
  int fd = udp_socket(argv[0], argv[1], &at);
  long idle_ms = number(argv[2], 1, 600000);
  long timeout_ms = number(argv[3], 1, 600000);
  int rcvbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  if (bind(fd, (struct sockaddr *) &at, sizeof at) < 0) {
    perror("netem-udp: bind");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  static uint8_t buf[MAX_SIZE];
  int64_t end = now_ns() + (int64_t) timeout_ms * 1000000;
  int64_t last = 0;
  for (;;) {
    int64_t now = now_ns();
    int64_t until = last ? last + (int64_t) idle_ms * 1000000 : end;
    if (until > end)
      until = end;
    if (now >= until)
      break;
    struct pollfd p = { .fd = fd, .events = POLLIN };
    if (poll(&p, 1, (int) ((until - now) / 1000000) + 1) <= 0)
      continue;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    int64_t arrival = now_ns();
    if (n < HEADER || memcmp(buf, "NTEM", 4) != 0)
      continue;
    last = arrival;
    printf("%llu %lld %lld %zd\n", (unsigned long long) get_be(buf + 4, 4),
           (long long) ((arrival - (int64_t) get_be(buf + 8, 8)) / 1000),
           (long long) (arrival / 1000), n);
  }
  fflush(stdout);
  close(fd);
  return 0;
}

int
main(int argc, char **argv)
{
  if (argc == 7 && strcmp(argv[1], "send") == 0)
    return do_send(argv + 2);
  if (argc == 6 && strcmp(argv[1], "recv") == 0)
    return do_recv(argv + 2);
  fprintf(stderr,
          "usage: netem-udp send ADDR PORT COUNT INTERVAL_US SIZE\n"
          "       netem-udp recv ADDR PORT IDLE_MS TIMEOUT_MS\n");
  return 2;
}
