/* workers.h — the media worker threads. Each runs a GMainContext of its own; a hearing (room)
 * is placed on the worker with the fewest hearings when it opens and stays there: its libnice
 * agents, the datagrams they deliver (tm_hearing_handle_datagram) and its engine timer run on
 * that worker. With no workers (media-workers 0) the control thread's context takes their
 * place and everything runs there, as one thread.
 *
 * The control thread — libsoup, sessions, controls, /api/status, /metrics, the hearing's
 * lifecycle, its grace and link-quality timers — owns everything else. The rules between them
 * (room.h has the room's side):
 *
 *  1. One lock per hearing (TmRoom.lock, recursive). The worker holds it while it handles a
 *     datagram, an ICE state change or the timer; the control thread holds it whenever it
 *     touches the hearing's engine or transports (tm_room_enter / tm_room_exit at every entry
 *     point: a session's message, its closing, a timer, a status or metrics request, stopping).
 *     No thread ever holds two hearings' locks, and nothing waits for another lock while it
 *     holds libnice's (libnice calls back without it), so the locks cannot deadlock.
 *  2. A worker never calls the session sink, never writes the audit log and never touches the
 *     relay's registries: what the engine reports there with effects on sessions (a connection
 *     published, one failed) is posted to the control thread (tm_workers_post), which looks the
 *     hearing up again by id and serial, and the participant or connection by pointer in its
 *     tables, because either may be gone by then.
 *  3. Nothing a worker callback may still be using is freed on the control thread: a transport
 *     and its ICE agent are marked closed and detached at once, then freed from an idle on the
 *     hearing's worker (which runs only after any callback in progress there has returned and
 *     found them closed); the room is reference-counted, held by its transports and its timer,
 *     and its memory goes with the last reference, on whichever thread.
 *  4. The recorder is called only under the hearing's lock (it copies and queues to its writer
 *     thread), so its calls from both threads stay in order and never overlap.
 *
 * Stopping: every room closes first (tm_server_stop), then tm_workers_free stops the loops, runs
 * what they still had queued (agents, transports and rooms released) and joins the threads. */
#pragma once

#include <glib.h>

typedef struct _TmWorkers TmWorkers;
typedef struct _TmWorker TmWorker;

/* Most workers a relay starts (the configuration accepts no more). */
#define TM_WORKERS_MAX 64

/* N threads named media-0, media-1, ...; none when N is 0 (CONTROL then runs the media). */
TmWorkers *tm_workers_new(guint n, GMainContext *control);
/* Stops and joins the threads: call it once every room has closed. */
void tm_workers_free(TmWorkers *workers);
guint tm_workers_count(const TmWorkers *workers);
/* The worker with the fewest hearings, which then counts one more; NULL with no workers. */
TmWorker *tm_workers_assign(TmWorkers *workers);
/* A hearing placed on WORKER (may be NULL) has closed. */
void tm_workers_release(TmWorkers *workers, TmWorker *worker);
/* WORKER's thread name (media-N), or "the control thread" for NULL: for the log. */
const char *tm_workers_name(const TmWorker *worker);
/* Where WORKER's hearings run: its context, or the control thread's for NULL. Not a new ref. */
GMainContext *tm_workers_context(TmWorkers *workers, TmWorker *worker);
/* Runs FUNC(DATA) once from CONTEXT's loop, later (never at once, even when the calling thread
 * runs CONTEXT); NOTIFY, unless NULL, frees DATA afterwards. Callable from any thread. */
void tm_workers_post(GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify);
