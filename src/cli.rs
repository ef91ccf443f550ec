//! The `hoinghi` command line: serve, migrate, seed, demo, user and token management,
//! documents and checks, invitations and the outbox.
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::config::Settings;
use crate::documents::templates::Templates;
use crate::documents::{self, Format, Which};
use crate::domain::kinds::Role;
use crate::error::Error;
use crate::services::{auth, checks, seed};
use crate::startup::{Application, open_database};
use crate::store::seed_ref;
use crate::telemetry;

/// hoinghi: plans training conferences and puts them in every delegate's calendar.
#[derive(Debug, Parser)]
#[command(name = "hoinghi", version, about, long_about = None)]
pub struct Cli {
    /// Settings file (default: $HOINGHI_CONFIG, else ./hoinghi.toml when present).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server on the configured database.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Load the seed files of DIR (default: the seed_dir setting, `seed/`); running it twice changes nothing.
    Seed {
        /// Directory of *.toml seed files.
        dir: Option<PathBuf>,
    },
    /// Try hoinghi with no set-up: migrate, load the Hải Phòng example, create demo users, serve, and print how to sign in.
    Demo,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Render a document to a file (or standard output): a plan with its appendices, the agenda of a conference, or its invitation letter to a unit, as HTML, text or DOCX.
    Render(RenderArgs),
    /// Check schedules for clashes, capacities, quotas, weekends and holidays; print the findings as a table and exit with status 1 when errors exist.
    Check(CheckArgs),
    /// Send one test e-mail through the configured transport, to check the mail settings.
    SendTestEmail {
        /// The recipient.
        #[arg(long)]
        to: String,
    },
    /// Preview or send the invitations of a conference.
    #[command(subcommand)]
    Invitations(InvitationsCommand),
    /// Look at the outbox, retry its failures, or send it.
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

/// `hoinghi invitations …`.
#[derive(Debug, Subcommand)]
pub enum InvitationsCommand {
    /// Print who would receive what, unit by unit, and the problems to fix first.
    Preview {
        /// The conference: an id or a seed key such as `conf-dvht`.
        #[arg(long)]
        conference: String,
    },
    /// Put the invitations in the outbox (REQUEST, or CANCEL once the conference is cancelled) and send them, with a progress bar.
    Send {
        /// The conference: an id or a seed key such as `conf-dvht`.
        #[arg(long)]
        conference: String,
        /// Only enqueue: a running `serve` or `outbox run` sends them.
        #[arg(long)]
        no_wait: bool,
    },
}

/// `hoinghi outbox …`.
#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// Messages by state, and each failure with its reason.
    Status {
        /// One conference (an id or a seed key); all messages when absent.
        #[arg(long)]
        conference: Option<String>,
    },
    /// Try the failed messages of a conference again.
    Retry {
        /// The conference: an id or a seed key.
        #[arg(long)]
        conference: String,
    },
    /// Send the outbox until stopped (Ctrl+C), as `serve` does; several may run at once.
    Run {
        /// Stop once nothing is left to send now.
        #[arg(long)]
        until_empty: bool,
    },
}

/// `hoinghi render`: `--plan` or `--conference`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("which").args(["plan", "conference"]).required(true)))]
pub struct RenderArgs {
    /// The plan to render with its appendices: an id or a seed key such as `plan-1609`.
    #[arg(long)]
    pub plan: Option<String>,
    /// The conference whose agenda to render: an id or a seed key such as `conf-dvht`.
    #[arg(long)]
    pub conference: Option<String>,
    /// With --conference: render the invitation letter (Giấy mời) to this invited unit
    /// instead of the agenda (an id or a seed key such as `ubnd-thuy-nguyen`).
    #[arg(long, requires = "conference")]
    pub unit: Option<String>,
    /// html (A4, ready to print), txt, or docx (Word, LibreOffice).
    #[arg(long, default_value = "html", value_parser = ["html", "txt", "docx"])]
    pub format: String,
    /// The file to write; standard output when absent.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

/// `hoinghi check`: one conference, one plan, or a period (default: the coming 90 days).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").args(["conference", "plan", "from"])))]
pub struct CheckArgs {
    /// A conference: an id or a seed key such as `conf-dvht`.
    #[arg(long)]
    pub conference: Option<String>,
    /// A plan: an id or a seed key such as `plan-1609`.
    #[arg(long)]
    pub plan: Option<String>,
    /// First day of the period (2024-12-18), with --to.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last day of the period, included.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
}

/// User commands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from standard input; with none (or at a terminal) one is generated and printed.
    Add(UserAdd),
}

