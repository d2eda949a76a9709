/*
 * client.c - a minimal keep-alive HTTP/1.1 client for the storm and the benchmark: one
 * blocking socket per thread, one request at a time, Content-Length bodies only (what oncue
 * answers). Not for general use.
 */
#include "billing/billing_int.h"
#include "core/err.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

int billing_url_split(const char *url, char *host, size_t hn, char *port, size_t pn)
{
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    const char *colon = strchr(p, ':');
    if (!colon || (size_t)(colon - p) >= hn)
        return OC_EINVAL;
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    size_t n = strspn(colon + 1, "0123456789");
    if (n == 0 || n >= pn)
        return OC_EINVAL;
    memcpy(port, colon + 1, n);
    port[n] = '\0';
    return 0;
}

int billing_connect(const char *host, const char *port)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int fd = -1, one = 1;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        return -1;
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        close(fd);
        fd = -1;
    }
    if (fd >= 0)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    freeaddrinfo(ai);
    return fd;
}

int billing_exchange(int fd, const char *req, size_t len, char *buf, size_t cap, const char **body)
{
    size_t have = 0, sent = 0;
    while (sent < len) {
        ssize_t w = write(fd, req + sent, len - sent);
        if (w <= 0)
            return -1;
        sent += (size_t)w;
    }
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (!end) {
            if (have >= cap - 1)
                return -1;
            continue;
        }
        const char *cl = strcasestr(buf, "\r\nContent-Length:");
        size_t want = (size_t)(end + 4 - buf) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
        if (want >= cap)
            return -1;
        if (have < want)
            continue;
        *body = end + 4;
        return (int)strtol(buf + 9, NULL, 10);
    }
}
