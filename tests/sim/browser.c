/* browser.c — a participant's browser made of the engine's DTLS client and SRTP session. */
#include "browser.h"

#include <string.h>

#include "bwe.h"
#include "twcc.h"
#include "util.h"

#define BROWSER_BUF 2048

const uint8_t tm_sim_vp8_key[7] = { 0x10, 0x00, 0x9d, 0x01, 0x2a, 0xAA, 0xBB }; /* P=0 */
const uint8_t tm_sim_vp8_delta[4] = { 0x10, 0x01, 0x02, 0x03 };                 /* P=1 */
const uint8_t tm_sim_opus[3] = { 0xfc, 0xff, 0xfe };

static void
dtls_transmit(void *ud, const uint8_t *buf, size_t len)
{
  tm_sim_browser_transmit(ud, buf, len);
}

static void
dtls_connected(void *ud, const TmSrtpKeys *keys)
{
  TmSimBrowser *b = ud;
  TmSrtpError err;
  b->srtp = tm_srtp_new(keys, &err);
  g_assert_nonnull(b->srtp);
  g_assert_cmpint(keys->profile, ==, TM_SRTP_PROFILE_AEAD_AES_128_GCM);
  b->connected = true;
}

static void
dtls_failed(void *ud, TmDtlsError err)
{
  ((TmSimBrowser *) ud)->failed = true;
}

static const TmDtlsListener browser_dtls_listener = { dtls_transmit, dtls_connected, dtls_failed };

TmSimBrowser *
tm_sim_browser_new(const uint8_t *relay_fp, TmSimSendFunc send, void *send_data)
{
  TmSimBrowser *b = g_new0(TmSimBrowser, 1);
  b->identity = tm_dtls_identity_new(1800000000);
  b->dtls = tm_dtls_new(b->identity, TM_DTLS_ROLE_CLIENT, relay_fp, TM_DTLS_FINGERPRINT_LEN,
                        &browser_dtls_listener, b);
  b->answer = g_new0(TmSdp, 1);
  b->rtp_in = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
  b->rtcp_in = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
  b->sent =
    g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) g_bytes_unref);
  b->send = send;
  b->send_data = send_data;
  return b;
}

void
tm_sim_browser_free(TmSimBrowser *b)
{
  if (b == NULL)
    return;
  tm_dtls_free(b->dtls);
  tm_srtp_free(b->srtp);
  tm_dtls_identity_unref(b->identity);
  g_free(b->answer);
  g_ptr_array_unref(b->rtp_in);
  g_ptr_array_unref(b->rtcp_in);
  g_hash_table_unref(b->sent);
  g_free(b);
}

void
tm_sim_browser_start(TmSimBrowser *b, int64_t now_us)
{
  tm_dtls_start(b->dtls, now_us);
}

char *
tm_sim_browser_offer(const uint8_t *fp, const char *dir, int opus_pt, int vp8_pt)
{
  return tm_sim_browser_offer_full(fp, dir, opus_pt, vp8_pt, 0, false);
}

char *
tm_sim_browser_offer_full(const uint8_t *fp, const char *dir, int opus_pt, int vp8_pt, int rtx_pt,
                          bool remb)
{
  char hex[3 * TM_DTLS_FINGERPRINT_LEN + 1];
  tm_hex_colon(fp, TM_DTLS_FINGERPRINT_LEN, hex);
  g_autofree char *rtx_fmt = rtx_pt > 0 ? g_strdup_printf(" %d", rtx_pt) : g_strdup("");
  g_autofree char *remb_fb =
    remb ? g_strdup_printf("a=rtcp-fb:%d goog-remb\r\n", vp8_pt) : g_strdup("");
  g_autofree char *rtx = rtx_pt > 0 ? g_strdup_printf("a=rtpmap:%d rtx/90000\r\n"
                                                      "a=fmtp:%d apt=%d\r\n",
                                                      rtx_pt, rtx_pt, vp8_pt)
                                    : g_strdup("");
  return g_strdup_printf(
    "v=0\r\no=- 42 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a v\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 %s\r\n"
    "a=setup:actpass\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=%s\r\na=rtcp-mux\r\n"
    "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d useinbandfec=1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF %d%s\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\na=%s\r\na=rtcp-mux\r\n"
    "a=rtpmap:%d VP8/90000\r\na=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\n%s%s",
    hex, opus_pt, dir, opus_pt, opus_pt, vp8_pt, rtx_fmt, dir, vp8_pt, vp8_pt, vp8_pt, remb_fb,
    rtx);
}