/// `hoinghi user add`.
#[derive(Debug, Args)]
pub struct UserAdd {
    /// Login name (letters without diacritics, digits, . _ - @).
    #[arg(long)]
    pub login: String,
    /// admin, department_staff or district_office.
    #[arg(long)]
    pub role: Role,
    /// The user's unit: an id, or a seed key such as `pgddt-thuy-nguyen`. Required except for admin.
    #[arg(long)]
    pub unit: Option<String>,
}

/// Token commands.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user; the token is printed as the last line.
    Create {
        /// The user's login.
        #[arg(long)]
        user: String,
        /// What the token is for.
        #[arg(long)]
        name: Option<String>,
    },
}

/// Parses arguments, runs the command, and maps failure to a non-zero exit.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hoinghi: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&settings.log);
    for var in Settings::unknown_env_vars() {
        tracing::warn!(%var, "unknown HOINGHI_* variable ignored (a typo?)");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hoinghi: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli.command, settings)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hoinghi: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A CLI failure, printed as one line.
type CliResult = Result<(), String>;

fn describe(e: Error) -> String {
    match e {
        Error::Validation(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        Error::Conflict { message, .. } => message,
        other => other.to_string(),
    }
}

async fn execute(command: Command, settings: Settings) -> CliResult {
    match command {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            open_database(&settings).await.map_err(|e| e.to_string())?;
            println!(
                "Đã cập nhật cơ sở dữ liệu ({}).",
                settings.database_url_redacted()
            );
            Ok(())
        }
        Command::Seed { dir } => {
            let db = open_database(&settings).await.map_err(|e| e.to_string())?;
            let dir = dir.unwrap_or_else(|| settings.seed_dir.clone());
            let report = seed::load_dir(&db, &dir).await.map_err(describe)?;
            print_seed_report(&report);
            Ok(())
        }
        Command::Demo => demo(settings).await,
        Command::User(UserCommand::Add(a)) => {
            let db = open_database(&settings).await.map_err(|e| e.to_string())?;
            let unit = match &a.unit {
                Some(u) => Some(resolve_unit(&db, u).await?),
                None => None,
            };
            let (password, generated) = read_or_generate_password()?;
            let user = auth::create_user(&db, &a.login, &password, a.role, unit)
                .await
                .map_err(describe)?;
            println!(
                "Đã tạo người dùng «{}» (vai trò {}).",
                user.login,
                user.role.as_str()
            );
            if generated {
                println!("Mật khẩu: {password}");
            }
            Ok(())
        }
        Command::Check(a) => check(&settings, a).await,
        Command::SendTestEmail { to } => send_test_email(&settings, &to).await,
        Command::Invitations(c) => invitations(&settings, c).await,
        Command::Outbox(c) => outbox(&settings, c).await,
        Command::Render(a) => render(&settings, a).await,
        Command::Token(TokenCommand::Create { user, name }) => {
            let db = open_database(&settings).await.map_err(|e| e.to_string())?;
            let u = auth::find_user(&db, &user)
                .await
                .map_err(describe)?
                .ok_or_else(|| format!("không có người dùng «{user}»"))?;
            let (_, secret) = auth::create_token(&db, u.id, "api", name, None)
                .await
                .map_err(describe)?;
            println!("Mã truy cập cho «{}» (chỉ hiện một lần):", u.login);
            println!("{secret}");
            Ok(())
        }
    }
}

