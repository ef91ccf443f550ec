//! `Application::build`: connect, migrate, bind the listener, and expose the port, so
//! that tests can start the app on port 0.
use std::net::TcpListener;

use actix_web::dev::Server;
use sea_orm::DatabaseConnection;
use secrecy::ExposeSecret;

use crate::config::Settings;
use crate::documents::templates::Templates;
use crate::services::outbox::Worker;
use crate::services::syncer::Syncer;
use crate::{http, store};

/// A running (or ready to run) hoinghi server.
pub struct Application {
    port: u16,
    server: Server,
    db: DatabaseConnection,
    /// The outbox worker, when this instance sends (`outbox_worker`).
    worker: Option<Worker>,
    /// What sends the changes of conferences, with the worker.
    syncer: Option<Syncer>,
}

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("database {url}: {source}")]
    Database { url: String, source: sea_orm::DbErr },
    #[error("cannot listen on {bind}: {source}")]
    Bind {
        bind: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Template(#[from] crate::documents::templates::TemplateError),
}

/// Opens the configured database and applies migrations.
pub async fn open_database(settings: &Settings) -> Result<DatabaseConnection, StartError> {
    if settings.database_url.is_none() {
        settings.prepare_data_dir()?;
    }
    let url = settings.database_url();
    let err = |source| StartError::Database {
        url: settings.database_url_redacted(),
        source,
    };
    let db = store::connect(url.expose_secret(), settings.database_max_connections)
        .await
        .map_err(err)?;
    store::migrate(&db).await.map_err(err)?;
    Ok(db)
}

impl Application {
    /// Opens the database, migrates it and binds the listener.
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let db = open_database(&settings).await?;
        Self::build_with_db(&settings, db)
    }

    /// Binds the listener for an already opened database.
    pub fn build_with_db(settings: &Settings, db: DatabaseConnection) -> Result<Self, StartError> {
        let templates = Templates::load(settings.templates_dir.as_deref())?;
        let (worker, link) = if settings.outbox_worker {
            let w = Worker::new(db.clone(), settings.transport()?, settings.outbox());
            let link = w.link();
            (Some(w), link)
        } else {
            (None, Default::default())
        };
        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartError::Bind {
            bind: settings.bind.clone(),
            source,
        })?;
        let port = listener
            .local_addr()
            .map_err(|source| StartError::Bind {
                bind: settings.bind.clone(),
                source,
            })?
            .port();
        // Links sent out name the port really bound when none is configured (port 0).
        let public_url = match settings.public_url.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => settings.public_url(),
            _ => {
                let local = listener
                    .local_addr()
                    .map_or_else(|_| settings.public_url(), |a| format!("http://{a}"));
                settings.warn_local_links(&local);
                local
            }
        };
        let syncer = worker.as_ref().map(|_| Syncer {
            db: db.clone(),
            templates: templates.clone(),
            public_url: public_url.clone(),
            window: std::time::Duration::from_millis(settings.invitation_update_window_ms),
            worker: link.clone(),
        });
        let server = http::server(listener, db.clone(), templates, settings, link, public_url)
            .map_err(|source| StartError::Bind {
                bind: settings.bind.clone(),
                source,
            })?;
        Ok(Self {
            port,
            server,
            db,
            worker,
            syncer,
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database pool.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serves until the process is stopped (SIGINT/SIGTERM stop it gracefully), sending
    /// the outbox meanwhile; on stopping, the sends in flight finish first.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let syncer = self.syncer.map(Syncer::spawn);
        let worker = self.worker.map(Worker::spawn);
        let served = self.server.await;
        if let Some((stop, handle)) = syncer {
            stop.stop();
            handle.await.ok();
        }
        if let Some((stop, handle)) = worker {
            stop.stop();
            handle.await.ok();
        }
        served
    }
}