char *
tm_sim_browser_offer_twcc(const char *offer, int opus_pt, int vp8_pt)
{
  g_autofree char *ext = g_strdup_printf("a=rtcp-mux\r\na=extmap:3 %s\r\n", TM_TWCC_URI);
  g_auto(GStrv) parts = g_strsplit(offer, "a=rtcp-mux\r\n", -1);
  g_autofree char *with_ext = g_strjoinv(ext, parts);
  g_autofree char *audio_fb =
    g_strdup_printf("a=rtpmap:%d opus/48000/2\r\na=rtcp-fb:%d transport-cc\r\n", opus_pt, opus_pt);
  g_autofree char *audio_rtpmap = g_strdup_printf("a=rtpmap:%d opus/48000/2\r\n", opus_pt);
  g_autofree char *video_fb =
    g_strdup_printf("a=rtcp-fb:%d nack\r\na=rtcp-fb:%d transport-cc\r\n", vp8_pt, vp8_pt);
  g_autofree char *video_nack = g_strdup_printf("a=rtcp-fb:%d nack\r\n", vp8_pt);
  g_auto(GStrv) a = g_strsplit(with_ext, audio_rtpmap, 2);
  g_autofree char *step = g_strjoinv(audio_fb, a);
  g_auto(GStrv) v = g_strsplit(step, video_nack, 2);
  return g_strjoinv(video_fb, v);
}

char *
tm_sim_browser_offer_abs_send_time(const char *offer)
{
  g_autofree char *ext = g_strdup_printf("a=rtcp-mux\r\na=extmap:2 %s\r\n", TM_ABS_SEND_TIME_URI);
  g_auto(GStrv) parts = g_strsplit(offer, "a=rtcp-mux\r\n", -1);
  return g_strjoinv(ext, parts);
}

char *
tm_sim_browser_offer_red(const char *offer, int opus_pt, int red_pt)
{
  g_autofree char *mline = g_strdup_printf("SAVPF %d\r\n", opus_pt);
  g_autofree char *mline_red = g_strdup_printf("SAVPF %d %d\r\n", opus_pt, red_pt);
  g_autofree char *fmtp = g_strdup_printf("a=fmtp:%d useinbandfec=1\r\n", opus_pt);
  g_autofree char *fmtp_red =
    g_strdup_printf("a=fmtp:%d useinbandfec=1\r\na=rtpmap:%d red/48000/2\r\na=fmtp:%d %d/%d\r\n",
                    opus_pt, red_pt, red_pt, opus_pt, opus_pt);
  g_auto(GStrv) m = g_strsplit(offer, mline, 2);
  g_autofree char *step = g_strjoinv(mline_red, m);
  g_auto(GStrv) f = g_strsplit(step, fmtp, 2);
  return g_strjoinv(fmtp_red, f);
}

/* The video's RTX payload type in the relay's answer to B; -1 when none was answered. */
static int
answered_rtx_pt(const TmSimBrowser *b)
{
  for (guint i = 0; i < b->answer->n_media; i++) {
    const TmSdpMedia *m = &b->answer->media[i];
    const TmSdpCodec *rtx =
      m->kind == TM_MEDIA_VIDEO && m->n_codecs > 0 ? tm_sdp_media_find_rtx(m, &m->codecs[0]) : NULL;
    if (rtx != NULL)
      return rtx->pt;
  }
  return -1;
}

void
tm_sim_browser_receive(TmSimBrowser *b, const uint8_t *p, size_t len, int64_t now_us)
{
  TmPacketClass c = tm_packet_classify(p, len);
  if (c == TM_PACKET_DTLS) {
    tm_dtls_handle_datagram(b->dtls, p, len, now_us);
    return;
  }
  if (b->srtp == NULL || len > BROWSER_BUF)
    return;
  if (c == TM_PACKET_RTP && b->drop_rtp > 0) {
    b->drop_rtp--; /* lost on the way */
    return;
  }
  uint8_t buf[BROWSER_BUF];
  memcpy(buf, p, len);
  size_t n = len;
  if (c == TM_PACKET_RTP) {
    if (tm_srtp_unprotect_rtp(b->srtp, buf, &n) == TM_SRTP_OK)
      g_ptr_array_add(b->rtp_in, g_bytes_new(buf, n));
    else
      b->rejected_rtp++;
  } else if (c == TM_PACKET_RTCP) {
    if (tm_srtp_unprotect_rtcp(b->srtp, buf, &n) == TM_SRTP_OK)
      g_ptr_array_add(b->rtcp_in, g_bytes_new(buf, n));
    else
      b->rejected_rtcp++;
  }
}

void
tm_sim_browser_transmit(TmSimBrowser *b, const uint8_t *buf, size_t len)
{
  b->send(b->send_data, b, buf, len);
}

/* The key of a sent packet: its stream and sequence number (g_free). */
static gint64 *
sent_key(uint32_t ssrc, uint16_t seq)
{
  return g_memdup2(&(gint64){ (gint64) ssrc << 16 | seq }, sizeof(gint64));
}