fn print_seed_report(report: &seed::Report) {
    let mut parts: Vec<_> = report
        .inserted
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    parts.sort();
    println!(
        "Dữ liệu mẫu: thêm {} bản ghi ({}), bỏ qua {} bản ghi đã có.",
        report.total_inserted(),
        if parts.is_empty() {
            "không có".to_owned()
        } else {
            parts.join(", ")
        },
        report.skipped
    );
}

async fn resolve_unit(db: &DatabaseConnection, unit: &str) -> Result<i64, String> {
    resolve_ref(db, "unit", "--unit", "đơn vị", unit).await
}

/// An id, or the seed key of a row of `entity`.
async fn resolve_ref(
    db: &DatabaseConnection,
    entity: &str,
    flag: &str,
    label: &str,
    value: &str,
) -> Result<i64, String> {
    if let Ok(id) = value.parse::<i64>() {
        return Ok(id);
    }
    seed_ref::Entity::find_by_id(value.to_owned())
        .one(db)
        .await
        .map_err(|e| e.to_string())?
        .filter(|r| r.entity == entity)
        .map(|r| r.row_id)
        .ok_or_else(|| format!("{flag}: không có {label} mã hoặc khóa «{value}»"))
}

async fn render(settings: &Settings, a: RenderArgs) -> CliResult {
    let templates =
        Templates::load(settings.templates_dir.as_deref()).map_err(|e| e.to_string())?;
    let db = open_database(settings).await.map_err(|e| e.to_string())?;
    let which = match (&a.plan, &a.conference) {
        (Some(p), _) => Which::Plan(resolve_ref(&db, "plan", "--plan", "kế hoạch", p).await?),
        (None, Some(c)) => {
            let conference = resolve_ref(&db, "conference", "--conference", "hội nghị", c).await?;
            match &a.unit {
                Some(u) => Which::Letter {
                    conference,
                    unit: resolve_ref(&db, "unit", "--unit", "đơn vị", u).await?,
                },
                None => Which::Agenda(conference),
            }
        }
        (None, None) => return Err("cần --plan hoặc --conference".into()),
    };
    let format = Format::parse(&a.format).ok_or("--format: html, txt hoặc docx")?;
    let doc = documents::render(&db, &templates, which, format)
        .await
        .map_err(describe)?;
    match &a.output {
        Some(path) => {
            std::fs::write(path, doc.body)
                .map_err(|e| format!("không ghi được tệp {}: {e}", path.display()))?;
            eprintln!("Đã ghi {}.", path.display());
        }
        None => {
            std::io::stdout()
                .write_all(&doc.body)
                .map_err(|e| format!("không ghi được ra đầu ra chuẩn: {e}"))?;
        }
    }
    Ok(())
}

async fn check(settings: &Settings, a: CheckArgs) -> CliResult {
    let db = open_database(settings).await.map_err(|e| e.to_string())?;
    let report = if let Some(c) = &a.conference {
        let id = resolve_ref(&db, "conference", "--conference", "hội nghị", c).await?;
        checks::for_conference(&db, id).await
    } else if let Some(p) = &a.plan {
        let id = resolve_ref(&db, "plan", "--plan", "kế hoạch", p).await?;
        checks::for_plan(&db, id).await
    } else {
        let (from, to) = match (&a.from, &a.to) {
            (Some(f), Some(t)) => {
                let q = [("from".to_owned(), f.clone()), ("to".to_owned(), t.clone())];
                crate::http::checks::parse_period(&q).map_err(describe)?
            }
            _ => {
                let now = chrono::Utc::now();
                (now, now + chrono::TimeDelta::days(90))
            }
        };
        checks::for_period(&db, from, to).await
    }
    .map_err(describe)?;
    print!("{}", checks::table(&report));
    if report.has_errors() {
        return Err(format!(
            "{} lỗi, {} cảnh báo: cần xử lý các lỗi trước khi công bố.",
            report.errors, report.warnings
        ));
    }
    Ok(())
}

