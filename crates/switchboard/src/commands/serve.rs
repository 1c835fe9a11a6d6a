use std::sync::Arc;

use web::{Application, Clock, SystemClock};

use crate::config::Config;

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

pub async fn serve(config: Config) -> Result<(), String> {
    let store = crate::storage::open(&config).await?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    if let Some((email, password)) = web::accounts::ensure_first_admin(store.as_ref(), &config.admin_email, clock.now())
        .await
        .map_err(|e| format!("{e:?}"))?
    {
        println!("First start: created the admin account.");
        println!("  email:    {email}");
        println!("  password: {password}");
        println!("This password is shown once. Sign in and change it (POST /api/v1/auth/password).");
    }
    for change in crate::mailboxes::apply_config(store.as_ref(), &config.mailboxes, clock.now()).await? {
        println!("Configuration: {change}.");
    }
    let app = Application::build(config.web_settings(), store, clock)
        .await
        .map_err(|e| format!("listening on {}: {e}", config.listen))?;
    let addr = app.local_addr().map_err(|e| e.to_string())?;
    println!("Switchboard is listening on http://{addr} with {}.", config.describe_storage());
    if let Some(smtp) = app.smtp_addr() {
        println!("The SMTP receiver is listening on {smtp}.");
    }
    app.run_until(shutdown_signal()).await.map_err(|e| e.to_string())
}
