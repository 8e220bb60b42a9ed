/* The tables behind error.h, generated from the same X-macro. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ESG_ERR_COUNT_ (ESG_ERR_END_ - ESG_ERR_FIRST_ - 1)

static const struct {
    const char *name;
    int status;
    const char *message;
} err_table[] = {
#define ESG_ERR_ROW_(name, status, msg) {#name, status, msg},
    ESG_ERRORS(ESG_ERR_ROW_)
#undef ESG_ERR_ROW_
};

static int err_index(int err) {
    if (err <= ESG_ERR_FIRST_ || err >= ESG_ERR_END_)
        return ESG_ERR_INTERNAL - ESG_ERR_FIRST_ - 1;
    return err - ESG_ERR_FIRST_ - 1;
}

const char *esg_err_name(int err) {
    if (err == ESG_OK)
        return "OK";
    return err_table[err_index(err)].name;
}

const char *esg_err_message(int err) {
    if (err == ESG_OK)
        return "success";
    return err_table[err_index(err)].message;
}

int esg_err_http_status(int err) {
    if (err == ESG_OK)
        return 200;
    return err_table[err_index(err)].status;
}

int esg_err_from_name(const char *name) {
    for (int i = 0; i < ESG_ERR_COUNT_; i++)
        if (strcmp(err_table[i].name, name) == 0)
            return ESG_ERR_FIRST_ + 1 + i;
    return ESG_ERR_INTERNAL;
}

int esg_errf(char *err, size_t errlen, int code, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}
