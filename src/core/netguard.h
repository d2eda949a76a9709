/*
 * netguard.h - which addresses a server-side request may connect to: outbound webhooks must
 * not reach the server's own host, the private network or a cloud metadata service through a
 * URL someone configured (request forgery), unless the operator allow-lists the range.
 * The check is made on the address actually connected to (after DNS), so a name that resolves
 * to a private address later is caught too.
 */
#ifndef OC_CORE_NETGUARD_H
#define OC_CORE_NETGUARD_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

#define OC_NETGUARD_MAX 32 /* ranges in one allow list */

/* One address range. */
struct oc_cidr {
    int family;       /* AF_INET or AF_INET6 */
    uint8_t addr[16]; /* network order; 4 bytes for AF_INET */
    int bits;         /* prefix length */
};

/* An allow list of ranges. */
struct oc_netguard {
    struct oc_cidr allow[OC_NETGUARD_MAX];
    int n;
};

/* Parses a list of ranges separated by spaces or commas ("127.0.0.1/32, 10.0.0.0/8 ::1"; an
 * address without a prefix is one host) into g. 0, or OC_EINVAL with the bad entry in err,
 * or OC_ETOOBIG past OC_NETGUARD_MAX. NULL or "" is the empty list. */
int oc_netguard_parse(struct oc_netguard *g, const char *list, char *err, size_t errlen);

/* Why a connection to sa is refused: "loopback", "private", "link-local (cloud metadata
 * lives here)", "carrier-grade NAT", "unique local", "unspecified", "multicast" or
 * "broadcast"; NULL when the address is public or g allows it. IPv4-mapped IPv6 addresses
 * are judged as IPv4. */
const char *oc_netguard_refuses(const struct oc_netguard *g, const struct sockaddr *sa);

#define OC_URL_SHOWN_MAX 320 /* bytes of a cut URL (oc_url_cut), its NUL included */

/* Writes url cut after its host into out (n bytes): "https://user:pw@hooks.slack.com/services/
 * T0/B0/x?k=v" -> "https://hooks.slack.com/\u2026". The path, query and user information of an
 * outbound URL (a chat or deploy webhook) are often its credential: what a non-admin sees of
 * it. A text without "://" becomes "\u2026" alone; NULL is written as "". */
void oc_url_cut(const char *url, char *out, size_t n);
/* Writes text (a finding, an error: words quoting fetched URLs) into out (n bytes, always
 * NUL-terminated, cut short when full) with what may hold a credential taken out of each word
 * (a run of bytes other than space, tab, CR, LF): the user information of a URL, a query
 * string or fragment and any path from a segment holding "=" on (a signed token:
 * "https://u:p@cdn.example/live/seg.ts?hdnts=x):" -> "https://cdn.example/live/seg.ts?…):",
 * "a/hdnts=exp=1~hmac=2/seg.ts" -> "a/…"); with hosts_only, every word holding "://"
 * is cut after its host as oc_url_cut does ("(https://cdn.example/…):"), what a
 * non-admin is shown. The punctuation ending a word ("):", at most 3 bytes) is kept. */
void oc_text_cut_urls(const char *text, int hosts_only, char *out, size_t n);

#endif
