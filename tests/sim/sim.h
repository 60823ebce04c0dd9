/* sim.h — deterministic simulation: the relay's engine and simulated browsers (browser.h) joined
 * by a seeded fake link, on a virtual clock. No sockets, threads or real time.
 *
 * The relay's side is a TmHearing (tm_sim_new) or, in a bare simulation (tm_sim_new_bare), the
 * TmPeers a test makes itself and attaches. Every datagram crosses the link: each direction
 * loses RTP datagrams, duplicates datagrams, delays them and, with jitter wider than their
 * spacing, reorders them; all its random draws come from one seeded generator, so a run is the
 * same every time. The relay's own random choices (SSRCs, offsets, session ids) come from a
 * second seeded generator.
 *
 * Style.md's rule holds: after every input, all output is drained before the next input.
 * tm_sim_send_rtp() and tm_sim_send_rtcp() send and then run; after calling the engine directly
 * (a control, a leave) a test calls tm_sim_run(). tm_sim_advance() moves the clock, delivering
 * each datagram and running each timer at its own time on the way. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "browser.h"
#include "hearing.h"

/* One direction of the fake link. */
typedef struct {
  double loss;       /* share of RTP datagrams lost (DTLS and RTCP always arrive) */
  double duplicate;  /* share of datagrams delivered twice */
  int64_t delay_us;  /* one-way delay */
  int64_t jitter_us; /* the delay varies uniformly by ± this much */
} TmSimLink;

typedef struct {
  uint64_t sent; /* datagrams put on the link */
  uint64_t lost;
  uint64_t duplicated;
  uint64_t delivered;
  uint64_t to_closed; /* arrived for a connection the relay had closed */
} TmSimLinkStats;

typedef struct _TmSim TmSim;

struct _TmSim {
  int64_t now;        /* the virtual clock: monotonic microseconds */
  TmSimLink up, down; /* browser -> relay, relay -> browser */
  TmSimLinkStats up_stats, down_stats;
  TmHearing *hearing; /* NULL in a bare simulation */
  TmDtlsIdentity *relay_identity;
  GRand *link_rand;
  GRand *relay_rand;
  GQueue in_flight; /* datagrams by due time, then by sending order */
  uint64_t next_id;
  GHashTable *by_peer; /* TmPeer* -> TmSimBrowser*: open connections */
  GPtrArray *browsers; /* every browser made, owned */
  /* What the hearing reported through its listener. */
  int published;
  int failed;
  int closed;
  int tapped;      /* packets the media tap (recording) saw */
  bool offer_twcc; /* browsers connected from now on offer transport-cc, as Chromium does */
  int offer_red;   /* browsers connected from now on offer red/48000/2 at this PT (0: not) */
  bool offer_abs_send_time; /* ... offer abs-send-time, as Chromium does */
};

/* The link's and the relay's seeds when the test gives none. */
#define TM_SIM_LINK_SEED 20261130
#define TM_SIM_RELAY_SEED 20261205

TmSim *tm_sim_new(bool waiting_room, guint measures);
TmSim *tm_sim_new_seeded(bool waiting_room, guint measures, guint32 link_seed, guint32 relay_seed);
/* Without a hearing: the test attaches TmPeers of its own. */
TmSim *tm_sim_new_bare(void);
/* Frees the hearing (closing every connection), then the browsers. */
void tm_sim_free(TmSim *sim);

TmParticipant *tm_sim_join(TmSim *sim, const char *name, TmRole role);
/* Opens a connection for P (receiving FEED, or publishing when FEED is NULL) with a browser
 * that offers OPUS_PT and VP8_PT, and runs the DTLS handshake. With WRONG_FINGERPRINT the offer
 * names another certificate than the one the browser presents. The relay's answer is in
 * browser->answer. */
TmSimBrowser *tm_sim_connect(TmSim *sim, TmParticipant *p, TmParticipant *feed, int opus_pt,
                             int vp8_pt, bool wrong_fingerprint);
/* The same with a browser that also offers rtx at RTX_PT (0: none) and goog-remb when REMB
 * (tm_sim_browser_offer_full). */
TmSimBrowser *tm_sim_connect_full(TmSim *sim, TmParticipant *p, TmParticipant *feed, int opus_pt,
                                  int vp8_pt, int rtx_pt, bool remb);

/* The scene most tests start from: a judge who publishes (Opus 111, VP8 96) and a witness who
 * receives the judge (Opus 109, VP8 120), both connected; and, once added, a clerk who receives
 * the judge too (Opus 111, VP8 96). */
typedef struct {
  TmParticipant *judge, *witness, *clerk;
  TmSimBrowser *pub, *sub, *sub2;
  uint32_t audio_ssrc, video_ssrc; /* what the relay sends the witness */
  uint32_t video_rtx_ssrc;         /* ... and its RTX stream (0: no rtx offered) */
  uint32_t video_ssrc2;            /* ... and the clerk */
} TmSimScene;

void tm_sim_scene(TmSim *sim, TmSimScene *scene);
/* The scene with the judge's and the witness's browsers offering rtx for their VP8 at its PT + 1
 * (RTX), and goog-remb (REMB). */
void tm_sim_scene_full(TmSim *sim, TmSimScene *scene, bool rtx, bool remb);
void tm_sim_scene_add_clerk(TmSim *sim, TmSimScene *scene);
/* PUB (the scene's judge) sends N video packets (PT 96, SSRC 0xB), one every 33 ms of virtual
 * time, from sequence number SEQ with timestamp SEQ × 3000, key frames when KEY; returns the next
 * sequence number. */
uint16_t tm_sim_send_video(TmSim *sim, TmSimBrowser *pub, uint16_t seq, int n, bool key);

/* Bare simulations. A browser of the simulation, not yet connected to anything. */
TmSimBrowser *tm_sim_add_browser(TmSim *sim);
/* B talks to PEER from now on (and tm_sim_advance runs PEER's timers); detach before freeing
 * PEER. */
void tm_sim_attach(TmSim *sim, TmSimBrowser *b, TmPeer *peer);
void tm_sim_detach(TmSim *sim, TmPeer *peer);
/* What a TmPeerListener.transmit of an attached peer calls. */
void tm_sim_relay_transmit(TmSim *sim, TmPeer *peer, const uint8_t *buf, size_t len);

/* A browser of SIM protects and sends a packet, then the simulation runs. */
void tm_sim_send_rtp(TmSimBrowser *b, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc,
                     const uint8_t *payload, size_t payload_len);
void tm_sim_send_rtcp(TmSimBrowser *b, const TmRtcpPacket *pkt);
/* A receiver asks for one packet again (a NACK of one item for MEDIA_SSRC), or for a key frame
 * (a PLI), then runs. */
void tm_sim_send_nack(TmSimBrowser *b, uint32_t media_ssrc, uint16_t seq);
void tm_sim_send_pli(TmSimBrowser *b, uint32_t media_ssrc);
/* Sends BUF as it is (a replay), then runs. */
void tm_sim_send_raw(TmSimBrowser *b, const uint8_t *buf, size_t len);

/* Delivers every datagram due by now, and what they cause, until nothing is due. */
void tm_sim_run(TmSim *sim);
/* Moves the clock US forward, delivering datagrams and running the relay's and the browsers'
 * timers at their times. After the timers run, the next deadline is in the future. */
void tm_sim_advance(TmSim *sim, int64_t us);

/* RTP datagrams the link lost, both ways. */
uint64_t tm_sim_lost(const TmSim *sim);
