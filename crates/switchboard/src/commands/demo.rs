pub async fn demo(_c: crate::config::Config, _s: bool) -> Result<(), String> {
    Err("not yet".into())
}