async fn send_test_email(settings: &Settings, to: &str) -> CliResult {
    let transport = settings.transport().map_err(|e| e.to_string())?;
    let from = settings.mail_from.clone();
    let host = from.rsplit_once('@').map_or("localhost", |(_, h)| h);
    let message_id = format!(
        "hoinghi.test.{}@{host}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f")
    );
    let mail = crate::mail::Invitation {
        from: crate::calendar::invite::Party {
            name: "hoinghi".into(),
            email: from.clone(),
        },
        to: crate::calendar::invite::Party {
            name: String::new(),
            email: to.to_owned(),
        },
        subject: "hoinghi: thư thử".into(),
        text: format!(
            "Thư thử của hoinghi, gửi qua {:?} lúc {}.\nNếu bạn đọc được thư này, cấu hình gửi thư đã đúng.",
            settings.mail_transport,
            chrono::Utc::now()
                .with_timezone(&chrono_tz::Asia::Ho_Chi_Minh)
                .format("%H:%M:%S ngày %d/%m/%Y")
        ),
        html: "<p>Thư thử của hoinghi. Nếu bạn đọc được thư này, cấu hình gửi thư đã đúng.</p>"
            .into(),
        calendar: None,
        message_id: message_id.clone(),
    };
    let raw = crate::mail::build(&mail).map_err(describe)?.wire();
    let reply = transport
        .send(&message_id, &from, to.trim(), &raw)
        .await
        .map_err(|e| format!("không gửi được thư thử tới {to}: {e}"))?;
    println!("Đã gửi thư thử tới {to} ({reply}).");
    Ok(())
}

async fn invitations(settings: &Settings, c: InvitationsCommand) -> CliResult {
    use crate::services::invitations;
    let templates =
        Templates::load(settings.templates_dir.as_deref()).map_err(|e| e.to_string())?;
    let db = open_database(settings).await.map_err(|e| e.to_string())?;
    let operator = auth::Principal::operator();
    match c {
        InvitationsCommand::Preview { conference } => {
            let id =
                resolve_ref(&db, "conference", "--conference", "hội nghị", &conference).await?;
            let p = invitations::preview(&db, &templates, &operator, id, &settings.public_url())
                .await
                .map_err(describe)?;
            println!(
                "{} thư ({}, trong đó {} thư hủy) tới {} đơn vị và {} cán bộ kỹ thuật điểm cầu; {} người nhận đã có lịch đúng như hiện nay:",
                p.recipients,
                p.method,
                p.cancellations,
                p.units.len(),
                p.bridge_contacts,
                p.unchanged
            );
            for u in &p.units {
                let what = if u.nomination {
                    format!(
                        "chưa cử đại biểu: giấy mời cử {}",
                        u.quota
                            .map_or("đại biểu".into(), |q| format!("{q:02} người"))
                    )
                } else {
                    format!("{} đại biểu", u.delegates)
                };
                println!(
                    "  {:>4} thư  {} <{}>: {what}",
                    u.messages,
                    u.unit_name,
                    u.mailbox.as_deref().unwrap_or("không có hộp thư")
                );
            }
            for pr in &p.problems {
                println!("  ! {}: {}", pr.field, pr.message);
            }
            Ok(())
        }
        InvitationsCommand::Send {
            conference,
            no_wait,
        } => {
            let id =
                resolve_ref(&db, "conference", "--conference", "hội nghị", &conference).await?;
            let report = |sent: &invitations::Sent| {
                let mut lines = vec![format!(
                    "Đã đưa {} thư ({}, trong đó {} thư hủy) vào hàng đợi; {} thư đã có từ trước; {} người nhận đã có lịch đúng như hiện nay.",
                    sent.enqueued,
                    sent.method,
                    sent.cancellations,
                    sent.already_queued,
                    sent.unchanged
                )];
                lines.extend(
                    sent.problems
                        .iter()
                        .map(|pr| format!("  ! {}: {}", pr.field, pr.message)),
                );
                lines
            };
            if no_wait {
                let sent = invitations::send(
                    &db,
                    &templates,
                    &operator,
                    id,
                    &settings.public_url(),
                    &invitations::Syncing::default(),
                )
                .await
                .map_err(describe)?;
                report(&sent).iter().for_each(|l| println!("{l}"));
                return Ok(());
            }
            // The worker runs from the start: it sends each batch once committed, while
            // the next are built, with the bytes the sync hands it.
            let transport = settings.transport().map_err(|e| e.to_string())?;
            let worker =
                crate::services::outbox::Worker::new(db.clone(), transport, settings.outbox());
            let link = worker.link();
            let sending = Sending::start(&db, Some(id), worker).await?;
            let progress: invitations::Progress = {
                let bar = sending.bar.clone();
                let open = sending.start.open();
                std::sync::Arc::new(move |at: invitations::Enqueueing| {
                    bar.set_length(open + at.enqueued);
                    Box::pin(async {})
                })
            };
            let how = invitations::Syncing {
                worker: Some(link),
                progress: Some(progress),
                ..invitations::Syncing::default()
            };
            // The bar moves as the worker sends, while the rest are built: from a task of
            // its own, so that its reads never hold up the sync (with one connection in the
            // pool, they would wait for each other).
            let ticker = {
                let (db, bar, start) = (db.clone(), sending.bar.clone(), sending.start);
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        show(&db, Some(id), &start, &bar).await.ok();
                    }
                })
            };
            let sent =
                invitations::send(&db, &templates, &operator, id, &settings.public_url(), &how)
                    .await;
            ticker.abort();
            let sent = match sent {
                Ok(sent) => sent,
                Err(e) => {
                    sending.stop().await;
                    return Err(describe(e));
                }
            };
            // Above the bar (printed as it is where the bar is hidden: not a terminal).
            sending
                .bar
                .suspend(|| report(&sent).iter().for_each(|l| println!("{l}")));
            // The older messages the new ones replaced were counted at the start.
            sending
                .bar
                .set_length((sending.start.open() + sent.enqueued).saturating_sub(sent.superseded));
            sending.finish().await
        }
    }
}

