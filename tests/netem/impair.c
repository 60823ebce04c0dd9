/* impair.c — testimony-impair: a userspace impaired link between two TUN devices, for tests on a
 * kernel without netem. Packets read from TUN A go through the A→B direction of the model in
 * impair-link.c and are written to TUN B when due; B→A likewise. Each TUN can be opened inside
 * another network namespace (--netns-a/--netns-b), so one process joins two namespaces.
 *
 * One ppoll loop: both TUNs, a signalfd and the control input, with the timeout set to the
 * model's next deadline. Control lines (stdin, or a FIFO given with --control) are answered on
 * stdout with "ok" or "error: …"; see docs/testing.md, "Impaired links". */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "impair-link.h"

#define READS_PER_WAKE 64
#define CONTROL_LINE_MAX 4096

enum { FD_TUN_A, FD_TUN_B, FD_SIGNAL, FD_CONTROL, FD_COUNT };

typedef struct {
  TmImpairLink *link;
  int tun[TM_IMPAIR_DIRS]; /* direction d reads tun[d] and writes tun[1 - d] */
  int signal_fd;
  int control_fd; /* -1: none, or closed at end of file */
  GString *control_buf;
  gboolean exit_on_eof;
  gboolean quit;
} Forwarder;

static void
say(const char *line)
{
  fputs(line, stdout);
  fflush(stdout);
}

static void
print_counters(const Forwarder *f)
{
  g_autoptr(GString) out = g_string_new(NULL);
  tm_impair_link_format_counters(f->link, out);
  say(out->str);
}

/* ---- opening the TUN devices, each in its namespace ---- */

static gboolean
enter_netns(const char *path, GError **error)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                "cannot enter network namespace %s: %s", path, g_strerror(errno));
    if (fd >= 0)
      close(fd);
    return FALSE;
  }
  close(fd);
  return TRUE;
}

/* Attaches to TUN device NAME in the namespace at NETNS (NULL: ours), creating it if it does not
 * exist (it then goes away when we exit). The namespace only matters while the device is opened:
 * afterwards we are back in our own and the descriptor keeps working. */
static int
open_tun(const char *name, const char *netns, GError **error)
{
  if (strlen(name) == 0 || strlen(name) >= IFNAMSIZ) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "bad TUN device name '%s'", name);
    return -1;
  }
  int home = -1;
  if (netns) {
    home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0 || !enter_netns(netns, error)) {
      if (home < 0)
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot open our own network namespace: %s", g_strerror(errno));
      else
        close(home);
      return -1;
    }
  }
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  struct ifreq ifr = { 0 };
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  g_strlcpy(ifr.ifr_name, name, IFNAMSIZ);
  if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot open TUN %s: %s", name,
                g_strerror(errno));
    if (fd >= 0)
      close(fd);
    fd = -1;
  }
  if (home >= 0) {
    if (setns(home, CLONE_NEWNET) < 0)
      g_error("cannot return to our own network namespace: %s", g_strerror(errno));
    close(home);
  }
  return fd;
}

/* ---- control ---- */

/* "AT:DURATION" in seconds, e.g. "2.5:1". */
static gboolean
parse_outage(const char *text, int64_t *at_us, int64_t *duration_us)
{
  char *end = NULL;
  double at = g_ascii_strtod(text, &end);
  if (end == text || *end != ':' || !(at >= 0 && at <= 86400))
    return FALSE;
  const char *rest = end + 1;
  double duration = g_ascii_strtod(rest, &end);
  if (end == rest || *end != '\0' || !(duration > 0 && duration <= 86400))
    return FALSE;
  *at_us = (int64_t) (at * 1e6);
  *duration_us = (int64_t) (duration * 1e6);
  return TRUE;
}

static void
set_outage(Forwarder *f, gboolean on)
{
  tm_impair_link_set_outage(f->link, on);
  say(on ? "outage on\n" : "outage off\n");
}

/* "outage on|off|toggle" switches the outage by hand; "outage AT:DURATION" schedules one AT
 * seconds from now. */
