/*
 * modules.c - the modules `oncue serve` can run, in start order.
 *
 * A capability plugs in by adding its `x_module` here; main.c and serve.c never change.
 */
#include "oncue/commands.h"
#include "auth/auth.h"
#include "oncue/builtin.h"
#include "steer/steer.h"
#include "catalog/catalog.h"
#include "ingest/ingest.h"
#include "qoe/qoe.h"
#include "incident/incident.h"
#include "slo/slo.h"
#include "alert/alert.h"
#include "rca/rca.h"
#include "web/web.h"
#include "resume/resume.h"
#include "billing/billing.h"
#include "search/search.h"
#include "probe/probe.h"
#include "scrape/scrape.h"
#include "tickets/tickets.h"
#include "automation/automation.h"
#include "gate/gate.h"
#include "drill/drill.h"

/* One module per line, in start order (clang-format would pack them). */
// clang-format off
const struct oc_module *const oc_modules[] = {
    &builtin_module,
    &auth_module,
    &catalog_module,
    &steer_module,
    &probe_module,
    &scrape_module,
    &qoe_module,
    &ingest_module,
    &slo_module,
    &alert_module,
    &incident_module,
    &tickets_module,
    &rca_module,
    &web_module,
    &resume_module,
    &billing_module,
    &search_module,
    &automation_module,
    &gate_module,
    &drill_runbook_module,
    NULL,
};
// clang-format on