/// A worker sending while a progress bar counts what it sent of `conference` (or of the
/// whole outbox).
struct Sending<'a> {
    db: &'a DatabaseConnection,
    conference: Option<i64>,
    /// The counts when it started.
    start: crate::services::outbox::Counts,
    bar: indicatif::ProgressBar,
    stop: crate::services::outbox::StopHandle,
    handle: tokio::task::JoinHandle<()>,
}

impl<'a> Sending<'a> {
    /// Starts `worker` and the bar.
    async fn start(
        db: &'a DatabaseConnection,
        conference: Option<i64>,
        worker: crate::services::outbox::Worker,
    ) -> Result<Self, String> {
        let start = crate::services::outbox::counts(db, conference)
            .await
            .map_err(describe)?;
        let bar = indicatif::ProgressBar::new(start.open());
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} thư  {per_sec}  còn {eta}  {msg}",
            )
            .map_err(|e| e.to_string())?,
        );
        let (stop, handle) = worker.spawn();
        Ok(Self {
            db,
            conference,
            start,
            bar,
            stop,
            handle,
        })
    }

    /// Stops the worker: the sends in flight finish and are recorded first.
    async fn stop(self) {
        self.stop.stop();
        self.handle.await.ok();
        self.bar.finish();
    }

    /// Waits until nothing is left to send now, then stops; fails when messages failed.
    async fn finish(self) -> CliResult {
        let watched = async {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                let now = show(self.db, self.conference, &self.start, &self.bar).await?;
                if now.open() == 0 || only_waiting_retries(self.db, self.conference).await? {
                    return Ok::<_, String>(now);
                }
            }
        }
        .await;
        let start = self.start;
        self.stop().await;
        let last = watched?;
        let failed = last.failed.saturating_sub(start.failed);
        println!(
            "Đã gửi {} thư; {} thư lỗi; {} thư chờ gửi lại.",
            last.sent.saturating_sub(start.sent),
            failed,
            last.pending
        );
        if failed > 0 || last.pending > 0 {
            return Err("còn thư chưa gửi được: xem `hoinghi outbox status`.".into());
        }
        Ok(())
    }
}