static gboolean
command_outage(Forwarder *f, const char *arg, int64_t now_us, GError **error)
{
  gboolean on = tm_impair_link_outage_switched_on(f->link);
  int64_t at, duration;
  if (strcmp(arg, "on") == 0 || strcmp(arg, "off") == 0)
    set_outage(f, strcmp(arg, "on") == 0);
  else if (strcmp(arg, "toggle") == 0)
    set_outage(f, !on);
  else if (!parse_outage(arg, &at, &duration) ||
           !tm_impair_link_add_outage(f->link, now_us + at, duration)) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "outage wants on, off, toggle or AT:DURATION (seconds)");
    return FALSE;
  }
  return TRUE;
}

static void
show_settings(const Forwarder *f)
{
  g_autoptr(GString) out = g_string_new(NULL);
  for (int d = 0; d < TM_IMPAIR_DIRS; d++) {
    g_string_append_printf(out, "settings %s ", tm_impair_direction_names[d]);
    tm_impair_settings_format(tm_impair_link_settings(f->link, (TmImpairDirection) d), out);
    g_string_append_c(out, '\n');
  }
  say(out->str);
}

static guint
direction_mask(const char *word)
{
  if (g_strcmp0(word, "a2b") == 0)
    return 1u << TM_IMPAIR_A2B;
  if (g_strcmp0(word, "b2a") == 0)
    return 1u << TM_IMPAIR_B2A;
  if (g_strcmp0(word, "both") == 0)
    return (1u << TM_IMPAIR_A2B) | (1u << TM_IMPAIR_B2A);
  return 0;
}

/* One control line: "a2b|b2a|both SETTINGS", "outage on|off|toggle|AT:DURATION", "stats",
 * "show" or "quit". Blank lines and lines starting with '#' are ignored. */
static void
handle_command(Forwarder *f, const char *line, int64_t now_us)
{
  g_autofree char *word = g_strdup(line + strspn(line, " \t"));
  g_strchomp(word);
  if (word[0] == '\0' || word[0] == '#')
    return;
  char *rest = word + strcspn(word, " \t");
  if (*rest)
    *rest++ = '\0';
  rest += strspn(rest, " \t");

  g_autoptr(GError) error = NULL;
  guint mask = direction_mask(word);
  if (mask)
    tm_impair_link_configure(f->link, mask, rest, &error);
  else if (strcmp(word, "outage") == 0)
    command_outage(f, rest, now_us, &error);
  else if (strcmp(word, "stats") == 0)
    print_counters(f);
  else if (strcmp(word, "show") == 0)
    show_settings(f);
  else if (strcmp(word, "quit") == 0)
    f->quit = TRUE;
  else
    g_set_error(&error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION, "unknown command '%s'",
                word);
  if (error) {
    g_autofree char *msg = g_strdup_printf("error: %s\n", error->message);
    say(msg);
  } else {
    say("ok\n");
  }
}

static void
read_control(Forwarder *f, int64_t now_us)
{
  char buf[1024];
  ssize_t n = read(f->control_fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN))
    return;
  if (n <= 0) {
    close(f->control_fd);
    f->control_fd = -1;
    f->quit = f->quit || f->exit_on_eof;
    return;
  }
  g_string_append_len(f->control_buf, buf, n);
  char *nl;
  while ((nl = memchr(f->control_buf->str, '\n', f->control_buf->len))) {
    *nl = '\0';
    handle_command(f, f->control_buf->str, now_us);
    g_string_erase(f->control_buf, 0, nl - f->control_buf->str + 1);
  }
  if (f->control_buf->len > CONTROL_LINE_MAX) {
    say("error: control line too long\n");
    g_string_truncate(f->control_buf, 0);
  }
}

static void
read_signals(Forwarder *f)
{
  struct signalfd_siginfo si;
  while (read(f->signal_fd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGUSR1)
      set_outage(f, !tm_impair_link_outage_switched_on(f->link));
    else if (si.ssi_signo == SIGUSR2)
      print_counters(f);
    else
      f->quit = TRUE;
  }
}

/* ---- packets ---- */

static gboolean
read_tun(Forwarder *f, TmImpairDirection dir, int64_t now_us)
{
  static uint8_t buf[TM_IMPAIR_MAX_PACKET];
  for (int i = 0; i < READS_PER_WAKE; i++) {
    ssize_t n = read(f->tun[dir], buf, sizeof buf);
    if (n > 0) {
      tm_impair_link_handle_packet(f->link, dir, buf, (gsize) n, now_us);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno != EAGAIN) {
      g_printerr("testimony-impair: reading TUN %c: %s\n", "AB"[dir], g_strerror(errno));
      return FALSE;
    }
    break;
  }
  return TRUE;
}

