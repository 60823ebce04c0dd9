/* replay.c — runs a fuzz target over every file of a seed corpus, without libFuzzer.
 * Usage: fuzz-TARGET-replay DIR|FILE...   Exits non-zero if no input was found. */
#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_path(const char *path)
{
  if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    if (dir == NULL)
      return 0;
    int n = 0;
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
      g_autofree char *child = g_build_filename(path, name, NULL);
      n += replay_path(child);
    }
    return n;
  }
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, NULL))
    return 0;
  LLVMFuzzerTestOneInput((const uint8_t *) data, len);
  return 1;
}

int
main(int argc, char **argv)
{
  int n = 0;
  for (int i = 1; i < argc; i++)
    n += replay_path(argv[i]);
  printf("replayed %d inputs\n", n);
  return n > 0 ? 0 : 1;
}
