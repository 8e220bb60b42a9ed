/* esgwallet: the wallet CLI. Everything is in
 * esgw_cli_run (wallet/cli.h), which the check suites run in-process. */
#include <sodium.h>
#include <stdio.h>

#include "wallet/cli.h"

int main(int argc, char **argv) {
    if (sodium_init() < 0) {
        fputs("esgwallet: ERR_INTERNAL: cannot initialize libsodium\n", stderr);
        return 1;
    }
    return esgw_cli_run(argc, argv, stdout, stderr);
}