static void
deliver(Forwarder *f, int64_t now_us)
{
  for (int d = 0; d < TM_IMPAIR_DIRS; d++) {
    TmImpairPacket *p;
    while ((p = tm_impair_link_poll_output(f->link, (TmImpairDirection) d, now_us))) {
      if (write(f->tun[1 - d], p->data, p->len) != (ssize_t) p->len)
        tm_impair_link_write_failed(f->link, (TmImpairDirection) d, p->len);
      g_free(p);
    }
  }
}

static int
run(Forwarder *f)
{
  while (!f->quit) {
    int64_t now = g_get_monotonic_time();
    deliver(f, now);
    int64_t next = tm_impair_link_next_deadline(f->link);
    struct timespec ts, *timeout = NULL;
    if (next != INT64_MAX) {
      int64_t wait = MAX(0, next - now);
      ts = (struct timespec){ .tv_sec = wait / G_USEC_PER_SEC,
                              .tv_nsec = (wait % G_USEC_PER_SEC) * 1000 };
      timeout = &ts;
    }
    struct pollfd fds[FD_COUNT] = {
      [FD_TUN_A] = { .fd = f->tun[TM_IMPAIR_A2B], .events = POLLIN },
      [FD_TUN_B] = { .fd = f->tun[TM_IMPAIR_B2A], .events = POLLIN },
      [FD_SIGNAL] = { .fd = f->signal_fd, .events = POLLIN },
      [FD_CONTROL] = { .fd = f->control_fd, .events = POLLIN },
    };
    if (ppoll(fds, FD_COUNT, timeout, NULL) < 0) {
      if (errno == EINTR)
        continue;
      g_printerr("testimony-impair: poll: %s\n", g_strerror(errno));
      return 1;
    }
    now = g_get_monotonic_time();
    for (int d = 0; d < TM_IMPAIR_DIRS; d++) {
      if ((fds[d].revents & (POLLERR | POLLNVAL)) ||
          ((fds[d].revents & POLLIN) && !read_tun(f, (TmImpairDirection) d, now))) {
        g_printerr("testimony-impair: TUN %c failed (its namespace gone?)\n", "AB"[d]);
        return 1;
      }
    }
    if (fds[FD_SIGNAL].revents & POLLIN)
      read_signals(f);
    if (fds[FD_CONTROL].revents & (POLLIN | POLLHUP | POLLERR))
      read_control(f, now);
  }
  return 0;
}

/* ---- main ---- */

typedef struct {
  char *tun[TM_IMPAIR_DIRS], *netns[TM_IMPAIR_DIRS];
  char *settings_both, *settings[TM_IMPAIR_DIRS];
  char **outages;
  char *control;
  gint64 seed;
  gboolean exit_on_eof;
} Options;

static gboolean
parse_options(int argc, char **argv, Options *o, GError **error)
{
  const GOptionEntry entries[] = {
    { "tun-a", 0, 0, G_OPTION_ARG_STRING, &o->tun[0], "TUN device of side A", "NAME" },
    { "tun-b", 0, 0, G_OPTION_ARG_STRING, &o->tun[1], "TUN device of side B", "NAME" },
    { "netns-a", 0, 0, G_OPTION_ARG_FILENAME, &o->netns[0],
      "open TUN A in this network namespace (e.g. /proc/PID/ns/net)", "PATH" },
    { "netns-b", 0, 0, G_OPTION_ARG_FILENAME, &o->netns[1], "open TUN B in this network namespace",
      "PATH" },
    { "both", 0, 0, G_OPTION_ARG_STRING, &o->settings_both, "settings of both directions",
      "'KEY=VALUE ...'" },
    { "a2b", 0, 0, G_OPTION_ARG_STRING, &o->settings[0], "settings of A->B (after --both)",
      "'KEY=VALUE ...'" },
    { "b2a", 0, 0, G_OPTION_ARG_STRING, &o->settings[1], "settings of B->A (after --both)",
      "'KEY=VALUE ...'" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &o->seed, "seed of the random streams (default 1)", "N" },
    { "outage", 0, 0, G_OPTION_ARG_STRING_ARRAY, &o->outages,
      "drop everything from AT for DURATION seconds after start (repeatable)", "AT:DURATION" },
    { "control", 0, 0, G_OPTION_ARG_FILENAME, &o->control,
      "read control lines from this FIFO instead of stdin ('none': no control)", "PATH" },
    { "exit-on-eof", 0, 0, G_OPTION_ARG_NONE, &o->exit_on_eof, "exit when the control input ends",
      NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("- impaired link between two TUN devices");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_set_description(
    ctx,
    "Settings: loss gb bg bad_loss (percent), delay jitter queue_ms (ms), dist=uniform|normal,\n"
    "reorder=0|1, rate (kbit/s), queue (bytes), limit (packets), seed, clear.\n"
    "Control lines: a2b|b2a|both SETTINGS; outage on|off|toggle|AT:DURATION; stats; show; quit.\n"
    "SIGUSR1 toggles an outage, SIGUSR2 prints the counters. See docs/testing.md.");
  if (!g_option_context_parse(ctx, &argc, &argv, error))
    return FALSE;
  if (!o->tun[0] || !o->tun[1] || argc > 1 || o->seed < 0 || o->seed > G_MAXUINT32) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "--tun-a and --tun-b are needed; --seed is 0 to 4294967295");
    return FALSE;
  }
  return TRUE;
}

