pub async fn api(_c: crate::config::Config, _t: u64, _c2: u64, _q: u64) -> Result<(), String> {
    Err("not yet".into())
}
