//! Opening the configured storage.

use std::sync::Arc;

use store::Store;

use crate::config::Config;

pub async fn open(config: &Config) -> Result<Arc<dyn Store>, String> {
    let store = match &config.database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            store_pg::connect(url).await.map_err(|e| format!("opening {}: {e}", config.describe_storage()))?
        }
        Some(url) if url.starts_with("sqlite:") => {
            store_sqlite::Sqlite::open_url(url).await.map_err(|e| format!("opening {url}: {e}"))?.into_store()
        }
        Some(url) => {
            return Err(format!(
                "database_url must start with postgres:// or sqlite:, got {}",
                crate::config::without_password(url)
            ));
        }
        None => store_sqlite::open(&config.sqlite_path())
            .await
            .map_err(|e| format!("opening {}: {e}", config.describe_storage()))?,
    };
    Ok(Arc::new(store))
}
