//! The server's stop signal as every long wait sees it (mini-redis' `Shutdown`): long-polls,
//! event streams, held connections, the accept loops and the timer task all select on
//! [`Shutdown::stopped`], so none of them outlives a shutdown.

use tokio::sync::watch;

/// A handle on the stop signal; clones are cheap.
#[derive(Clone, Debug)]
pub(crate) struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// The signal, and what sends it.
    pub fn new() -> (watch::Sender<bool>, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (tx, Shutdown(rx))
    }

    /// Resolves once the server stops (at once if it has).
    pub async fn stopped(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}