/// Shows on `bar` how many of `conference`'s messages (or the outbox's) were sent or
/// failed since `start`; returns the counts.
async fn show(
    db: &DatabaseConnection,
    conference: Option<i64>,
    start: &crate::services::outbox::Counts,
    bar: &indicatif::ProgressBar,
) -> Result<crate::services::outbox::Counts, String> {
    let now = crate::services::outbox::counts(db, conference)
        .await
        .map_err(describe)?;
    let done = (now.sent + now.failed).saturating_sub(start.sent + start.failed);
    bar.set_position(done.min(bar.length().unwrap_or(u64::MAX)));
    if now.failed > start.failed {
        bar.set_message(format!("{} lỗi", now.failed - start.failed));
    }
    Ok(now)
}

/// Runs a worker until the outbox (of `conference`, or all of it) has nothing left to
/// send now, showing a progress bar; fails when messages failed. The worker sends
/// whatever is due, of any conference; the bar counts `conference`'s.
async fn send_with_progress(
    db: &DatabaseConnection,
    transport: crate::mail::transport::Transport,
    settings: &Settings,
    conference: Option<i64>,
) -> CliResult {
    let worker = crate::services::outbox::Worker::new(db.clone(), transport, settings.outbox());
    Sending::start(db, conference, worker).await?.finish().await
}

/// Whether every open message waits for a retry later than a minute from now (the
/// server keeps refusing): then a command-line send stops rather than wait.
async fn only_waiting_retries(
    db: &DatabaseConnection,
    conference: Option<i64>,
) -> Result<bool, String> {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    let soon = chrono::Utc::now().timestamp_millis() + 60_000;
    let mut q = crate::store::outbox::Entity::find().filter(
        sea_orm::Condition::any()
            .add(crate::store::outbox::Column::State.eq(crate::domain::kinds::OutboxState::Sending))
            .add(
                sea_orm::Condition::all()
                    .add(
                        crate::store::outbox::Column::State
                            .eq(crate::domain::kinds::OutboxState::Pending),
                    )
                    .add(crate::store::outbox::Column::DueMs.lte(soon)),
            ),
    );
    if let Some(c) = conference {
        q = q.filter(crate::store::outbox::Column::ConferenceId.eq(c));
    }
    Ok(q.count(db).await.map_err(|e| e.to_string())? == 0)
}

async fn outbox(settings: &Settings, c: OutboxCommand) -> CliResult {
    use crate::services::outbox;
    let db = open_database(settings).await.map_err(|e| e.to_string())?;
    match c {
        OutboxCommand::Status { conference } => {
            let id = match conference {
                Some(c) => {
                    Some(resolve_ref(&db, "conference", "--conference", "hội nghị", &c).await?)
                }
                None => None,
            };
            let n = outbox::counts(&db, id).await.map_err(describe)?;
            println!(
                "chờ gửi {}  đang gửi {}  đã gửi {}  lỗi {}",
                n.pending, n.sending, n.sent, n.failed
            );
            if let Some(id) = id {
                for f in outbox::failures(&db, id).await.map_err(describe)? {
                    println!("  ! {} ({} lần): {}", f.recipient, f.attempts, f.reason);
                }
            }
            Ok(())
        }
        OutboxCommand::Retry { conference } => {
            let id =
                resolve_ref(&db, "conference", "--conference", "hội nghị", &conference).await?;
            let n = outbox::retry_failed(&db, id).await.map_err(describe)?;
            println!("Sẽ gửi lại {n} thư.");
            Ok(())
        }
        OutboxCommand::Run { until_empty } => {
            let transport = settings.transport().map_err(|e| e.to_string())?;
            if until_empty {
                return send_with_progress(&db, transport, settings, None).await;
            }
            let worker = outbox::Worker::new(db.clone(), transport, settings.outbox());
            let templates =
                Templates::load(settings.templates_dir.as_deref()).map_err(|e| e.to_string())?;
            // The changes of conferences go out from here too, as from `serve`.
            let (sync_stop, syncer) = crate::services::syncer::Syncer {
                db: db.clone(),
                templates,
                public_url: settings.public_url(),
                window: std::time::Duration::from_millis(settings.invitation_update_window_ms),
                worker: worker.link(),
            }
            .spawn();
            let (stop, handle) = worker.spawn();
            tracing::info!("outbox: sending until stopped");
            shutdown_signal().await;
            sync_stop.stop();
            syncer.await.ok();
            stop.stop();
            handle.await.ok();
            Ok(())
        }
    }
}

