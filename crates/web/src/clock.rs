use domain::Millis;

/// The time source. Handlers read the clock once per request and pass the
/// value down, so domain rules and tests see one exact instant.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Millis;
}

pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)] // the one place that reads the system time
    fn now(&self) -> Millis {
        jiff::Timestamp::now().as_millisecond()
    }
}
