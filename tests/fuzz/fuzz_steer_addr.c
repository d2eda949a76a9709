/*
 * fuzz_steer_addr.c - fuzzes the trusted client-address header parser (steer/geo.c) with raw
 * header bytes, as a CDN edge or anything in front of it may send.
 *
 * Besides not crashing: an accepted parse gives an IPv4 or IPv6 address whose text form
 * parses back to the same bytes; a refused one leaves the output zeroed.
 */
#include "steer/steer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_storage ss, zero;
    char text[INET6_ADDRSTRLEN];
    unsigned char back[16];
    memset(&zero, 0, sizeof(zero));
    if (steer_client_addr_parse((const char *)data, size, &ss) != 0) {
        if (memcmp(&ss, &zero, sizeof(ss)) != 0)
            abort();
        return 0;
    }
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&ss;
        if (!inet_ntop(AF_INET, &v4->sin_addr, text, sizeof(text)) ||
            inet_pton(AF_INET, text, back) != 1 || memcmp(back, &v4->sin_addr, 4) != 0)
            abort();
    } else if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&ss;
        if (!inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof(text)) ||
            inet_pton(AF_INET6, text, back) != 1 || memcmp(back, &v6->sin6_addr, 16) != 0)
            abort();
    } else {
        abort();
    }
    return 0;
}