/// Waits for Ctrl+C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    tokio::signal::ctrl_c().await.ok();
}

fn read_or_generate_password() -> Result<(String, bool), String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if !line.is_empty() {
            return Ok((line, false));
        }
    }
    Ok((auth::generate_password(), true))
}

async fn serve(settings: Settings) -> CliResult {
    let app = Application::build(settings.clone())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(port = app.port(), database = %settings.database_url_redacted(), "listening");
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

/// Demo users, created once; their passwords are kept in the data directory so that a
/// later `demo` on the same data can print them again.
const DEMO_USERS: &[(&str, Role, Option<&str>)] = &[
    ("admin", Role::Admin, None),
    ("sogddt", Role::DepartmentStaff, Some("sogddt-hp")),
    (
        "thuynguyen",
        Role::DistrictOffice,
        Some("pgddt-thuy-nguyen"),
    ),
];

async fn demo(settings: Settings) -> CliResult {
    let db = open_database(&settings).await.map_err(|e| e.to_string())?;
    let report = seed::load_dir(&db, &settings.seed_dir)
        .await
        .map_err(describe)?;
    print_seed_report(&report);
    settings.prepare_data_dir().map_err(|e| e.to_string())?;
    let credentials_file = settings.data_dir.join("demo-credentials.txt");
    let mut credentials = std::fs::read_to_string(&credentials_file).unwrap_or_default();
    for (login, role, unit_key) in DEMO_USERS {
        if auth::find_user(&db, login)
            .await
            .map_err(describe)?
            .is_some()
        {
            continue;
        }
        let unit = match unit_key {
            Some(k) => Some(resolve_unit(&db, k).await?),
            None => None,
        };
        let password = auth::generate_password();
        auth::create_user(&db, login, &password, *role, unit)
            .await
            .map_err(describe)?;
        credentials.push_str(&format!("{login}\t{password}\t{}\n", role.as_str()));
    }
    let mut f = std::fs::File::create(&credentials_file).map_err(|e| e.to_string())?;
    f.write_all(credentials.as_bytes())
        .map_err(|e| e.to_string())?;
    let app = Application::build_with_db(&settings, db).map_err(|e| e.to_string())?;
    let host = settings
        .bind
        .rsplit_once(':')
        .map_or("127.0.0.1", |(h, _)| h);
    let host = if host == "0.0.0.0" { "127.0.0.1" } else { host };
    let url = format!("http://{host}:{}", app.port());
    println!("\nhoinghi đang chạy: {url}");
    println!("  API: {url}/api/v1/…   Mô tả API: {url}/api/v1/openapi.json");
    println!("Tài khoản thử (lưu trong {}):", credentials_file.display());
    for line in credentials.lines() {
        let cols: Vec<_> = line.split('\t').collect();
        if let [login, password, role] = cols[..] {
            println!("  {login:<12} mật khẩu {password}  ({role})");
        }
    }
    println!(
        "Đăng nhập: curl -c jar -H 'content-type: application/json' -d '{{\"login\":\"admin\",\"password\":\"…\"}}' {url}/api/v1/auth/login"
    );
    println!(
        "Mã truy cập API: hoinghi token create --user admin   (rồi: curl -H 'Authorization: Bearer …' {url}/api/v1/conferences)"
    );
    println!("Dừng: Ctrl+C\n");
    std::io::stdout().flush().ok();
    app.run_until_stopped().await.map_err(|e| e.to_string())
}
