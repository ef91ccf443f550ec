//! The background task that sends the changes of conferences with invitations out: every
//! tick it syncs the conferences marked at least `invitation_update_window_ms` ago
//! (`invitations::sync_due`) and wakes the outbox worker when it enqueued something.
use std::sync::Arc;
use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::watch;

use crate::documents::templates::Templates;
use crate::services::invitations;
use crate::services::outbox::StopHandle;

/// Sends changed invitations once their coalescing window has passed.
pub struct Syncer {
    pub db: DatabaseConnection,
    pub templates: Templates,
    pub public_url: String,
    pub window: Duration,
    /// The outbox worker of this process.
    pub worker: crate::services::outbox::WorkerLink,
}

impl Syncer {
    /// Runs in the background until the handle says stop.
    pub fn spawn(self) -> (StopHandle, tokio::task::JoinHandle<()>) {
        let (tx, rx) = watch::channel(false);
        let handle = tokio::spawn(async move { self.run(rx).await });
        (StopHandle(Arc::new(tx)), handle)
    }

    async fn run(self, mut stop: watch::Receiver<bool>) {
        // A quarter of the window late at most, but no busier than 4 times a second.
        let tick = (self.window / 4).clamp(Duration::from_millis(250), Duration::from_secs(5));
        loop {
            let how = invitations::Syncing {
                worker: Some(self.worker.clone()),
                ..invitations::Syncing::default()
            };
            match invitations::sync_due(
                &self.db,
                &self.templates,
                &self.public_url,
                self.window,
                &how,
            )
            .await
            {
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "invitations: looking for changes failed"),
            }
            tokio::select! {
                _ = stop.changed() => {}
                () = tokio::time::sleep(tick) => {}
            }
            if *stop.borrow() {
                break;
            }
        }
    }
}
