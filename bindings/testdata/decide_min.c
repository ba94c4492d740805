/* A tiny C enforcement point built against an installed libpave (pkg-config pave) by
 * scripts/bindings-test.sh: decide_min BUNDLE PUBLIC_KEY_PEM INPUT_JSON prints the decision. */
#include <stdio.h>
#include <stdlib.h>

#include <pave/vm.h>

static char* slurp(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char* p = malloc((size_t)n + 1);
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
  fclose(f);
  if (p) { p[n] = 0; *size = (size_t)n; }
  return p;
}

int main(int argc, char** argv) {
  if (argc != 4) { fprintf(stderr, "usage: decide_min BUNDLE KEY INPUT\n"); return 2; }
  size_t key_size = 0, input_size = 0;
  char* key = slurp(argv[2], &key_size);
  char* input = slurp(argv[3], &input_size);
  if (!key || !input) { fprintf(stderr, "cannot read the key or the input\n"); return 2; }
  pave_bundle* b = pave_open_file(argv[1], key);
  if (!b) { fprintf(stderr, "refusing everything: %s\n", pave_last_error()); return 2; }
  char* info = pave_bundle_info(b);
  fprintf(stderr, "libpave %s, bundle %s\n", pave_version(), info ? info : pave_last_error());
  pave_free(info);
  char* d = pave_decide(b, input, input_size, 0);
  if (!d) { fprintf(stderr, "deny: %s\n", pave_last_error()); return 1; }
  puts(d);
  pave_free(d);
  pave_close(b);
  free(key);
  free(input);
  return 0;
}