/* Settings and scheduled outages from the command line. */
static gboolean
configure(Forwarder *f, const Options *o, int64_t start_us, GError **error)
{
  const guint both = (1u << TM_IMPAIR_A2B) | (1u << TM_IMPAIR_B2A);
  if (o->settings_both && !tm_impair_link_configure(f->link, both, o->settings_both, error))
    return FALSE;
  for (int d = 0; d < TM_IMPAIR_DIRS; d++) {
    if (o->settings[d] && !tm_impair_link_configure(f->link, 1u << d, o->settings[d], error))
      return FALSE;
  }
  for (char **s = o->outages; s && *s; s++) {
    int64_t at, duration;
    if (!parse_outage(*s, &at, &duration) ||
        !tm_impair_link_add_outage(f->link, start_us + at, duration)) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                  "bad --outage '%s' (AT:DURATION in seconds)", *s);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
open_inputs(Forwarder *f, const Options *o, GError **error)
{
  sigset_t mask;
  sigemptyset(&mask);
  int signals[] = { SIGUSR1, SIGUSR2, SIGINT, SIGTERM, SIGHUP };
  for (gsize i = 0; i < G_N_ELEMENTS(signals); i++)
    sigaddset(&mask, signals[i]);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  f->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (!o->control || strcmp(o->control, "-") == 0)
    f->control_fd = STDIN_FILENO;
  else if (strcmp(o->control, "none") == 0)
    f->control_fd = -1;
  else if ((f->control_fd = open(o->control, O_RDWR | O_CLOEXEC)) < 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot open %s: %s",
                o->control, g_strerror(errno));
    return FALSE;
  }
  for (int d = 0; d < TM_IMPAIR_DIRS; d++) {
    if ((f->tun[d] = open_tun(o->tun[d], o->netns[d], error)) < 0)
      return FALSE;
  }
  return f->signal_fd >= 0;
}

int
main(int argc, char **argv)
{
  Options o = { .seed = 1 };
  Forwarder f = { .tun = { -1, -1 }, .signal_fd = -1, .control_fd = -1 };
  g_autoptr(GError) error = NULL;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (!parse_options(argc, argv, &o, &error)) {
    g_printerr("testimony-impair: %s\n", error->message);
    return 2;
  }
  f.link = tm_impair_link_new((guint32) o.seed);
  f.control_buf = g_string_new(NULL);
  f.exit_on_eof = o.exit_on_eof;
  int status = 1;
  if (open_inputs(&f, &o, &error) && configure(&f, &o, g_get_monotonic_time(), &error)) {
    say("ready\n");
    status = run(&f);
    print_counters(&f);
  } else {
    g_printerr("testimony-impair: %s\n", error ? error->message : g_strerror(errno));
  }
  for (int d = 0; d < TM_IMPAIR_DIRS; d++) {
    if (f.tun[d] >= 0)
      close(f.tun[d]);
  }
  tm_impair_link_free(f.link);
  g_string_free(f.control_buf, TRUE);
  for (int d = 0; d < TM_IMPAIR_DIRS; d++) {
    g_free(o.tun[d]);
    g_free(o.netns[d]);
    g_free(o.settings[d]);
  }
  g_free(o.settings_both);
  g_free(o.control);
  g_strfreev(o.outages);
  return status;
}
