/* An enforcement point in a few lines of C: load a signed Pave bundle through the C API
 * (pave/vm.h), decide one request, act on the answer.
 *
 *   decide BUNDLE.pvb PUBLIC_KEY.pem [INPUT.json]     (input from stdin without INPUT)
 *
 * Prints the decision JSON and exits with 0 for allow, 2 for approval (route the request
 * to the approval workflow), 1 for deny, 3 when the bundle cannot be loaded or the
 * arguments are wrong. Any problem denies: the enforcement point fails closed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pave/vm.h"

enum { EXIT_ALLOW = 0, EXIT_DENY = 1, EXIT_APPROVAL = 2, EXIT_TROUBLE = 3 };

/* Reads a whole file (or stdin for NULL) into a NUL-terminated malloc'd buffer. */
static char* read_all(const char* path, size_t* size) {
  FILE* f = path ? fopen(path, "rb") : stdin;
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char* buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - n - 1, f);
    if (n < cap - 1) break;
    char* bigger = realloc(buf, cap *= 2);
    if (!bigger) free(buf);
    buf = bigger;
  }
  if (path) fclose(f);
  if (!buf) return NULL;
  buf[n] = '\0';
  *size = n;
  return buf;
}

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4) {
    fprintf(stderr, "usage: %s BUNDLE.pvb PUBLIC_KEY.pem [INPUT.json]\n", argv[0]);
    return EXIT_TROUBLE;
  }
  size_t key_size = 0, input_size = 0;
  char* public_key = read_all(argv[2], &key_size);
  if (!public_key) {
    fprintf(stderr, "cannot read the public key %s\n", argv[2]);
    return EXIT_TROUBLE;
  }

  /* Load once at start-up (and again when a new bundle is published). With a public key,
   * an unsigned bundle or a bad signature is rejected, as is any corrupt bundle. */
  pave_bundle* bundle = pave_open_file(argv[1], public_key);
  free(public_key);
  if (!bundle) {
    fprintf(stderr, "cannot load %s: %s\n", argv[1], pave_last_error());
    return EXIT_TROUBLE;
  }

  char* input = read_all(argc == 4 ? argv[3] : NULL, &input_size);
  if (!input) {
    fprintf(stderr, "cannot read the input\n");
    pave_close(bundle);
    return EXIT_TROUBLE;
  }

  /* One decision per request; pave_decide is thread-safe. Invalid input is not a failure:
   * it yields a deny decision whose "errors" say what is wrong. */
  char* decision = pave_decide(bundle, input, input_size, /*explain=*/0);
  free(input);
  int status = EXIT_DENY;
  if (!decision) {
    fprintf(stderr, "decision failed: %s\n", pave_last_error());
  } else {
    puts(decision);
    /* The decision JSON always starts with its outcome (SPEC §7.4). */
    if (strncmp(decision, "{\"decision\":\"allow\"", 19) == 0) status = EXIT_ALLOW;
    else if (strncmp(decision, "{\"decision\":\"approval\"", 22) == 0) status = EXIT_APPROVAL;
    pave_free(decision);
  }
  pave_close(bundle);
  return status;
}