size_t
tm_sim_browser_protect_rtp(TmSimBrowser *b, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                           const uint8_t *payload, size_t payload_len, uint8_t *buf, size_t cap)
{
  TmRtpPacket p = {
    .pt = pt, .seq = seq, .ts = ts, .ssrc = ssrc, .payload = payload, .payload_len = payload_len
  };
  uint8_t ext[8] = { 0 }; /* RFC 8285 one-byte form: ID and length - 1, the data; padding */
  size_t n_ext = 0;
  if (b->twcc_id != 0) {
    ext[n_ext++] = (uint8_t) (b->twcc_id << 4 | 1);
    ext[n_ext++] = (uint8_t) (b->twcc_seq >> 8);
    ext[n_ext++] = (uint8_t) b->twcc_seq;
    b->twcc_seq++;
  }
  if (b->abs_send_id != 0 && b->clock != NULL) { /* seconds, 6.18 fixed point, 24 bits */
    uint32_t t = (uint32_t) ((*b->clock * (1 << 18) / 1000000) & 0xffffff);
    ext[n_ext++] = (uint8_t) (b->abs_send_id << 4 | 2);
    ext[n_ext++] = (uint8_t) (t >> 16);
    ext[n_ext++] = (uint8_t) (t >> 8);
    ext[n_ext++] = (uint8_t) t;
  }
  if (n_ext > 0) {
    p.extension = true;
    p.ext_profile = 0xBEDE;
    p.ext = ext;
    p.ext_len = (n_ext + 3) / 4 * 4;
  }
  size_t n = tm_rtp_serialize(&p, buf, cap, NULL);
  g_assert_cmpuint(n, >, 0);
  g_hash_table_replace(b->sent, sent_key(ssrc, seq), g_bytes_new(buf, n));
  g_assert_cmpint(tm_srtp_protect_rtp(b->srtp, buf, &n, cap), ==, TM_SRTP_OK);
  return n;
}

size_t
tm_sim_browser_protect_rtcp(TmSimBrowser *b, const TmRtcpPacket *pkt, uint8_t *buf, size_t cap)
{
  size_t n = tm_rtcp_serialize(pkt, buf, cap, NULL);
  g_assert_cmpuint(n, >, 0);
  g_assert_cmpint(tm_srtp_protect_rtcp(b->srtp, buf, &n, cap), ==, TM_SRTP_OK);
  return n;
}

void
tm_sim_browser_send_rtp(TmSimBrowser *b, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                        const uint8_t *payload, size_t payload_len)
{
  uint8_t buf[BROWSER_BUF];
  size_t n =
    tm_sim_browser_protect_rtp(b, pt, seq, ts, ssrc, payload, payload_len, buf, sizeof buf);
  tm_sim_browser_transmit(b, buf, n);
}

void
tm_sim_browser_send_rtcp(TmSimBrowser *b, const TmRtcpPacket *pkt)
{
  uint8_t buf[BROWSER_BUF];
  size_t n = tm_sim_browser_protect_rtcp(b, pkt, buf, sizeof buf);
  tm_sim_browser_transmit(b, buf, n);
}

/* Calls FN on every RTCP packet in rtcp_in from index FROM on. */
static void
each_rtcp(const TmSimBrowser *b, guint from, void (*fn)(const TmRtcpPacket *, void *), void *ud)
{
  for (guint i = from; i < b->rtcp_in->len; i++) {
    gsize len;
    const uint8_t *p = g_bytes_get_data(g_ptr_array_index(b->rtcp_in, i), &len);
    TmRtcpIter it;
    tm_rtcp_iter_init(&it, p, len);
    TmRtcpPacket pkt;
    bool done = false;
    while (tm_rtcp_iter_next(&it, &pkt, &done) == TM_RTCP_OK && !done)
      fn(&pkt, ud);
  }
}

static void
resend_nacked(const TmRtcpPacket *pkt, void *ud)
{
  TmSimBrowser *b = ud;
  for (unsigned i = 0; pkt->kind == TM_RTCP_KIND_NACK && i < pkt->n_nacks; i++) {
    uint16_t seqs[17];
    unsigned n = tm_rtcp_nack_expand(&pkt->nacks[i], seqs);
    for (unsigned j = 0; j < n; j++) {
      g_autofree gint64 *key = sent_key(pkt->media_ssrc, seqs[j]);
      GBytes *sent = g_hash_table_lookup(b->sent, key);
      if (sent == NULL)
        continue;
      uint8_t buf[BROWSER_BUF];
      size_t blen = g_bytes_get_size(sent);
      memcpy(buf, g_bytes_get_data(sent, NULL), blen);
      int rtx_pt = answered_rtx_pt(b);
      TmRtpPacket orig;
      if (rtx_pt >= 0 && tm_rtp_parse(g_bytes_get_data(sent, NULL), blen, &orig) == TM_RTP_OK)
        blen = tm_rtx_wrap(g_bytes_get_data(sent, NULL), blen, &orig, (uint8_t) rtx_pt,
                           b->rtx_seq++, orig.ssrc + 1, buf, sizeof buf);
      g_assert_cmpint(tm_srtp_protect_rtp(b->srtp, buf, &blen, sizeof buf), ==, TM_SRTP_OK);
      tm_sim_browser_transmit(b, buf, blen);
    }
  }
}

