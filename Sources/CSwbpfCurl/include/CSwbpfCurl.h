#ifndef CSWBPF_CURL_H
#define CSWBPF_CURL_H

#include <stddef.h>

// The remote cache's HTTP and https, through the system's libcurl (and so its CA store, its
// parsing of lengths and chunks, and its timeouts), loaded with dlopen the first time a remote is
// used: a build with no remote cache never loads it, and swbpf does not link it. These wrappers
// exist because curl_easy_setopt is variadic, which Swift cannot call.

typedef struct {
    long status;            // HTTP status, 0 when no response came
    unsigned char *body;    // malloc'ed, free with swbpf_curl_result_free
    size_t length;
    char error[256];        // set when the call returns non-zero
} swbpf_curl_result;

// Performs one request. `headers` are "Name: value" lines. The response body goes to `body_fd`
// when it is not negative (`result->length` counts it), else to `result->body`; either way at most
// `max_body` bytes. Returns 0 when a response came (whatever its status), non-zero with `error`
// set otherwise (libcurl missing, refused, timed out, malformed, body over `max_body`).
int swbpf_curl_perform(const char *method, const char *url, const char *const *headers, size_t header_count,
                       const unsigned char *body, size_t body_length, long timeout_ms, long connect_timeout_ms,
                       size_t max_body, int body_fd, swbpf_curl_result *result);

void swbpf_curl_result_free(swbpf_curl_result *result);

#endif
