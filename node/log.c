#include "node/log.h"

#include <stdarg.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int esg_log_level_parse(const char *s, esg_log_level *out) {
    for (int i = 0; i < 4; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (esg_log_level)i;
            return 0;
        }
    return -1;
}

void esg_log(const esg_logger *lg, esg_log_level level, const char *fmt, ...) {
    if (!lg || level > lg->level)
        return;
    char line[1024];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = (int)strftime(line, sizeof line, "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(line + n, sizeof line - (size_t)n, ".%03dZ %-5s ",
                  (int)(tv.tv_usec / 1000), level_names[level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    fwrite(line, 1, len, lg->out ? lg->out : stderr);
    fflush(lg->out ? lg->out : stderr);
}
