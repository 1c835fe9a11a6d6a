//! The reply and note form. It goes through the API's own message writer
//! (same rules, events and outbox); a macro inserted into it brings its
//! changes, made in the same write. A stale form or a broken rule shows
//! the page again with the text kept and why.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use domain::Status;
use domain::lifecycle::TicketPatch;

use super::{Draft, page};
use crate::AppState;
use crate::api::macros::usable;
use crate::api::tickets::messages::{AddMessage, write_message};
use crate::error::ApiError;
use crate::extract::IfMatch;
use crate::pages::{FormData, PageError, Staff};

pub(crate) async fn reply(
    State(state): State<AppState>,
    Staff(caller): Staff,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    let internal = form.get("visibility") == Some("internal");
    let text = form.get("body").unwrap_or_default().to_string();
    let keep = |error: String| Draft {
        text: text.clone(),
        internal,
        status: form.text("status"),
        macro_id: form.number("macro_id").ok().flatten(),
        error: Some(error),
    };
    let version = match form.number("version") {
        Ok(v) => v,
        Err(e) => return page(&state, &caller, id, keep(e.message), &[], None).await,
    };
    // A macro inserted into the text brings its changes; a status chosen
    // in the form wins over the macro's.
    let mut patch = TicketPatch::default();
    if let Ok(Some(m)) = form.number("macro_id") {
        let found = usable(&state, &caller, m).await?;
        if let Some(me) = caller.staff_id() {
            patch = found.actions.patch(me);
        }
    }
    match form.text("status").as_str() {
        "" => {}
        s => match Status::parse("status", s) {
            Ok(s) => patch.status = Some(s),
            Err(e) => return page(&state, &caller, id, keep(e.message), &[], None).await,
        },
    }
    let input = AddMessage {
        body: Some(text.clone()),
        body_html: None,
        public: !internal,
        attachment_ids: vec![],
        status: None,
        channel: None,
        send_email: true,
    };
    match write_message(&state, &caller, id, IfMatch(version), &input, &patch).await {
        Ok(_) => Ok(Redirect::to(&format!("/tickets/{id}")).into_response()),
        Err(ApiError::Stale { .. }) => {
            let why = "Someone changed this ticket while you were writing. Here it is as it is now; your text is kept.";
            page(&state, &caller, id, keep(why.into()), &[], None).await
        }
        Err(ApiError::Invalid(errors)) => {
            let why = errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; ");
            page(&state, &caller, id, keep(why), &[], None).await
        }
        Err(e) => Err(e.into()),
    }
}