void
tm_sim_browser_answer_nacks(TmSimBrowser *b)
{
  guint from = b->nacks_seen;
  b->nacks_seen = b->rtcp_in->len;
  each_rtcp(b, from, resend_nacked, b);
}

unsigned
tm_sim_browser_nack_gaps(TmSimBrowser *b, uint32_t media_ssrc)
{
  GHashTable *have = g_hash_table_new(NULL, NULL);
  int first = -1, newest = -1;
  for (guint i = 0; i < b->rtp_in->len; i++) {
    int ext = tm_sim_browser_media_seq(b, i); /* far from the 16-bit wrap */
    g_hash_table_add(have, GINT_TO_POINTER(ext));
    first = first < 0 ? ext : MIN(first, ext);
    newest = MAX(newest, ext);
  }
  TmRtcpPacket nack = { .kind = TM_RTCP_KIND_NACK, .sender_ssrc = 7, .media_ssrc = media_ssrc };
  for (int s = first + 1; s < newest && nack.n_nacks < TM_RTCP_MAX_NACK; s++)
    if (!g_hash_table_contains(have, GINT_TO_POINTER(s)))
      nack.nacks[nack.n_nacks++] = (TmRtcpNackItem){ (uint16_t) s, 0 };
  if (nack.n_nacks > 0)
    tm_sim_browser_send_rtcp(b, &nack);
  g_hash_table_unref(have);
  return nack.n_nacks;
}

TmRtpPacket
tm_sim_browser_nth_rtp(const TmSimBrowser *b, guint i)
{
  TmRtpPacket r;
  gsize len;
  g_assert_cmpuint(i, <, b->rtp_in->len);
  const uint8_t *p = g_bytes_get_data(g_ptr_array_index(b->rtp_in, i), &len);
  g_assert_cmpint(tm_rtp_parse(p, len, &r), ==, TM_RTP_OK);
  return r;
}

int
tm_sim_browser_media_seq(const TmSimBrowser *b, guint i)
{
  TmRtpPacket r = tm_sim_browser_nth_rtp(b, i);
  if (r.pt != answered_rtx_pt(b))
    return r.seq;
  g_assert_cmpuint(r.payload_len, >=, 2);
  return r.payload[0] << 8 | r.payload[1];
}

typedef struct {
  TmRtcpKind kind;
  int count;
  TmRtcpPacket last;
} KindScan;

static void
scan_kind(const TmRtcpPacket *pkt, void *ud)
{
  KindScan *s = ud;
  if (pkt->kind == s->kind) {
    s->count++;
    s->last = *pkt;
  }
}

int
tm_sim_browser_count_rtcp(const TmSimBrowser *b, TmRtcpKind kind)
{
  KindScan s = { .kind = kind };
  each_rtcp(b, 0, scan_kind, &s);
  return s.count;
}

typedef struct {
  TmRtcpKind kind;
  GArray *out;
} KindCollect;

static void
collect_kind(const TmRtcpPacket *pkt, void *ud)
{
  KindCollect *c = ud;
  if (pkt->kind == c->kind)
    g_array_append_val(c->out, *pkt);
}

GArray *
tm_sim_browser_rtcp_of_kind(const TmSimBrowser *b, TmRtcpKind kind)
{
  KindCollect c = { kind, g_array_new(FALSE, FALSE, sizeof(TmRtcpPacket)) };
  each_rtcp(b, 0, collect_kind, &c);
  return c.out;
}

bool
tm_sim_browser_last_rtcp(const TmSimBrowser *b, TmRtcpKind kind, TmRtcpPacket *out)
{
  KindScan s = { .kind = kind };
  each_rtcp(b, 0, scan_kind, &s);
  if (s.count > 0)
    *out = s.last;
  return s.count > 0;
}

guint
tm_sim_browser_distinct_rtp(const TmSimBrowser *b, int *first, int *newest)
{
  GHashTable *have = g_hash_table_new(NULL, NULL);
  *first = 65536;
  *newest = -1;
  for (guint i = 0; i < b->rtp_in->len; i++) {
    int seq = tm_sim_browser_media_seq(b, i);
    g_hash_table_add(have, GINT_TO_POINTER(seq));
    *first = MIN(*first, seq);
    *newest = MAX(*newest, seq);
  }
  guint n = g_hash_table_size(have);
  g_hash_table_unref(have);
  return n;
}
