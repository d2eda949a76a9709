// sign.mjs - prints the signature header(s) a provider's own library makes for a payload, for
// tests/peers/billing.sh:
//   node sign.mjs stripe SECRET UNIX_TS PAYLOAD_FILE        -> the Stripe-Signature value
//   node sign.mjs standard SECRET MSG_ID UNIX_TS PAYLOAD_FILE -> the webhook-signature value
import { readFileSync } from "node:fs";
import Stripe from "stripe";
import { Webhook } from "standardwebhooks";

const [kind, secret, ...rest] = process.argv.slice(2);
if (kind === "stripe") {
    const [ts, file] = rest;
    const stripe = new Stripe("sk_test_oncue_peer_tests");
    const payload = readFileSync(file, "utf8");
    console.log(stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: Number(ts) }));
} else if (kind === "standard") {
    const [id, ts, file] = rest;
    const payload = readFileSync(file, "utf8");
    console.log(new Webhook(secret).sign(id, new Date(Number(ts) * 1000), payload));
} else {
    console.error("usage: sign.mjs stripe|standard ...");
    process.exit(2);
}
