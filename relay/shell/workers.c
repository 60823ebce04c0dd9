/* workers.c — media worker threads, one GMainContext and loop each (rules in workers.h). */
#define G_LOG_DOMAIN "testimony-relay"

#include "workers.h"

/* What a worker still runs after its loop stopped: the idles that release agents, transports
 * and rooms, and whatever those attach in turn. Bounded so a stop never hangs. */
#define DRAIN_ITERATIONS 10000

struct _TmWorker {
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  char name[16];  /* its thread's: media-N */
  guint hearings; /* placed here and open (control thread only) */
};

struct _TmWorkers {
  GMainContext *control;
  guint n;
  TmWorker *workers;
};

static void
post(GMainContext *context, gint priority, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *src = g_idle_source_new();
  g_source_set_priority(src, priority);
  g_source_set_callback(src, func, data, notify);
  g_source_attach(src, context);
  g_source_unref(src);
}

static gpointer
worker_run(gpointer data)
{
  TmWorker *w = data;
  g_main_context_push_thread_default(w->context);
  g_main_loop_run(w->loop);
  for (guint i = 0; i < DRAIN_ITERATIONS && g_main_context_iteration(w->context, FALSE); i++)
    ;
  g_main_context_pop_thread_default(w->context);
  return NULL;
}

TmWorkers *
tm_workers_new(guint n, GMainContext *control)
{
  TmWorkers *ws = g_new0(TmWorkers, 1);
  ws->control = g_main_context_ref(control);
  ws->n = MIN(n, TM_WORKERS_MAX);
  ws->workers = g_new0(TmWorker, ws->n);
  for (guint i = 0; i < ws->n; i++) {
    TmWorker *w = &ws->workers[i];
    w->context = g_main_context_new();
    w->loop = g_main_loop_new(w->context, FALSE);
    g_snprintf(w->name, sizeof w->name, "media-%u", i);
    w->thread = g_thread_new(w->name, worker_run, w);
  }
  return ws;
}

static gboolean
quit_loop(gpointer data)
{
  g_main_loop_quit(data);
  return G_SOURCE_REMOVE;
}

void
tm_workers_free(TmWorkers *ws)
{
  if (ws == NULL)
    return;
  for (guint i = 0; i < ws->n; i++) {
    TmWorker *w = &ws->workers[i];
    if (w->hearings > 0)
      g_warning("media worker %u stops with %u hearing(s) still open", i, w->hearings);
    /* From the loop itself (a quit before it started would be lost), ahead of anything else
     * ready there; whatever is still queued runs in the drain of worker_run. */
    post(w->context, G_PRIORITY_HIGH, quit_loop, w->loop, NULL);
    g_thread_join(w->thread);
    g_main_loop_unref(w->loop);
    g_main_context_unref(w->context);
  }
  g_free(ws->workers);
  g_main_context_unref(ws->control);
  g_free(ws);
}

guint
tm_workers_count(const TmWorkers *ws)
{
  return ws->n;
}

TmWorker *
tm_workers_assign(TmWorkers *ws)
{
  TmWorker *best = NULL;
  for (guint i = 0; i < ws->n; i++)
    if (best == NULL || ws->workers[i].hearings < best->hearings)
      best = &ws->workers[i];
  if (best != NULL)
    best->hearings++;
  return best;
}

void
tm_workers_release(TmWorkers *ws, TmWorker *worker)
{
  if (worker != NULL && worker->hearings > 0)
    worker->hearings--;
}

const char *
tm_workers_name(const TmWorker *worker)
{
  return worker != NULL ? worker->name : "the control thread";
}

GMainContext *
tm_workers_context(TmWorkers *ws, TmWorker *worker)
{
  return worker != NULL ? worker->context : ws->control;
}

void
tm_workers_post(GMainContext *context, GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  post(context, G_PRIORITY_DEFAULT_IDLE, func, data, notify);
}
