//! `/stream`: server-sent events of ticket changes the caller may see.
//! On PostgreSQL the changes of every node arrive (LISTEN/NOTIFY). After a
//! gap (`resync`), clients reload what they show.

use std::convert::Infallible;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use domain::policy::Placement;
use futures::{Stream, StreamExt, future, stream};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::Caller;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ticket_stream))
}

/// Events: `ready` once subscribed; `ticket` with `{ticket_id, version,
/// kinds, at, team_id, assignee_id, actor}` per change; `resync` when
/// changes were missed.
#[utoipa::path(get, path = "/stream", tag = "tickets", responses((status = 200, content_type = "text/event-stream")))]
pub async fn ticket_stream(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let changes = BroadcastStream::new(state.store.subscribe());
    let principal = caller.principal.clone();
    let mut shutdown = state.shutdown.clone();
    let events = changes.filter_map(move |item| {
        future::ready(match item {
            Ok(change) => {
                let placement = Placement {
                    team_id: change.team_id,
                    assignee_id: change.assignee_id,
                    requester_id: change.requester_id,
                    organization_id: change.organization_id,
                };
                principal.can_see_placement(&placement).then(|| {
                    let data = serde_json::json!({
                        "ticket_id": change.ticket_id,
                        "version": change.version,
                        "kinds": change.kinds,
                        "at": change.at,
                        "team_id": change.team_id,
                        "assignee_id": change.assignee_id,
                        "actor": change.actor,
                    });
                    Ok(Event::default().event("ticket").data(data.to_string()))
                })
            }
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                Some(Ok(Event::default().event("resync").data(missed.to_string())))
            }
        })
    });
    let ready = stream::once(future::ready(Ok(Event::default().event("ready").data("{}"))));
    let until_shutdown = async move {
        let _ = shutdown.wait_for(|stopping| *stopping).await;
    };
    Ok(Sse::new(ready.chain(events).take_until(until_shutdown))
        .keep_alive(KeepAlive::new().interval(crate::app::KEEP_ALIVE)))
}
