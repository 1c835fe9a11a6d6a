//! The JSON API under `/api/v1`: one module per resource, each with its own
//! `router()`; the module tree mirrors the URL tree.

pub(crate) mod approvals;
mod attachments;
mod audit;
pub(crate) mod auth;
pub(crate) mod calendars;
pub(crate) mod customers;
pub(crate) mod escalations;
mod events;
pub(crate) mod feedback;
pub(crate) mod fields;
mod inbound;
pub(crate) mod incidents;
pub(crate) mod insights;
pub(crate) mod jobs;
pub(crate) mod kpis;
mod links;
pub(crate) mod macros;
pub mod mailboxes;
pub(crate) mod me;
pub(crate) mod notifications;
pub(crate) mod organizations;
mod outbox;
pub(crate) mod pulse;
mod quarantine;
pub(crate) mod reports;
pub(crate) mod routing;
pub(crate) mod rule_settings;
pub(crate) mod settings;
pub(crate) mod sla;
mod stream;
pub(crate) mod teams;
pub(crate) mod tickets;
pub(crate) mod tokens;
pub(crate) mod triggers;
pub(crate) mod users;
pub(crate) mod views;
pub(crate) mod webhooks;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::router())
        .merge(me::router())
        .merge(tokens::router())
        .merge(tickets::router())
        .merge(customers::router())
        .merge(organizations::router())
        .merge(users::router())
        .merge(teams::router())
        .merge(fields::router())
        .merge(attachments::router())
        .merge(audit::router())
        .merge(events::router())
        .merge(stream::router())
        .merge(mailboxes::router())
        .merge(inbound::router())
        .merge(quarantine::router())
        .merge(outbox::router())
        .merge(macros::router())
        .merge(views::router())
        .merge(settings::router())
        .merge(jobs::router())
        .merge(calendars::router())
        .merge(sla::router())
        .merge(triggers::router())
        .merge(routing::router())
        .merge(rule_settings::router())
        .merge(escalations::router())
        .merge(approvals::router())
        .merge(incidents::router())
        .merge(notifications::router())
        .merge(feedback::router())
        .merge(webhooks::router())
        .merge(insights::router())
        .merge(kpis::router())
        .merge(reports::router())
        .merge(pulse::router())
}

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A personal API token (sbp_…)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "mailbox_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A mailbox push token (sbm_…), for POST /inbound/email only"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::accounts::SESSION_COOKIE))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Switchboard API", version = "1", description = "The customer-support platform's JSON API. Errors are {\"error\": {\"code\", \"message\", \"details\"}}."),
    modifiers(&Security),
    security(("token" = []), ("session" = [])),
)]
struct ApiDoc;

pub fn doc() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
