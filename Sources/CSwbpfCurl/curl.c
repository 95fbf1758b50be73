#include "CSwbpfCurl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

// The few libcurl declarations used, from its stable ABI (no curl headers are needed to build).
typedef void CURL;
struct curl_slist;
typedef int CURLcode;
typedef int64_t curl_off_t;

enum {
    OPT_WRITEDATA = 10001,
    OPT_URL = 10002,
    OPT_ERRORBUFFER = 10010,
    OPT_POSTFIELDS = 10015,
    OPT_HTTPHEADER = 10023,
    OPT_CUSTOMREQUEST = 10036,
    OPT_NOBODY = 44,
    OPT_NOSIGNAL = 99,
    OPT_TIMEOUT_MS = 155,
    OPT_CONNECTTIMEOUT_MS = 156,
    OPT_WRITEFUNCTION = 20011,
    OPT_POSTFIELDSIZE_LARGE = 30120,
    OPT_MAXFILESIZE_LARGE = 30117,
    OPT_PROTOCOLS = 181,
    PROTO_HTTP = 1 << 0,
    PROTO_HTTPS = 1 << 1,
    CODE_FILESIZE_EXCEEDED = 63,
    INFO_RESPONSE_CODE = 0x200000 + 2,
    GLOBAL_DEFAULT = 3,
    ERROR_SIZE = 256,
};

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, int, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, int, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    char load_error[200];
    int loaded;
} curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(curl.load_error, sizeof curl.load_error, "the remote cache needs libcurl (Debian: apt install libcurl4): %s", dlerror());
        return;
    }
#define SYMBOL(field, name) \
    if (!(*(void **)&curl.field = dlsym(library, name))) { \
        snprintf(curl.load_error, sizeof curl.load_error, "libcurl.so.4 has no %s", name); \
        return; \
    }
    SYMBOL(global_init, "curl_global_init")
    SYMBOL(easy_init, "curl_easy_init")
    SYMBOL(easy_setopt, "curl_easy_setopt")
    SYMBOL(easy_perform, "curl_easy_perform")
    SYMBOL(easy_getinfo, "curl_easy_getinfo")
    SYMBOL(easy_cleanup, "curl_easy_cleanup")
    SYMBOL(easy_strerror, "curl_easy_strerror")
    SYMBOL(slist_append, "curl_slist_append")
    SYMBOL(slist_free_all, "curl_slist_free_all")
#undef SYMBOL
    // Not thread-safe in older libcurls, hence once, before any handle exists.
    if (curl.global_init(GLOBAL_DEFAULT) != 0) {
        snprintf(curl.load_error, sizeof curl.load_error, "curl_global_init failed");
        return;
    }
    curl.loaded = 1;
}

typedef struct {
    swbpf_curl_result *result;
    size_t capacity;
    size_t max_body;
    int body_fd;
    int too_large;
    int write_errno;
} sink;

// Returning less than `count` makes libcurl stop the transfer with an error.
static size_t write_body(char *data, size_t size, size_t count, void *context) {
    sink *target = context;
    size_t length = size * count;
    swbpf_curl_result *result = target->result;
    if (length > target->max_body - result->length) {
        target->too_large = 1;
        return 0;
    }
    if (target->body_fd >= 0) {
        for (size_t done = 0; done < length;) {
            ssize_t n = write(target->body_fd, data + done, length - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                target->write_errno = n < 0 ? errno : ENOSPC;
                return 0;
            }
            done += (size_t)n;
        }
        result->length += length;
        return length;
    }
    if (result->length + length > target->capacity) {
        size_t capacity = target->capacity ? target->capacity * 2 : 65536;
        while (capacity < result->length + length) capacity *= 2;
        unsigned char *grown = realloc(result->body, capacity);
        if (!grown) return 0;
        result->body = grown;
        target->capacity = capacity;
    }
    memcpy(result->body + result->length, data, length);
    result->length += length;
    return length;
}

int swbpf_curl_perform(const char *method, const char *url, const char *const *headers, size_t header_count,
                       const unsigned char *body, size_t body_length, long timeout_ms, long connect_timeout_ms,
                       size_t max_body, int body_fd, swbpf_curl_result *result) {
    memset(result, 0, sizeof *result);
    pthread_once(&load_once, load);
    if (!curl.loaded) {
        snprintf(result->error, sizeof result->error, "%s", curl.load_error);
        return 1;
    }
    CURL *handle = curl.easy_init();
    if (!handle) {
        snprintf(result->error, sizeof result->error, "curl_easy_init failed");
        return 1;
    }
    struct curl_slist *list = NULL;
    for (size_t i = 0; i < header_count; i++) list = curl.slist_append(list, headers[i]);
    // No Expect: 100-continue round trip before uploads.
    list = curl.slist_append(list, "Expect:");
    char error[ERROR_SIZE] = "";
    sink target = {result, 0, max_body, body_fd, 0, 0};
    curl.easy_setopt(handle, OPT_URL, url);
    curl.easy_setopt(handle, OPT_NOSIGNAL, 1L);
    curl.easy_setopt(handle, OPT_TIMEOUT_MS, timeout_ms);
    curl.easy_setopt(handle, OPT_CONNECTTIMEOUT_MS, connect_timeout_ms);
    curl.easy_setopt(handle, OPT_ERRORBUFFER, error);
    curl.easy_setopt(handle, OPT_HTTPHEADER, list);
    curl.easy_setopt(handle, OPT_WRITEFUNCTION, write_body);
    curl.easy_setopt(handle, OPT_WRITEDATA, &target);
    // A declared Content-Length over the bound is refused before any byte of the body comes.
    curl.easy_setopt(handle, OPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
    curl.easy_setopt(handle, OPT_PROTOCOLS, (long)(PROTO_HTTP | PROTO_HTTPS));
    if (strcmp(method, "HEAD") == 0) {
        curl.easy_setopt(handle, OPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl.easy_setopt(handle, OPT_CUSTOMREQUEST, method);
        curl.easy_setopt(handle, OPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_length);
        curl.easy_setopt(handle, OPT_POSTFIELDS, body_length ? (const char *)body : "");
    }
    CURLcode code = curl.easy_perform(handle);
    if (code == 0) {
        curl.easy_getinfo(handle, INFO_RESPONSE_CODE, &result->status);
    } else if (target.too_large || code == CODE_FILESIZE_EXCEEDED) {
        snprintf(result->error, sizeof result->error, "the response is larger than the %zu bytes expected", max_body);
    } else if (target.write_errno) {
        snprintf(result->error, sizeof result->error, "cannot keep the response: %s", strerror(target.write_errno));
    } else {
        snprintf(result->error, sizeof result->error, "%s", error[0] ? error : curl.easy_strerror(code));
    }
    curl.easy_cleanup(handle);
    curl.slist_free_all(list);
    return code == 0 ? 0 : 1;
}

void swbpf_curl_result_free(swbpf_curl_result *result) {
    free(result->body);
    result->body = NULL;
    result->length = 0;
}
