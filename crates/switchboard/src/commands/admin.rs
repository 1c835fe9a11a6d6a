use domain::Role;
use web::{Clock, SystemClock};

use crate::config::Config;

pub async fn create(config: Config, email: &str, name: &str, role: &str) -> Result<(), String> {
    let role = Role::parse("role", role).map_err(|e| e.to_string())?;
    let store = crate::storage::open(&config).await?;
    let (id, password) =
        web::accounts::create_staff_with_password(store.as_ref(), email, name, role, SystemClock.now()).await.map_err(
            |e| match e {
                web::ApiError::Conflict { .. } => format!("{email} already has an account"),
                other => format!("{other:?}"),
            },
        )?;
    println!("Created {role} #{id} {email}");
    println!("  password: {password}");
    println!("This password is shown once.");
    Ok(())
}
