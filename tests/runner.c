/* The one check runner: `esgtests` runs every suite, `esgtests NAME...`
 * runs the named ones (ctest runs each on its own). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.gen.h"

int main(int argc, char **argv) {
    size_t n = sizeof esg_suites / sizeof esg_suites[0];
    SRunner *sr = NULL;
    for (size_t i = 0; i < n; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            if (strcmp(argv[a], esg_suites[i].name) == 0)
                wanted = 1;
        if (!wanted)
            continue;
        Suite *s = esg_suites[i].make();
        if (!sr)
            sr = srunner_create(s);
        else
            srunner_add_suite(sr, s);
    }
    if (!sr) {
        fprintf(stderr, "esgtests: no suite named '%s'\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
