/* The C API baseline for bench/bindings_bench.sh: pave_decide over the inputs (JSON lines),
 * cycled. Prints "c-api json-string <ns per decision>". */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pave/vm.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char** argv) {
  if (argc != 4) { fprintf(stderr, "usage: capi_bench BUNDLE INPUTS.jsonl ITERATIONS\n"); return 2; }
  pave_bundle* b = pave_open_file(argv[1], NULL);
  if (!b) { fprintf(stderr, "%s\n", pave_last_error()); return 1; }
  FILE* f = fopen(argv[2], "r");
  if (!f) return 1;
  char** lines = NULL;
  size_t* sizes = NULL;
  size_t n = 0, cap = 0, len = 0;
  char* line = NULL;
  ssize_t r;
  while ((r = getline(&line, &len, f)) > 0) {
    if (n == cap) {
      cap = cap ? cap * 2 : 256;
      lines = realloc(lines, cap * sizeof *lines);
      sizes = realloc(sizes, cap * sizeof *sizes);
    }
    lines[n] = strndup(line, (size_t)r);
    sizes[n++] = (size_t)r;
  }
  fclose(f);
  long iters = atol(argv[3]);
  size_t sink = 0;
  for (size_t i = 0; i < n; ++i) { char* d = pave_decide(b, lines[i], sizes[i], 0); sink += strlen(d); pave_free(d); }
  double t0 = now_ns();
  for (long i = 0; i < iters; ++i) {
    char* d = pave_decide(b, lines[i % n], sizes[i % n], 0);
    sink += d[13];
    pave_free(d);
  }
  double t1 = now_ns();
  printf("c-api json-string %.0f\n", (t1 - t0) / iters);
  pave_close(b);
  return sink == 0;
}
